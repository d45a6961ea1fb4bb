package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
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
	// quiz, video, then this period's, the previous one's and the change of
	// each of completed, overdue, quiz and video. The page compares one
	// measure at a time (completion unless asked), so it loads the page
	// comparing each, and checks the others' comparisons are not shown.
	cells := func(path, session string) map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for i, m := range []string{"", "overdue", "quiz", "video"} {
			p := path
			switch {
			case m == "":
			case strings.Contains(path, "?"):
				p += "&compare=" + m
			default:
				p += "?compare=" + m
			}
			res := b.get(p, session)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			doc := document(t, res)
			compared := []string{"completed", "overdue", "quiz", "video"}[i]
			require.Equal(t, []string{"Completed", "Overdue", "Quiz average", "Video watched"}[i], doc.Find(`[data-testid="compared"]`).Text(), p)
			require.Equal(t, 1, doc.Find(`[data-testid^="compare-"][aria-current]`).Length(), p)
			require.Equal(t, 1, doc.Find(`[data-testid="compare-`+compared+`"][aria-current]`).Length(), p)
			doc.Find(`[data-testid="breakdown-row"]`).Each(func(_ int, row *goquery.Selection) {
				label, _ := row.Attr("data-label")
				if i == 0 {
					for _, id := range breakdownCells[:5] {
						out[label] = append(out[label], row.Find(`[data-testid="`+id+`"]`).Text())
					}
				}
				for _, id := range breakdownCells[5:] {
					cell := row.Find(`[data-testid="` + id + `"]`)
					if !strings.HasPrefix(id, compared+"-") {
						require.Zero(t, cell.Length(), "%s compares %s only, not %s", p, compared, id)
						continue
					}
					out[label] = append(out[label], cell.Text())
				}
			})
		}
		return out
	}
	// Enrolled 10 days ago (the month before, in UTC, when the test runs in
	// the first ten days of a month; this month otherwise), Tom this month.
	month := cells("/reports/breakdown?by=team&period=month", b.admin)
	require.Equal(t, []string{"4", "25%", "25%", "100%", "12%"}, month["North"][:5], "Ana done, Ben overdue, Lola 2 of 4 segments, Tom new")
	require.Equal(t, []string{"3", "0%", "0%", "—", "0%"}, month["South"][:5])
	require.Equal(t, []string{"7", "14%", "14%", "100%", "7%"}, month["All"][:5])

	// This week: Tom, nothing done, no answer, 0 of 4 segments. The
	// others started ten days ago: the week before, or two weeks before
	// when this week began three days ago or less. North's week before:
	// Ana done (1 of 3), Ben overdue (1 of 3), Ana's one answer right,
	// Lola's 2 of 12 segments.
	week := cells("/reports/breakdown?by=team&period=week", b.admin)
	tenDaysAgo := b.now.AddDate(0, 0, -10)
	lastWeek := !tenDaysAgo.Before(mondayOf(b.now).AddDate(0, 0, -7))
	if lastWeek {
		require.Equal(t, []string{"0%", "33%", "−33", "0%", "33%", "−33", "—", "100%", "", "0%", "16%", "−16"}, week["North"][5:],
			"Tom this week; Ana, Ben and Lola the week before")
	} else {
		require.Equal(t, []string{"0%", "—", "", "0%", "—", "", "—", "—", "", "0%", "—", ""}, week["North"][5:],
			"Tom this week; the others two weeks ago")
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
	week = cells("/reports/breakdown?by=team&period=week", b.admin)
	if lastWeek {
		require.Equal(t, []string{"0%", "0%", "0", "0%", "33%", "−33", "—", "100%", "", "0%", "16%", "−16"}, week["North"][5:],
			"Ana's completion voided: the week before's completion falls to 0%, the rest stands")
	}
	// The CSV by week has the page's comparison of every measure.
	weekCSV := b.get("/reports/breakdown.csv?by=team&period=week", b.admin)
	require.Equal(t, http.StatusOK, weekCSV.status, "%s", weekCSV.body)
	weekRecords, err := csv.NewReader(strings.NewReader(string(weekCSV.body))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"team", "enrolled", "completed", "completed_percent", "overdue", "overdue_percent",
		"quiz_answers", "quiz_correct", "quiz_percent", "video_segments", "video_watched", "video_percent",
		"this_week_enrolled", "this_week_completed_percent", "previous_week_enrolled", "previous_week_completed_percent", "completed_change_points",
		"this_week_overdue_percent", "previous_week_overdue_percent", "overdue_change_points",
		"this_week_quiz_percent", "previous_week_quiz_percent", "quiz_change_points",
		"this_week_video_percent", "previous_week_video_percent", "video_change_points"}, weekRecords[0])
	require.Len(t, weekRecords, 4, "the header, North, South and All")
	for _, rec := range weekRecords[1:] {
		require.Len(t, rec, len(weekRecords[0]))
		page := week[rec[0]]
		// On the page: completion this, before, change; then the others'.
		csvCells := append([]string{rec[13], rec[15], rec[16]}, rec[17:]...)
		for i, cell := range page[5:] {
			require.Equal(t, strings.NewReplacer("%", "", "—", "", "−", "-", "+", "").Replace(cell), csvCells[i],
				"%s: the CSV's column %d is the page's", rec[0], i)
		}
	}

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

	res := b.get("/reports/breakdown?compare=speed", b.admin)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Contains(t, string(res.body), "completed, overdue, quiz or video")
	res = b.get("/reports/breakdown?by=region", b.admin)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Contains(t, string(res.body), "team, manager, course, cohort or tag")
	require.Equal(t, http.StatusBadRequest, b.get("/reports/breakdown?period=year", b.admin).status)
	require.Equal(t, http.StatusSeeOther, b.get("/reports/breakdown", "").status)
}

// breakdownCells are the data-testids of a breakdown row's cells.
var breakdownCells = []string{"enrolled", "completed", "overdue", "quiz", "video",
	"completed-this", "completed-previous", "completed-change", "overdue-this", "overdue-previous", "overdue-change",
	"quiz-this", "quiz-previous", "quiz-change", "video-this", "video-previous", "video-change"}

func mondayOf(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -(int(d.Weekday())+6)%7)
}

// keys returns the labels of the rows, sorted.
func keys(m map[string][]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// Every row of a breakdown but the total (the teams without a manager and
// the reps without a tag too) links to the rep table narrowed to it, which
// shows that row's reps: as many enrollments as the row counts, and for the
// rows whose reps the test knows, exactly those reps.
func TestBreakdownRowsLinkToTheirReps(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	// Ana has #vip, Ben #needs-coaching and #vip; the others no tag.
	for _, r := range []struct {
		id   int64
		name string
		tags []string
	}{{101, "Ana Lopez", []string{"vip"}}, {102, "Ben Loft", []string{"needs-coaching", "vip"}}} {
		b.write(t, tracking.RepFacts{OrgID: b.org.ID, RepID: r.id, TeamID: b.north, Team: "North", Status: "active", Name: r.name,
			Phone: fmt.Sprintf("+1202555%04d", r.id), Email: fmt.Sprintf("rep%d@acme.test", r.id), TimeZone: "UTC", Tags: r.tags}.Event(b.now))
	}
	// The reps of the rows the test knows: North's manager is the only
	// one, so South is the teams without a manager.
	wantReps := map[string][]string{
		"#vip":            {"101", "102"},
		"#needs-coaching": {"102"},
		"No tag":          {"103", "104", "105", "106"},
		"No manager":      {"104", "105", "106"},
		"North":           {"101", "102", "103"},
		"South":           {"104", "105", "106"},
	}
	seen := map[string]bool{}
	for _, by := range []string{"team", "manager", "course", "cohort", "tag"} {
		t.Run(by, func(t *testing.T) {
			res := b.get("/reports/breakdown?period=week&by="+by, b.admin)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			links := 0
			document(t, res).Find(`[data-testid="breakdown-row"]`).Each(func(_ int, row *goquery.Selection) {
				href, ok := row.Find("th a").Attr("href")
				label := row.AttrOr("data-label", "")
				if !ok {
					require.Equal(t, "All", label, "only the total has no link")
					return
				}
				links++
				table := b.get(href, b.admin)
				require.Equal(t, http.StatusOK, table.status, "%s: %s", href, table.body)
				var reps []string
				document(t, table).Find(`#results [data-testid="rep-row"]`).Each(func(_ int, r *goquery.Selection) {
					reps = append(reps, r.AttrOr("data-rep", ""))
				})
				require.Equal(t, row.Find(`[data-testid="enrolled"]`).Text(), strconv.Itoa(len(reps)), "%s row %q: %s", by, label, href)
				if want, ok := wantReps[label]; ok {
					slices.Sort(reps)
					require.Equal(t, want, slices.Compact(reps), "%s row %q: %s", by, label, href)
					seen[label] = true
				}
			})
			require.Positive(t, links)
		})
	}
	require.Len(t, seen, len(wantReps), "every row the test knows was there")
	// A manager's link is for the teams they manage, in the viewer's scope.
	res := b.get("/dashboard/reps?manager=999999", b.admin)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, http.StatusBadRequest, b.get("/dashboard/reps?cohort=yesterday&period=week", b.admin).status)
	require.Equal(t, http.StatusBadRequest, b.get("/dashboard/reps?cohort=2026-11-02&period=year", b.admin).status)
	for _, bad := range []string{"untagged=yes", "untagged=true&tag=vip", "manager=nobody"} {
		require.Equal(t, http.StatusBadRequest, b.get("/dashboard/reps?"+bad, b.admin).status, bad)
	}
	// A manager's teams all have a manager: none of their reps is in the
	// teams without one.
	res = b.get("/dashboard/reps?manager=none", b.manager)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Zero(t, document(t, res).Find(`#results [data-testid="rep-row"]`).Length())
	// The narrowing carries through the table's own links and its CSV.
	res = b.get("/dashboard/reps?untagged=true&manager=none", b.admin)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	doc := document(t, res)
	require.Equal(t, 3, doc.Find(`#results [data-testid="rep-row"]`).Length(), "South's reps, none tagged")
	require.Contains(t, doc.Find(`[data-testid="narrowed"]`).Text(), "the teams without a manager")
	require.Contains(t, doc.Find(`[data-testid="narrowed"]`).Text(), "the reps without a tag")
	csvURL, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href")
	require.Contains(t, csvURL, "untagged=true")
	require.Contains(t, csvURL, "manager=none")
	clear, _ := doc.Find(`[data-testid="clear-narrowing"]`).Attr("href")
	require.NotContains(t, clear, "untagged")
	require.NotContains(t, clear, "manager")
}

// The page names the time zone its periods start in, the organisation's,
// and counts this period from its start there.
func TestBreakdownShowsTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	require.NoError(t, b.store.SetOrgTimeZone(context.Background(), b.org.ID, "America/Los_Angeles"))
	la, err := time.LoadLocation("America/Los_Angeles")
	require.NoError(t, err)
	now := time.Now().In(la)
	firstOfMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, la)
	for _, by := range []string{"team", "cohort"} {
		t.Run(by, func(t *testing.T) {
			res := b.get("/reports/breakdown?period=month&by="+by, b.admin)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			doc := document(t, res)
			require.Equal(t, "America/Los_Angeles", doc.Find(`[data-testid="zone"]`).Text())
			periods := doc.Find(`[data-testid="periods"]`).Text()
			require.NotContains(t, periods, "UTC")
			require.NotContains(t, doc.Find("main").Text(), "UTC")
			if by == "team" {
				require.Contains(t, periods, firstOfMonth.Format("Mon 2 Jan 2006"), "this month from its first day in Los Angeles")
			}
		})
	}
}
