package web

import (
	"net/http"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web/pages"
)

// jobsUICSP is the security policy of River's UI: a React app whose scripts
// and style sheets are its own files on this origin, and which sets styles
// inline on its elements (no inline script runs).
const jobsUICSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"

// jobsUI serves River's own UI (Deps.JobsUI) under /admin/jobs/ to the admins
// of the operator organisation (Deps.OperatorOrgID): the queue holds every
// organisation's jobs, so no customer's admin may see it. To anyone else, and
// without the UI or an operator organisation, it is not found.
func (s *Server) jobsUI(w http.ResponseWriter, r *http.Request, u lessons.User) {
	if s.jobs == nil || s.operatorOrg == 0 || u.OrgID != s.operatorOrg || u.Role != lessons.RoleAdmin {
		s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
		return
	}
	w.Header().Set("Content-Security-Policy", jobsUICSP)
	s.jobs.ServeHTTP(w, r)
}
