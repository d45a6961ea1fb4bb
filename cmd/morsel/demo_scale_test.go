package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/cmd/morsel/bench"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// An organisation at scale: generated with rollups that check-analytics
// confirms, until a rollup row is tampered with; bench dashboard loads it.
func TestDemoAtScale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t), "CLICKHOUSE_URL": dbtest.ClickHouseURL(t)}
	res := morsel(ctx, environ, "demo", "--reps", "10")
	require.Equal(t, 2, res.code, "the demo organisation has its own size: %s", res.stderr)
	require.Contains(t, res.stderr, "name it with --org-slug")

	res = morsel(ctx, environ, "demo", "--org-slug", "big", "--reps", "60", "--events", "30000")
	require.Equal(t, 0, res.code, res.stderr)
	m := regexp.MustCompile(`60 reps in 3 teams, (\d+) events of history`).FindStringSubmatch(res.stdout)
	require.NotNil(t, m, res.stdout)
	n, _ := strconv.Atoi(m[1])
	require.InDelta(t, 30000, n, 3000, "about the events asked for")
	require.Contains(t, res.stderr, "events: ", "progress")
	require.Contains(t, res.stderr, "rolling up: 60 of 60 reps")
	res = morsel(ctx, environ, "demo", "--org-slug", "big", "--reps", "60")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, `organisation "big" exists already`)

	res = morsel(ctx, environ, "check-analytics", "--org", "big")
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "every figure matches the raw events (60 reps, 120 enrollments, 2 courses checked)")

	res = morsel(ctx, environ, "bench", "dashboard", "--org", "big", "--managers", "2", "--admins", "1", "--warmup", "1s", "--duration", "4s",
		"--think", "20ms", "--json")
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stderr, "warming up for 1s (not measured)")
	fig := lastJSON(t, res.stdout)
	for _, k := range []string{"p50_ms", "p95_ms", "p99_ms", "loads_per_sec", "freshness_p50_ms", "cores_clickhouse", "cores_morsel"} {
		require.Greater(t, fig[k], 0.0, k)
	}
	require.EqualValues(t, 0, fig["errors"])
	require.EqualValues(t, 60, fig["reps"])
	pages := fig["pages"].(map[string]any)
	for _, p := range bench.DashboardPages() {
		require.Contains(t, pages, p)
	}
	require.Greater(t, pages["search"].(map[string]any)["loads"], 0.0)

	// Each of the exports, the mentions and the tag suggestions loads on its
	// own, without errors.
	only := []string{"breakdown_csv", "question_csv", "mentions", "tag_suggestions"}
	res = morsel(ctx, environ, "bench", "dashboard", "--org", "big", "--managers", "1", "--admins", "1", "--duration", "2s", "--think", "20ms",
		"--warmup", "0s", "--pages", strings.Join(only, ","), "--json")
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	fig = lastJSON(t, res.stdout)
	require.EqualValues(t, 0, fig["errors"])
	for _, p := range only {
		require.Greater(t, fig["pages"].(map[string]any)[p].(map[string]any)["loads"], 0.0, p)
	}

	// A rollup row that says more lessons are done than the events show.
	ch, err := tracking.OpenClickHouse(ctx, environ["CLICKHOUSE_URL"])
	require.NoError(t, err)
	defer ch.Close()
	require.NoError(t, ch.Exec(ctx, `
		INSERT INTO enrollment_progress (org_id, team_id, rep_id, enrollment_id, course_id, course_title, team_name, name, rep_status,
			status, lessons_total, lessons_done, version)
		SELECT org_id, team_id, rep_id, enrollment_id, course_id, course_title, team_name, name, rep_status, status, lessons_total,
			lessons_done + 1, version + 1
		FROM enrollment_progress FINAL WHERE deleted = 0 ORDER BY rep_id, enrollment_id LIMIT 1`))
	res = morsel(ctx, environ, "check-analytics", "--org", "big")
	require.Equal(t, 1, res.code, res.stdout)
	require.Regexp(t, `rep \d+, enrollment \d+: lessons_done is \d+ on the dashboard, \d+ recounted from the raw events`, res.stdout)
	require.Contains(t, res.stderr, "figures differ from the raw events")
}
