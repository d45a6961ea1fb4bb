package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// csvFlushEvery is how many rows a CSV answer buffers before sending them.
const csvFlushEvery = 256

// csvAnswer writes an answer as RFC 4180 CSV (CRLF line ends), a row at a
// time, as the rows are read. Its headers and header row go out with the
// first row, so that an error before any row is still shown as a page; an
// error after it breaks the answer off, so that no one takes a part for the
// whole.
type csvAnswer struct {
	w      http.ResponseWriter
	log    *slog.Logger
	name   string // the file's name before its date: "reps"
	date   time.Time
	header []string
	cw     *csv.Writer
	rows   int
}

func (s *Server) csvAnswer(w http.ResponseWriter, name string, header []string) *csvAnswer {
	return &csvAnswer{w: w, log: s.log, name: name, date: s.store.Now(), header: header}
}

func (a *csvAnswer) start() error {
	h := a.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, a.name, a.date.UTC().Format("2006-01-02")))
	a.cw = csv.NewWriter(a.w)
	a.cw.UseCRLF = true
	return a.cw.Write(a.header)
}

// write writes one row.
func (a *csvAnswer) write(record []string) error {
	if a.cw == nil {
		if err := a.start(); err != nil {
			return err
		}
	}
	if err := a.cw.Write(record); err != nil {
		return err
	}
	if a.rows++; a.rows%csvFlushEvery == 0 {
		a.cw.Flush()
	}
	return a.cw.Error()
}

// finish ends the answer after its rows, given the error that stopped them
// (nil: none): returned while nothing is written, else the answer is broken
// off.
func (a *csvAnswer) finish(ctx context.Context, err error) error {
	if err != nil {
		if a.cw == nil {
			return err
		}
		a.log.WarnContext(ctx, "CSV answer broken off", "file", a.name, "rows", a.rows, "error", err)
		panic(http.ErrAbortHandler)
	}
	if a.cw == nil && a.start() != nil {
		return nil // the client is gone
	}
	a.cw.Flush()
	return nil
}

// repTableCSV answers GET /dashboard/reps.csv: the rep table with the same
// filters, sort and scope as the page, every row.
func (s *Server) repTableCSV(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	_, tq, err := s.repsStateOf(ctx, r.URL.Query(), v)
	if err != nil {
		return err
	}
	a := s.csvAnswer(w, "reps", []string{"name", "team", "course", "lessons_done", "lessons_total", "quiz_percent",
		"video_percent", "last_activity", "due_on", "status", "tags"})
	record := make([]string, 0, 11) // one for every row: nothing per row
	return a.finish(ctx, rep.EachRow(ctx, v.scope, tq, func(row reports.Row) error { return a.write(repRecord(record[:0], row)) }))
}

// repRecord appends a row of the rep table to dst as CSV cells: its texts
// neutralised, its figures and dates written as they are.
func repRecord(dst []string, row reports.Row) []string {
	last := ""
	if !row.LastActivity.IsZero() {
		last = row.LastActivity.UTC().Format(time.RFC3339)
	}
	due := ""
	if d, ok := row.DueOn(); ok {
		due = d.Format("2006-01-02")
	}
	return append(dst, csvText(row.Name), csvText(row.Team), csvText(row.Course), strconv.Itoa(row.Done), strconv.Itoa(row.Lessons),
		csvPercent(row.QuizPercent()), csvPercent(row.VideoPercent()), last, due, row.Status.Label(), csvText(hashTags(row.Tags)))
}

// breakdownCSV answers GET /reports/breakdown.csv with the page's parameters.
// After the figures of every enrollment and the completion of this period
// and the one before (the first columns, as ever), each measure's change in
// points, and the overdue, quiz and video shares of both periods.
func (s *Server) breakdownCSV(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	b, err := s.breakdownOf(ctx, r, v, rep)
	if err != nil {
		return err
	}
	this, prev := "this_"+string(b.Period)+"_", "previous_"+string(b.Period)+"_"
	compared := []reports.Measure{reports.MeasureOverdue, reports.MeasureQuiz, reports.MeasureVideo} // completion's columns come first
	header := []string{string(b.By), "enrolled", "completed", "completed_percent",
		"overdue", "overdue_percent", "quiz_answers", "quiz_correct", "quiz_percent", "video_segments", "video_watched", "video_percent",
		this + "enrolled", this + "completed_percent", prev + "enrolled", prev + "completed_percent", "completed_change_points"}
	for _, m := range compared {
		header = append(header, this+string(m)+"_percent", prev+string(m)+"_percent", string(m)+"_change_points")
	}
	a := s.csvAnswer(w, "breakdown-by-"+string(b.By), header)
	for _, row := range append(b.Rows, b.Total) {
		f := row.All
		record := []string{csvText(row.Label), strconv.Itoa(f.Enrolled), strconv.Itoa(f.Completed), csvPercent(f.CompletedPercent()),
			strconv.Itoa(f.Overdue), csvPercent(f.OverduePercent()), strconv.Itoa(f.Answers), strconv.Itoa(f.Correct), csvPercent(f.QuizPercent()),
			strconv.Itoa(f.Segments), strconv.Itoa(f.Watched), csvPercent(f.VideoPercent()),
			strconv.Itoa(row.This.Enrolled), csvPercent(row.This.CompletedPercent()),
			strconv.Itoa(row.Previous.Enrolled), csvPercent(row.Previous.CompletedPercent()), csvNumber(row.Change(reports.MeasureCompleted))}
		for _, m := range compared {
			record = append(record, csvPercent(row.This.Percent(m)), csvPercent(row.Previous.Percent(m)), csvNumber(row.Change(m)))
		}
		if err := a.write(record); err != nil {
			return a.finish(ctx, err)
		}
	}
	return a.finish(ctx, nil)
}

// questionReportCSV answers GET /reports/questions.csv?course=ID.
func (s *Server) questionReportCSV(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	p, err := s.questionsOf(ctx, r, v, rep)
	if err != nil {
		return err
	}
	a := s.csvAnswer(w, "questions", []string{"version", "lesson", "question", "prompt", "answered", "right_first_time",
		"right_percent", "most_chosen_wrong", "most_chosen_wrong_percent", "discrimination", "most_miss", "not_discriminating"})
	for _, q := range p.Items {
		if err := a.write(questionRecord(q)); err != nil {
			return a.finish(ctx, err)
		}
	}
	return a.finish(ctx, nil)
}

// questionRecord is a question's figures as CSV cells: its texts
// neutralised, its figures written as they are (the discrimination index,
// from -1 to 1, stays a number when it is negative).
func questionRecord(q pages.QuestionItem) []string {
	wrong, wrongPct := "", ""
	if c, pct, ok := q.Stats.MostChosenWrong(); ok {
		wrong, wrongPct = q.ChoiceText(c), strconv.Itoa(pct)
	}
	disc := ""
	if q.Stats.DiscriminationOK {
		disc = strconv.FormatFloat(q.Stats.Discrimination, 'f', 2, 64)
	}
	return []string{strconv.Itoa(q.Version), csvText(q.Lesson), strconv.Itoa(q.Number), csvText(q.Prompt),
		strconv.Itoa(q.Stats.Reps), strconv.Itoa(q.Stats.Correct), csvPercent(q.Stats.CorrectPercent()), csvText(wrong), wrongPct,
		disc, strconv.FormatBool(q.Stats.MostMiss()), strconv.FormatBool(q.Stats.NotDiscriminating())}
}

// csvPercent is a share for a cell: empty where there is nothing to share.
func csvPercent(n int, ok bool) string {
	if !ok {
		return ""
	}
	return strconv.Itoa(n)
}

// csvNumber is a number for a cell (a change may be negative: "-3"); empty
// where there is none.
func csvNumber(n int, ok bool) string {
	if !ok {
		return ""
	}
	return strconv.Itoa(n)
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

// hashTags writes tags as a note does: "#a #b".
func hashTags(tags []string) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("#" + t)
	}
	return b.String()
}
