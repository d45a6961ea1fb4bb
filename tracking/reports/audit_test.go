package reports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

const org = 1

// history writes three reps in two courses, with a correction, a void and a
// removal, through the event writer.
func history(t *testing.T, pool *pgxpool.Pool, ch driver.Conn, now time.Time) {
	t.Helper()
	day := func(n int) time.Time { return now.Add(time.Duration(n) * 24 * time.Hour) }
	var events []tracking.Event
	for rep := int64(1); rep <= 3; rep++ {
		f := tracking.RepFacts{OrgID: org, RepID: rep, TeamID: 5, Team: "North", Status: "active", Name: fmt.Sprint("Rep ", rep), TimeZone: "UTC"}
		events = append(events, f.Event(day(-10)))
		for _, course := range []int64{7, 8} {
			due := day(5)
			if course == 8 {
				due = day(-1)
			}
			e := tracking.EnrollmentFacts{OrgID: org, RepID: rep, EnrollmentID: rep*10 + course, CourseID: course, CourseVersionID: course,
				CourseTitle: fmt.Sprint("Course ", course), Status: "active", EnrolledAt: day(-10), DueOn: due.Format(time.DateOnly), Lessons: 2, Segments: 4}
			events = append(events, e.Event(day(-10)))
		}
	}
	ev := func(rep, course, a int64, kind, key string, at time.Time, value float64) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Key: key, Kind: kind, OccurredAt: at, CourseID: course,
			EnrollmentID: rep*10 + course, AssignmentID: a, LessonID: a, Value: value}
	}
	events = append(events,
		ev(1, 7, 1, tracking.KindMessageSent, "msg/1", day(-9), 0), ev(1, 7, 1, tracking.KindLessonCompleted, "done/1", day(-9), 0),
		ev(1, 7, 2, tracking.KindMessageSent, "msg/2", day(-3), 0), ev(1, 7, 2, tracking.KindGraded, "grade/2", day(-3), 1),
		ev(1, 7, 2, tracking.KindLessonCompleted, "done/2", day(-3), 0),
		ev(2, 7, 3, tracking.KindMessageSent, "msg/3", day(-8), 0), ev(2, 7, 3, tracking.KindLessonOpened, "open/3", day(-8), 0),
		ev(2, 7, 3, tracking.KindSegmentWatched, "seg/3/0", day(-8), 0),
		ev(2, 8, 4, tracking.KindMessageSent, "msg/4", day(-8), 0), ev(2, 8, 4, tracking.KindGraded, "grade/4", day(-8), 0),
		ev(3, 7, 5, tracking.KindMessageSent, "msg/5", day(-8), 0), ev(3, 7, 5, tracking.KindLessonCompleted, "done/5", day(-7), 0),
	)
	require.NoError(t, tracking.WriteClickHouse(context.Background(), pool, ch, events))
	later := uint64(time.Now().UnixNano())
	void := ev(2, 7, 3, tracking.KindLessonOpened, "open/3", day(-8), 0)
	void.Deleted, void.Version = true, later
	correction := ev(1, 7, 2, tracking.KindGraded, "grade/2", day(-3), 0) // the answer was wrong after all
	correction.Version = later
	removed := tracking.RepFacts{OrgID: org, RepID: 3, TeamID: 5, Team: "North", Status: "removed", Name: "Rep 3", TimeZone: "UTC", Version: later}
	require.NoError(t, tracking.WriteClickHouse(context.Background(), pool, ch, []tracking.Event{void, correction, removed.Event(now)}))
}

// tamper rewrites one rollup row with a newer version whose column is set
// to expr, as a bug in the event writer would.
func tamper(t *testing.T, ch driver.Conn, table, where, column, expr string) {
	t.Helper()
	ctx := context.Background()
	rows, err := ch.Query(ctx, `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ?`, table)
	require.NoError(t, err)
	var cols, exprs []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		cols = append(cols, name)
		switch name {
		case column:
			exprs = append(exprs, expr)
		case "version":
			exprs = append(exprs, "version + 1")
		default:
			exprs = append(exprs, name)
		}
	}
	require.NoError(t, rows.Err())
	require.Contains(t, cols, column)
	require.NoError(t, ch.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s FINAL WHERE %s`,
		table, strings.Join(cols, ", "), strings.Join(exprs, ", "), table, where)))
}

// Audit finds nothing on what the event writer rolled up, and names each
// figure a tampered rollup row changes.
func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	history(t, pool, ch, now)
	r := reports.New(ch, nil, func() time.Time { return now })

	res, err := r.Audit(ctx, org)
	require.NoError(t, err)
	require.Empty(t, res.Differences)
	require.Equal(t, reports.AuditResult{Reps: 3, Enrollments: 6, Courses: 2}, res, "the removed rep's rows are recounted too, but not on the overview")

	// The chart: rep 1 finished course 7 three days ago, nobody else did.
	ov, err := r.Overview(ctx, reports.Scope{OrgID: org, All: true}, 0)
	require.NoError(t, err)
	require.Len(t, ov.Courses, 2)
	finished := now.Add(-3 * 24 * time.Hour).Format(time.DateOnly)
	for _, d := range ov.Courses[0].Completions {
		want := 0
		if d.Day.Format(time.DateOnly) >= finished {
			want = 1
		}
		require.Equal(t, want, d.Count, "course 7 complete by the end of %s", d.Day.Format(time.DateOnly))
	}
	require.Len(t, ov.Courses[0].Completions, reports.ChartDays)
	require.Equal(t, now.Format(time.DateOnly), ov.Courses[0].Completions[reports.ChartDays-1].Day.Format(time.DateOnly), "the chart ends today")
	require.Zero(t, ov.Courses[1].Completions[reports.ChartDays-1].Count)

	tests := []struct {
		name                       string
		table, where, column, expr string
		want                       reports.Difference
	}{
		{"a lesson counted done", "enrollment_progress", "rep_id = 2 AND enrollment_id = 27", "lessons_done", "2",
			reports.Difference{Where: "rep 2, enrollment 27", Figure: "lessons_done", Shown: "2", Recounted: "0"}},
		{"the overview follows", "", "", "", "",
			reports.Difference{Where: "course 7 (Course 7) on the overview", Figure: "completed", Shown: "2", Recounted: "1"}},
		{"a status from a stale due date", "enrollment_progress", "rep_id = 1 AND enrollment_id = 18", "due_at", "toDateTime(0)",
			reports.Difference{Where: "rep 1, enrollment 18", Figure: "status", Shown: "on_track", Recounted: "overdue"}},
		{"a rep's activity", "rep_summary", "rep_id = 1", "last_activity_at", "toDateTime(0)",
			reports.Difference{Where: "rep 1 as search finds them", Figure: "last_activity_at", Shown: "none", Recounted: now.Add(-3 * 24 * time.Hour).Format(time.RFC3339)}},
		{"a removed rep back", "enrollment_progress", "rep_id = 3 AND enrollment_id = 38", "rep_status", "'active'",
			reports.Difference{Where: "course 8 (Course 8) on the overview", Figure: "enrolled", Shown: "3", Recounted: "2"}},
	}
	for _, tt := range tests {
		if tt.table != "" {
			tamper(t, ch, tt.table, tt.where, tt.column, tt.expr)
		}
		res, err := r.Audit(ctx, org)
		require.NoError(t, err, tt.name)
		require.Contains(t, res.Differences, tt.want, "%s: %v", tt.name, res.Differences)
	}
}

// The reps most at risk: the same due date counts as the same, wherever
// the reps are, and then the least progress comes first.
func TestAtRiskOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	due := now.Add(-2 * 24 * time.Hour).Format(time.DateOnly)
	var events []tracking.Event
	for _, r := range []struct {
		rep  int64
		zone string
		done int
	}{{1, "UTC", 1}, {2, "America/Los_Angeles", 0}, {3, "Asia/Tokyo", 1}} {
		events = append(events,
			tracking.RepFacts{OrgID: org, RepID: r.rep, TeamID: 5, Team: "North", Status: "active", Name: fmt.Sprint("Rep ", r.rep), TimeZone: r.zone}.Event(now.Add(-10*24*time.Hour)),
			tracking.EnrollmentFacts{OrgID: org, RepID: r.rep, EnrollmentID: r.rep * 10, CourseID: 7, CourseVersionID: 7, CourseTitle: "Course 7",
				Status: "active", EnrolledAt: now.Add(-10 * 24 * time.Hour), DueOn: due, Lessons: 2}.Event(now.Add(-10*24*time.Hour)))
		for a := range r.done {
			events = append(events, tracking.Event{OrgID: org, RepID: r.rep, Key: fmt.Sprintf("done/%d", r.rep*100+int64(a)), Kind: tracking.KindLessonCompleted,
				OccurredAt: now.Add(-5 * 24 * time.Hour), CourseID: 7, EnrollmentID: r.rep * 10, AssignmentID: r.rep*100 + int64(a)})
		}
	}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))
	ov, err := reports.New(ch, pool, func() time.Time { return now }).Overview(ctx, reports.Scope{OrgID: org, All: true}, 0)
	require.NoError(t, err)
	var order []int64
	for _, r := range ov.AtRisk {
		order = append(order, r.RepID)
	}
	require.Equal(t, []int64{2, 1, 3}, order, "nothing done first, then by rep")
}

// shipEvents writes the events to the outbox and ships it all, as the
// shipper job does: the live path of a write.
func shipEvents(t *testing.T, pool *pgxpool.Pool, ch driver.Conn, events ...tracking.Event) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) }))
	for {
		n, err := tracking.Ship(ctx, pool, ch, 1000, nil)
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}
