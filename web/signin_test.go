package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web"
)

// newUser stores a user of the organisation with a password of their own.
func newUser(t *testing.T, b testBundle, orgID int64, role lessons.Role, email, password string, teams ...string) lessons.User {
	t.Helper()
	ctx := context.Background()
	u, _, err := b.store.CreateUser(ctx, orgID, lessons.NewUser{Name: "User " + email, Email: email, Role: role, Teams: teams})
	require.NoError(t, err)
	require.NoError(t, b.store.SetPassword(ctx, email, password, false))
	return u
}

// sessionOf signs u in and returns their cookie's value.
func sessionOf(t *testing.T, b testBundle, u lessons.User) string {
	t.Helper()
	sess, err := b.store.StartSession(context.Background(), u)
	require.NoError(t, err)
	return sess.Token
}

// servePage runs a request through srv's handler with the session cookie
// (none when empty) and, for a POST, the form; headers are name, value pairs.
func servePage(srv *web.Server, method, path, session string, form url.Values, headers ...string) response {
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "morsel_session", Value: session})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// postForm posts form to path as the session's user.
func postForm(srv *web.Server, path, session string, form url.Values) response {
	return servePage(srv, "POST", path, session, form)
}

// sessionCookie returns the session cookie that res sets.
func sessionCookie(t *testing.T, res response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "morsel_session" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", res.header)
	return nil
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	srv := simServer(b, &recordingInbox{})

	// A new user signs in with their one-time password and must choose their own.
	u, oneTime, err := b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: "Tia Trainer", Email: "tia@example.com", Role: lessons.RoleTrainer})
	require.NoError(t, err)

	res := servePage(srv, "GET", "/simulator", "", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/signin?next=%2Fsimulator", res.header.Get("Location"))

	res = servePage(srv, "GET", "/signin?next=%2Fsimulator", "", nil)
	require.Equal(t, http.StatusOK, res.status)
	doc := document(t, res)
	require.Equal(t, "/simulator", doc.Find(`input[name="next"]`).AttrOr("value", ""))
	require.Equal(t, "post", doc.Find(`[data-testid="signin"] form`).AttrOr("method", ""))

	res = postForm(srv, "/signin", "", url.Values{"email": {"TIA@example.com "}, "password": {oneTime}, "next": {"/simulator"}})
	require.Equal(t, http.StatusSeeOther, res.status, "body: %s", res.body)
	require.Equal(t, "/password?next=%2Fsimulator", res.header.Get("Location"))
	c := sessionCookie(t, res)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.False(t, c.Secure, "the test server is plain HTTP")
	session := c.Value

	res = servePage(srv, "GET", "/simulator", session, nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/password?next=%2Fsimulator", res.header.Get("Location"), "nothing before the password is changed")

	res = servePage(srv, "GET", "/password?next=%2Fsimulator", session, nil)
	require.Equal(t, http.StatusOK, res.status)
	doc = document(t, res)
	require.Equal(t, 1, doc.Find(`[data-testid="first-password"]`).Length())
	require.Equal(t, "Tia Trainer", doc.Find(`[data-testid="account-name"]`).Text())

	for _, tt := range []struct {
		name           string
		form           url.Values
		field, problem string
	}{
		{"different confirmation", url.Values{"current": {oneTime}, "password": {"a fine password"}, "confirm": {"a fine passwore"}}, "confirm", "The two new passwords differ."},
		{"wrong current", url.Values{"current": {"guess"}, "password": {"a fine password"}, "confirm": {"a fine password"}}, "current", "Is not your current password."},
		{"too short", url.Values{"current": {oneTime}, "password": {"short"}, "confirm": {"short"}}, "password", "Must be at least 8 characters."},
		{"unchanged", url.Values{"current": {oneTime}, "password": {oneTime}, "confirm": {oneTime}}, "password", "Must differ from the current one."},
	} {
		tt.form.Set("next", "/simulator")
		res := postForm(srv, "/password", session, tt.form)
		require.Equal(t, http.StatusBadRequest, res.status, tt.name)
		require.Equal(t, tt.problem, document(t, res).Find(`[data-testid="problem-`+tt.field+`"]`).Text(), tt.name)
	}
	res = postForm(srv, "/password", session, url.Values{"current": {oneTime}, "password": {"a fine password"}, "confirm": {"a fine password"}, "next": {"/simulator"}})
	require.Equal(t, http.StatusSeeOther, res.status, "body: %s", res.body)
	require.Equal(t, "/simulator", res.header.Get("Location"))

	res = servePage(srv, "GET", "/simulator", session, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "no-store", res.header.Get("Cache-Control"))
	require.Equal(t, "Tia Trainer", document(t, res).Find(`[data-testid="account-name"]`).Text())

	res = servePage(srv, "GET", "/", session, nil)
	require.Equal(t, "Tia Trainer", document(t, res).Find(`[data-testid="account-name"]`).Text())
	res = servePage(srv, "GET", "/signin?next=%2Fsimulator", session, nil)
	require.Equal(t, http.StatusSeeOther, res.status, "a signed-in user goes straight on")

	// Signing out ends the session, in this browser and on the server.
	res = postForm(srv, "/signout", session, nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/", res.header.Get("Location"))
	require.Equal(t, -1, sessionCookie(t, res).MaxAge)
	res = servePage(srv, "GET", "/simulator", session, nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.True(t, strings.HasPrefix(res.header.Get("Location"), "/signin"))
	res = servePage(srv, "GET", "/", "", nil)
	require.Equal(t, 1, document(t, res).Find(`[data-testid="signin-link"]`).Length())
	_, err = b.store.Authenticate(ctx, u.Email, "a fine password")
	require.NoError(t, err)
}

func TestSignInRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := simServer(b, &recordingInbox{})
	newUser(t, b, b.org.ID, lessons.RoleAdmin, "ada@example.com", "ada's password")
	newUser(t, b, b.org.ID, lessons.RoleManager, "max@example.com", "max's password", "North")

	for _, tt := range []struct {
		name    string
		form    url.Values
		status  int
		problem string
	}{
		{"wrong password", url.Values{"email": {"ada@example.com"}, "password": {"nope"}}, http.StatusUnauthorized, "Wrong email or password."},
		{"unknown email", url.Values{"email": {"eve@example.com"}, "password": {"ada's password"}}, http.StatusUnauthorized, "Wrong email or password."},
		{"no password", url.Values{"email": {"ada@example.com"}}, http.StatusBadRequest, "Enter your email and your password."},
		{"nothing", url.Values{}, http.StatusBadRequest, "Enter your email and your password."},
		{"too large", url.Values{"email": {"ada@example.com"}, "password": {strings.Repeat("x", 9000)}}, http.StatusBadRequest, "The form could not be read: it is too large."},
	} {
		res := postForm(srv, "/signin", "", tt.form)
		require.Equal(t, tt.status, res.status, tt.name)
		doc := document(t, res)
		require.Equal(t, tt.problem, doc.Find(`[data-testid="problem"]`).Text(), tt.name)
		require.Empty(t, res.header.Values("Set-Cookie"), tt.name)
		if e := tt.form.Get("email"); e != "" && tt.name != "too large" {
			require.Equal(t, e, doc.Find(`input[name="email"]`).AttrOr("value", ""), "%s: the email is kept", tt.name)
		}
	}

	t.Run("next stays on this server", func(t *testing.T) {
		for _, tt := range []struct{ next, want string }{
			{"/simulator?x=1", "/simulator?x=1"},
			{"", "/"},
			{"https://evil.example/", "/"},
			{"//evil.example/", "/"},
			{`/\evil.example/`, "/"},
			{"javascript:alert(1)", "/"},
			{"simulator", "/"},
		} {
			res := postForm(srv, "/signin", "", url.Values{"email": {"ada@example.com"}, "password": {"ada's password"}, "next": {tt.next}})
			require.Equal(t, http.StatusSeeOther, res.status, tt.next)
			require.Equal(t, tt.want, res.header.Get("Location"), tt.next)
		}
	})

	t.Run("roles", func(t *testing.T) {
		manager, err := b.store.Authenticate(context.Background(), "max@example.com", "max's password")
		require.NoError(t, err)
		res := servePage(srv, "GET", "/simulator", sessionOf(t, b, manager), nil)
		require.Equal(t, http.StatusForbidden, res.status)
		doc := document(t, res)
		require.Equal(t, 1, doc.Find(`[data-testid="forbidden"]`).Length())
		require.Contains(t, doc.Text(), "As a manager you cannot open /simulator")
	})

	t.Run("cross-origin posts", func(t *testing.T) {
		admin, err := b.store.Authenticate(context.Background(), "ada@example.com", "ada's password")
		require.NoError(t, err)
		session := sessionOf(t, b, admin)
		for _, path := range []string{"/signin", "/signout", "/password", "/simulator/reps/1/reply"} {
			res := servePage(srv, "POST", path, session, url.Values{"email": {"ada@example.com"}, "password": {"ada's password"}},
				"Sec-Fetch-Site", "cross-site")
			require.Equal(t, http.StatusForbidden, res.status, path)
		}
		res := servePage(srv, "GET", "/simulator", session, nil)
		require.Equal(t, http.StatusOK, res.status, "the refused sign-out left the session")
	})

	t.Run("guessing is throttled", func(t *testing.T) {
		for i := range 5 {
			res := postForm(srv, "/signin", "", url.Values{"email": {"max@example.com"}, "password": {fmt.Sprint("guess ", i)}})
			require.Equal(t, http.StatusUnauthorized, res.status)
		}
		res := postForm(srv, "/signin", "", url.Values{"email": {"MAX@example.com"}, "password": {"max's password"}})
		require.Equal(t, http.StatusTooManyRequests, res.status)
		require.Equal(t, "900", res.header.Get("Retry-After"))
		require.Equal(t, "Too many wrong passwords for max@example.com from your address: try again in 15 minutes.", document(t, res).Find(`[data-testid="problem"]`).Text())
		require.Empty(t, res.header.Values("Set-Cookie"))
		res = postForm(srv, "/signin", "", url.Values{"email": {"ada@example.com"}, "password": {"ada's password"}})
		require.Equal(t, http.StatusSeeOther, res.status, "other users are not held back")
	})
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	newUser(t, b, b.org.ID, lessons.RoleAdmin, "ada@example.com", "ada's password")
	srv := web.New(web.Deps{Store: b.store, Logger: quiet, PublicURL: "https://morsel.example"})
	res := postForm(srv, "/signin", "", url.Values{"email": {"ada@example.com"}, "password": {"ada's password"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.True(t, sessionCookie(t, res).Secure)
}
