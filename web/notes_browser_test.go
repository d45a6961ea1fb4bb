package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestNotesBrowser walks through notes in Chromium as a manager: write a
// note on a rep, taking a #tag from the suggestions, filter the rep table by
// the tag, and download the filtered table as CSV. Screenshots go to the
// test's artifact directory, the rep page at a phone's width too.
func TestNotesBrowser(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	nia, sid := b.noteReps(t)
	admin, err := b.store.SessionUser(context.Background(), b.admin)
	require.NoError(t, err)
	// A tag the organisation already uses, on a rep of another team.
	_, err = b.store.AddNote(context.Background(), admin, sid, "first week went well #needs-coaching")
	require.NoError(t, err)
	srv := httptest.NewServer(b.srv.Handler())
	t.Cleanup(srv.Close)
	dir := t.ArtifactDir()
	t.Logf("screenshots in %s", dir)
	ctx := newBrowser(t)
	const limit = 15 * time.Second
	niaPage := "/dashboard/reps/" + strconv.FormatInt(nia, 10)

	step(t, ctx, limit, chromedp.Navigate(srv.URL+niaPage))
	waitPage(t, ctx, limit, `location.pathname === '/signin' && !!document.querySelector('[data-testid=signin]')`)
	signInBrowser(t, ctx, limit, "north@acme.test", "correct horse 2")
	waitPage(t, ctx, limit, fmt.Sprintf(`location.pathname === %q && !!document.querySelector('[data-testid=note-form]')`, niaPage))
	require.Equal(t, "No notes yet.", eval[string](t, ctx, `document.querySelector('[data-testid=no-notes]').textContent`))

	// Typing a # asks for the organisation's tags; a click completes it.
	step(t, ctx, limit, chromedp.SendKeys(chromedp.CSS(`[data-testid=note-body]`), "Called her, #nee"))
	waitPage(t, ctx, limit, `!document.querySelector('[data-testid=tag-suggestions]').hidden && !!document.querySelector('[data-testid=tag-suggestions] [data-tag="needs-coaching"]')`)
	require.Equal(t, "#needs-coaching (1)", eval[string](t, ctx, `document.querySelector('[data-testid=tag-suggestions] button').textContent`))
	screenshot(t, ctx, dir, "01-suggestions.png")
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=tag-suggestions] [data-tag="needs-coaching"]`)))
	require.Equal(t, "Called her, #needs-coaching ", eval[string](t, ctx, `document.querySelector('[data-testid=note-body]').value`))
	require.True(t, eval[bool](t, ctx, `document.querySelector('[data-testid=tag-suggestions]').hidden`))
	step(t, ctx, limit,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=note-body]`), "@trainer please check the pricing quiz"),
		chromedp.Click(chromedp.CSS(`[data-testid=note-save]`)),
	)
	waitPage(t, ctx, limit, `document.readyState === 'complete' && !!document.querySelector('[data-testid=notice]') && !!document.querySelector('[data-testid=note]')`)
	require.Equal(t, "Note saved.", eval[string](t, ctx, `document.querySelector('[data-testid=notice]').textContent`))
	require.Equal(t, "Called her, #needs-coaching @trainer please check the pricing quiz",
		eval[string](t, ctx, `document.querySelector('[data-testid=note-text]').textContent`))
	require.Equal(t, "#needs-coaching", eval[string](t, ctx, `document.querySelector('[data-testid=note-tag]').textContent`))
	screenshot(t, ctx, dir, "02-note-saved.png")
	step(t, ctx, limit, chromedp.EmulateViewport(390, 800))
	screenshot(t, ctx, dir, "03-note-saved-phone.png")
	step(t, ctx, limit, chromedp.EmulateViewport(1280, 900))

	// The outbox ships the rep's new tag; the table filters by it.
	b.ship(t)
	step(t, ctx, limit, chromedp.Navigate(srv.URL+"/dashboard/reps"))
	waitPage(t, ctx, limit, `document.readyState === 'complete' && !!window.htmx && !!document.querySelector('[data-testid=filter-tag-needs-coaching]')`)
	require.Greater(t, eval[int](t, ctx, `document.querySelectorAll('#results [data-testid=rep-row]').length`), 1)
	eval[bool](t, ctx, `document.querySelector('#results').dataset.before = 'tag'; true`)
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=filter-tag-needs-coaching]`)))
	waitPage(t, ctx, limit, `location.search === '?tag=needs-coaching' && !document.querySelector('#results').dataset.before`)
	require.Equal(t, fmt.Sprintf(`["%d"]`, nia), eval[string](t, ctx, repsJS), "North's one rep with the tag; South's is not the manager's")
	require.Equal(t, "#needs-coaching", eval[string](t, ctx, `document.querySelector('#results [data-testid=row-tag]').textContent`))
	screenshot(t, ctx, dir, "04-filtered-by-tag.png")

	// The CSV link downloads the same rows.
	href := eval[string](t, ctx, `document.querySelector('[data-testid=export-csv]').href`)
	require.Equal(t, srv.URL+"/dashboard/reps.csv?tag=needs-coaching", href)
	csv := eval[string](t, ctx, `(() => { const x = new XMLHttpRequest(); x.open('GET', document.querySelector('[data-testid=export-csv]').href, false); x.send(); return x.status + '\n' + x.getResponseHeader('Content-Disposition') + '\n' + x.responseText })()`)
	require.Regexp(t, `^200\nattachment; filename="reps-[0-9-]+\.csv"\nname,team,course,lessons_done,lessons_total,quiz_percent,video_percent,last_activity,due_on,status,tags\r\nNia Note,North,Compliance,0,2,,,,[0-9-]+,[A-Za-z ]+,#needs-coaching\r\n$`, csv)

	// The breakdown by tag, every measure this month against the last, as
	// the manager sees it on a desktop and on a phone; its "No tag" row
	// leads to the rep table narrowed to reps without a tag.
	step(t, ctx, limit, chromedp.Navigate(srv.URL+"/reports/breakdown?by=tag&period=month"))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=breakdown]') && !!document.querySelector('[data-testid=zone]')`)
	require.Contains(t, eval[string](t, ctx, `document.querySelector('[data-testid=breakdown]').textContent`), "needs-coaching")
	screenshot(t, ctx, dir, "05-breakdown-by-tag.png")
	step(t, ctx, limit, chromedp.EmulateViewport(390, 800))
	screenshot(t, ctx, dir, "06-breakdown-by-tag-phone.png")
	step(t, ctx, limit, chromedp.EmulateViewport(1280, 900))
	step(t, ctx, limit, chromedp.Click(`//table[@data-testid="breakdown"]//a[text()="No tag"]`))
	waitPage(t, ctx, limit, `location.search.includes('untagged=true') && !!document.querySelector('#results')`)
	require.NotContains(t, eval[string](t, ctx, repsJS), fmt.Sprintf(`"%d"`, nia), "Nia has a tag")
	screenshot(t, ctx, dir, "07-reps-without-a-tag.png")
}
