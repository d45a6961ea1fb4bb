package main

import (
	"bufio"
	"context"
	"strings"
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

// The load's HTTP reader reads what net/http's server writes, and keeps the
// connection for the next answer.
func TestBenchPingsReadAnswer(t *testing.T) {
	t.Parallel()
	next := "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"
	tests := []struct {
		name    string
		raw     string
		status  int
		closing bool
		err     bool
	}{
		{"no content", "HTTP/1.1 204 No Content\r\nDate: Sat, 22 Nov 2026 04:00:00 GMT\r\n\r\n", 204, false, false},
		{"a body", "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\ncontent-length: 17\r\n\r\n{\"error\":{\"a\":1}}", 429, false, false},
		{"chunked", "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\n, w\r\n0\r\nTrailer: z\r\n\r\n", 503, false, false},
		{"closing", "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 400, true, false},
		{"http/1.0", "HTTP/1.0 204 No Content\r\n\r\n", 204, true, false},
		{"malformed", "HTTP/1.1 2x4 No\r\n\r\n", 0, false, true},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 200, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			br := bufio.NewReader(strings.NewReader(tt.raw + next))
			if tt.name == "cut short" {
				br = bufio.NewReader(strings.NewReader(tt.raw))
			}
			status, closing, err := readAnswer(br)
			if tt.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.status, status)
			require.Equal(t, tt.closing, closing)
			if !closing {
				status, _, err := readAnswer(br)
				require.NoError(t, err)
				require.Equal(t, 204, status, "the next answer is read whole")
			}
		})
	}
}
