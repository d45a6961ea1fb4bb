package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
)

// bench pings at a tiny size, against the real server in process: every
// acknowledged ping reaches ClickHouse.
func TestBenchPings(t *testing.T) {
	t.Parallel()
	environ := map[string]string{
		"DATABASE_URL":   dbtest.PostgresURL(t),
		"CLICKHOUSE_URL": dbtest.ClickHouseURL(t),
	}
	res := morsel(context.Background(), environ, "bench", "pings", "--watchers", "20", "--conns", "8", "--duration", "2s", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	fig := lastJSON(t, res.stdout)
	require.EqualValues(t, 0, fig["lost"])
	require.Greater(t, fig["acknowledged"], 0.0)
	require.Greater(t, fig["pings_per_sec"], 0.0)
	require.EqualValues(t, 20, fig["watchers"])
	require.EqualValues(t, 0, fig["throttled"], "the watchers stay under the limit of their links")
	require.GreaterOrEqual(t, fig["stored"], fig["keys"])
	require.Contains(t, fig, "log_bytes")
	require.Less(t, fig["log_bytes"].(float64), 20*fig["acknowledged"].(float64), "no log line per ping (one is some 150 bytes)")
	require.Contains(t, res.stdout, "0 lost")
	require.Contains(t, res.stderr, "acknowledged (", "progress goes to stderr")
}

func TestBenchPingsUsage(t *testing.T) {
	t.Parallel()
	res := morsel(context.Background(), nil, "bench", "pings", "--watchers", "0")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, "--watchers must be 1 to 100,000")

	res = morsel(context.Background(), nil, "bench")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "morsel bench pings")
}
