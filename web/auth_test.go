package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/web"
)

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.importReps(t, b.key, threeReps)
	repPath := fmt.Sprintf("/api/v1/reps/%d", ids["+12012345678"])

	revoked, revokedKey, err := b.store.CreateAPIKey(ctx, b.org.ID, "revoked")
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, revoked.ID)
	require.NoError(t, err)

	tests := []struct {
		name          string
		authorization string // the whole header; "" for none
		status        int
		authenticate  string // the WWW-Authenticate header expected
	}{
		{"no key", "", http.StatusUnauthorized, `Bearer realm="Morsel API"`},
		{"basic auth", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_request"`},
		{"bearer without key", "Bearer", http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_request"`},
		{"bearer with blank key", "Bearer   ", http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_request"`},
		{"two words", "Bearer " + b.key + " extra", http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_request"`},
		{"key without prefix", "Bearer nope", http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_token"`},
		{"wrong key", "Bearer mk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_token"`},
		{"revoked key", "Bearer " + revokedKey, http.StatusUnauthorized, `Bearer realm="Morsel API", error="invalid_token"`},
		{"other organisation's key", "Bearer " + b.otherKey, http.StatusNotFound, ""},
		{"own key", "Bearer " + b.key, http.StatusOK, ""},
		{"own key, lower-case scheme", "bearer " + b.key, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest("GET", b.url+repPath, nil)
			require.NoError(t, err)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			require.Equal(t, tt.status, res.StatusCode)
			require.Equal(t, tt.authenticate, res.Header.Get("WWW-Authenticate"))
			if tt.status != http.StatusOK {
				e := response{status: res.StatusCode, header: res.Header, body: readAll(t, res)}.apiError(t)
				want := map[int]string{http.StatusUnauthorized: "unauthorized", http.StatusNotFound: "not_found"}[tt.status]
				require.Equal(t, want, e.Error.Code)
				require.NotEmpty(t, e.Error.Message)
			}
		})
	}
}

// TestAPIEveryRouteNeedsAKey calls every API route without a key.
func TestAPIEveryRouteNeedsAKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range web.APIRoutes(b.server) {
		res := b.send(t, r.Method, r.Pattern, "", "application/json", "{}")
		require.Equal(t, http.StatusUnauthorized, res.status, "%s %s", r.Method, r.Pattern)
		require.Equal(t, "unauthorized", res.apiError(t).Error.Code)
	}
}

// TestAPIInternalError checks that a failure the client cannot act on is
// logged with the request and shown only as "Internal error.".
func TestAPIInternalError(t *testing.T) {
	t.Parallel()
	pool := dbtest.Postgres(t)
	store := lessons.NewStore(pool, lessons.StoreConfig{PasswordCost: bcrypt.MinCost})
	logs := &logBuffer{}
	srv := web.New(web.Deps{Store: store, Logger: newLogger(logs)})
	pool.Close() // every query now fails

	rec := serve(srv, "GET", "/api/v1/teams", "mk_anything")
	require.Equal(t, http.StatusInternalServerError, rec.status)
	require.JSONEq(t, `{"error": {"code": "internal", "message": "Internal error."}}`, string(rec.body))
	require.Contains(t, logs.String(), "internal error")
	require.Contains(t, logs.String(), "path=/api/v1/teams")
	require.Contains(t, logs.String(), "closed pool")
}
