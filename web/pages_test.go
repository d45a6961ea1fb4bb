package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web"
)

func document(t *testing.T, res response) *goquery.Document {
	t.Helper()
	require.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(res.body))
	require.NoError(t, err)
	return doc
}

func TestPages(t *testing.T) {
	t.Parallel()
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet})

	res := serve(srv, "GET", "/", "")
	require.Equal(t, http.StatusOK, res.status)
	doc := document(t, res)
	require.Equal(t, 1, doc.Find(`[data-testid="home"]`).Length())
	href, _ := doc.Find(`[data-testid="openapi-link"]`).Attr("href")
	require.Equal(t, "/api/v1/openapi.json", href)
	require.Contains(t, doc.Find("title").Text(), "Morsel")
	viewport, _ := doc.Find(`meta[name="viewport"]`).Attr("content")
	require.Contains(t, viewport, "width=device-width")

	res = serve(srv, "GET", "/no/such/page", "")
	require.Equal(t, http.StatusNotFound, res.status)
	doc = document(t, res)
	require.Equal(t, 1, doc.Find(`[data-testid="not-found"]`).Length())
	require.Equal(t, "/no/such/page", doc.Find(`[data-testid="not-found-path"]`).Text())

	tests := []struct {
		method, path string
		status       int
		code         string // for JSON errors
		allow        string
	}{
		{"GET", "/api/v1/nothing", http.StatusNotFound, "not_found", ""},
		{"GET", "/api/v2/teams", http.StatusNotFound, "not_found", ""},
		{"PUT", "/api/v1/teams", http.StatusMethodNotAllowed, "method_not_allowed", "GET, POST"},
		{"PATCH", "/api/v1/reps/7", http.StatusMethodNotAllowed, "method_not_allowed", "GET, DELETE"},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "", "GET"},
		{"DELETE", "/", http.StatusMethodNotAllowed, "", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			res := serve(srv, tt.method, tt.path, "")
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			require.Equal(t, tt.allow, res.header.Get("Allow"))
			if tt.code != "" {
				require.Equal(t, tt.code, res.apiError(t).Error.Code)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	ok := web.Check{Name: "postgres", Ping: func(context.Context) error { return nil }}
	down := web.Check{Name: "clickhouse", Ping: func(context.Context) error { return errors.New("dial tcp 127.0.0.1:9000: connection refused") }}
	deadline := web.Check{Name: "slow", Ping: func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		if !ok {
			return errors.New("no deadline")
		}
		return nil
	}}
	tests := []struct {
		name   string
		checks []web.Check
		status int
		body   string
	}{
		{"no checks", nil, http.StatusOK, `{"status": "ready", "checks": {}}`},
		{"all up", []web.Check{ok, deadline}, http.StatusOK, `{"status": "ready", "checks": {"postgres": "ok", "slow": "ok"}}`},
		{"one down", []web.Check{ok, down}, http.StatusServiceUnavailable,
			`{"status": "unavailable", "checks": {"postgres": "ok", "clickhouse": "unavailable"}}`}, // the driver's text only in the log
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := web.New(web.Deps{Store: &lessons.Store{}, Checks: tt.checks, Logger: newLogger(&logBuffer{})})
			res := serve(srv, "GET", "/readyz", "")
			require.Equal(t, tt.status, res.status)
			require.JSONEq(t, tt.body, string(res.body))

			res = serve(srv, "GET", "/healthz", "")
			require.Equal(t, http.StatusOK, res.status)
			require.Equal(t, "ok", strings.TrimSpace(string(res.body)))
		})
	}
}

func TestRequestLogAndPanics(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: newLogger(logs)})
	h := web.Wrap(srv, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fine" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		panic("boom")
	}))
	tests := []struct {
		path, contentType, body string
		status                  int
	}{
		{"/fine", "", "", http.StatusTeapot},
		{"/api/v1/boom", "application/json; charset=utf-8", `{"error": {"code": "internal", "message": "Internal error."}}`, http.StatusInternalServerError},
		{"/boom", "text/plain; charset=utf-8", "Internal error.\n", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		rec := httptestRecord(h, "GET", tt.path)
		require.Equal(t, tt.status, rec.status, tt.path)
		if tt.body != "" {
			require.Equal(t, tt.contentType, rec.header.Get("Content-Type"))
			if strings.HasPrefix(tt.contentType, "application/json") {
				require.JSONEq(t, tt.body, string(rec.body))
			} else {
				require.Equal(t, tt.body, string(rec.body))
			}
		}
	}
	out := logs.String()
	require.NotContains(t, out, "path=/fine", "a request that went well is logged at debug")
	require.Contains(t, out, "level=ERROR msg=\"http request\" method=GET route=\"\" path=/boom status=500")
	require.Contains(t, out, "msg=\"panic in handler\"")
	require.Contains(t, out, "panic=boom")
}

// At debug every request is logged, by route, and a lesson link's token
// never is.
func TestRequestLogAtDebug(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	b := setup(t)
	srv := web.New(web.Deps{Store: b.store, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	const token = "c2VjcmV0LXRva2VuLW9mLWEtcmVw"
	for _, path := range []string{"/healthz", "/l/" + token} {
		httptestRecord(srv.Handler(), "GET", path)
	}
	out := logs.String()
	require.Contains(t, out, `level=DEBUG msg="http request" method=GET route="GET /healthz" path=/healthz status=200`)
	require.Contains(t, out, `level=DEBUG msg="http request" method=GET route="GET /l/{token}" status=404`)
	require.NotContains(t, out, token)
}
