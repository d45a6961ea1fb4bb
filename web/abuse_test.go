package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

// A NUL or another control character in a name, a title, a lesson's text or
// an event key is refused with a 4xx naming the field, never a 500, and
// nothing is stored.
func TestControlCharactersRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	withCH := web.New(web.Deps{Store: b.store, ClickHouse: dbtest.ClickHouse(t), Pool: b.pool, Logger: quiet})
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

// signInFrom posts a sign-in from a client address, through a server that
// takes the address from X-Forwarded-For.
func signInFrom(srv *web.Server, address, email, password string) response {
	return servePage(srv, "POST", "/signin", "", url.Values{"email": {email}, "password": {password}}, "X-Forwarded-For", address)
}

// Sign-in guessing: counted before the password is checked, in Postgres,
// per address, per address and email, and per email (slowed, never
// refused), so that neither parallel guesses nor a second web process get
// past the limits, and nobody can lock a real user out.
func TestSignInAbuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps)
	}{
		{"40 parallel guesses: five are checked", func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps) {
			statuses := make([]int, 40)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() {
					statuses[i] = signInFrom(srv, "203.0.113.7", "max@example.com", fmt.Sprint("guess ", i)).status
				})
			}
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 35}, counts, "five checked")
			require.Equal(t, http.StatusTooManyRequests, signInFrom(srv, "203.0.113.7", "max@example.com", "max's password").status,
				"the right password too, once the guesses have used the address's tries")
		}},
		{"guesses from one address do not lock the user out", func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps) {
			for i := range 10 {
				signInFrom(srv, "203.0.113.7", "max@example.com", fmt.Sprint("guess ", i))
			}
			require.Equal(t, http.StatusTooManyRequests, signInFrom(srv, "203.0.113.7", "max@example.com", "max's password").status)
			require.Equal(t, http.StatusSeeOther, signInFrom(srv, "198.51.100.20", "max@example.com", "max's password").status,
				"the real user, from their own address")
			require.NotEmpty(t, slept.all(), "slowed down, after ten wrong passwords")
		}},
		{"guesses from many addresses slow the email down", func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps) {
			for i := range 12 {
				require.Equal(t, http.StatusUnauthorized, signInFrom(srv, fmt.Sprint("192.0.2.", i), "max@example.com", "wrong").status)
			}
			got := slept.all()
			require.Len(t, got, 12-6, "each attempt after the sixth waits")
			require.Less(t, got[0], got[len(got)-1], "longer each time")
			require.Equal(t, http.StatusSeeOther, signInFrom(srv, "198.51.100.20", "max@example.com", "max's password").status)
			before := len(slept.all())
			require.Equal(t, http.StatusUnauthorized, signInFrom(srv, "192.0.2.99", "max@example.com", "wrong").status)
			require.Len(t, slept.all(), before, "a sign-in starts the email's count again")
		}},
		{"one address trying many users", func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps) {
			for range 3 {
				require.Equal(t, http.StatusSeeOther, signInFrom(srv, "203.0.113.9", "max@example.com", "max's password").status, "a sign-in costs the address nothing")
			}
			for i := range 50 {
				require.Equal(t, http.StatusUnauthorized, signInFrom(srv, "203.0.113.9", fmt.Sprintf("user%d@example.com", i), "wrong").status, i)
			}
			res := signInFrom(srv, "203.0.113.9", "max@example.com", "max's password")
			require.Equal(t, http.StatusTooManyRequests, res.status)
			require.Contains(t, string(res.body), "from your address")
			require.Equal(t, http.StatusSeeOther, signInFrom(srv, "203.0.113.10", "max@example.com", "max's password").status)
		}},
		{"a second web process shares the counts", func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps) {
			other := web.New(web.Deps{Store: b.store, Logger: quiet, TrustProxy: true})
			for i := range 5 {
				s := []*web.Server{srv, other}[i%2]
				require.Equal(t, http.StatusUnauthorized, signInFrom(s, "203.0.113.7", "max@example.com", "wrong").status)
			}
			require.Equal(t, http.StatusTooManyRequests, signInFrom(other, "203.0.113.7", "max@example.com", "max's password").status)
			require.Equal(t, http.StatusTooManyRequests, signInFrom(srv, "203.0.113.7", "max@example.com", "max's password").status)
		}},
		{"the window passes", func(t *testing.T, b testBundle, srv *web.Server, slept *sleeps) {
			for range 6 {
				signInFrom(srv, "203.0.113.7", "max@example.com", "wrong")
			}
			for i := range 20 {
				signInFrom(srv, "203.0.113.8", fmt.Sprintf("flood%d@example.com", i), "wrong")
			}
			require.Equal(t, http.StatusTooManyRequests, signInFrom(srv, "203.0.113.7", "max@example.com", "max's password").status,
				"a flood of other emails evicts nothing")
			b.clock.advance(lessons.SignInWindow + time.Second)
			require.Equal(t, http.StatusSeeOther, signInFrom(srv, "203.0.113.7", "max@example.com", "max's password").status)
			var left int
			require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT count(*) FROM signin_limits`).Scan(&left))
			require.Equal(t, 1, left, "expired counts deleted; the address's own kept")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			slept := &sleeps{}
			b.store = lessons.NewStore(b.pool, lessons.StoreConfig{PasswordCost: bcrypt.MinCost, Now: b.clock.now, Sleep: slept.sleep})
			newUser(t, b, b.org.ID, lessons.RoleManager, "max@example.com", "max's password")
			tt.run(t, b, web.New(web.Deps{Store: b.store, Logger: quiet, TrustProxy: true}), slept)
		})
	}
}

// sleeps records the sign-in slow-downs instead of waiting them out.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// Pings: one request cannot complete a video, nor make Postgres look up a
// hundred made-up links, nor can one address keep it looking them up.
func TestPingAbuse(t *testing.T) {
	t.Parallel()
	const session = "abuse-session-1"
	segments := func(token string, from, to int) string {
		var ps []any
		for i := from; i <= to; i++ {
			ps = append(ps, pingBody(token, i, float64(i*15), 4, session, "segment"))
		}
		return mustJSON(t, map[string]any{"pings": ps})
	}
	tests := []struct {
		name string
		run  func(t *testing.T, b lessonBundle)
	}{
		{"every segment of a 62-second video at once", func(t *testing.T, b lessonBundle) {
			video := b.tokens["video"]
			res := b.postPings(t, segments(video, 0, 4))
			require.Equal(t, http.StatusTooManyRequests, res.status, "body: %s", res.body)
			require.Contains(t, res.apiError(t).Error.Message, "faster than the video plays")
			require.Equal(t, "12", res.header.Get("Retry-After"), "three segments past the two allowed, at 3.75 s each")
			require.Empty(t, b.pending(t, tracking.KindSegmentWatched), "nothing credited")
			b.clock.advance(11 * time.Second)
			require.Equal(t, http.StatusTooManyRequests, b.postPings(t, segments(video, 0, 4)).status, "still faster than 4x")
			b.clock.advance(time.Second)
			require.Equal(t, http.StatusNoContent, b.postPings(t, segments(video, 0, 4)).status, "as fast as 4x plays")
			require.Len(t, b.pending(t, tracking.KindSegmentWatched), 5)
		}},
		{"watched at 1x, and again", func(t *testing.T, b lessonBundle) {
			video := b.tokens["video"]
			for range 2 {
				for i := range 5 {
					b.clock.advance(15 * time.Second)
					res := b.postPings(t, segments(video, i, i))
					require.Equal(t, http.StatusNoContent, res.status, "segment %d: %s", i, res.body)
				}
			}
		}},
		{"a new session each request gains nothing", func(t *testing.T, b lessonBundle) {
			video := b.tokens["video"]
			require.Equal(t, http.StatusNoContent, b.postPings(t, mustJSON(t, pingBody(video, 0, 15, 4, "visit-number-1", "segment"))).status)
			require.Equal(t, http.StatusNoContent, b.postPings(t, mustJSON(t, pingBody(video, 1, 30, 4, "visit-number-2", "segment"))).status)
			require.Equal(t, http.StatusTooManyRequests, b.postPings(t, mustJSON(t, pingBody(video, 2, 45, 4, "visit-number-3", "segment"))).status)
		}},
		{"a hundred made-up links in one request", func(t *testing.T, b lessonBundle) {
			var ps []any
			for range 100 {
				ps = append(ps, pingBody(randomToken(t), 0, 0, 1, session, "segment"))
			}
			res := b.postPings(t, mustJSON(t, map[string]any{"pings": ps}))
			require.Equal(t, http.StatusBadRequest, res.status, "body: %s", res.body)
			require.Equal(t, []string{"pings"}, res.apiError(t).detailPaths())
			require.Contains(t, string(res.body), "name 100 lesson links; one request may name at most 4")
		}},
		{"made-up links from one address", func(t *testing.T, b lessonBundle) {
			unknown := func() string {
				var ps []any
				for range 4 {
					ps = append(ps, pingBody(randomToken(t), 0, 0, 1, session, "pause"))
				}
				return mustJSON(t, map[string]any{"pings": ps})
			}
			page, err := http.Get(b.url + "/l/" + b.tokens["video"]) // the page caches its link
			require.NoError(t, err)
			page.Body.Close()
			require.Equal(t, http.StatusOK, page.StatusCode)
			for i := range 10 { // 40 lookups, the burst
				require.Equal(t, http.StatusBadRequest, b.postPings(t, unknown()).status, i)
			}
			res := b.postPings(t, unknown())
			require.Equal(t, http.StatusTooManyRequests, res.status, "body: %s", res.body)
			require.Contains(t, res.apiError(t).Error.Message, "from your address")
			require.Equal(t, http.StatusNoContent, b.postPings(t, mustJSON(t, pingBody(b.tokens["video"], 0, 15, 1, session, "pause"))).status,
				"a link the page cached needs no lookup")
			b.clock.advance(time.Second)
			require.Equal(t, http.StatusBadRequest, b.postPings(t, unknown()).status, "ten lookups a second")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, setupLessons(t))
		})
	}
}

// An import past the row limit is refused whole, naming the line or the rep
// where the limit was passed; an organisation runs at most two imports at
// once (a third is a 429 while they run), and another organisation's import
// does not wait for them.
func TestImportAbuse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const oneRep = "Rep,,,,America/Chicago\n" // cheap to check: no phone to parse
	header := "name,phone,email,team,timezone\n"
	tooMany := header + strings.Repeat(oneRep, lessons.RepImportMaxRows+1)
	reps := make([]string, lessons.RepImportMaxRows+1)
	for i := range reps {
		reps[i] = `{"name":"Rep","phone":"","timezone":"America/Chicago"}`
	}
	tooManyJSON := `{"reps":[` + strings.Join(reps, ",") + `]}`
	tests := []struct {
		name, contentType, body, path string
	}{
		{"a CSV past the limit", "text/csv", tooMany, fmt.Sprintf("line %d", lessons.RepImportMaxRows+2)},
		{"JSON past the limit", "application/json", tooManyJSON, fmt.Sprintf("reps[%d]", lessons.RepImportMaxRows)},
	}
	for _, tt := range tests {
		res := b.send(t, "POST", "/api/v1/reps/import", b.key, tt.contentType, tt.body)
		require.Equal(t, http.StatusBadRequest, res.status, tt.name)
		e := res.apiError(t)
		require.Equal(t, tt.path, e.Error.Details[0].Path, tt.name)
		require.Contains(t, e.Error.Details[0].Message, "more than 100,000 reps", tt.name)
	}
	list := b.api(t, "GET", "/api/v1/reps", "")
	require.Equal(t, http.StatusOK, list.status)
	require.Contains(t, string(list.body), `"data":[]`, "nothing stored")

	// Two imports whose bodies are still arriving hold the organisation's
	// two slots.
	type held struct {
		body *io.PipeWriter
		done chan response
	}
	start := func(key string) held {
		r, w := io.Pipe()
		h := held{body: w, done: make(chan response, 1)}
		go func() {
			req, _ := http.NewRequest("POST", b.url+"/api/v1/reps/import", r)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "text/csv")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				h.done <- response{body: []byte(err.Error())}
				return
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			h.done <- response{status: res.StatusCode, body: data}
		}()
		_, err := io.WriteString(w, header)
		require.NoError(t, err)
		return h
	}
	first, second := start(b.key), start(b.key)
	require.Eventually(t, func() bool { return web.ImportsRunning(b.server, b.org.ID) == 2 }, 10*time.Second, time.Millisecond)

	res := b.send(t, "POST", "/api/v1/reps/import", b.key, "text/csv", threeReps)
	require.Equal(t, http.StatusTooManyRequests, res.status, "%s", res.body)
	require.Contains(t, res.apiError(t).Error.Message, "already has 2 rep imports running")
	b.importReps(t, b.otherKey, threeReps) // another organisation is not held up

	for i, h := range []held{first, second} {
		_, err := fmt.Fprintf(h.body, "Rep %d,+1312234567%d,,,America/Chicago\n", i, i)
		require.NoError(t, err)
		require.NoError(t, h.body.Close())
		done := <-h.done
		require.Equal(t, http.StatusOK, done.status, "%s", done.body)
	}
	require.Equal(t, 0, web.ImportsRunning(b.server, b.org.ID), "the slots are given back")
	require.Len(t, b.importReps(t, b.key, threeReps), 5)
}
