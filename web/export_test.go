package web

import "net/http"

// Route is a registered API route, for the test that holds the OpenAPI
// document to the routes.
type Route struct{ Method, Pattern string }

// APIRoutes returns the server's API routes.
func APIRoutes(s *Server) []Route {
	var out []Route
	for _, r := range s.routes() {
		if r.API {
			out = append(out, Route{r.Method, r.Pattern})
		}
	}
	return out
}

// Wrap returns h with the server's request logging and panic recovery.
func Wrap(s *Server, h http.Handler) http.Handler { return s.logRequests(s.recoverPanics(h)) }

// ImportsRunning returns how many rep imports the organisation runs in s now.
func ImportsRunning(s *Server, orgID int64) int {
	s.imports.mu.Lock()
	defer s.imports.mu.Unlock()
	return s.imports.running[orgID]
}
