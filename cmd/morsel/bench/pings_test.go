package bench

import (
	"bufio"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
