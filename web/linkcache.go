package web

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/morselhq/morsel/lessons"
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
	if store != nil && store.Now != nil {
		now = func() time.Time { return store.Now() }
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
