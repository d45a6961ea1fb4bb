package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking/xapi"
)

// listXAPIStatements answers GET /api/v1/xapi/statements: a page of the
// organisation's events as xAPI statements (tracking/xapi), after the
// cursor given, of the events that occurred at or after since. The page is
// written statement by statement as {"data": [...], "next_cursor": "..."
// or null}, flushed as it goes.
func (s *Server) listXAPIStatements(w http.ResponseWriter, r *http.Request, orgID int64) error {
	if s.ch == nil {
		return errs.Errorf(errs.Unavailable, "The xAPI export is not available: this server has no ClickHouse connection.")
	}
	if s.publicURL == "" {
		return errs.Errorf(errs.Unavailable, "The xAPI export is not available: the server has no PUBLIC_URL to name reps and activities by.")
	}
	q := newQuery(r)
	limit := q.limit(defaultLimit, maxLimit)
	var since time.Time
	if raw := q.text("since", ""); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			q.bad("since", "must be a time in RFC 3339, such as 2027-03-08T14:00:00Z, got %q", raw)
		}
		since = t
	}
	cursor, err := xapi.ParseCursor("cursor", q.text("cursor", ""))
	if err != nil {
		return err
	}
	if err := q.err(); err != nil {
		return err
	}
	catalog, err := xapi.LoadCatalog(r.Context(), s.store, orgID)
	if err != nil {
		return err
	}
	x := xapi.Exporter{CH: s.ch, Converter: xapi.Converter{HomePage: s.publicURL, OrgID: orgID, Catalog: catalog}}
	statements, next, err := x.Page(r.Context(), since, cursor, limit)
	if err != nil {
		return err
	}
	writeStatements(w, statements, next)
	return nil
}

// statementsFlushEvery is how many statements are written between flushes.
const statementsFlushEvery = 100

// writeStatements streams a page of statements as JSON.
func writeStatements(w http.ResponseWriter, statements []xapi.Statement, next xapi.Cursor) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	flush := func() { _ = http.NewResponseController(w).Flush() }
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if _, err := w.Write([]byte(`{"data":[`)); err != nil {
		return // the client went away
	}
	for i, st := range statements {
		if i > 0 {
			if _, err := w.Write([]byte(",")); err != nil {
				return
			}
		}
		if err := enc.Encode(st); err != nil {
			return
		}
		if (i+1)%statementsFlushEvery == 0 {
			flush()
		}
	}
	tail := []byte(`],"next_cursor":null}` + "\n")
	if !next.IsZero() {
		c, _ := json.Marshal(next.String())
		tail = append(append([]byte(`],"next_cursor":`), c...), "}\n"...)
	}
	_, _ = w.Write(tail)
}
