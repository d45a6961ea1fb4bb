package web_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web"
)

// River's UI at /admin/jobs is for the operator organisation's admins alone:
// it shows every organisation's jobs. Anyone else, signed in, gets a 404; a
// cross-origin post is refused; without an operator organisation no one sees it.
func TestJobsUIForOperatorsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	river := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("river UI at " + r.URL.Path))
	})
	srv := web.New(web.Deps{Store: b.store, Logger: quiet, JobsUI: river, OperatorOrgID: b.org.ID})
	noOperator := web.New(web.Deps{Store: b.store, Logger: quiet, JobsUI: river})
	operator := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleAdmin, "ops@acme.test", "ops password 1"))
	manager := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleManager, "max@acme.test", "max password 1"))
	customer := sessionOf(t, b, newUser(t, b, b.other.ID, lessons.RoleAdmin, "ada@globex.test", "ada password 1"))

	tests := []struct {
		name    string
		srv     *web.Server
		method  string
		session string
		headers []string
		status  int
	}{
		{"the operator's admin", srv, "GET", operator, nil, http.StatusOK},
		{"signed out", srv, "GET", "", nil, http.StatusSeeOther},
		{"the operator's manager", srv, "GET", manager, nil, http.StatusNotFound},
		{"a customer's admin", srv, "GET", customer, nil, http.StatusNotFound},
		{"no operator organisation", noOperator, "GET", operator, nil, http.StatusNotFound},
		{"a post from the UI", srv, "POST", operator, []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"a post from another site", srv, "POST", operator, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		res := servePage(tt.srv, tt.method, "/admin/jobs/api/jobs", tt.session, nil, tt.headers...)
		require.Equal(t, tt.status, res.status, "%s: %s", tt.name, res.body)
		if tt.status == http.StatusOK {
			require.Equal(t, "river UI at /admin/jobs/api/jobs", string(res.body), tt.name)
			require.Contains(t, res.header.Get("Content-Security-Policy"), "script-src 'self';", "the UI's own policy")
		} else {
			require.NotContains(t, string(res.body), "river UI", tt.name)
		}
	}
}
