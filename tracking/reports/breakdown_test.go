package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

// A breakdown compares every measure (completion, overdue share, quiz
// average, video watched) of the enrollments that started this period with
// those that started the period before: checked against figures worked out
// by hand and against a recount from the raw events, after a correction,
// then again after two voids that each change one measure.
func TestBreakdownComparesEveryMeasure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	// A Wednesday: this month is November, the one before October.
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	date := func(month time.Month, day int) time.Time { return time.Date(2026, month, day, 9, 0, 0, 0, time.UTC) }

	type enrollment struct {
		rep, team   int64
		enrolled    time.Time
		due, status string
		done        int       // lessons completed, of 2
		grades      []float64 // quiz answers: 1 right, 0 wrong
		watched     int       // segments watched, of 4
	}
	enrollments := []enrollment{
		// This month: Ana done, one answer right, every segment; Ben
		// overdue, one answer wrong, one segment.
		{rep: 1, team: 5, enrolled: date(11, 3), due: "2026-11-30", status: "active", done: 2, grades: []float64{1}, watched: 4},
		{rep: 2, team: 5, enrolled: date(11, 5), due: "2026-11-10", status: "active", grades: []float64{0}, watched: 1},
		// October: Cleo overdue with one lesson of two, one answer right
		// and one wrong, two segments; Dan done, one answer wrong
		// (corrected below to right), every segment.
		{rep: 3, team: 5, enrolled: date(10, 10), due: "2026-10-31", status: "active", done: 1, grades: []float64{1, 0}, watched: 2},
		{rep: 4, team: 6, enrolled: date(10, 20), due: "2026-12-15", status: "active", done: 2, grades: []float64{0}, watched: 4},
		// September: in every enrollment's figures, in neither period.
		{rep: 5, team: 6, enrolled: date(9, 15), due: "2026-12-15", status: "active", grades: []float64{1}, watched: 3},
		// Cancelled this month: in no figure.
		{rep: 6, team: 6, enrolled: date(11, 4), due: "2026-12-15", status: "cancelled", done: 2, grades: []float64{1}, watched: 4},
	}
	teams := map[int64]string{5: "North", 6: "South"}
	var events []tracking.Event
	for _, e := range enrollments {
		enrollmentID := e.rep * 10
		events = append(events,
			tracking.RepFacts{OrgID: org, RepID: e.rep, TeamID: e.team, Team: teams[e.team], Status: "active", Name: fmt.Sprint("Rep ", e.rep),
				TimeZone: "UTC"}.Event(e.enrolled),
			tracking.EnrollmentFacts{OrgID: org, RepID: e.rep, EnrollmentID: enrollmentID, CourseID: 7, CourseVersionID: 7, CourseTitle: "Course 7",
				Status: e.status, EnrolledAt: e.enrolled, DueOn: e.due, Lessons: 2, Segments: 4}.Event(e.enrolled))
		ev := func(a int64, kind, key string, value float64) tracking.Event {
			return tracking.Event{OrgID: org, RepID: e.rep, Key: key, Kind: kind, OccurredAt: e.enrolled.Add(time.Hour), CourseID: 7,
				EnrollmentID: enrollmentID, AssignmentID: a, LessonID: a, Value: value}
		}
		quiz, video := enrollmentID+1, enrollmentID+2 // the path's two lessons
		for i, a := range []int64{quiz, video} {
			events = append(events, ev(a, tracking.KindMessageSent, fmt.Sprintf("msg/%d", a), 0))
			if i < e.done {
				events = append(events, ev(a, tracking.KindLessonCompleted, fmt.Sprintf("done/%d", a), 0))
			}
		}
		for q, right := range e.grades {
			events = append(events, ev(quiz, tracking.KindGraded, fmt.Sprintf("grade/%d/%d", quiz, q), right))
		}
		for s := range e.watched {
			events = append(events, ev(video, tracking.KindSegmentWatched, fmt.Sprintf("seg/%d/%d", video, s), float64(s)))
		}
	}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))
	// Dan's answer was right after all.
	_, err := tracking.Correct(ctx, pool, ch, time.Now(), org, tracking.Event{RepID: 4, Key: "grade/41/0", Kind: tracking.KindGraded,
		OccurredAt: date(10, 20).Add(time.Hour), CourseID: 7, EnrollmentID: 40, AssignmentID: 41, LessonID: 41, Value: 1})
	require.NoError(t, err)

	rep := reports.New(ch, pool, func() time.Time { return now })
	all := reports.Scope{OrgID: org, All: true}
	// recount is each team's (and the total's, under "All") figures of the
	// enrollments that started this month and the month before, counted
	// from the raw events as they stand after corrections and voids.
	recount := func() map[string][2]reports.Figures {
		t.Helper()
		rows, _, err := tracking.RecountProgress(ctx, ch, org)
		require.NoError(t, err)
		this, prev := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		out := map[string][2]reports.Figures{}
		for _, p := range rows {
			if p.RepStatus == "removed" || p.Status == "cancelled" {
				continue
			}
			period := -1
			switch {
			case !p.EnrolledAt.Before(this):
				period = 0
			case !p.EnrolledAt.Before(prev):
				period = 1
			}
			for _, label := range []string{p.Team, "All"} {
				fs := out[label]
				if period >= 0 {
					f := &fs[period]
					f.Enrolled++
					if p.Lessons > 0 && p.Done >= p.Lessons {
						f.Completed++
					} else if !p.DueAt.IsZero() && !p.DueAt.After(now) {
						f.Overdue++
					}
					f.Answers += p.Answers
					f.Correct += p.Correct
					f.Segments += p.Segments
					f.Watched += min(p.Watched, p.Segments)
				}
				out[label] = fs
			}
		}
		return out
	}
	type comparison struct {
		this, previous reports.Figures
		change         map[reports.Measure]int // points, this minus previous
	}
	check := func(want comparison) {
		t.Helper()
		recounted := recount()
		require.Equal(t, [2]reports.Figures{want.this, want.previous}, recounted["All"], "the hand-worked figures are the raw events'")
		b, err := rep.Breakdown(ctx, all, reports.BreakdownQuery{By: reports.DimTeam, Period: reports.Month})
		require.NoError(t, err)
		require.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), b.ThisStart)
		require.Equal(t, want.this, b.Total.This)
		require.Equal(t, want.previous, b.Total.Previous)
		for _, m := range reports.Measures() {
			got, ok := b.Total.Change(m)
			require.True(t, ok, "%s", m)
			require.Equal(t, want.change[m], got, "the change of %s", m)
		}
		require.Len(t, b.Rows, 2)
		for _, r := range b.Rows {
			require.Equal(t, recounted[r.Label], [2]reports.Figures{r.This, r.Previous}, "team %s", r.Label)
		}
		// A cohort compares with the cohort before it: November's with
		// October's, the same enrollments as this month and the last.
		cohorts, err := rep.Breakdown(ctx, all, reports.BreakdownQuery{By: reports.DimCohort, Period: reports.Month})
		require.NoError(t, err)
		require.Equal(t, "1 Nov 2026", cohorts.Rows[0].Label)
		require.Equal(t, want.this, cohorts.Rows[0].This)
		require.Equal(t, want.previous, cohorts.Rows[0].Previous)
		for _, m := range reports.Measures() {
			got, _ := cohorts.Rows[0].Change(m)
			require.Equal(t, want.change[m], got, "the cohort's change of %s", m)
		}
	}

	// This month: 2 enrolled, Ana completed, Ben overdue, 1 of 2 answers
	// right, 4+1 of 8 segments. October: 2 enrolled, Dan completed, Cleo
	// overdue, 1+1 of 3 answers right (Dan's corrected), 2+4 of 8 segments.
	check(comparison{
		this:     reports.Figures{Enrolled: 2, Completed: 1, Overdue: 1, Answers: 2, Correct: 1, Segments: 8, Watched: 5},
		previous: reports.Figures{Enrolled: 2, Completed: 1, Overdue: 1, Answers: 3, Correct: 2, Segments: 8, Watched: 6},
		change: map[reports.Measure]int{reports.MeasureCompleted: 50 - 50, reports.MeasureOverdue: 50 - 50,
			reports.MeasureQuiz: 50 - 66, reports.MeasureVideo: 62 - 75},
	})

	// Cleo's right answer and Ben's one segment are voided: October's quiz
	// average and this month's video watched fall.
	for _, v := range []struct {
		rep int64
		key string
	}{{3, "grade/31/0"}, {2, "seg/22/0"}} {
		_, err := tracking.Void(ctx, pool, ch, time.Now(), org, v.key, v.rep, "recorded for the wrong rep", "test")
		require.NoError(t, err)
	}
	check(comparison{
		this:     reports.Figures{Enrolled: 2, Completed: 1, Overdue: 1, Answers: 2, Correct: 1, Segments: 8, Watched: 4},
		previous: reports.Figures{Enrolled: 2, Completed: 1, Overdue: 1, Answers: 2, Correct: 1, Segments: 8, Watched: 6},
		change: map[reports.Measure]int{reports.MeasureCompleted: 0, reports.MeasureOverdue: 0,
			reports.MeasureQuiz: 50 - 50, reports.MeasureVideo: 50 - 75},
	})
}
