package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

const fuzzToken = "AbCdEfGhIjKlMnOpQrStUv"

// pingSeeds are bodies a lesson page sends, and bodies it must not.
var pingSeeds = []string{
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":0,"position":15.02,"rate":1,"session":"0f3a9c2b7d1e4a5b6c7d8e9f","event":"segment"}`,
	`{"pings":[{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":52.5,"rate":2,"session":"0f3a9c2b7d1e4a5b6c7d8e9f","event":"pause"},` +
		`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":4,"position":62,"rate":4,"session":"0f3a9c2b7d1e4a5b6c7d8e9f","event":"ended"}]}`,
	`{"pings":[{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":4,"position":63,"rate":0.25,"session":"abcdefgh","event":"segment","extra":true}]}`,
	`{"pings":[]}`,
	`{"pings":null,"token":"x"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":1e300,"position":-0,"rate":4.0000001,"session":"abcdefgh","event":"segment"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":-0,"position":1e308,"rate":1e-300,"session":"` + strings.Repeat("a", 65) + `","event":"ended"}`,
	`{"segment":"1"}`,
	`[]`, `null`, ``, `{`, `{}{}`, `{"pings":[1,"x",null,{}]}`,
}

func FuzzParsePings(f *testing.F) {
	for _, s := range pingSeeds {
		f.Add([]byte(s))
	}
	links := requestLinks{{token: fuzzToken, found: true, info: linkInfo{OrgID: 1, RepID: 2, AssignmentID: 3, VideoSeconds: 62}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		ps, single, err := parsePings(body)
		if err != nil {
			e := errs.As(err)
			require.NotNil(t, e, "a refusal is an *errs.Error: %v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.NotEmpty(t, e.Details)
			require.LessOrEqual(t, len(e.Details), maxPingDetails+1)
			return
		}
		require.NotEmpty(t, ps)
		require.LessOrEqual(t, len(ps), maxPingsPerPost)
		if single {
			require.Len(t, ps, 1)
		}
		for _, p := range ps {
			require.True(t, lessons.ValidLinkToken(p.Token), "token %q", p.Token)
			require.GreaterOrEqual(t, p.Segment, 0)
			require.False(t, math.IsNaN(p.Position) || math.IsInf(p.Position, 0) || p.Position < 0, "position %v", p.Position)
			require.True(t, p.Rate > 0 && p.Rate <= 4, "rate %v", p.Rate)
			require.True(t, validSession(p.Session), "session %q", p.Session)
			require.Contains(t, []string{pingSegment, pingPause, pingEnded}, p.Event)
		}
		if err := checkLinks(ps, links, single); err != nil {
			require.Equal(t, errs.Invalid, errs.CodeOf(err))
			return
		}
		for _, p := range ps {
			require.Equal(t, fuzzToken, p.Token)
			require.Less(t, p.Segment, tracking.SegmentCount(62))
			require.LessOrEqual(t, p.Position, 63.0)
		}
		events := pingEvents(ps, links, time.Unix(0, 0))
		require.LessOrEqual(t, len(events), len(ps))
		keys := map[string]bool{}
		for _, e := range events {
			require.False(t, keys[e.Key], "key %s twice", e.Key)
			keys[e.Key] = true
			require.Equal(t, int64(3), e.AssignmentID)
			d, err := tracking.ParseVideoDetail(e.Detail)
			require.NoError(t, err, e.Detail)
			require.True(t, d.Rate > 0 && d.Rate <= 4)
		}
	})
}

func TestParsePingsPaths(t *testing.T) {
	t.Parallel()
	_, single, err := parsePings([]byte(`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":2,"position":30,"rate":9,"session":"abcdefgh"}`))
	require.True(t, single)
	require.Equal(t, []errs.Detail{{Path: "rate", Message: "must be more than 0 and at most 4"}, {Path: "event", Message: "is required"}}, errs.As(err).Details)

	var many []string
	for range 30 {
		many = append(many, `{}`)
	}
	_, _, err = parsePings([]byte(`{"pings":[` + strings.Join(many, ",") + `]}`))
	d := errs.As(err).Details
	require.Len(t, d, maxPingDetails+1, "a flood of problems is cut short")
	require.Equal(t, "pings[0].token", d[0].Path)
	require.Equal(t, errs.Detail{Path: "pings", Message: fmt.Sprintf("and %d more problems", 30*6-maxPingDetails)}, d[maxPingDetails])
}

func TestPingEvents(t *testing.T) {
	t.Parallel()
	links := requestLinks{{token: fuzzToken, found: true,
		info: linkInfo{OrgID: 1, RepID: 2, CourseID: 3, EnrollmentID: 4, AssignmentID: 5, LessonID: 6, VideoSeconds: 62}}}
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	events := pingEvents([]ping{
		{Token: fuzzToken, Segment: 2, Position: 45, Rate: 2, Session: "sessionone", Event: pingSegment},
		{Token: fuzzToken, Segment: 3, Position: 50.5, Rate: 1, Session: "sessionone", Event: pingPause},
		{Token: fuzzToken, Segment: 4, Position: 62, Rate: 1, Session: "sessionone", Event: pingEnded},
	}, links, now)
	base := tracking.Event{OrgID: 1, RepID: 2, CourseID: 3, EnrollmentID: 4, AssignmentID: 5, LessonID: 6, OccurredAt: now}
	want := []tracking.Event{base, base, base}
	want[0].Kind, want[0].Key, want[0].Value, want[0].Detail = tracking.KindSegmentWatched, "seg/5/2", 2, `{"position":45,"rate":2,"session":"sessionone"}`
	want[1].Kind, want[1].Key, want[1].Value, want[1].Detail = tracking.KindVideoPaused, "video_paused/5/sessionone", 50.5, `{"position":50.5,"rate":1,"session":"sessionone","segment":3}`
	want[2].Kind, want[2].Key, want[2].Value, want[2].Detail = tracking.KindVideoEnded, "video_ended/5/sessionone", 62, `{"position":62,"rate":1,"session":"sessionone","segment":4}`
	require.Equal(t, want, events)
}

func TestPingLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	l := newLessonLinks(nil, nil)
	l.now = func() time.Time { return now }
	a, b := "AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"
	require.Nil(t, l.allow(counted(map[string]int{a: pingBurst}), nil))
	require.NotNil(t, l.allow(counted(map[string]int{a: 1}), nil))
	require.NotNil(t, l.allow(counted(map[string]int{a: 1, b: 1}), nil), "all or nothing")
	require.Nil(t, l.allow(counted(map[string]int{b: pingBurst}), nil), "b was not charged")
	now = now.Add(500 * time.Millisecond)
	require.Nil(t, l.allow(counted(map[string]int{a: pingRate / 2}), nil))
	require.NotNil(t, l.allow(counted(map[string]int{a: 1}), nil))
	now = now.Add(time.Hour)
	require.Nil(t, l.allow(counted(map[string]int{a: pingBurst}), nil), "refills to the burst, no further")
	require.NotNil(t, l.allow(counted(map[string]int{a: 1}), nil))

	// The map stays bounded: idle links go first, then any.
	for i := range pingLimiterSize - len(l.buckets) {
		_ = l.allow(counted(map[string]int{fmt.Sprintf("%022d", i): 1}), nil)
	}
	require.Len(t, l.buckets, pingLimiterSize)
	now = now.Add(time.Second) // the fillers have refilled; a has not
	require.Nil(t, l.allow(counted(map[string]int{"CCCCCCCCCCCCCCCCCCCCCC": 1}), nil))
	require.Len(t, l.buckets, 2, "only the busy link and the new one are left")
	require.NotNil(t, l.allow(counted(map[string]int{a: pingBurst}), nil), "a busy link keeps its bucket")
	for i := range pingLimiterSize + 10 {
		_ = l.allow(counted(map[string]int{fmt.Sprintf("%022d", i): 1}), nil)
	}
	require.LessOrEqual(t, len(l.buckets), pingLimiterSize)
}

// What has expired or gone idle leaves the maps within sweepEvery, long
// before they are full: a busy link keeps its bucket and its pace, an idle
// one loses them, a link seen once leaves the cache after linkCacheTTL.
func TestPingMapsSwept(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	l := newLessonLinks(nil, nil)
	l.now = func() time.Time { return now }
	busy, idle := "BUSYBUSYBUSYBUSYBUSYBU", "IDLEIDLEIDLEIDLEIDLEID"
	l.mu.Lock()
	l.put(idle, linkEntry{found: true, expires: now.Add(linkCacheTTL)})
	l.mu.Unlock()
	seg := func(token string, s int) []ping { return []ping{{Token: token, Event: pingSegment, Segment: s}} }
	require.Nil(t, l.allow(counted(map[string]int{busy: 1, idle: 1}), append(seg(busy, 0), seg(idle, 0)...)))
	require.Nil(t, l.allow(counted(map[string]int{busy: pingBurst - 1}), nil), "busy has used its burst")
	require.Len(t, l.paces, 2)

	for _, step := range []struct {
		after         time.Duration
		buckets, pace []string // the links left, after a ping of busy's
		cached        int
	}{
		{time.Second, []string{busy, idle}, []string{busy, idle}, 1},              // not swept yet
		{sweepEvery, []string{busy}, []string{busy, idle}, 1},                     // idle's bucket refilled
		{linkCacheTTL, []string{busy}, []string{busy, idle}, 0},                   // idle's link expired
		{paceIdle - linkCacheTTL - sweepEvery, []string{busy}, []string{busy}, 0}, // idle's pace forgotten
	} {
		now = now.Add(step.after)
		require.Nil(t, l.allow(counted(map[string]int{busy: 1}), seg(busy, 1)))
		require.ElementsMatch(t, step.buckets, slices.Collect(maps.Keys(l.buckets)), "after %s", step.after)
		require.ElementsMatch(t, step.pace, slices.Collect(maps.Keys(l.paces)), "after %s", step.after)
		require.Len(t, l.cache, step.cached, "after %s", step.after)
	}
	require.True(t, l.paces[busy].seen.has(0), "the busy link's pace is the one it began with")
}

// counted is a request's links with these numbers of pings.
func counted(pings map[string]int) requestLinks {
	var out requestLinks
	for token, n := range pings {
		out = append(out, requestLink{token: token, pings: n})
	}
	return out
}

func TestLinksOf(t *testing.T) {
	t.Parallel()
	a, b := "AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"
	require.Equal(t, requestLinks{{token: a, pings: 1}}, linksOf([]ping{{Token: a}}))
	require.Equal(t, requestLinks{{token: b, pings: 2}, {token: a, pings: 3}},
		linksOf([]ping{{Token: b}, {Token: a}, {Token: a}, {Token: b}, {Token: a}}), "in the order they first come")
	links := requestLinks{{token: a, found: true, info: linkInfo{AssignmentID: 7}}, {token: b}}
	info, ok := links.get(a)
	require.True(t, ok)
	require.Equal(t, int64(7), info.AssignmentID)
	_, ok = links.get(b)
	require.False(t, ok, "looked up, not found")
	_, ok = links.get("CCCCCCCCCCCCCCCCCCCCCC")
	require.False(t, ok)
}

// TestPingEventsCollapse makes one event of the pings with one key, the
// last, in small requests (searched) and large ones (indexed) alike.
func TestPingEventsCollapse(t *testing.T) {
	t.Parallel()
	links := requestLinks{{token: fuzzToken, found: true, info: linkInfo{AssignmentID: 5, VideoSeconds: 900}}}
	for _, n := range []int{1, 2, 8, 9, 100} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var ps []ping
			for i := range n {
				ps = append(ps, ping{Token: fuzzToken, Segment: i % 3, Position: float64(i), Rate: 1, Session: "abcdefgh", Event: pingSegment})
			}
			events := pingEvents(ps, links, time.Unix(0, 0))
			require.Len(t, events, min(n, 3))
			for i, e := range events {
				last := n - 1 - (n-1-i)%3 // the last ping of segment i
				require.Equal(t, fmt.Sprintf("seg/5/%d", i), e.Key)
				require.Equal(t, fmt.Sprintf(`{"position":%d,"rate":1,"session":"abcdefgh"}`, last), e.Detail)
			}
		})
	}
}

func TestLinkCacheBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	l := newLessonLinks(nil, nil)
	l.now = func() time.Time { return now }
	for i := range linkCacheSize + 100 {
		l.remember(lessons.LessonView{Token: fmt.Sprintf("%022d", i), AssignmentID: int64(i)})
	}
	require.LessOrEqual(t, len(l.cache), linkCacheSize)
	last := fmt.Sprintf("%022d", linkCacheSize+99)
	require.Equal(t, int64(linkCacheSize+99), l.cache[last].info.AssignmentID, "the newest entry is kept")
	// Cached links, and cached absences, answer without the store (nil here).
	l.cache["missingmissingmissing1"] = linkEntry{expires: now.Add(time.Minute)}
	got := requestLinks{{token: last}, {token: "missingmissingmissing1"}}
	require.NoError(t, l.lookup(t.Context(), got, "192.0.2.1"))
	require.Equal(t, requestLinks{{token: last, found: true, info: linkInfo{AssignmentID: int64(linkCacheSize + 99)}},
		{token: "missingmissingmissing1"}}, got)
}

func TestCompactScript(t *testing.T) {
	t.Parallel()
	require.Less(t, len(lessonScript), 4<<10)
	require.NotContains(t, lessonScript, "</script")
	require.NotContains(t, lessonScript, "\t")
	js, _ := json.Marshal(compactScript("// a comment\n\tvar a = 1; // kept: not a whole line\n\n  b();\n"))
	require.Equal(t, `"var a = 1; // kept: not a whole line\nb();\n"`, string(js))
}
