package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// The rep table as CSV: the page's filters, sort and scope, every row, a
// header, RFC 4180 quoting, and names that a spreadsheet would run as a
// formula neutralised.
func TestRepTableCSV(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	formula := `=HYPERLINK("http://evil.test","Click"), Jr.`
	f := tracking.RepFacts{OrgID: b.org.ID, RepID: 107, TeamID: b.north, Team: "North", Status: "active", Name: formula,
		Phone: "+12025550107", TimeZone: "UTC", Tags: []string{"needs-coaching", "vip"}}
	e := tracking.EnrollmentFacts{OrgID: b.org.ID, RepID: 107, EnrollmentID: 1070, CourseID: dashCourse, CourseVersionID: 70,
		CourseTitle: "Compliance", Status: "active", EnrolledAt: b.now.Add(-24 * time.Hour), DueOn: b.now.AddDate(0, 0, 9).Format("2006-01-02"),
		Lessons: 2, Segments: 4}
	b.write(t, f.Event(b.now.Add(-24*time.Hour)), e.Event(b.now.Add(-24*time.Hour)))

	names := func(res response) []string {
		t.Helper()
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "text/csv; charset=utf-8", res.header.Get("Content-Type"))
		require.Contains(t, res.header.Get("Content-Disposition"), `attachment; filename="reps-`)
		records, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"name", "team", "course", "lessons_done", "lessons_total", "quiz_percent", "video_percent",
			"last_activity", "due_on", "status", "tags"}, records[0])
		var out []string
		for _, r := range records[1:] {
			require.Len(t, r, 11)
			out = append(out, r[0])
		}
		return out
	}

	res := b.get("/dashboard/reps.csv", b.admin)
	require.Equal(t, []string{"'" + formula, "Ana Lopez", "Ben Loft", "Leo Ng", "Lola Kim", "Lou Reed", "Sam Lee"}, names(res),
		"every rep of the organisation, by name, the formula neutralised")
	require.Contains(t, string(res.body), `"'=HYPERLINK(""http://evil.test"",""Click""), Jr."`, "quoted as RFC 4180 says")
	require.True(t, strings.HasSuffix(string(res.body), "\r\n"), "CRLF line ends")
	require.Contains(t, string(res.body), "Ana Lopez,North,Compliance,2,2,100,0,")
	require.Contains(t, string(res.body), ",Done,\r\n")
	require.Contains(t, string(res.body), ",On track,#needs-coaching #vip\r\n", "the rep's tags")
	require.Equal(t, []string{"'" + formula}, names(b.get("/dashboard/reps.csv?tag=vip&tag=%23Needs-Coaching", b.admin)), "filtered by tags")
	require.Empty(t, names(b.get("/dashboard/reps.csv?tag=vip,other", b.admin)), "every tag must match")
	require.Equal(t, http.StatusBadRequest, b.get("/dashboard/reps.csv?tag=%3Dcmd", b.admin).status, "a tag that is no tag")

	require.Equal(t, []string{"'" + formula, "Ana Lopez", "Ben Loft", "Lola Kim"}, names(b.get("/dashboard/reps.csv", b.manager)),
		"a manager's export has their teams only")
	require.Equal(t, []string{"Ben Loft"}, names(b.get("/dashboard/reps.csv?status=overdue", b.admin)), "the page's filters")
	require.Equal(t, []string{"Sam Lee", "Lou Reed", "Lola Kim", "Leo Ng", "Ben Loft", "Ana Lopez", "'" + formula},
		names(b.get("/dashboard/reps.csv?sort=name&dir=desc", b.admin)), "the page's order")
	require.Empty(t, names(b.get("/dashboard/reps.csv", b.otherAdmin)), "another organisation's admin: the header alone")
	require.Equal(t, http.StatusNotFound, b.get("/dashboard/reps.csv?team="+itoa(b.south), b.manager).status, "a team outside the scope")
	require.Equal(t, http.StatusSeeOther, b.get("/dashboard/reps.csv", "").status, "signed out")

	page := b.get("/dashboard/reps?status=overdue&sort=due", b.admin)
	require.Contains(t, string(page.body), `href="/dashboard/reps.csv?sort=due&amp;status=overdue"`, "the page links to its CSV")
}
