package web_test

import (
	"context"
	"encoding/csv"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// The breakdowns count the same rows as the overview: checked against the
// figures of the events the test wrote, worked out by hand, then again after
// a void, with a manager's scope and the period comparison.
func TestBreakdown(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	// Tom joined North an hour ago: this period's cohort.
	f := tracking.RepFacts{OrgID: b.org.ID, RepID: 108, TeamID: b.north, Team: "North", Status: "active", Name: "Tom New",
		Phone: "+12025550108", TimeZone: "UTC"}
	e := tracking.EnrollmentFacts{OrgID: b.org.ID, RepID: 108, EnrollmentID: 1080, CourseID: dashCourse, CourseVersionID: 70,
		CourseTitle: "Compliance", Status: "active", EnrolledAt: b.now.Add(-time.Hour), DueOn: b.now.AddDate(0, 0, 9).Format(time.DateOnly),
		Lessons: 2, Segments: 4}
	b.write(t, f.Event(b.now.Add(-time.Hour)), e.Event(b.now.Add(-time.Hour)))

	// cells reads each row's cells by label: enrolled, completed, overdue,
	// quiz, video, this, previous, change.
	cells := func(path, session string) map[string][]string {
		t.Helper()
		res := b.get(path, session)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		out := map[string][]string{}
		document(t, res).Find(`[data-testid="breakdown-row"]`).Each(func(_ int, row *goquery.Selection) {
			label, _ := row.Attr("data-label")
			var cs []string
			for _, id := range []string{"enrolled", "completed", "overdue", "quiz", "video", "this", "previous", "change"} {
				cs = append(cs, row.Find(`[data-testid="`+id+`"]`).Text())
			}
			out[label] = cs
		})
		return out
	}
	// Enrolled 10 days ago (the month before, in UTC, when the test runs in
	// the first ten days of a month; this month otherwise), Tom this month.
	month := cells("/reports/breakdown?by=team&period=month", b.admin)
	require.Equal(t, []string{"4", "25%", "25%", "100%", "12%"}, month["North"][:5], "Ana done, Ben overdue, Lola 2 of 4 segments, Tom new")
	require.Equal(t, []string{"3", "0%", "0%", "—", "0%"}, month["South"][:5])
	require.Equal(t, []string{"7", "14%", "14%", "100%", "7%"}, month["All"][:5])

	week := cells("/reports/breakdown?by=team&period=week", b.admin)
	tenDaysAgo := b.now.AddDate(0, 0, -10)
	if tenDaysAgo.Before(mondayOf(b.now).AddDate(0, 0, -7)) {
		require.Equal(t, []string{"0%", "—", ""}, week["North"][5:], "Tom this week; the others two weeks ago")
	}
	cohorts := cells("/reports/breakdown?by=cohort&period=week", b.admin)
	require.Len(t, cohorts, 3, "this week's cohort, the one ten days ago, and All")
	require.Equal(t, "1", cohorts[mondayOf(b.now).Format("2 Jan 2006")][0])

	require.Equal(t, []string{"All", "North"}, keys(cells("/reports/breakdown", b.manager)), "a manager's teams only")
	require.Equal(t, []string{"All", "Compliance"}, keys(cells("/reports/breakdown?by=course", b.admin)))

	// A completion voided is gone from the figures at once.
	_, err := tracking.Void(context.Background(), b.pool, b.ch, time.Now(), b.org.ID, "done/2", 101, "sent to the wrong rep", "test")
	require.NoError(t, err)
	require.Equal(t, []string{"4", "0%"}, cells("/reports/breakdown", b.admin)["North"][:2])

	// The same figures as CSV, a manager's teams only.
	csvRes := b.get("/reports/breakdown.csv?by=team&period=month", b.manager)
	require.Equal(t, http.StatusOK, csvRes.status, "%s", csvRes.body)
	require.Equal(t, "text/csv; charset=utf-8", csvRes.header.Get("Content-Type"))
	records, err := csv.NewReader(strings.NewReader(string(csvRes.body))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "team", records[0][0])
	require.Len(t, records, 3, "the header, North and All")
	require.Equal(t, []string{"North", "4", "0", "0", "1", "25"}, records[1][:6])

	// By manager: North's (one) and South's (none, so "No manager").
	byManager := cells("/reports/breakdown?by=manager", b.admin)
	require.Equal(t, []string{"All", "No manager", "User north@acme.test"}, keys(byManager))
	require.Equal(t, []string{"4", "0%"}, byManager["User north@acme.test"][:2])
	require.Equal(t, "3", byManager["No manager"][0])

	res := b.get("/reports/breakdown?by=region", b.admin)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Contains(t, string(res.body), "team, manager, course, cohort or tag")
	require.Equal(t, http.StatusBadRequest, b.get("/reports/breakdown?period=year", b.admin).status)
	require.Equal(t, http.StatusSeeOther, b.get("/reports/breakdown", "").status)
}

func mondayOf(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -(int(d.Weekday())+6)%7)
}

// keys returns the labels of the rows, sorted.
func keys(m map[string][]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// Every row of a breakdown but the total (and the teams without a manager)
// links to the rep table narrowed to it, which shows as many enrollments as
// the row counts.
func TestBreakdownRowsLinkToTheirReps(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	for _, by := range []string{"team", "manager", "course", "cohort"} {
		t.Run(by, func(t *testing.T) {
			res := b.get("/reports/breakdown?period=week&by="+by, b.admin)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			links := 0
			document(t, res).Find(`[data-testid="breakdown-row"]`).Each(func(_ int, row *goquery.Selection) {
				href, ok := row.Find("th a").Attr("href")
				label := row.AttrOr("data-label", "")
				if !ok {
					require.Contains(t, []string{"All", "No manager"}, label, "only the total and the teams without a manager have no link")
					return
				}
				links++
				table := b.get(href, b.admin)
				require.Equal(t, http.StatusOK, table.status, "%s: %s", href, table.body)
				rows := document(t, table).Find(`#results [data-testid="rep-row"]`).Length()
				require.Equal(t, row.Find(`[data-testid="enrolled"]`).Text(), strconv.Itoa(rows), "%s row %q: %s", by, label, href)
			})
			require.Positive(t, links)
		})
	}
	// A manager's link is for the teams they manage, in the viewer's scope.
	res := b.get("/dashboard/reps?manager=999999", b.admin)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, http.StatusBadRequest, b.get("/dashboard/reps?cohort=yesterday&period=week", b.admin).status)
	require.Equal(t, http.StatusBadRequest, b.get("/dashboard/reps?cohort=2026-11-02&period=year", b.admin).status)
}
