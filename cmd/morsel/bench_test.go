package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
)

// lastJSON decodes the last line of a bench's stdout.
func lastJSON(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var fig map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &fig), "last line of %q", stdout)
	return fig
}

func TestBenchSMS(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t)}
	res := morsel(context.Background(), environ, "bench", "sms", "--reps", "50", "--steps", "2", "--workers", "20", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	fig := lastJSON(t, res.stdout)
	for _, k := range []string{"lost", "duplicated", "out_of_order", "unrecorded"} {
		require.EqualValues(t, 0, fig[k], k)
	}
	require.EqualValues(t, 100, fig["messages"])
	require.EqualValues(t, 50, fig["reps"])
	require.EqualValues(t, 2, fig["steps"])
	require.EqualValues(t, 20, fig["workers"])
	require.Greater(t, fig["messages_per_sec"], 0.0)
	require.Greater(t, fig["p99_ms"], 0.0)
	require.Contains(t, res.stdout, "0 lost, 0 duplicated, 0 reps out of order")
	require.Contains(t, res.stderr, "wave 2:", "progress goes to stderr")

	// The bench leaves no job behind for a worker on the real clock, and no
	// event for the shipper.
	conn, err := pgx.Connect(context.Background(), environ["DATABASE_URL"])
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var jobs, leaders, events int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM river_job),
		(SELECT count(*) FROM river_leader), (SELECT count(*) FROM event_outbox)`).Scan(&jobs, &leaders, &events))
	require.Zero(t, jobs)
	require.Zero(t, leaders)
	require.Zero(t, events)
}

// On a database with work pending, bench sms refuses to start: its workers
// run on a clock days ahead and would take that work.
func TestBenchSMSRefusesABusyDatabase(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t)}
	conn, err := pgx.Connect(context.Background(), environ["DATABASE_URL"])
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at)
		VALUES ('{"message_id": 1}', 'send_sms', 20, 'sms', 'scheduled', now() + interval '1 day')`)
	require.NoError(t, err)

	res := morsel(context.Background(), environ, "bench", "sms", "--reps", "5", "--steps", "1")
	require.Equal(t, 1, res.code, res.stderr)
	require.Contains(t, res.stderr, "1 unfinished River jobs")
	var orgs int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM organisations`).Scan(&orgs))
	require.Zero(t, orgs, "nothing was created")
}

// bench import migrates an empty database first, then imports twice.
// bench replies at a tiny size: every signed reply gets its feedback, timed.
func TestBenchReplies(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t)}
	res := morsel(context.Background(), environ, "bench", "replies", "--reps", "30", "--rate", "60", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	fig := lastJSON(t, res.stdout)
	require.EqualValues(t, 30, fig["replies"])
	require.EqualValues(t, 0, fig["lost"])
	require.EqualValues(t, 0, fig["rejected"])
	require.Greater(t, fig["p50_ms"], 0.0)
	require.Contains(t, res.stderr, "30 questions sent", "progress goes to stderr")
}

func TestBenchImport(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": dbtest.EmptyPostgresURL(t)}
	res := morsel(context.Background(), environ, "bench", "import", "--reps", "300", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "migrated the database")
	fig := lastJSON(t, res.stdout)
	require.EqualValues(t, 300, fig["rows"])
	require.EqualValues(t, 300, fig["created"])
	require.EqualValues(t, 300, fig["updated"])
	for _, k := range []string{"parse_ms", "store_ms", "total_ms", "rows_per_sec", "update_total_ms"} {
		require.Greater(t, fig[k], 0.0, k)
	}
	require.Contains(t, res.stdout, "run 2, all updates")
}

func TestBenchList(t *testing.T) {
	t.Parallel()
	res := morsel(context.Background(), nil, "bench")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "morsel bench import")
	require.Contains(t, res.stdout, "morsel bench sms")

	res = morsel(context.Background(), nil, "bench", "frobnicate")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, `unknown bench "frobnicate"`)

	res = morsel(context.Background(), nil, "bench", "sms", "--zones", "9")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, "--zones must be 1 to 4")
}

// The serve a bench starts uses the bench's databases and ClickHouse cluster,
// whatever the environment names, and no Twilio.
func TestServeEnviron(t *testing.T) {
	t.Parallel()
	environ := []string{"PATH=/bin", "DATABASE_URL=postgres://prod", "CLICKHOUSE_URL=clickhouse://prod", "CLICKHOUSE_CLUSTER=prod",
		"TWILIO_AUTH_TOKEN=secret", "TWILIO_ACCOUNT_SID_FILE=/run/sid", "PUBLIC_URL=https://x", "HTTP_ADDR=:80"}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"one server", Config{DatabaseURL: "postgres://bench", ClickHouseURL: "clickhouse://bench"},
			[]string{"PATH=/bin", "DATABASE_URL=postgres://bench", "CLICKHOUSE_URL=clickhouse://bench"}},
		{"a cluster", Config{DatabaseURL: "postgres://bench", ClickHouseURL: "clickhouse://bench", ClickHouseCluster: "c2"},
			[]string{"PATH=/bin", "DATABASE_URL=postgres://bench", "CLICKHOUSE_URL=clickhouse://bench", "CLICKHOUSE_CLUSTER=c2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, serveEnviron(environ, tc.cfg))
		})
	}
}
