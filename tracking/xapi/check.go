package xapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// uuidPattern is a UUID as xAPI writes one (lower or upper case hex).
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// playedSegmentsPattern is the Video Profile's played-segments.
var playedSegmentsPattern = regexp.MustCompile(`^(\d+(\.\d+)?\[\.\]\d+(\.\d+)?)(\[,\]\d+(\.\d+)?\[\.\]\d+(\.\d+)?)*$`)

// Problems lists what makes raw, one statement as JSON, not a statement
// xAPI 1.0.3 requires an LRS to accept, as far as Morsel writes them: an id
// that is a UUID, an actor Agent identified by exactly one account with a
// homePage URL and a name, a verb with an absolute IRI id and a display, an
// object Activity with an absolute IRI id, a timestamp in ISO 8601 with a
// zone, a score within its bounds, extensions keyed by IRIs, and the Video
// Profile's played-segments and progress in their form. None: nil.
func Problems(raw []byte) []string {
	var s struct {
		ID    *string `json:"id"`
		Actor *struct {
			ObjectType string          `json:"objectType"`
			Mbox       json.RawMessage `json:"mbox"`
			OpenID     json.RawMessage `json:"openid"`
			Account    *struct {
				HomePage string `json:"homePage"`
				Name     string `json:"name"`
			} `json:"account"`
		} `json:"actor"`
		Verb *struct {
			ID      string            `json:"id"`
			Display map[string]string `json:"display"`
		} `json:"verb"`
		Object *struct {
			ObjectType string `json:"objectType"`
			ID         string `json:"id"`
		} `json:"object"`
		Result *struct {
			Score *struct {
				Scaled *float64 `json:"scaled"`
				Raw    *float64 `json:"raw"`
				Min    *float64 `json:"min"`
				Max    *float64 `json:"max"`
			} `json:"score"`
			Extensions map[string]json.RawMessage `json:"extensions"`
		} `json:"result"`
		Context *struct {
			Registration *string                    `json:"registration"`
			Extensions   map[string]json.RawMessage `json:"extensions"`
		} `json:"context"`
		Timestamp *string `json:"timestamp"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	switch {
	case s.ID == nil:
		bad("id: missing")
	case !uuidPattern.MatchString(*s.ID):
		bad("id: %q is not a UUID", *s.ID)
	}
	switch {
	case s.Actor == nil:
		bad("actor: missing")
	case s.Actor.ObjectType != "" && s.Actor.ObjectType != "Agent":
		bad("actor.objectType: %q, want Agent", s.Actor.ObjectType)
	case s.Actor.Account == nil || s.Actor.Mbox != nil || s.Actor.OpenID != nil:
		bad("actor: must be identified by exactly one account")
	default:
		if !absoluteIRI(s.Actor.Account.HomePage) {
			bad("actor.account.homePage: %q is not an absolute URL", s.Actor.Account.HomePage)
		}
		if s.Actor.Account.Name == "" {
			bad("actor.account.name: empty")
		}
	}
	switch {
	case s.Verb == nil:
		bad("verb: missing")
	case !absoluteIRI(s.Verb.ID):
		bad("verb.id: %q is not an absolute IRI", s.Verb.ID)
	case len(s.Verb.Display) == 0:
		bad("verb.display: missing")
	}
	switch {
	case s.Object == nil:
		bad("object: missing")
	case s.Object.ObjectType != "" && s.Object.ObjectType != "Activity":
		bad("object.objectType: %q, want Activity", s.Object.ObjectType)
	case !absoluteIRI(s.Object.ID):
		bad("object.id: %q is not an absolute IRI", s.Object.ID)
	}
	if s.Timestamp == nil {
		bad("timestamp: missing")
	} else if _, err := time.Parse(time.RFC3339Nano, *s.Timestamp); err != nil {
		bad("timestamp: %q is not ISO 8601 with a zone", *s.Timestamp)
	}
	if r := s.Result; r != nil {
		if sc := r.Score; sc != nil {
			if sc.Scaled != nil && (*sc.Scaled < -1 || *sc.Scaled > 1) {
				bad("result.score.scaled: %v is not between -1 and 1", *sc.Scaled)
			}
			if sc.Raw != nil && sc.Min != nil && sc.Max != nil && (*sc.Raw < *sc.Min || *sc.Raw > *sc.Max || *sc.Min >= *sc.Max) {
				bad("result.score: raw %v is not between min %v and max %v", *sc.Raw, *sc.Min, *sc.Max)
			}
		}
		out = append(out, extensionProblems("result.extensions", r.Extensions)...)
	}
	if c := s.Context; c != nil {
		if c.Registration != nil && !uuidPattern.MatchString(*c.Registration) {
			bad("context.registration: %q is not a UUID", *c.Registration)
		}
		out = append(out, extensionProblems("context.extensions", c.Extensions)...)
	}
	return out
}

// extensionProblems checks extensions' keys, and the Video Profile's values.
func extensionProblems(path string, ext map[string]json.RawMessage) []string {
	var out []string
	for k, v := range ext {
		if !absoluteIRI(k) {
			out = append(out, fmt.Sprintf("%s: key %q is not an absolute IRI", path, k))
		}
		switch k {
		case ExtPlayedSegments:
			var segs string
			if json.Unmarshal(v, &segs) != nil || (segs != "" && !playedSegmentsPattern.MatchString(segs)) {
				out = append(out, fmt.Sprintf("%s: played-segments %s is not start[.]end joined by [,]", path, v))
			}
		case ExtProgress:
			var p float64
			if json.Unmarshal(v, &p) != nil || p < 0 || p > 1 {
				out = append(out, fmt.Sprintf("%s: progress %s is not a number from 0 to 1", path, v))
			}
		case ExtTime, ExtLength:
			var t float64
			if json.Unmarshal(v, &t) != nil || t < 0 {
				out = append(out, fmt.Sprintf("%s: %s %s is not a number of seconds", path, k, v))
			}
		}
	}
	return out
}

// absoluteIRI reports whether s is an absolute IRI with a scheme and a host.
func absoluteIRI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}
