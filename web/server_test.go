package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/web"
)

// logBuffer collects log output from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type testBundle struct {
	pool     *pgxpool.Pool
	store    *lessons.Store
	clock    *shiftedClock // the store's; a test moves it on
	server   *web.Server
	url      string
	org      lessons.Org
	key      string // org's API key
	other    lessons.Org
	otherKey string // other's API key
	logs     *logBuffer
}

func setup(t *testing.T, checks ...web.Check) testBundle {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	clock := &shiftedClock{}
	store := lessons.NewStore(pool, lessons.StoreConfig{PasswordCost: bcrypt.MinCost, Now: clock.now})
	b := testBundle{pool: pool, store: store, clock: clock, logs: &logBuffer{}}
	var err error
	b.org, err = store.CreateOrg(ctx, lessons.Org{Slug: "acme", Name: "Acme Sales"})
	require.NoError(t, err)
	_, b.key, err = store.CreateAPIKey(ctx, b.org.ID, "test")
	require.NoError(t, err)
	b.other, err = store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex"})
	require.NoError(t, err)
	_, b.otherKey, err = store.CreateAPIKey(ctx, b.other.ID, "test")
	require.NoError(t, err)

	b.server = web.New(web.Deps{
		Store:  store,
		Checks: checks,
		Logger: slog.New(slog.NewTextHandler(b.logs, nil)),
	})
	srv := httptest.NewServer(b.server.Handler())
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the JSON of an API error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.Truef(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/json"), "Content-Type %q, body %s", r.header.Get("Content-Type"), r.body)
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func (r response) apiError(t *testing.T) errorBody {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	require.NotEmpty(t, e.Error.Code, "body: %s", r.body)
	return e
}

// detailPaths lists the paths of an error's details.
func (e errorBody) detailPaths() []string {
	var paths []string
	for _, d := range e.Error.Details {
		paths = append(paths, d.Path)
	}
	return paths
}

// send makes a request with the API key key ("" for none) and the body with
// its content type.
func (b testBundle) send(t *testing.T, method, path, key, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// api makes a JSON API request as b.org.
func (b testBundle) api(t *testing.T, method, path, body string) response {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return b.send(t, method, path, b.key, ct, body)
}

// mustJSON marshals v for a request body.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// importReps imports reps for the org with the key and returns them by phone.
func (b testBundle) importReps(t *testing.T, key string, csv string) map[string]int64 {
	t.Helper()
	res := b.send(t, "POST", "/api/v1/reps/import", key, "text/csv", csv)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	list := b.send(t, "GET", "/api/v1/reps?limit=1000", key, "", "")
	require.Equal(t, http.StatusOK, list.status)
	var reps struct {
		Data []struct {
			ID    int64  `json:"id"`
			Phone string `json:"phone"`
		} `json:"data"`
	}
	list.decode(t, &reps)
	ids := map[string]int64{}
	for _, r := range reps.Data {
		ids[r.Phone] = r.ID
	}
	return ids
}

const threeReps = `name,phone,email,team,timezone
Ava Adams,+12012345678,ava@example.com,North,America/New_York
Ben Brown,(312) 234-5678,,South,America/Chicago
Chloe Diaz,415 234 5678,chloe@example.com,North,America/Los_Angeles
`
