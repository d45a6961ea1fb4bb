package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/web"
)

// A NUL or another control character in a name, a title, a lesson's text or
// an event key is refused with a 4xx naming the field, never a 500, and
// nothing is stored.
func TestControlCharactersRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	withCH := web.New(web.Deps{Store: b.store, ClickHouse: dbtest.ClickHouse(t), Logger: quiet})
	tests := []struct {
		name   string
		do     func() response
		status int
		field  string
	}{
		{"a team's name", func() response { return b.api(t, "POST", "/api/v1/teams", `{"name": "East\u0000"}`) }, http.StatusBadRequest, "name"},
		{"a team's name on two lines", func() response { return b.api(t, "POST", "/api/v1/teams", `{"name": "East\nWest"}`) }, http.StatusBadRequest, "name"},
		{"an event key", func() response {
			req := httptest.NewRequest("POST", "/api/v1/events/void", strings.NewReader(`{"key": "grade/1/0\u0000", "rep_id": 1, "reason": "typo"}`))
			req.Header.Set("Authorization", "Bearer "+b.key)
			req.Header.Set("Content-Type", "application/json")
			return httptestDo(withCH.Handler(), req)
		}, http.StatusBadRequest, "key"},
		{"a course title", func() response {
			return uploadFile(t, b.server, "/courses/import", trainer, "c.json",
				[]byte(strings.Replace(remedialCourse, `"title": "Discounts"`, `"title": "Disc\u0000ounts"`, 1)))
		}, http.StatusUnprocessableEntity, "title"},
		{"a lesson's text", func() response {
			return uploadFile(t, b.server, "/courses/import", trainer, "c.json",
				[]byte(strings.Replace(remedialCourse, `"Discounts cost margin."`, `"Discounts\u0007 cost margin."`, 1)))
		}, http.StatusUnprocessableEntity, "lessons[0].body"},
	}
	for _, tt := range tests {
		res := tt.do()
		require.Equal(t, tt.status, res.status, "%s: %s", tt.name, res.body)
		require.Contains(t, string(res.body), tt.field, tt.name)
		require.Contains(t, string(res.body), "control character", tt.name)
	}
	teams, err := b.store.Teams(t.Context(), b.org.ID)
	require.NoError(t, err)
	require.Empty(t, teams)
	courses, err := b.store.Courses(t.Context(), b.org.ID)
	require.NoError(t, err)
	require.Empty(t, courses)
}

// Every answer says what a page may run and who may frame it; every inline
// script and style of a page carries that answer's nonce, so that the
// policy lets them run and nothing injected does.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	_, base := importCourse(t, b, trainer, []byte(remedialCourse))
	nonceRE := regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9_-]{22})'`)
	inline := regexp.MustCompile(`<(script|style)( [^>]*)?>`)
	var nonces []string
	for _, path := range []string{"/signin", "/courses", base, base + "/lessons/quiz", base + "/preview", base + "/lessons/intro/page", "/enroll"} {
		res := servePage(b.server, "GET", path, trainer, nil)
		require.Less(t, res.status, 500, path)
		m := nonceRE.FindStringSubmatch(res.header.Get("Content-Security-Policy"))
		require.NotNil(t, m, "%s: %s", path, res.header.Get("Content-Security-Policy"))
		nonces = append(nonces, m[1])
		require.Contains(t, res.header.Get("Content-Security-Policy"), "frame-ancestors 'self'", path)
		require.Equal(t, "SAMEORIGIN", res.header.Get("X-Frame-Options"), path)
		require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"), path)
		for _, tag := range inline.FindAllStringSubmatch(string(res.body), -1) {
			if strings.Contains(tag[2], "src=") {
				continue // the app's own files: 'self'
			}
			require.Contains(t, tag[2], `nonce="`+m[1]+`"`, "%s: %s", path, tag[0])
		}
	}
	slices.Sort(nonces)
	require.Len(t, slices.Compact(nonces), len(nonces), "a nonce per answer")
}
