package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// A lesson page reports video progress with pings to POST /t/pings: one ping
// per 15-second segment played, and one per pause and end. Each ping is
// checked against its link (cached, linkcache.go, so that pings cost no
// query), limited (pinglimits.go), and written durably to the events outbox
// before the answer.

const (
	maxPingBody     = 64 << 10
	maxPingsPerPost = 100
	maxLinksPerPost = 4  // distinct links one request's pings may name
	maxPingDetails  = 20 // problems named in one 400 answer
	pingWriteWait   = 5 * time.Second
)

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

// linkInfo is what a ping needs to know of its lesson link.
type linkInfo = lessons.PingLink

func linkInfoOf(v lessons.LessonView) linkInfo {
	info := linkInfo{OrgID: v.OrgID, RepID: v.RepID, CourseID: v.CourseID, EnrollmentID: v.EnrollmentID,
		AssignmentID: v.AssignmentID, LessonID: v.LessonID}
	if v.Lesson.Kind == lessons.KindVideo {
		info.VideoSeconds = v.Lesson.VideoSeconds
	}
	return info
}

// requestLink is a link that a request's pings name: how many of them do,
// and, once looked up, the link.
type requestLink struct {
	token string
	pings int
	info  linkInfo
	found bool // the link exists
}

// requestLinks are the distinct links of a request's pings, in the order
// they first come. A request names one link, or a few: a list searched
// through costs less than a map.
type requestLinks []requestLink

// linksOf tallies the links of ps.
func linksOf(ps []ping) requestLinks {
	out := make(requestLinks, 0, 1)
next:
	for _, p := range ps {
		for i := range out {
			if out[i].token == p.Token {
				out[i].pings++
				continue next
			}
		}
		out = append(out, requestLink{token: p.Token, pings: 1})
	}
	return out
}

// tooMany refuses a request whose pings name more links than a page
// has (one, a few after an offline spell).
func (rl requestLinks) tooMany() error {
	if len(rl) <= maxLinksPerPost {
		return nil
	}
	return errs.InvalidInput("The pings are not valid; none was recorded.", []errs.Detail{{Path: "pings",
		Message: fmt.Sprintf("name %d lesson links; one request may name at most %d", len(rl), maxLinksPerPost)}})
}

// get returns the link of token, if it exists.
func (rl requestLinks) get(token string) (linkInfo, bool) {
	for i := range rl {
		if rl[i].token == token {
			return rl[i].info, rl[i].found
		}
	}
	return linkInfo{}, false
}

// checkLinks checks each ping against its link: a known link of a video
// lesson, a segment of that video, a position within it (a second over,
// for players that count the end a little late).
func checkLinks(ps []ping, links requestLinks, single bool) error {
	var probs pingProblems
	for i, p := range ps {
		prefix := ""
		if !single {
			prefix = "pings[" + strconv.Itoa(i) + "]."
		}
		info, ok := links.get(p.Token)
		switch {
		case !ok:
			probs.add(prefix+"token", "is not a valid lesson link")
			continue
		case info.VideoSeconds <= 0:
			probs.add(prefix+"token", "is the link of a lesson without a video")
			continue
		}
		if n := tracking.SegmentCount(info.VideoSeconds); p.Segment >= n {
			probs.add(prefix+"segment", "must be below %d: the video has %d segments", n, n)
		}
		if max := float64(info.VideoSeconds + 1); p.Position > max {
			probs.add(prefix+"position", "must be at most %g seconds", max)
		}
	}
	return probs.err()
}

// pingEvents turns checked pings into events; pings with the same key in one
// request become one event, the last.
func pingEvents(ps []ping, links requestLinks, now time.Time) []tracking.Event {
	out := make([]tracking.Event, 0, len(ps))
	var at map[string]int // keys to their event, for a request of many pings
	if len(ps) > 8 {
		at = make(map[string]int, len(ps))
	}
	for _, p := range ps {
		info, _ := links.get(p.Token)
		e := tracking.Event{OrgID: info.OrgID, RepID: info.RepID, OccurredAt: now, CourseID: info.CourseID,
			EnrollmentID: info.EnrollmentID, AssignmentID: info.AssignmentID, LessonID: info.LessonID}
		d := tracking.VideoDetail{Position: p.Position, Rate: p.Rate, Session: p.Session}
		switch p.Event {
		case pingSegment:
			e.Kind, e.Key, e.Value = tracking.KindSegmentWatched, tracking.SegmentKey(info.AssignmentID, p.Segment), float64(p.Segment)
		default:
			e.Kind = tracking.KindVideoPaused
			if p.Event == pingEnded {
				e.Kind = tracking.KindVideoEnded
			}
			e.Key, e.Value = tracking.PlayerKey(e.Kind, info.AssignmentID, p.Session), p.Position
			d.Segment = &p.Segment
		}
		e.Detail = d.String()
		if i := eventWithKey(out, at, e.Key); i >= 0 {
			out[i] = e
			continue
		}
		if at != nil {
			at[e.Key] = len(out)
		}
		out = append(out, e)
	}
	return out
}

// eventWithKey returns the index of the event with key among events, or -1;
// at, when not nil, indexes them by key.
func eventWithKey(events []tracking.Event, at map[string]int, key string) int {
	if at != nil {
		if i, ok := at[key]; ok {
			return i
		}
		return -1
	}
	for i := range events {
		if events[i].Key == key {
			return i
		}
	}
	return -1
}

// pings answers POST /t/pings: 204 once the pings are durably stored, 400
// naming the bad pings (none is stored), 429 over a limit (pinglimits.go),
// 503 when the events cannot be written.
func (s *Server) pings(w http.ResponseWriter, r *http.Request) {
	l := s.lessonLinks
	if l.ingester == nil {
		s.writeAPIError(w, r, errs.Errorf(errs.Unavailable, "Progress tracking is not available."))
		return
	}
	buf, err := readPingBody(w, r)
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	ps, single, err := parsePings(*buf)
	putPingBody(buf) // the pings hold copies
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	links := linksOf(ps)
	if err := links.tooMany(); err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	if refused := l.allow(links, ps); refused != nil {
		refused.write(w)
		return
	}
	if err := l.lookup(r.Context(), links, s.clientAddress(r)); err != nil {
		var refused *pingRefused
		if errors.As(err, &refused) {
			refused.write(w)
			return
		}
		s.writeAPIError(w, r, err)
		return
	}
	if err := checkLinks(ps, links, single); err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	if err := l.ingester.WriteWithin(r.Context(), pingWriteWait, pingEvents(ps, links, l.now())); err != nil {
		s.log.WarnContext(r.Context(), "write pings", slog.Int("pings", len(ps)), slog.Any("error", err))
		s.writeAPIError(w, r, errs.Errorf(errs.Unavailable, "The pings could not be stored; send them again."))
		return
	}
	s.metrics.pingsAccepted(len(ps))
	w.WriteHeader(http.StatusNoContent)
}

// pingBodies holds buffers for ping bodies, which are read by the thousand
// a second and parsed into copies at once.
var pingBodies = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// readPingBody reads the body, as readBody does, into a buffer of
// pingBodies, which putPingBody gives back.
func readPingBody(w http.ResponseWriter, r *http.Request) (*[]byte, error) {
	buf := pingBodies.Get().(*[]byte)
	b := (*buf)[:0]
	body := http.MaxBytesReader(w, r.Body, maxPingBody)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return buf, nil
		}
		if err != nil {
			*buf = b
			putPingBody(buf)
			return nil, fmt.Errorf("read request body: %w", err)
		}
	}
}

// putPingBody gives a buffer back to pingBodies, unless it grew large.
func putPingBody(buf *[]byte) {
	if cap(*buf) <= 16<<10 {
		*buf = (*buf)[:0]
		pingBodies.Put(buf)
	}
}
