package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
)

// bench soak for 15 seconds, two rounds of each load at least however slowly they set up (seconds under -race on a busy
// machine): all four loads ran, without errors, and the memory of this process and of the pings' serve process was read
// at start and at end, at rest and under load.
func TestBenchSoak(t *testing.T) {
	t.Parallel()
	databaseURL := dbtest.PostgresURL(t)
	t.Cleanup(func() { dropSoakDatabases(t, databaseURL) })
	environ := map[string]string{"DATABASE_URL": databaseURL, "CLICKHOUSE_URL": dbtest.ClickHouseURL(t)}
	profiles := t.TempDir()
	res := morsel(context.Background(), environ, "bench", "soak", "--duration", "15s", "--round", "5s", "--min-rounds", "2",
		"--heap-profiles", profiles, "--json")
	require.Equal(t, 0, res.code, res.stderr)
	fig := lastJSON(t, res.stdout)
	for _, k := range []string{"sms_per_sec", "replies_per_sec", "pings_per_sec", "dashboard_loads_per_sec", "duration_sec"} {
		require.Greater(t, fig[k], 0.0, "%s; stderr:\n%s", k, res.stderr)
	}
	require.GreaterOrEqual(t, fig["duration_sec"], 10.0, "rounds start until under 5 s is left")
	require.GreaterOrEqual(t, fig["rounds"], 8.0, "two rounds of each load at least")
	require.GreaterOrEqual(t, strings.Count(res.stderr, "bench pings: server at "), 2, "two pings rounds")
	require.EqualValues(t, 0, fig["errors"], "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	procs := fig["processes"].([]any)
	require.Len(t, procs, 2, "this process and the pings rounds' serve")
	for _, p := range procs {
		m := p.(map[string]any)
		require.Greater(t, m["pid"], 0.0)
		for _, k := range []string{"rss_start_mib", "rss_end_mib", "heap_start_mib", "heap_end_mib", "heap_loaded_start_mib", "heap_loaded_end_mib"} {
			require.Greater(t, m[k], 0.0, "%s of %s", k, m["process"])
		}
		require.Greater(t, m["rss_start_mib"], m["heap_start_mib"], "the live heap is a part of the resident memory")
		from, to := m["heap_start_mib"].(float64), m["heap_end_mib"].(float64)
		growth := (to - from) / from * 100
		require.InDelta(t, growth, m["memory_growth_percent"], 1.5, "from the rounded MiB")
		require.Equal(t, m["memory_growth_percent"].(float64) <= 10, m["memory_flat"], "flat as the figure shown")
		from, to = m["heap_loaded_start_mib"].(float64), m["heap_loaded_end_mib"].(float64)
		require.InDelta(t, (to-from)/from*100, m["loaded_growth_percent"], 1.5, "under load, from the rounded MiB")
		for _, k := range []string{"heap_profile_start", "heap_profile_end"} {
			path, _ := m[k].(string)
			require.Equal(t, profiles, filepath.Dir(path), "%s of %s", k, m["process"])
			requireHeapProfile(t, path)
		}
	}
	require.NotEqual(t, procs[0].(map[string]any)["pid"], procs[1].(map[string]any)["pid"])
	require.Contains(t, res.stderr, "bench soak: at rest at the start", "progress goes to stderr")
	require.Contains(t, res.stderr, "bench soak: at rest at the end")
	require.Contains(t, res.stdout, "dashboard loads/s")
}

// requireHeapProfile checks that path holds a heap profile pprof reads.
func requireHeapProfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	p, err := profile.Parse(f)
	require.NoError(t, err, path)
	require.NotEmpty(t, p.Sample, path)
	var types []string
	for _, st := range p.SampleType {
		types = append(types, st.Type)
	}
	require.Contains(t, types, "inuse_space", path)
}

func TestBenchSoakUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--minutes", "-1"}, "--minutes must be 1 to 1440"},
		{[]string{"--duration", "0s"}, "--duration must be 1s to 24h"},
		{[]string{"--duration", "10s", "--warmup", "10s"}, "--warmup must be less than the run"},
		{[]string{"extra"}, "bench soak takes no arguments"},
		{[]string{"--round", "0s"}, "--round must be 1s or more"},
		{[]string{"--min-rounds", "0"}, "--min-rounds must be 1 to 1000"},
	} {
		res := morsel(context.Background(), nil, append([]string{"bench", "soak"}, tc.args...)...)
		require.Equal(t, 2, res.code, tc.args)
		require.Contains(t, res.stderr, tc.want, tc.args)
	}
}

// dropSoakDatabases drops the databases bench soak created beside databaseURL's.
func dropSoakDatabases(t *testing.T, databaseURL string) {
	u, err := url.Parse(databaseURL)
	require.NoError(t, err)
	name := strings.Trim(u.Path, "/")
	conn, err := pgx.Connect(context.Background(), databaseURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	for _, kind := range soakKinds {
		_, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name + "_soak_" + kind}.Sanitize()+" WITH (FORCE)")
		require.NoError(t, err)
	}
}
