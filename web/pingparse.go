package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

// The ping parser: what a body of pings says, checked field by field, before
// its links are known (linkcache.go checks them).

// The events a ping reports.
const (
	pingSegment = "segment"
	pingPause   = "pause"
	pingEnded   = "ended"
)

// ping is one report from a lesson page's video player.
type ping struct {
	Token    string
	Segment  int
	Position float64
	Rate     float64
	Session  string
	Event    string
}

// pingJSON is a ping as sent; pointers tell a missing field from a zero.
type pingJSON struct {
	Token    *string  `json:"token"`
	Segment  *float64 `json:"segment"`
	Position *float64 `json:"position"`
	Rate     *float64 `json:"rate"`
	Session  *string  `json:"session"`
	Event    *string  `json:"event"`
}

func (p pingJSON) empty() bool {
	return p.Token == nil && p.Segment == nil && p.Position == nil && p.Rate == nil && p.Session == nil && p.Event == nil
}

// pingProblems gathers what is wrong with a request's pings.
type pingProblems struct{ details []errs.Detail }

func (p *pingProblems) add(path, format string, args ...any) {
	p.details = append(p.details, errs.Detail{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *pingProblems) err() error {
	if len(p.details) == 0 {
		return nil
	}
	return errs.InvalidInput("The pings are not valid; none was recorded.", errs.Capped(p.details, len(p.details), maxPingDetails, "pings"))
}

// parsePings reads a ping body: one ping object, or {"pings": [...]} with 1
// to maxPingsPerPost of them. It checks what can be checked without the
// links: every field's presence, type and range. Fields it does not know are
// ignored, so that a page of a newer release is not refused. single says the
// body was one ping object, whose problems are named without a "pings[i]."
// prefix.
func parsePings(body []byte) (ps []ping, single bool, err error) {
	if p, ok := parseFlatPing(body); ok {
		return []ping{p}, true, nil
	}
	return parsePingsJSON(body)
}

// parsePingsJSON is parsePings with encoding/json, for every body.
func parsePingsJSON(body []byte) (ps []ping, single bool, err error) {
	var probs pingProblems
	var top struct {
		Pings *[]json.RawMessage `json:"pings"`
		pingJSON
	}
	if err := decodeOne(body, &top); err != nil {
		probs.add("body", "%s", err)
		return nil, false, probs.err()
	}
	if top.Pings == nil {
		if p, ok := checkPing(top.pingJSON, "", &probs); ok {
			return []ping{p}, true, nil
		}
		return nil, true, probs.err()
	}
	if !top.pingJSON.empty() {
		probs.add("pings", "give one ping or a list of pings, not both")
		return nil, false, probs.err()
	}
	raw := *top.Pings
	if len(raw) == 0 || len(raw) > maxPingsPerPost {
		probs.add("pings", "give 1 to %d pings, not %d", maxPingsPerPost, len(raw))
		return nil, false, probs.err()
	}
	out := make([]ping, 0, len(raw))
	for i, r := range raw {
		prefix := "pings[" + strconv.Itoa(i) + "]"
		var pj pingJSON
		if err := decodeOne(r, &pj); err != nil {
			probs.add(prefix, "%s", err)
			continue
		}
		if p, ok := checkPing(pj, prefix+".", &probs); ok {
			out = append(out, p)
		}
	}
	if err := probs.err(); err != nil {
		return nil, false, err
	}
	return out, false, nil
}

// decodeOne decodes exactly one JSON object into v, with a short reason when
// it cannot.
func decodeOne(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errors.New("must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return fmt.Errorf("%s must be %s, got %s", typ.Field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
		}
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Errorf("invalid JSON at byte %d", syntax.Offset)
		}
		return errors.New("invalid JSON")
	}
	if dec.More() || dec.InputOffset() != int64(len(data)) {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// checkPing validates one decoded ping, adding its problems under prefix.
func checkPing(pj pingJSON, prefix string, probs *pingProblems) (ping, bool) {
	n := len(probs.details)
	var p ping
	switch {
	case pj.Token == nil:
		probs.add(prefix+"token", "is required")
	case !lessons.ValidLinkToken(*pj.Token):
		probs.add(prefix+"token", "is not a lesson link token")
	default:
		p.Token = *pj.Token
	}
	switch {
	case pj.Segment == nil:
		probs.add(prefix+"segment", "is required")
	case *pj.Segment < 0 || *pj.Segment > 1e6 || *pj.Segment != float64(int(*pj.Segment)):
		probs.add(prefix+"segment", "must be a whole number from 0")
	default:
		p.Segment = int(*pj.Segment)
	}
	switch {
	case pj.Position == nil:
		probs.add(prefix+"position", "is required")
	case !(*pj.Position >= 0):
		probs.add(prefix+"position", "must be 0 or more seconds")
	default:
		p.Position = *pj.Position
	}
	switch {
	case pj.Rate == nil:
		probs.add(prefix+"rate", "is required")
	case !(*pj.Rate > 0 && *pj.Rate <= 4):
		probs.add(prefix+"rate", "must be more than 0 and at most 4")
	default:
		p.Rate = *pj.Rate
	}
	switch {
	case pj.Session == nil:
		probs.add(prefix+"session", "is required")
	case !validSession(*pj.Session):
		probs.add(prefix+"session", "must be 8 to 64 letters, digits, '-' or '_'")
	default:
		p.Session = *pj.Session
	}
	switch {
	case pj.Event == nil:
		probs.add(prefix+"event", "is required")
	case *pj.Event != pingSegment && *pj.Event != pingPause && *pj.Event != pingEnded:
		probs.add(prefix+"event", "must be segment, pause or ended")
	default:
		p.Event = *pj.Event
	}
	return p, len(probs.details) == n
}

// validSession reports whether s is a page visit's id: 8 to 64 URL-safe characters.
func validSession(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
