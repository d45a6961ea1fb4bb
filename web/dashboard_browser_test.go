package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// extraReps are the reps the browser test adds to North so that its table
// has a second page: "Extra Pal 01" (rep 201) to "Extra Pal 55" (rep 255),
// not started and due later the lower their number, so that sorting by due
// date reverses the order by name. Their names have an "l" but no "lo".
const extraReps = 55

// addExtraReps writes the extra reps of North to ClickHouse.
func (b *dashBundle) addExtraReps(t *testing.T) {
	t.Helper()
	at := b.now.Add(-10 * 24 * time.Hour)
	var events []tracking.Event
	for i := 1; i <= extraReps; i++ {
		id := int64(200 + i)
		f := tracking.RepFacts{OrgID: b.org.ID, RepID: id, TeamID: b.north, Team: "North", Status: "active",
			Name: fmt.Sprintf("Extra Pal %02d", i), Phone: fmt.Sprintf("+1202555%04d", id),
			Email: fmt.Sprintf("rep%d@acme.test", id), TimeZone: "UTC"}
		e := tracking.EnrollmentFacts{OrgID: b.org.ID, RepID: id, EnrollmentID: id * 10, CourseID: dashCourse, CourseVersionID: 70,
			CourseTitle: "Compliance", Status: "active", EnrolledAt: at, Lessons: 2, Segments: 4,
			DueOn: b.now.Add(time.Duration(6+extraReps-i) * 24 * time.Hour).Format(time.DateOnly)}
		events = append(events, f.Event(at), e.Event(at))
	}
	b.write(t, events...)
}

// screenshot saves a PNG of the whole page as dir/name.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	shotCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(shotCtx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot %s", name)
	require.NotEmpty(t, png, name)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "%s is a PNG", name)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Positive(t, st.Size(), name)
}

// waitPage polls a JavaScript predicate until it is true, like waitFor, but
// through a navigation (an evaluation that a navigation interrupts is tried
// again in the new document), and says where the page is when it times out.
func waitPage(t *testing.T, ctx context.Context, limit time.Duration, js string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		evalCtx, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := chromedp.Run(evalCtx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond) // the polling interval
	}
	evalCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	at, err := chromedp.Run(evalCtx, chromedp.Evaluate[string](`location.href + ' ' + document.readyState`))
	require.FailNow(t, "timed out", "wait for %s (last error: %v; at %s %v)", js, last, at, err)
}

// The rows of the rep table, as their data-rep attributes.
const repsJS = `JSON.stringify([...document.querySelectorAll('#results [data-testid=rep-row]')].map(r => r.dataset.rep))`

// repIDs are the ids of the extra reps from..to (both included, either way).
func repIDs(from, to int) string {
	var ids []string
	step := 1
	if to < from {
		step = -1
	}
	for i := from; ; i += step {
		ids = append(ids, fmt.Sprintf("%q", fmt.Sprint(200+i)))
		if i == to {
			break
		}
	}
	return "[" + strings.Join(ids, ",") + "]"
}

// TestDashboardBrowser walks through the dashboard in Chromium as a manager
// does: sign in, filter the rep table, sort it, page it, search by two
// letters, open a rep and go back to the table, still filtered. Each page's
// screenshot is saved in the test's artifact directory (t.ArtifactDir: under
// -outputdir with go test -artifacts, else a temporary directory).
func TestDashboardBrowser(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	b.addExtraReps(t)
	srv := httptest.NewServer(b.srv.Handler())
	t.Cleanup(srv.Close)
	dir := t.ArtifactDir()
	t.Logf("screenshots in %s", dir)
	ctx := newBrowser(t)
	const limit = 15 * time.Second
	on := func(path string) string {
		return fmt.Sprintf(`location.pathname === %q && document.readyState === 'complete' && !!window.htmx`, path)
	}

	// Sign in through the form; the dashboard sends a stranger to it and
	// back.
	step(t, ctx, limit, chromedp.Navigate(srv.URL+"/dashboard"))
	waitPage(t, ctx, limit, `location.pathname === '/signin' && !!document.querySelector('[data-testid=signin]')`)
	require.Equal(t, "/dashboard", eval[string](t, ctx, `document.querySelector('input[name=next]').value`))
	signInBrowser(t, ctx, limit, "north@acme.test", "correct horse 2")
	waitPage(t, ctx, limit, on("/dashboard")+` && !!document.querySelector('[data-testid=overview]')`)
	require.Equal(t, "User north@acme.test", eval[string](t, ctx, `document.querySelector('[data-testid=account-name]').textContent`))
	require.Equal(t, "manager", eval[string](t, ctx, `document.querySelector('[data-testid=account]').textContent.match(/\((\w+)\)/)[1]`))
	require.Equal(t, fmt.Sprint(3+extraReps), eval[string](t, ctx,
		fmt.Sprintf(`document.querySelector('[data-course="%d"] [data-figure=enrolled] td').dataset.value`, dashCourse)),
		"North's reps only")
	screenshot(t, ctx, dir, "01-overview.png")

	// The rep table, by name: the first page of North's 58 rows.
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=dash-nav] a[href="/dashboard/reps"]`)))
	waitPage(t, ctx, limit, on("/dashboard/reps")+` && document.querySelectorAll('[data-testid=rep-row]').length > 0`)
	require.Equal(t, `["101","102",`+strings.TrimPrefix(repIDs(1, 48), "["), eval[string](t, ctx, repsJS),
		"Ana Lopez, Ben Loft, then Extra Pal 01 to 48")
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('#results a[rel=next]') && !document.querySelector('#results a[rel=prev]')`))
	require.Equal(t, "ascending", eval[string](t, ctx, `document.querySelector('[data-testid=sort-name]').parentElement.getAttribute('aria-sort')`))
	screenshot(t, ctx, dir, "02-reps.png")

	// Filter by status: htmx swaps the results in place and puts the filter
	// in the address.
	eval[bool](t, ctx, `document.querySelector('#results').dataset.before = 'filter'; true`)
	step(t, ctx, limit, chromedp.SetValue(chromedp.CSS(`[data-testid=filter-status]`), "on_track"))
	eval[bool](t, ctx, `document.querySelector('[data-testid=filter-status]').dispatchEvent(new Event('change', {bubbles: true}))`)
	waitPage(t, ctx, limit, `location.search === '?status=on_track' && !document.querySelector('#results').dataset.before`)
	require.Equal(t, repIDs(1, 50), eval[string](t, ctx, repsJS), "the reps on track: the extra ones")
	require.Equal(t, "true", eval[string](t, ctx,
		`String([...document.querySelectorAll('#results [data-col=status]')].every(c => c.textContent.trim() === 'On track'))`))
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('#results a[rel=next]')`), "55 reps on track: two pages")
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('[data-testid=filters]')`), "swapped in place: the form is still there")
	screenshot(t, ctx, dir, "03-filtered.png")

	// Sort by due date, clicking its header: the latest extra reps are due
	// first.
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=sort-due]`)))
	waitPage(t, ctx, limit, `new URLSearchParams(location.search).get('sort') === 'due' && document.querySelector('[data-testid=sort-due]').parentElement.getAttribute('aria-sort') === 'ascending'`)
	require.Equal(t, "on_track", eval[string](t, ctx, `new URLSearchParams(location.search).get('status')`), "sorting keeps the filter")
	require.Equal(t, repIDs(55, 6), eval[string](t, ctx, repsJS), "by due date: Extra Pal 55 to 06")
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('#results a[rel=next]') && !document.querySelector('#results a[rel=prev]')`))
	screenshot(t, ctx, dir, "04-sorted.png")

	// The next page: the last five.
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`#results a[rel=next]`)))
	waitPage(t, ctx, limit, `new URLSearchParams(location.search).has('after') && document.querySelectorAll('#results [data-testid=rep-row]').length === 5`)
	q := eval[string](t, ctx, `location.search`)
	require.Contains(t, q, "status=on_track")
	require.Contains(t, q, "sort=due")
	require.Equal(t, repIDs(5, 1), eval[string](t, ctx, repsJS), "Extra Pal 05 to 01")
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('#results a[rel=prev]') && !document.querySelector('#results a[rel=next]')`))
	tablePage := eval[string](t, ctx, `location.pathname + location.search`)
	screenshot(t, ctx, dir, "05-page-2.png")

	// Search by two letters: "l" alone matches every extra rep (ten
	// matches at most), "lo" North's three, not South's Lou Reed.
	step(t, ctx, limit, chromedp.SendKeys(chromedp.CSS(`[data-testid=search-box]`), "lo"))
	const matchesJS = `JSON.stringify([...document.querySelectorAll('#search-results [data-testid=match]')].map(m => m.dataset.rep).sort())`
	waitPage(t, ctx, limit, matchesJS+` === '["101","102","103"]'`)
	require.Equal(t, "lo", eval[string](t, ctx, `document.querySelector('[data-testid=search-box]').value`))
	require.Equal(t, "Lola Kim", eval[string](t, ctx, `document.querySelector('#search-results [data-testid=match] a').textContent`),
		"a name that starts with the letters first")
	require.Equal(t, tablePage, eval[string](t, ctx, `location.pathname + location.search`), "searching does not move the table")
	screenshot(t, ctx, dir, "06-search.png")

	// Open a rep from the matches.
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`#search-results [data-testid=match][data-rep="101"] a`)))
	waitPage(t, ctx, limit, on("/dashboard/reps/101")+` && !!document.querySelector('[data-testid=rep]')`)
	require.Equal(t, "Ana Lopez", eval[string](t, ctx, `document.querySelector('h1').textContent`))
	require.Equal(t, "rep101@acme.test", eval[string](t, ctx, `document.querySelector('[data-testid=rep-email]').textContent`))
	require.Equal(t, tablePage, eval[string](t, ctx, `document.querySelector('[data-testid=back]').getAttribute('href')`),
		"the page's back link goes to the table as it was")
	screenshot(t, ctx, dir, "07-rep.png")

	// Back: the table as it was, filter, sort and page.
	step(t, ctx, limit, chromedp.NavigateBack())
	waitPage(t, ctx, limit, on("/dashboard/reps")+` && document.querySelectorAll('#results [data-testid=rep-row]').length > 0`)
	require.Equal(t, tablePage, eval[string](t, ctx, `location.pathname + location.search`))
	require.Equal(t, "on_track", eval[string](t, ctx, `document.querySelector('[data-testid=filter-status]').value`), "the filter is still there")
	require.Equal(t, repIDs(5, 1), eval[string](t, ctx, repsJS))
	require.Equal(t, "ascending", eval[string](t, ctx, `document.querySelector('[data-testid=sort-due]').parentElement.getAttribute('aria-sort')`))
	screenshot(t, ctx, dir, "08-back.png")

	// A filter changed after a sort in the table's head keeps the sort.
	eval[bool](t, ctx, `document.querySelector('#results').dataset.before = 'all'; true`)
	step(t, ctx, limit, chromedp.SetValue(chromedp.CSS(`[data-testid=filter-status]`), ""))
	eval[bool](t, ctx, `document.querySelector('[data-testid=filter-status]').dispatchEvent(new Event('change', {bubbles: true}))`)
	waitPage(t, ctx, limit, `!document.querySelector('#results').dataset.before`)
	require.Equal(t, "?sort=due", eval[string](t, ctx, `location.search`), "every status, still by due date, from the first page")
	require.Equal(t, "", eval[string](t, ctx, `document.querySelector('[data-testid=filter-status]').value`))
}
