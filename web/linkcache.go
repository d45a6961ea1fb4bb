package web

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

const (
	linkCacheTTL  = 5 * time.Minute // a removed rep's pings count this long
	linkMissTTL   = time.Minute
	linkCacheSize = 50_000 // links; an entry is about 150 bytes
)

// lessonLinks serves the lesson pages' pings: the links cache, the limits
// (pinglimits.go) and the events writer. One mutex guards them all, so that
// a limit's check and its count are one step.
type lessonLinks struct {
	store    *lessons.Store
	ingester *tracking.Ingester
	now      func() time.Time

	mu      sync.Mutex
	cache   map[string]linkEntry
	buckets map[string]*pingBucket // per link: pings
	paces   map[string]*linkPace   // per link: segments played
	lookups map[string]*pingBucket // per client address: links looked up
	swept   time.Time              // when sweep last ran
}

// linkEntry caches a link, or the absence of one.
type linkEntry struct {
	info    linkInfo
	found   bool
	expires time.Time
}

// newLessonLinks runs on the store's clock (time.Now without a store).
func newLessonLinks(store *lessons.Store, ingester *tracking.Ingester) *lessonLinks {
	now := time.Now
	if store != nil {
		now = store.Now
	}
	return &lessonLinks{store: store, ingester: ingester, now: now, cache: make(map[string]linkEntry),
		buckets: make(map[string]*pingBucket), paces: make(map[string]*linkPace), lookups: make(map[string]*pingBucket)}
}

// remember caches a link the lesson page just loaded, so that its pings
// find it without a query.
func (l *lessonLinks) remember(v lessons.LessonView) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.put(v.Token, linkEntry{info: linkInfoOf(v), found: true, expires: l.now().Add(linkCacheTTL)})
}

// put stores an entry; l.mu is held. A full cache drops what has expired,
// then, if that is not enough, a tenth of the rest, chosen by map order.
func (l *lessonLinks) put(token string, e linkEntry) {
	if _, ok := l.cache[token]; !ok && len(l.cache) >= linkCacheSize {
		l.dropExpiredLinks(l.now())
		for k := range l.cache {
			if len(l.cache) < linkCacheSize*9/10 {
				break
			}
			delete(l.cache, k)
		}
	}
	l.cache[token] = e
}

// dropExpiredLinks drops the cached links that have expired; l.mu is held.
func (l *lessonLinks) dropExpiredLinks(now time.Time) {
	for k, v := range l.cache {
		if now.After(v.expires) {
			delete(l.cache, k)
		}
	}
}

// lookup finds the links of a request, from the cache or else from the
// store, in one query; the links not cached are counted against the
// client's address first (a *pingRefused over its limit).
func (l *lessonLinks) lookup(ctx context.Context, links requestLinks, address string) error {
	var missing []string
	l.mu.Lock()
	now := l.now()
	for i := range links {
		if e, ok := l.cache[links[i].token]; ok && now.Before(e.expires) {
			links[i].info, links[i].found = e.info, e.found
			continue
		}
		missing = append(missing, links[i].token)
	}
	if len(missing) > 0 {
		if refused := l.takeLookups(address, len(missing), now); refused != nil {
			l.mu.Unlock()
			return refused
		}
	}
	l.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	found, err := l.store.PingLinks(ctx, missing)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range links {
		if !slices.Contains(missing, links[i].token) {
			continue
		}
		info, ok := found[links[i].token]
		e := linkEntry{expires: now.Add(linkMissTTL)}
		if ok {
			e = linkEntry{info: info, found: true, expires: now.Add(linkCacheTTL)}
			links[i].info, links[i].found = info, true
		}
		l.put(links[i].token, e)
	}
	return nil
}

// linkInfo is what a ping needs to know of its lesson link.
type linkInfo = lessons.PingLink

func linkInfoOf(v lessons.LessonView) linkInfo {
	info := linkInfo{OrgID: v.OrgID, RepID: v.RepID, CourseID: v.CourseID, EnrollmentID: v.EnrollmentID,
		AssignmentID: v.AssignmentID, LessonID: v.LessonID}
	if v.Lesson.Kind == lessons.KindVideo {
		info.VideoSeconds = v.Lesson.VideoSeconds
	}
	return info
}

// requestLink is a link that a request's pings name: how many of them do,
// and, once looked up, the link.
type requestLink struct {
	token string
	pings int
	info  linkInfo
	found bool // the link exists
}

// requestLinks are the distinct links of a request's pings, in the order
// they first come. A request names one link, or a few: a list searched
// through costs less than a map.
type requestLinks []requestLink

// linksOf tallies the links of ps. Each token is copied out of the request
// body it was parsed from: the link cache and the pings' limits keep it as a
// key for minutes, and a substring would keep the whole body alive with it.
func linksOf(ps []ping) requestLinks {
	out := make(requestLinks, 0, 1)
next:
	for _, p := range ps {
		for i := range out {
			if out[i].token == p.Token {
				out[i].pings++
				continue next
			}
		}
		out = append(out, requestLink{token: strings.Clone(p.Token), pings: 1})
	}
	return out
}

// tooMany refuses a request whose pings name more links than a page
// has (one, a few after an offline spell).
func (rl requestLinks) tooMany() error {
	if len(rl) <= maxLinksPerPost {
		return nil
	}
	return errs.InvalidInput("The pings are not valid; none was recorded.", []errs.Detail{{Path: "pings",
		Message: fmt.Sprintf("name %d lesson links; one request may name at most %d", len(rl), maxLinksPerPost)}})
}

// get returns the link of token, if it exists.
func (rl requestLinks) get(token string) (linkInfo, bool) {
	for i := range rl {
		if rl[i].token == token {
			return rl[i].info, rl[i].found
		}
	}
	return linkInfo{}, false
}

// checkLinks checks each ping against its link: a known link of a video
// lesson, a segment of that video, a position within it (a second over,
// for players that count the end a little late).
func checkLinks(ps []ping, links requestLinks, single bool) error {
	var probs pingProblems
	for i, p := range ps {
		prefix := ""
		if !single {
			prefix = "pings[" + strconv.Itoa(i) + "]."
		}
		info, ok := links.get(p.Token)
		switch {
		case !ok:
			probs.add(prefix+"token", "is not a valid lesson link")
			continue
		case info.VideoSeconds <= 0:
			probs.add(prefix+"token", "is the link of a lesson without a video")
			continue
		}
		if n := tracking.SegmentCount(info.VideoSeconds); p.Segment >= n {
			probs.add(prefix+"segment", "must be below %d: the video has %d segments", n, n)
		}
		if max := float64(info.VideoSeconds + 1); p.Position > max {
			probs.add(prefix+"position", "must be at most %g seconds", max)
		}
	}
	return probs.err()
}
