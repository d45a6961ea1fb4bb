package web

import (
	"log/slog"
	"net/http"

	"github.com/a-h/templ"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web/pages"
)

// render writes the page c with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil && r.Context().Err() == nil {
		s.log.ErrorContext(r.Context(), "render page", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}

// home answers GET /.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	var a *pages.Account
	if u := s.optionalUser(r); u != nil {
		w.Header().Set("Cache-Control", "no-store")
		if u.Role == lessons.RoleManager || u.Role == lessons.RoleAdmin {
			http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
			return
		}
		acc := account(*u)
		a = &acc
	}
	s.render(w, r, http.StatusOK, pages.Home(a, s.simulator))
}

// pageNotFound answers a path outside the API that no route matches: 405 if
// the path exists with another method, else the friendly 404 page.
func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request) {
	if allowed := s.allowedMethods(r); allowed != "" {
		w.Header().Set("Allow", allowed)
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
}

// pageError shows err as a page: the friendly 404, or the problem page with
// the API's status and message (an internal error says no more than that).
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.apiError(r, err)
	if status == http.StatusNotFound {
		s.render(w, r, status, pages.NotFound(r.URL.Path))
		return
	}
	s.render(w, r, status, pages.Problem(body.Error.Message))
}
