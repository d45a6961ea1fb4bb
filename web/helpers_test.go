package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/web"
)

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return data
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// quiet is a logger for tests that do not look at the logs.
var quiet = newLogger(io.Discard)

// serve runs one request through srv's handler without a network.
func serve(srv *web.Server, method, path, key string) response {
	req := httptest.NewRequest(method, path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// httptestRecord runs one request through h.
func httptestRecord(h http.Handler, method, path string) response {
	return httptestDo(h, httptest.NewRequest(method, path, nil))
}

// httptestDo runs req through h.
func httptestDo(h http.Handler, req *http.Request) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}
