package xapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// Exporter reads one organisation's statements page by page.
type Exporter struct {
	CH        driver.Conn
	Converter Converter
}

// Page returns the statements of up to limit of the organisation's current
// events that occurred at or after since, after the cursor, and the cursor
// of the next page (the zero Cursor when this one is the last). A page may
// hold fewer than limit statements, none even, and not be the last.
func (x Exporter) Page(ctx context.Context, since time.Time, after Cursor, limit int) ([]Statement, Cursor, error) {
	events, next, err := tracking.CurrentEvents(ctx, x.CH, x.Converter.OrgID, kinds, since, tracking.EventCursor(after), limit)
	if err != nil {
		return nil, Cursor{}, err
	}
	if len(events) == 0 {
		return nil, Cursor(next), nil
	}
	var assignments []int64
	seen := map[int64]bool{}
	for _, e := range events {
		if x.Converter.needsSegments(e) && e.AssignmentID != 0 && !seen[e.AssignmentID] {
			seen[e.AssignmentID] = true
			assignments = append(assignments, e.AssignmentID)
		}
	}
	watched, err := tracking.SegmentsWatched(ctx, x.CH, x.Converter.OrgID, events[0].RepID, events[len(events)-1].RepID, assignments)
	if err != nil {
		return nil, Cursor{}, err
	}
	byAssignment := map[int64][]tracking.SegmentWatch{}
	for _, w := range watched {
		byAssignment[w.AssignmentID] = append(byAssignment[w.AssignmentID], w)
	}
	out := make([]Statement, 0, len(events))
	for _, e := range events {
		if s, ok := x.Converter.Statement(e, byAssignment[e.AssignmentID]); ok {
			out = append(out, s)
		}
	}
	return out, Cursor(next), nil
}

// Cursor is where a page of statements ends: the rep and key of its last
// event, or a rep alone (Key "") to start at its first event. The zero
// Cursor is the start, or the end after the last page.
type Cursor tracking.EventCursor

// IsZero reports whether c is the zero cursor.
func (c Cursor) IsZero() bool { return c.RepID == 0 && c.Key == "" }

// MaxCursorLength bounds a cursor's text.
const MaxCursorLength = 400

// String writes the cursor as the opaque text a client sends back: base64url
// (no padding) of the JSON array [rep, key]; "" for the zero cursor.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	b, _ := json.Marshal([]any{c.RepID, c.Key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor reads a cursor that String wrote; "" is the start. A cursor
// that is not one is Invalid, naming the parameter name.
func ParseCursor(name, s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := func(why string) (Cursor, error) {
		return Cursor{}, errs.InvalidInput(fmt.Sprintf("The %s is not one this server gave.", name),
			[]errs.Detail{{Path: name, Message: why}})
	}
	if len(s) > MaxCursorLength {
		return bad(fmt.Sprintf("is %d characters long; a cursor has at most %d", len(s), MaxCursorLength))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("is not base64url text")
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 2 {
		return bad("does not hold a rep and a key")
	}
	var c Cursor
	if err := json.Unmarshal(parts[0], &c.RepID); err != nil || c.RepID <= 0 {
		return bad("does not hold a rep id (a positive whole number)")
	}
	if err := json.Unmarshal(parts[1], &c.Key); err != nil || utf8.RuneCountInString(c.Key) > tracking.MaxKeyLength ||
		!utf8.ValidString(c.Key) || strings.ContainsFunc(c.Key, unicode.IsControl) {
		return bad("does not hold an event key")
	}
	return c, nil
}
