package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons/errs"
)

// apiFunc handles an authenticated API request for the caller's organisation.
// It writes the response itself or returns an error, which is answered as JSON.
type apiFunc func(w http.ResponseWriter, r *http.Request, orgID int64) error

// apiEndpoint is an API route's handler: it authenticates the request by its
// organisation's API key, then runs the apiFunc.
type apiEndpoint struct {
	s  *Server
	fn apiFunc
}

func (s *Server) api(fn apiFunc) apiEndpoint { return apiEndpoint{s: s, fn: fn} }

func (e apiEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	key, err := bearerKey(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Morsel API"`)
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Morsel API", error="invalid_request"`)
		}
		e.s.writeAPIError(w, r, err)
		return
	}
	orgID, name, err := e.s.store.APIKeyOwner(r.Context(), key)
	if err != nil {
		if errs.CodeOf(err) == errs.Unauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Morsel API", error="invalid_token"`)
		}
		e.s.writeAPIError(w, r, err)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), apiKeyName{}, name))
	if err := e.fn(w, r, orgID); err != nil {
		e.s.writeAPIError(w, r, err)
	}
}

// apiKeyName is the context key of the name of the API key a request came
// with: who acts, for the record.
type apiKeyName struct{}

// caller names who made an API request: "API key <name>".
func caller(r *http.Request) string {
	name, _ := r.Context().Value(apiKeyName{}).(string)
	return "API key " + strconv.Quote(name)
}

// bearerKey returns the key of an "Authorization: Bearer <key>" header.
func bearerKey(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errs.Errorf(errs.Unauthorized, "An API key is required: send the header \"Authorization: Bearer <key>\".")
	}
	scheme, key, ok := strings.Cut(h, " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" || strings.ContainsAny(key, " \t") {
		return "", errs.Errorf(errs.Unauthorized, "The Authorization header must be \"Bearer <key>\".")
	}
	return key, nil
}

// apiNotFound answers a path under /api/ that no route matches: 405 if the
// path exists with another method, else 404.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	if allowed := s.allowedMethods(r); allowed != "" {
		w.Header().Set("Allow", allowed)
		s.writeAPIError(w, r, errs.Errorf(codeMethodNotAllowed, "%s is not allowed on %s; use %s.", r.Method, r.URL.Path, allowed))
		return
	}
	s.writeAPIError(w, r, errs.Errorf(errs.NotFound, "There is no API endpoint %s %s.", r.Method, r.URL.Path))
}

// allowedMethods lists, comma-separated, the methods that some route other
// than the catch-alls answers for r's path.
func (s *Server) allowedMethods(r *http.Request) string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" && pattern != "/api/" {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

// list is a page of a listing. NextAfter, when not null, is the value of the
// after parameter that fetches the next page.
type list[T any] struct {
	Data      []T    `json:"data"`
	NextAfter *int64 `json:"next_after"`
}

// page makes the listing of items, limit of which were asked for: a full
// page may have a next one.
func page[T any](items []T, limit int, id func(T) int64) list[T] {
	l := list[T]{Data: items}
	if l.Data == nil {
		l.Data = []T{}
	}
	if limit > 0 && len(items) == limit {
		next := id(items[len(items)-1])
		l.NextAfter = &next
	}
	return l
}

// Paging defaults, as the store applies them.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// timestamp is an instant, shown in RFC 3339 in UTC.
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(time.RFC3339) + `"`), nil
}

// optionalTime is t as a timestamp, or nil (JSON null).
func optionalTime(t *time.Time) *timestamp {
	if t == nil {
		return nil
	}
	ts := timestamp(*t)
	return &ts
}

// date is a calendar date, shown as YYYY-MM-DD.
type date time.Time

func (d date) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(d).Format(time.DateOnly) + `"`), nil
}

// optionalID is id, or nil (JSON null) when it is 0.
func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
