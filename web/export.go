package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/tracking/reports"
)

// repTableCSVHeader names the columns of the rep table's CSV.
var repTableCSVHeader = []string{"name", "team", "course", "lessons_done", "lessons_total", "quiz_percent",
	"video_percent", "last_activity", "due_on", "status"}

// csvFlushEvery is how many rows the CSV export buffers before sending them.
const csvFlushEvery = 256

// repTableCSV answers GET /dashboard/reps.csv: the rep table with the same
// filters, sort and scope as the page, every row, as RFC 4180 CSV with a
// header row, written as it is read. Text a person typed (names, teams,
// courses) that a spreadsheet would take for a formula is neutralised.
func (s *Server) repTableCSV(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	_, tq, err := repsState(r.URL.Query(), v.scope)
	if err != nil {
		return err
	}
	var cw *csv.Writer
	start := func() error {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="reps-`+s.store.Now().UTC().Format("2006-01-02")+`.csv"`)
		cw = csv.NewWriter(w)
		cw.UseCRLF = true // RFC 4180
		return cw.Write(repTableCSVHeader)
	}
	n := 0
	err = rep.EachRow(ctx, v.scope, tq, func(row reports.Row) error {
		if cw == nil {
			if err := start(); err != nil {
				return err
			}
		}
		if err := cw.Write(repTableCSVRecord(row)); err != nil {
			return err
		}
		if n++; n%csvFlushEvery == 0 {
			cw.Flush()
		}
		return cw.Error()
	})
	if err != nil {
		if cw != nil { // the answer has begun: break it off, so that no one takes it for whole
			s.log.WarnContext(ctx, "rep table CSV broken off", "rows", n, "error", err)
			panic(http.ErrAbortHandler)
		}
		return err
	}
	if cw == nil {
		if err := start(); err != nil {
			return nil // the client is gone
		}
	}
	cw.Flush()
	return nil
}

// repTableCSVRecord is one row of the CSV.
func repTableCSVRecord(row reports.Row) []string {
	optional := func(n int, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.Itoa(n)
	}
	last := ""
	if !row.LastActivity.IsZero() {
		last = row.LastActivity.UTC().Format(time.RFC3339)
	}
	due := ""
	if d, ok := row.DueOn(); ok {
		due = d.Format("2006-01-02")
	}
	return []string{csvText(row.Name), csvText(row.Team), csvText(row.Course), strconv.Itoa(row.Done), strconv.Itoa(row.Lessons),
		optional(row.QuizPercent()), optional(row.VideoPercent()), last, due, row.Status.Label()}
}

// csvText neutralises text that a spreadsheet would run as a formula (it
// starts with =, +, -, @, a tab or a carriage return) by a leading
// apostrophe, as OWASP advises; other text is as it is.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
