package web

import (
	"fmt"
	"math/bits"
	"net/http"
	"strconv"
	"time"

	"github.com/morselhq/morsel/tracking"
)

// The limits of the pings, per process, each checked and counted under
// lessonLinks.mu:
//   - per link, a token bucket: pingRate pings a second and pingBurst at
//     once (a whole request, so that the pings a page queued while offline
//     are not refused when it is back);
//   - per link, the pace of segments: since the link's first ping, no more
//     segments than a player at maxPlaybackRate plays, plus paceSlack (the
//     segment played before the first ping, and one under way), so that one
//     request cannot complete a video;
//   - per client address, the links looked up that are not cached:
//     lookupRate a second and lookupBurst at once, so that pings with
//     made-up tokens cannot make Postgres work for nothing.
const (
	pingRate        = 20
	pingBurst       = maxPingsPerPost
	maxPlaybackRate = 4 // as the lesson page's player allows
	paceSlack       = 2
	lookupRate      = 10
	lookupBurst     = 40
	pingLimiterSize = 50_000 // entries of each map
)

// pingRefused is a request over a limit: a 429.
type pingRefused struct {
	message string
	wait    time.Duration
}

func (e *pingRefused) Error() string { return e.message }

func (e *pingRefused) write(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((e.wait+time.Second-1)/time.Second))))
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: errorInfo{Code: codeTooMany, Message: e.message}})
}

// pingBucket is a token bucket.
type pingBucket struct {
	tokens float64
	at     time.Time
}

// bucket returns key's bucket in buckets, filled up to now.
func bucket(buckets map[string]*pingBucket, key string, rate, burst float64, now time.Time) *pingBucket {
	b := buckets[key]
	if b == nil {
		b = &pingBucket{tokens: burst, at: now}
		buckets[key] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed*rate)
		b.at = now
	}
	return b
}

// pruneBuckets drops the buckets that have refilled (idle), then, if the
// map is still full, half of the rest.
func pruneBuckets(buckets map[string]*pingBucket, rate, burst float64, now time.Time) {
	dropRefilled(buckets, rate, burst, now)
	for k := range buckets {
		if len(buckets) < pingLimiterSize/2 {
			break
		}
		delete(buckets, k)
	}
}

// paceSegments is the most segments of a video (an hour's), and so of a
// pace's set.
const paceSegments = 3600 / tracking.SegmentSeconds

// paceIdle is how long without pings a link's pace is kept. By then the
// pace, begun at least that long ago, allows any segment of an hour's video
// at maxPlaybackRate; a fresh one (paceSlack now, then that rate) is never
// looser.
const paceIdle = paceSegments * tracking.SegmentSeconds * time.Second / maxPlaybackRate

// PingStateKept is the longest the pings' limits keep what they learned of a
// link (its pace, kept paceIdle without pings): under a steady load of new
// links, the maps grow until a process has run this long, then stay level.
const PingStateKept = paceIdle

// sweepEvery is how often allow drops what has expired or gone idle from
// the maps, so that they hold the links in use rather than every link seen
// since they were last full (their bound).
const sweepEvery = time.Minute

// segmentBits is a set of segments.
type segmentBits [(paceSegments + 63) / 64]uint64

func (b *segmentBits) has(i int) bool {
	return i >= 0 && i < paceSegments && b[i/64]&(1<<(i%64)) != 0
}

// add puts i in the set, and reports whether it was new.
func (b *segmentBits) add(i int) bool {
	if i < 0 || i >= paceSegments || b[i/64]&(1<<(i%64)) != 0 {
		return false
	}
	b[i/64] |= 1 << (i % 64)
	return true
}

// linkPace holds the distinct segments a link's pings have reported (a
// segment played again is no progress, and costs nothing).
type linkPace struct {
	first, last time.Time
	seen        segmentBits
	n           int // segments in seen
}

// wait is how long n more segments must wait to be playable.
func (p *linkPace) wait(n int, now time.Time) time.Duration {
	beyond := p.n + n - paceSlack
	if n == 0 || beyond <= 0 {
		return 0
	}
	playable := time.Duration(beyond) * tracking.SegmentSeconds * time.Second / maxPlaybackRate
	return max(0, p.first.Add(playable).Sub(now))
}

// allow takes each link's pings from its bucket and the new segments among
// ps from its pace, all or none; nil, or why not.
func (l *lessonLinks) allow(links requestLinks, ps []ping) *pingRefused {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	if len(l.buckets)+len(links) > pingLimiterSize {
		pruneBuckets(l.buckets, pingRate, pingBurst, now)
	}
	if len(l.paces)+len(links) > pingLimiterSize {
		l.prunePaces(now)
	}
	added := make([]segmentBits, len(links)) // each link's new segments
	for i, k := range links {
		if bucket(l.buckets, k.token, pingRate, pingBurst, now).tokens < float64(k.pings) {
			return &pingRefused{fmt.Sprintf("Too many pings: a lesson link may send %d a second.", pingRate), time.Second}
		}
		p := l.paces[k.token]
		if p == nil {
			p = &linkPace{first: now}
			l.paces[k.token] = p
		}
		p.last = now
		n := 0
		for _, q := range ps {
			if q.Token == k.token && q.Event == pingSegment && !p.seen.has(q.Segment) && added[i].add(q.Segment) {
				n++
			}
		}
		if wait := p.wait(n, now); wait > 0 {
			return &pingRefused{fmt.Sprintf("The pings report segments faster than the video plays at %dx: send them again later.", maxPlaybackRate), wait}
		}
	}
	for i, k := range links {
		l.buckets[k.token].tokens -= float64(k.pings)
		p := l.paces[k.token]
		for w := range p.seen {
			p.seen[w] |= added[i][w]
		}
		p.n = 0
		for _, w := range p.seen {
			p.n += bits.OnesCount64(w)
		}
	}
	return nil
}

// dropRefilled drops the buckets that have refilled: a new one is the same.
func dropRefilled(buckets map[string]*pingBucket, rate, burst float64, now time.Time) {
	for k, b := range buckets {
		if b.tokens+now.Sub(b.at).Seconds()*rate >= burst {
			delete(buckets, k)
		}
	}
}

// dropIdlePaces drops the paces of links idle for paceIdle; l.mu is held.
func (l *lessonLinks) dropIdlePaces(now time.Time) {
	for k, p := range l.paces {
		if now.Sub(p.last) > paceIdle {
			delete(l.paces, k)
		}
	}
}

// sweep drops, once every sweepEvery, the cached links that expired, the
// buckets that refilled and the paces gone idle, none of which changes an
// answer; l.mu is held.
func (l *lessonLinks) sweep(now time.Time) {
	if now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	l.dropExpiredLinks(now)
	dropRefilled(l.buckets, pingRate, pingBurst, now)
	dropRefilled(l.lookups, lookupRate, lookupBurst, now)
	l.dropIdlePaces(now)
}

// prunePaces drops the paces of links idle for paceIdle, then, if the map
// is still full, half of the rest (a link that starts again is held to a
// fresh pace: stricter, never looser); l.mu is held.
func (l *lessonLinks) prunePaces(now time.Time) {
	l.dropIdlePaces(now)
	for k := range l.paces {
		if len(l.paces) < pingLimiterSize/2 {
			break
		}
		delete(l.paces, k)
	}
}

// takeLookups counts n lookups against address; l.mu is held.
func (l *lessonLinks) takeLookups(address string, n int, now time.Time) *pingRefused {
	if len(l.lookups) >= pingLimiterSize {
		pruneBuckets(l.lookups, lookupRate, lookupBurst, now)
	}
	b := bucket(l.lookups, address, lookupRate, lookupBurst, now)
	if b.tokens < float64(n) {
		return &pingRefused{"Too many lesson links looked up from your address: send the pings again later.", time.Second}
	}
	b.tokens -= float64(n)
	return nil
}
