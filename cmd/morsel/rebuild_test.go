package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
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

// dashboardFigures is every figure the dashboard's pages show of an
// organisation, read with tracking/reports' own queries.
type dashboardFigures struct {
	Overview   reports.Overview
	Rows       []reports.Row
	Breakdowns map[string]reports.Breakdown
	Questions  map[int64][]reports.QuestionStats
	Videos     []reports.VideoFigures
}

// readFigures reads every dashboard figure of the organisation, from a
// Reports of its own (nothing cached from an earlier read), at now.
func readFigures(t *testing.T, pool *pgxpool.Pool, ch driver.Conn, orgID int64, now time.Time) dashboardFigures {
	t.Helper()
	ctx := context.Background()
	r := reports.New(ch, pool, func() time.Time { return now })
	rows, err := pool.Query(ctx, `SELECT id FROM teams WHERE org_id = $1 ORDER BY id`, orgID)
	require.NoError(t, err)
	teams, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	scope := reports.Scope{OrgID: orgID, All: true, Teams: teams, Contacts: true}
	var f dashboardFigures
	f.Overview, err = r.Overview(ctx, scope, 0)
	require.NoError(t, err)
	require.NoError(t, r.EachRow(ctx, scope, reports.TableQuery{}, func(row reports.Row) error {
		f.Rows = append(f.Rows, row)
		return nil
	}))
	f.Breakdowns = map[string]reports.Breakdown{}
	for _, dim := range reports.Dimensions() {
		for _, period := range []reports.Period{reports.Week, reports.Month} {
			b, err := r.Breakdown(ctx, scope, reports.BreakdownQuery{By: dim, Period: period})
			require.NoError(t, err)
			f.Breakdowns[string(dim)+"/"+string(period)] = b
		}
	}
	rows, err = pool.Query(ctx, `SELECT id FROM courses WHERE org_id = $1 ORDER BY id`, orgID)
	require.NoError(t, err)
	courses, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	f.Questions = map[int64][]reports.QuestionStats{}
	for _, c := range courses {
		f.Questions[c], err = r.Questions(ctx, scope, c)
		require.NoError(t, err)
	}
	rows, err = pool.Query(ctx, `SELECT l.id, l.video_seconds, v.video_complete_percent FROM course_lessons l
		JOIN course_versions v ON v.id = l.course_version_id WHERE v.org_id = $1 AND l.kind = 'video' ORDER BY l.id`, orgID)
	require.NoError(t, err)
	videos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reports.VideoLesson, error) {
		var v reports.VideoLesson
		var seconds int
		err := row.Scan(&v.LessonID, &seconds, &v.Threshold)
		v.Segments = tracking.SegmentCount(seconds)
		return v, err
	})
	require.NoError(t, err)
	require.NotEmpty(t, videos)
	f.Videos, err = r.Videos(ctx, scope, videos)
	require.NoError(t, err)
	return f
}

// withoutLastActivity is f with its rows' last activity left out.
func withoutLastActivity(f dashboardFigures) dashboardFigures {
	f.Rows = slices.Clone(f.Rows)
	for i := range f.Rows {
		f.Rows[i].LastActivity = time.Time{}
	}
	// The overview's at-risk rows show it too (their order does not use it).
	f.Overview.AtRisk = slices.Clone(f.Overview.AtRisk)
	for i := range f.Overview.AtRisk {
		f.Overview.AtRisk[i].LastActivity = time.Time{}
	}
	return f
}

// TestRebuildAnalytics: the demo's weeks of history (enrolled, sent,
// answered by SMS, some wrong, videos watched, opt-outs, undeliverable
// numbers) and corrections through tracking (a wrong answer voided, a right
// one corrected to wrong); ClickHouse's database dropped and migrated again;
// rebuilt from Postgres, every dashboard figure is what it was; rebuilt again
// over what it wrote, nothing changes.
func TestRebuildAnalytics(t *testing.T) {
	t.Parallel()
	chURL := dbtest.ClickHouseURL(t)
	environ := map[string]string{"DATABASE_URL": dbtest.EmptyPostgresURL(t), "CLICKHOUSE_URL": chURL}
	// On the two-shard cluster (make test's second pass), the lost database
	// is lost on every server and comes back sharded.
	onCluster := ""
	if os.Getenv("MORSEL_TEST_CLICKHOUSE") == "cluster" {
		environ["CLICKHOUSE_CLUSTER"] = os.Getenv("CLICKHOUSE_CLUSTER")
		onCluster = " ON CLUSTER " + os.Getenv("CLICKHOUSE_CLUSTER")
	}
	ctx := context.Background()
	for _, args := range [][]string{{"migrate"}, {"demo"}} {
		res := morsel(ctx, environ, args...)
		require.Equal(t, 0, res.code, res.stderr)
	}
	pool, err := pgxpool.New(ctx, environ["DATABASE_URL"])
	require.NoError(t, err)
	defer pool.Close()
	ch, err := tracking.OpenClickHouse(ctx, chURL)
	require.NoError(t, err)
	defer ch.Close()
	var orgID int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM organisations WHERE slug = 'demo'`).Scan(&orgID))

	// A wrong answer voided, a right one corrected to wrong: corrections that
	// only ClickHouse and Postgres's corrections log hold.
	graded := func(value float64) tracking.Event {
		var e tracking.Event
		var rep uint64
		require.NoError(t, ch.QueryRow(ctx, `SELECT rep_id, event_key FROM events FINAL
			WHERE org_id = ? AND kind = 'graded' AND deleted = 0 AND value = ? ORDER BY rep_id, event_key LIMIT 1`,
			uint64(orgID), value).Scan(&rep, &e.Key))
		e.RepID = int64(rep)
		return e
	}
	now := time.Now()
	wrong := graded(0)
	_, err = tracking.Void(ctx, pool, ch, now, orgID, wrong.Key, wrong.RepID, "asked twice", "test")
	require.NoError(t, err)
	right := graded(1)
	var e tracking.Event
	var course, enrollment, assignment, lesson uint64
	require.NoError(t, ch.QueryRow(ctx, `SELECT kind, occurred_at, course_id, enrollment_id, assignment_id, lesson_id, detail
		FROM events FINAL WHERE org_id = ? AND rep_id = ? AND event_key = ?`, uint64(orgID), uint64(right.RepID), right.Key).
		Scan(&e.Kind, &e.OccurredAt, &course, &enrollment, &assignment, &lesson, &e.Detail))
	e.RepID, e.Key, e.CourseID, e.EnrollmentID = right.RepID, right.Key, int64(course), int64(enrollment)
	e.AssignmentID, e.LessonID, e.Value = int64(assignment), int64(lesson), 0
	_, err = tracking.Correct(ctx, pool, ch, now, orgID, e)
	require.NoError(t, err)

	// What the demo wrote last (its notes' tags) is still in the outbox:
	// the shipper's job, which serve would run.
	for {
		n, err := tracking.Ship(ctx, pool, ch, 10_000, nil)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	before := readFigures(t, pool, ch, orgID, now)
	require.NotEmpty(t, before.Rows)

	// ClickHouse lost: its database dropped and made again, empty.
	u, err := url.Parse(chURL)
	require.NoError(t, err)
	db := strings.TrimPrefix(u.Path, "/")
	require.True(t, strings.HasPrefix(db, "morsel_test_"), "the test's own database: %s", db)
	require.NoError(t, ch.Exec(ctx, "DROP DATABASE "+db+onCluster))
	require.NoError(t, ch.Exec(ctx, "CREATE DATABASE "+db+onCluster))
	res := morsel(ctx, environ, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	var n uint64
	require.NoError(t, ch.QueryRow(ctx, `SELECT count() FROM enrollment_progress`).Scan(&n))
	require.Zero(t, n, "the dashboard's rollups are gone")
	if onCluster != "" {
		var engine string
		require.NoError(t, ch.QueryRow(ctx, `SELECT engine FROM system.tables WHERE database = ? AND name = 'events'`, db).Scan(&engine))
		require.Equal(t, "Distributed", engine, "migrated again in cluster mode")
	}

	for run := range 2 {
		res = morsel(ctx, environ, "rebuild-analytics", "--org", "demo")
		require.Equal(t, 0, res.code, res.stderr)
		require.Regexp(t, `rebuild-analytics: demo: 200/200 reps \(100\.0%\), \d+ events, \d+ events/s, ETA 0s`, res.stderr)
		require.Regexp(t, `rebuild-analytics: demo: \d+ events written`, res.stdout)
		after := readFigures(t, pool, ch, orgID, now)
		// A rep's last activity is the one figure Postgres cannot always
		// give back (a video completed at the time its progress was shipped,
		// where the event says when its last segment was watched; see
		// lessons/analytics_events.go): every other figure must be equal.
		want, got, moved := withoutLastActivity(before), withoutLastActivity(after), 0
		for i := range before.Rows {
			if !before.Rows[i].LastActivity.Equal(after.Rows[i].LastActivity) {
				moved++
			}
		}
		t.Logf("run %d: %d of %d rows' last activity differs", run+1, moved, len(before.Rows))
		require.Equal(t, want, got, "run %d: every figure as before ClickHouse was lost", run+1)
	}
	check := morsel(ctx, environ, "check-analytics", "--org", "demo")
	require.Equal(t, 0, check.code, check.stdout+check.stderr)

	// The void and the correction came back from Postgres.
	for _, c := range []struct {
		e       tracking.Event
		deleted uint8
		value   float64
	}{{wrong, 1, 0}, {right, 0, 0}} {
		var deleted uint8
		var value float64
		require.NoError(t, ch.QueryRow(ctx, `SELECT deleted, value FROM events FINAL WHERE org_id = ? AND rep_id = ? AND event_key = ?`,
			uint64(orgID), uint64(c.e.RepID), c.e.Key).Scan(&deleted, &value))
		require.Equal(t, fmt.Sprint(c.deleted, c.value), fmt.Sprint(deleted, value), c.e.Key)
	}
}
