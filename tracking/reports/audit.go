package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/morselhq/morsel/tracking"
)

// Difference is one figure the dashboard shows that a recount from the raw
// events does not confirm.
type Difference struct {
	Where            string // "rep 101, enrollment 1010", "course 7 (Compliance)"
	Figure           string // "lessons_done", "overdue"
	Shown, Recounted string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: %s is %s on the dashboard, %s recounted from the raw events", d.Where, d.Figure, d.Shown, d.Recounted)
}

// AuditResult is what Audit checked and what it found.
type AuditResult struct {
	Reps, Enrollments, Courses int // recounted
	Differences                []Difference
}

// Audit recomputes every figure of the organisation's dashboard straight
// from the raw events (the newest version of each key, tombstones out) and
// compares it with what the dashboard reads: each rep's row of the rep
// table and its status, each rep as search finds them, and the overview's
// figures and chart of every course.
func (r *Reports) Audit(ctx context.Context, orgID int64) (AuditResult, error) {
	now := r.now().UTC()
	want, wantReps, err := tracking.RecountProgress(ctx, r.ch, orgID)
	if err != nil {
		return AuditResult{}, err
	}
	sn, err := r.snapshot(ctx, orgID)
	if err != nil {
		return AuditResult{}, err
	}
	var got []tracking.EnrollmentProgress
	var gotReps []tracking.RepSummary
	for _, rep := range sn.reps {
		for _, p := range rep.rows {
			got = append(got, p.EnrollmentProgress)
		}
		if rep.summary != nil {
			gotReps = append(gotReps, rep.summary.RepSummary)
		}
	}
	var shown []tracking.EnrollmentProgress
	sn.rows(Scope{OrgID: orgID, All: true}, 0, func(p *progressRow) { shown = append(shown, p.EnrollmentProgress) })
	shownCourses := courseFigures(shown, now)
	recounted := courseFigures(want, now)
	res := AuditResult{Reps: len(wantReps), Enrollments: len(want), Courses: len(recounted)}
	figures := func(p tracking.EnrollmentProgress) []figure { return progressFigures(p, now) }
	res.Differences = append(res.Differences, compare(got, want, progressKey, figures)...)
	res.Differences = append(res.Differences, compare(gotReps, wantReps, func(s tracking.RepSummary) string {
		return "rep " + strconv.FormatInt(s.RepID, 10) + " as search finds them"
	}, summaryFigures)...)
	res.Differences = append(res.Differences, compare(shownCourses, recounted, func(c CourseFigures) string {
		return fmt.Sprintf("course %d (%s) on the overview", c.CourseID, c.Title)
	}, overviewFigures)...)
	return res, nil
}

type figure struct{ name, value string }

// compare lines up the rows shown and recounted by key and lists every
// figure that differs, and every row only one side has.
func compare[T any](shown, recounted []T, key func(T) string, figures func(T) []figure) []Difference {
	byKey := map[string]T{}
	for _, s := range shown {
		byKey[key(s)] = s
	}
	var out []Difference
	for _, w := range recounted {
		k := key(w)
		s, ok := byKey[k]
		if !ok {
			out = append(out, Difference{Where: k, Figure: "row", Shown: "missing", Recounted: "present"})
			continue
		}
		delete(byKey, k)
		have, want := figures(s), figures(w)
		for i := range want {
			if have[i].value != want[i].value {
				out = append(out, Difference{Where: k, Figure: want[i].name, Shown: have[i].value, Recounted: want[i].value})
			}
		}
	}
	for k := range byKey {
		out = append(out, Difference{Where: k, Figure: "row", Shown: "present", Recounted: "missing"})
	}
	slices.SortStableFunc(out, func(a, b Difference) int { return cmp.Compare(a.Where, b.Where) })
	return out
}

func progressKey(p tracking.EnrollmentProgress) string {
	return fmt.Sprintf("rep %d, enrollment %d", p.RepID, p.EnrollmentID)
}

func progressFigures(p tracking.EnrollmentProgress, now time.Time) []figure {
	return []figure{
		{"team", strconv.FormatInt(p.TeamID, 10) + " " + p.Team}, {"name", p.Name}, {"rep_status", p.RepStatus},
		{"course", strconv.FormatInt(p.CourseID, 10) + " " + p.CourseTitle}, {"enrollment_status", p.Status},
		{"opted_out", strconv.FormatBool(p.OptedOut)}, {"phone_invalid", strconv.FormatBool(p.PhoneInvalid)},
		{"enrolled_at", stamp(p.EnrolledAt)}, {"due_at", stamp(p.DueAt)},
		{"lessons_total", strconv.Itoa(p.Lessons)}, {"lessons_sent", strconv.Itoa(p.Sent)},
		{"lessons_opened", strconv.Itoa(p.Opened)}, {"lessons_done", strconv.Itoa(p.Done)},
		{"answers", strconv.Itoa(p.Answers)}, {"correct", strconv.Itoa(p.Correct)},
		{"segments_total", strconv.Itoa(p.Segments)}, {"segments_watched", strconv.Itoa(p.Watched)},
		{"completed_at", stamp(p.CompletedAt)}, {"last_activity_at", stamp(p.LastActivityAt)},
		{"oldest_open_sent_at", stamp(p.OldestOpenSentAt)}, {"status", StatusOf(p, now).String()},
	}
}

func summaryFigures(s tracking.RepSummary) []figure {
	return []figure{
		{"team", strconv.FormatInt(s.TeamID, 10) + " " + s.Team}, {"name", s.Name}, {"phone", s.Phone}, {"email", s.Email},
		{"rep_status", s.RepStatus}, {"opted_out", strconv.FormatBool(s.OptedOut)},
		{"phone_invalid", strconv.FormatBool(s.PhoneInvalid)}, {"enrollments", strconv.Itoa(s.Enrollments)},
		{"done", strconv.Itoa(s.Done)}, {"last_activity_at", stamp(s.LastActivityAt)},
	}
}

func overviewFigures(c CourseFigures) []figure {
	out := []figure{
		{"enrolled", strconv.Itoa(c.Enrolled)}, {"completed", strconv.Itoa(c.Completed)},
		{"in_progress", strconv.Itoa(c.InProgress)}, {"not_started", strconv.Itoa(c.NotStarted)},
		{"overdue", strconv.Itoa(c.Overdue)}, {"opted_out", strconv.Itoa(c.OptedOut)},
		{"undeliverable", strconv.Itoa(c.Undeliverable)},
	}
	for _, d := range c.Completions {
		out = append(out, figure{"completed by " + d.Day.Format(time.DateOnly), strconv.Itoa(d.Count)})
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}
