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

// raw is the ping as read, field by field in pingFields' order; both
// readers, encoding/json's and parseFlatPing, check it with rawPing.check.
func (p pingJSON) raw() rawPing {
	return rawPing{fieldToken: text(p.Token), fieldSegment: number(p.Segment), fieldPosition: number(p.Position),
		fieldRate: number(p.Rate), fieldSession: text(p.Session), fieldEvent: text(p.Event)}
}

// The fields of a ping, by their place in pingFields and rawPing.
const (
	fieldToken = iota
	fieldSegment
	fieldPosition
	fieldRate
	fieldSession
	fieldEvent
	fieldCount
)

// pingField is one field of a ping: its JSON name and kind, and its rule,
// written once for both readers.
type pingField struct {
	name   string
	number bool // a JSON number; else a JSON string
	valid  func(fieldValue) bool
	broken string // the problem named when valid is false
}

// pingFields are a ping's fields in the order their problems are named.
var pingFields = [fieldCount]pingField{
	fieldToken: {"token", false, func(v fieldValue) bool { return lessons.ValidLinkToken(v.s) },
		"is not a lesson link token"},
	fieldSegment: {"segment", true, func(v fieldValue) bool { return v.f >= 0 && v.f <= 1e6 && v.f == float64(int(v.f)) },
		"must be a whole number from 0"},
	fieldPosition: {"position", true, func(v fieldValue) bool { return v.f >= 0 },
		"must be 0 or more seconds"},
	fieldRate: {"rate", true, func(v fieldValue) bool { return v.f > 0 && v.f <= 4 },
		"must be more than 0 and at most 4"},
	fieldSession: {"session", false, func(v fieldValue) bool { return validSession(v.s) },
		"must be 8 to 64 letters, digits, '-' or '_'"},
	fieldEvent: {"event", false, func(v fieldValue) bool { return v.s == pingSegment || v.s == pingPause || v.s == pingEnded },
		"must be segment, pause or ended"},
}

// pingFieldNamed returns the place of the field named name, or -1.
func pingFieldNamed(name string) int {
	for i := range pingFields {
		if pingFields[i].name == name {
			return i
		}
	}
	return -1
}

// fieldValue is one field as read: given (present and not null), and its
// value, s or f by the field's kind.
type fieldValue struct {
	given bool
	s     string
	f     float64
}

func text(s *string) fieldValue {
	if s == nil {
		return fieldValue{}
	}
	return fieldValue{given: true, s: *s}
}

func number(f *float64) fieldValue {
	if f == nil {
		return fieldValue{}
	}
	return fieldValue{given: true, f: *f}
}

// rawPing is a ping's fields as read, before their checks.
type rawPing [fieldCount]fieldValue

func (r *rawPing) empty() bool {
	for i := range r {
		if r[i].given {
			return false
		}
	}
	return true
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
		raw := top.pingJSON.raw()
		if p, ok := raw.check("", &probs); ok {
			return []ping{p}, true, nil
		}
		return nil, true, probs.err()
	}
	if raw := top.pingJSON.raw(); !raw.empty() {
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
		fields := pj.raw()
		if p, ok := fields.check(prefix+".", &probs); ok {
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

// check validates the ping by pingFields' rules, adding its problems under
// prefix.
func (r *rawPing) check(prefix string, probs *pingProblems) (ping, bool) {
	n := len(probs.details)
	for i := range pingFields {
		f := &pingFields[i]
		switch {
		case !r[i].given:
			probs.add(prefix+f.name, "is required")
		case !f.valid(r[i]):
			probs.add(prefix+f.name, "%s", f.broken)
		}
	}
	if len(probs.details) > n {
		return ping{}, false
	}
	return ping{Token: r[fieldToken].s, Segment: int(r[fieldSegment].f), Position: r[fieldPosition].f, Rate: r[fieldRate].f,
		Session: r[fieldSession].s, Event: r[fieldEvent].s}, true
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
