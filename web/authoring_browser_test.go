package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/sms"
)

// TestAuthoringBrowser: a trainer creates a course in headless Chromium,
// adds a quiz, sees the segment count change while typing a curly quote,
// replaces it with one click, saves and publishes. Each step is saved as a
// screenshot under the test's artifacts (go test ./web -run
// TestAuthoringBrowser -artifacts -outputdir DIR).
func TestAuthoringBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1")
	srv := httptest.NewServer(b.server.Handler())
	t.Cleanup(srv.Close)
	dir := t.ArtifactDir()
	ctx := newBrowser(t)
	const limit = 15 * time.Second

	step(t, ctx, limit, chromedp.Navigate(srv.URL+"/courses"))
	waitPage(t, ctx, limit, `location.pathname === '/signin' && !!document.querySelector('[data-testid=signin]')`)
	signInBrowser(t, ctx, limit, "tess@acme.test", "correct horse 1")
	waitPage(t, ctx, limit, `location.pathname === '/courses' && !!document.querySelector('[data-testid=new-course]')`)
	step(t, ctx, limit,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=new-course] input[name=title]`), "Onboarding"),
		chromedp.Click(chromedp.CSS(`[data-testid=new-course] button[type=submit]`)),
	)
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=notice]') && !!document.querySelector('[data-slug=onboarding]')`)
	screenshot(t, ctx, dir, "01-courses.png")

	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-slug=onboarding] [data-testid=open-course]`)))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=add-quiz]') && !!window.htmx`)
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=add-quiz]`)))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=lesson-form]') && !!window.htmx`)
	step(t, ctx, limit,
		chromedp.SendKeys(chromedp.CSS(`input[name=title]`), "Check"),
		chromedp.SendKeys(chromedp.CSS(`input[name="questions[0].choices[0]"]`), "You"),
		chromedp.SendKeys(chromedp.CSS(`input[name="questions[0].choices[1]"]`), "Your lead"),
		chromedp.Click(chromedp.CSS(`input[name="questions[0].correct"][value=B]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="questions[0].prompt"]`), "Who approves 8%"),
	)
	figures := `document.querySelector('[data-testid=measure-figures]')`
	waitFor(t, ctx, limit, figures+` && `+figures+`.textContent.includes('GSM-7') && document.querySelector('pre.sms').textContent.includes('Who approves 8%')`)
	require.Equal(t, 1, shownSegments(t, ctx))
	screenshot(t, ctx, dir, "02-quiz-gsm7.png")

	// A curly apostrophe: the count changes as it is typed.
	step(t, ctx, limit, chromedp.SendKeys(chromedp.CSS(`input[name="questions[0].prompt"]`), "? It’s your lead’s call, isn’t it, when a discount is between six and ten percent"))
	waitFor(t, ctx, limit, figures+`.dataset.encoding === 'UCS-2'`)
	ucs2 := shownSegments(t, ctx)
	require.Greater(t, ucs2, 1, "over 70 UCS-2 characters")
	require.Contains(t, eval[string](t, ctx, `document.querySelector('[data-testid=ucs2]').textContent`), "’")
	screenshot(t, ctx, dir, "03-quiz-ucs2.png")

	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=replace]`)))
	waitPage(t, ctx, limit, figures+` && `+figures+`.dataset.encoding === 'GSM-7'`)
	require.Less(t, shownSegments(t, ctx), ucs2, "GSM-7 again: fewer segments")
	require.Contains(t, eval[string](t, ctx, `document.querySelector('input[name="questions[0].prompt"]').value`), "It's your lead's call")
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=save-lesson]`)))
	waitPage(t, ctx, limit, `document.querySelectorAll('[data-testid=lesson-row]').length === 2`)
	screenshot(t, ctx, dir, "04-editor.png")

	// Drag the quiz onto the first row, then back: the order is stored each time.
	order := `Array.from(document.querySelectorAll('[data-testid=lesson-row]')).map(r => r.dataset.key).join(',')`
	before := eval[string](t, ctx, order)
	drag := func(from, to int) {
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const rows = document.querySelectorAll('[data-testid=lesson-row]'), dt = new DataTransfer();
			rows[%d].dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
			rows[%d].dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
			rows[%d].dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); return true })()`, from, to, to))
	}
	drag(1, 0)
	keys := strings.Split(before, ",")
	waitPage(t, ctx, limit, order+` === '`+keys[1]+`,`+keys[0]+`'`)
	drag(1, 0)
	waitPage(t, ctx, limit, order+` === '`+before+`'`)

	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=publish-button]`)))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=version-state]') && document.querySelector('[data-testid=version-state]').textContent.includes('published') && !document.querySelector('[data-testid=publish]')`)
	screenshot(t, ctx, dir, "05-published.png")

	// The preview, and the pages on a phone.
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=preview-link]`)))
	waitPage(t, ctx, limit, `document.querySelectorAll('[data-testid=planned]').length === 3`)
	screenshot(t, ctx, dir, "06-preview.png")
	step(t, ctx, limit,
		chromedp.SetValue(chromedp.CSS(`[data-testid=answers]`), "wrong"),
		chromedp.Click(chromedp.CSS(`[data-testid=preview-form] button[type=submit]`)),
	)
	waitPage(t, ctx, limit, `document.querySelectorAll('[data-testid=planned]').length === 5 && !!document.querySelector('[data-testid=reason]')`)
	screenshot(t, ctx, dir, "06-preview-wrong.png")
	step(t, ctx, limit, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	screenshot(t, ctx, dir, "07-preview-phone.png")
	step(t, ctx, limit, chromedp.Navigate(srv.URL+"/courses"))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-slug=onboarding]')`)
	screenshot(t, ctx, dir, "08-courses-phone.png")
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-slug=onboarding] [data-testid=open-course]`)))
	waitPage(t, ctx, limit, `document.querySelectorAll('[data-testid=lesson-row]').length === 2`)
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 390, "the editor fits a phone's width")
	screenshot(t, ctx, dir, "09-editor-phone.png")
	quizPage := eval[string](t, ctx, `document.querySelectorAll('[data-testid=edit-lesson]')[1].href`) + "/page"
	step(t, ctx, limit, chromedp.Navigate(quizPage))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=lesson-preview]') && !!document.querySelector('[data-testid=question-prompt]')`)
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 390, "the lesson page fits a phone")
	screenshot(t, ctx, dir, "09b-lesson-page-phone.png")

	// An admin enrolls the East team and a file of new hires: a bad file is
	// refused by line, a good one is uploaded with its progress shown.
	step(t, ctx, limit, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/courses"))
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=signout]')`)
	step(t, ctx, limit, chromedp.Click(chromedp.CSS(`[data-testid=signout]`)))
	waitPage(t, ctx, limit, `!document.querySelector('[data-testid=signout]')`)
	_, err := b.store.ImportReps(context.Background(), b.org.ID, []lessons.RepInput{
		{Name: "Ada East", Phone: "+12125550101", Team: "East", TimeZone: "America/New_York"},
		{Name: "Bo East", Phone: "+12125550102", Team: "East", TimeZone: "America/New_York"},
	})
	require.NoError(t, err)
	newUser(t, b, b.org.ID, lessons.RoleAdmin, "ada@acme.test", "correct horse 2")
	step(t, ctx, limit, chromedp.Navigate(srv.URL+"/enroll"))
	waitPage(t, ctx, limit, `location.pathname === '/signin' && !!document.querySelector('[data-testid=signin]')`)
	signInBrowser(t, ctx, limit, "ada@acme.test", "correct horse 2")
	waitPage(t, ctx, limit, `location.pathname === '/enroll' && !!document.querySelector('[data-testid=enroll-form]')`)
	badFile, goodFile := filepath.Join(t.TempDir(), "bad.csv"), filepath.Join(t.TempDir(), "hires.csv")
	require.NoError(t, os.WriteFile(badFile, []byte("name,phone,team,timezone\nCy New,555-0199,East,America/New_York\n"), 0o600))
	require.NoError(t, os.WriteFile(goodFile, []byte("name,phone,team,timezone\nCy New,+12125550103,East,America/Chicago\n"), 0o600))
	step(t, ctx, limit,
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=file]`), []string{badFile}),
		chromedp.Click(chromedp.CSS(`[data-testid=enroll]`)),
	)
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=csv-problems]')`)
	require.Contains(t, eval[string](t, ctx, `document.querySelector('[data-testid=csv-problems]').textContent`), "line 2, column phone")
	screenshot(t, ctx, dir, "10-enroll-bad-file.png")
	step(t, ctx, limit,
		chromedp.Click(chromedp.CSS(`[data-testid=teams] input[type=checkbox]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=file]`), []string{goodFile}),
		chromedp.Click(chromedp.CSS(`[data-testid=enroll]`)),
	)
	waitPage(t, ctx, limit, `!!document.querySelector('[data-testid=enrolled]')`)
	require.Contains(t, eval[string](t, ctx, `document.querySelector('[data-testid=enrolled]').textContent`), "3 reps enrolled in Onboarding")
	require.Equal(t, "4px", eval[string](t, ctx, `getComputedStyle(document.querySelector('[data-testid=enrolled]')).borderLeftWidth`),
		"the answer written into the page keeps its styles under the page's policy")
	screenshot(t, ctx, dir, "11-enrolled.png")
	var enrolled int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM enrollments WHERE status = 'active'`).Scan(&enrolled))
	require.Equal(t, 3, enrolled)

	// Every page of the flow fits a tablet held upright.
	step(t, ctx, limit, chromedp.EmulateViewport(768, 1024))
	for _, path := range []string{"/enroll", "/courses", strings.TrimPrefix(strings.TrimSuffix(quizPage, "/page"), srv.URL)} {
		step(t, ctx, limit, chromedp.Navigate(srv.URL+path))
		waitPage(t, ctx, limit, `document.readyState === 'complete' && !!document.querySelector('[data-testid=dash-nav]')`)
		wide := eval[string](t, ctx, `Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 768).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid || '')).join(' ')`)
		require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 768, "%s fits a tablet: %s", path, wide)
	}
	screenshot(t, ctx, dir, "12-courses-tablet.png")
}

// shownSegments returns the segments the lesson form shows for its first
// message, checked against the sender's count of the message it shows.
func shownSegments(t *testing.T, ctx context.Context) int {
	t.Helper()
	text := eval[string](t, ctx, `document.querySelector('pre.sms').textContent`)
	shown, err := strconv.Atoi(eval[string](t, ctx, `document.querySelector('[data-testid=measure-figures]').dataset.segments`))
	require.NoError(t, err)
	enc, segs := sms.Segments(text)
	require.Equal(t, segs, shown, "the segments of %q", text)
	require.Equal(t, string(enc), eval[string](t, ctx, `document.querySelector('[data-testid=measure-figures]').dataset.encoding`))
	return shown
}
