package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/web/pages"
)

// Sign-in for people (admins, trainers, managers): a session cookie holding
// a random token that the store knows by its hash. The API takes API keys
// instead. Forms that act for a signed-in user are guarded against
// cross-origin posts (http.CrossOriginProtection) and the cookie is SameSite.

const (
	sessionCookie = "morsel_session"
	maxSignInForm = 8 << 10
)

// pageFunc is a page for a signed-in user.
type pageFunc func(w http.ResponseWriter, r *http.Request, u lessons.User)

// page serves fn to signed-in users with one of roles (any role when none is
// given). Others are sent to sign in, or get 403; a user who still has a
// one-time password is sent to change it first.
func (s *Server) page(fn pageFunc, roles ...lessons.Role) http.Handler {
	return s.signedIn(fn, false, roles)
}

func (s *Server) signedIn(fn pageFunc, passwordPage bool, roles []lessons.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.sessionUser(r)
		if errs.CodeOf(err) == errs.Unauthorized {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if u.MustChangePassword && !passwordPage {
			http.Redirect(w, r, "/password?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if len(roles) > 0 && !slices.Contains(roles, u.Role) {
			s.render(w, r, http.StatusForbidden, pages.Forbidden(account(u), r.URL.Path))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		fn(w, r, u)
	})
}

// sessionUser is the user signed in on r; Unauthorized when there is none.
func (s *Server) sessionUser(r *http.Request) (lessons.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return lessons.User{}, errs.Errorf(errs.Unauthorized, "not signed in")
	}
	return s.store.SessionUser(r.Context(), c.Value)
}

// optionalUser is the user signed in on r, or nil.
func (s *Server) optionalUser(r *http.Request) *lessons.User {
	u, err := s.sessionUser(r)
	if err != nil {
		if errs.CodeOf(err) != errs.Unauthorized {
			s.log.WarnContext(r.Context(), "read session", "error", err)
		}
		return nil
	}
	return &u
}

func account(u lessons.User) pages.Account {
	return pages.Account{Name: u.Name, Email: u.Email, Role: string(u.Role)}
}

// signInPage answers GET /signin.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if u := s.optionalUser(r); u != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, pages.SignIn(pages.SignInForm{Next: next}))
}

// signIn answers POST /signin: a session cookie and on to the next page, or
// the form again with what went wrong.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInForm)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, pages.SignIn(pages.SignInForm{Problem: "The form could not be read: " + formProblem(err)}))
		return
	}
	f := pages.SignInForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localPath(r.PostForm.Get("next"))}
	password := r.PostForm.Get("password")
	w.Header().Set("Cache-Control", "no-store")
	if f.Email == "" || password == "" {
		f.Problem = "Enter your email and your password."
		s.render(w, r, http.StatusBadRequest, pages.SignIn(f))
		return
	}
	u, err := s.store.SignIn(r.Context(), s.clientAddress(r), f.Email, password)
	var refused *lessons.SignInRefused
	switch {
	case errors.As(err, &refused):
		w.Header().Set("Retry-After", strconv.Itoa(int((refused.Wait+time.Second-1)/time.Second)))
		f.Problem = refused.Reason + ": try again in " + minutes(refused.Wait) + "."
		s.render(w, r, http.StatusTooManyRequests, pages.SignIn(f))
		return
	case errs.CodeOf(err) == errs.Unauthorized:
		f.Problem = "Wrong email or password."
		s.render(w, r, http.StatusUnauthorized, pages.SignIn(f))
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	sess, err := s.store.StartSession(r.Context(), u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.Expires,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	s.log.InfoContext(r.Context(), "signed in", "user", u.ID, "role", u.Role)
	next := f.Next
	if u.MustChangePassword {
		next = "/password?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut answers POST /signout.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.EndSession(r.Context(), c.Value); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// passwordPage answers GET /password.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, u lessons.User) {
	s.render(w, r, http.StatusOK, pages.ChangePassword(pages.PasswordForm{
		Account: account(u), Next: localPath(r.URL.Query().Get("next")), First: u.MustChangePassword}))
}

// changePassword answers POST /password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, u lessons.User) {
	f := pages.PasswordForm{Account: account(u), First: u.MustChangePassword, Problems: map[string]string{}}
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInForm)
	if err := r.ParseForm(); err != nil {
		f.Problems["current"] = "The form could not be read: " + formProblem(err)
		s.render(w, r, http.StatusBadRequest, pages.ChangePassword(f))
		return
	}
	f.Next = localPath(r.PostForm.Get("next"))
	next, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	if next != confirm {
		f.Problems["confirm"] = "The two new passwords differ."
		s.render(w, r, http.StatusBadRequest, pages.ChangePassword(f))
		return
	}
	c, _ := r.Cookie(sessionCookie) // signedIn found it
	err := s.store.ChangePassword(r.Context(), u, r.PostForm.Get("current"), next, c.Value)
	if e := errs.As(err); e != nil && e.Code == errs.Invalid {
		for _, d := range e.Details {
			f.Problems[d.Path] = strings.ToUpper(d.Message[:1]) + d.Message[1:] + "."
		}
		s.render(w, r, http.StatusBadRequest, pages.ChangePassword(f))
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "password changed", "user", u.ID)
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// secureCookies says whether cookies need HTTPS: when the server is reached
// by it.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.publicURL, "https://")
}

// localPath returns next when it is a path on this server, else "/": a
// sign-in link must not send anyone elsewhere.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.Contains(next, `\`) || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// formProblem says why a form could not be read.
func formProblem(err error) string {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return "it is too large."
	}
	return "it is not a valid form."
}

// minutes says d in whole minutes, rounded up.
func minutes(d time.Duration) string {
	if m := int((d + time.Minute - 1) / time.Minute); m > 1 {
		return strconv.Itoa(m) + " minutes"
	}
	return "a minute"
}
