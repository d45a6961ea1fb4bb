package web_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// chromiumPath is Debian's Chromium, which the tests drive headless.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile for the test and
// returns its context; it stops with the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithBrowserOption(chromedp.WithConsolef(t.Logf)))
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "start %s", chromiumPath) // no timeout here: it would bound the browser's life
	return ctx
}

// signInBrowser fills the sign-in form the browser shows and sends it.
func signInBrowser(t *testing.T, ctx context.Context, limit time.Duration, email, password string) {
	t.Helper()
	// The sign-in page may still be replacing the page that redirected to
	// it: the form's nodes are looked up once the document is complete,
	// and looked up afresh if the document was replaced under them (CDP's
	// "Could not find node with given id"; seen once on a loaded CI run).
	for attempt := 1; ; attempt++ {
		waitPage(t, ctx, limit, `document.readyState === 'complete' && !!document.querySelector('[data-testid=signin-submit]')`)
		actx, cancel := context.WithTimeout(ctx, limit)
		err := chromedp.Do(actx,
			chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
			chromedp.Click(chromedp.CSS(`[data-testid=signin-submit]`)),
		)
		cancel()
		if err == nil {
			return
		}
		require.True(t, attempt < 3 && strings.Contains(err.Error(), "Could not find node"), "sign in: %v", err)
	}
}

// step runs the browser actions with a time limit.
func step(t *testing.T, ctx context.Context, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(t, err, "evaluate %s", js)
	return v
}

// waitFor polls a JavaScript predicate until it is true.
func waitFor(t *testing.T, ctx context.Context, limit time.Duration, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, limit+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(limit), chromedp.WithPollingInterval(100*time.Millisecond)))
	require.NoError(t, err, "wait for %s", js)
}

// segmentKeys waits until the outbox holds want segment_watched events of
// the assignment (the page's pings are sent asynchronously), then returns the
// number of rows and of distinct keys.
func (b lessonBundle) segmentKeys(t *testing.T, assignmentID int64, want int) (rows, keys int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows = 0
		distinct := map[string]bool{}
		for _, e := range b.pending(t, tracking.KindSegmentWatched) {
			if e.AssignmentID == assignmentID {
				rows++
				distinct[e.Key] = true
			}
		}
		keys = len(distinct)
		if keys >= want || time.Now().After(deadline) {
			return rows, keys
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLessonVideoInBrowser plays the demo video (62 s: five segments) on the
// lesson page in Chromium, muted at 4x, and checks that the page reported
// every segment once; then that seeking is not watching, and that a second
// visit resumes at the first segment not watched.
func TestLessonVideoInBrowser(t *testing.T) {
	t.Parallel()
	b := setupLessons(t)
	ctx := newBrowser(t)
	a := b.assignments["video"]

	step(t, ctx, 20*time.Second, chromedp.Navigate(b.url+"/l/"+b.tokens["video"]))
	codec := eval[string](t, ctx, `document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"')`)
	require.NotEmpty(t, codec, "this Chromium cannot play H.264/AAC MP4, the demo video's format")
	t.Logf("Chromium says it can play H.264/AAC: %q", codec)
	waitFor(t, ctx, 15*time.Second, `document.querySelector('video').readyState >= 1`)
	require.InDelta(t, 62, eval[float64](t, ctx, `document.querySelector('video').duration`), 0.5)
	require.Equal(t, 0.0, eval[float64](t, ctx, `document.querySelector('video').currentTime`))

	eval[bool](t, ctx, `(function () { var v = document.querySelector('video'); v.muted = true; v.playbackRate = 4; v.play(); return true; })()`)
	waitFor(t, ctx, 45*time.Second, `document.querySelector('video').ended`)
	rows, keys := b.segmentKeys(t, a, 5)
	require.Equal(t, 5, keys, "every segment of the 62-second video")
	require.Equal(t, 5, rows, "each segment once")
	require.Len(t, b.outbox(t, tracking.KindVideoEnded), 1)
	require.Empty(t, b.outbox(t, tracking.KindVideoPaused), "the end is not a pause")
	require.Equal(t, `["true","true","true","true","true"]`,
		eval[string](t, ctx, `JSON.stringify([...document.querySelectorAll('[data-testid=segments]>*')].map(e => e.dataset.watched))`),
		"the page marks what was played")
	require.Equal(t, "100%", eval[string](t, ctx, `document.querySelector('[data-testid=watched-percent]').textContent`))

	// Seeking is not watching: from 50 s to the end plays 10 s of segment 3
	// (not enough) and all of segment 4.
	other := b.otherVideo(t)
	var otherAssignment int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT assignment_id FROM lesson_links WHERE token = $1`, other).Scan(&otherAssignment))
	step(t, ctx, 20*time.Second, chromedp.Navigate(b.url+"/l/"+other))
	waitFor(t, ctx, 15*time.Second, `document.querySelector('video').readyState >= 1`)
	eval[bool](t, ctx, `(function () { var v = document.querySelector('video'); v.muted = true; v.playbackRate = 4; v.currentTime = 50; v.play(); return true; })()`)
	waitFor(t, ctx, 30*time.Second, `document.querySelector('video').ended`)
	b.segmentKeys(t, otherAssignment, 1)
	time.Sleep(500 * time.Millisecond) // let any wrongly counted segment arrive too
	var got []string
	for _, e := range b.pending(t, tracking.KindSegmentWatched) {
		if e.AssignmentID == otherAssignment {
			got = append(got, e.Key)
		}
	}
	require.Equal(t, []string{fmt.Sprintf("seg/%d/4", otherAssignment)}, got)

	// Back on the first link with segments 0 and 1 watched: the page starts
	// the player at 30 s.
	_, err := b.pool.Exec(context.Background(), `UPDATE video_progress SET watched = B'11000' WHERE assignment_id = $1`, a)
	require.NoError(t, err)
	step(t, ctx, 20*time.Second, chromedp.Navigate(b.url+"/l/"+b.tokens["video"]))
	require.Equal(t, "30", eval[string](t, ctx, `document.querySelector('video').dataset.start`))
	waitFor(t, ctx, 15*time.Second, `document.querySelector('video').readyState >= 1 && Math.abs(document.querySelector('video').currentTime - 30) < 0.5`)
	require.False(t, math.IsNaN(eval[float64](t, ctx, `document.querySelector('video').currentTime`)))
}
