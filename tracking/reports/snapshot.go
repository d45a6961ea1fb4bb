package reports

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/morselhq/morsel/tracking"
)

// A snapshot is an organisation's rows of the rollups enrollment_progress
// and rep_summary, as ClickHouse held them at the organisation's change
// generation gen: what every page but the timeline reads and counts. It is
// never changed once built; a newer one replaces it.
type snapshot struct {
	gen    int64
	loaded time.Time // when it was read whole from ClickHouse
	// steps are the changes read since that whole read, at generation
	// base, oldest first (the newest maxSteps): what a report that keeps
	// rows by rep reads again to catch up from an older snapshot.
	base  int64
	steps []snapshotStep
	reps  map[int64]*repRows
	// The same reps, indexed: every one ascending by id, and those of each
	// team (the teams of their rows and summary), so that a manager's page
	// reads their teams' reps only.
	all   []*repRows
	teams map[int64][]*repRows
	// orders holds the live rows in the rep table's order by each column,
	// sorted on first use (table.go): a cache of what never changes.
	orders rowOrders
}

// repRows are one rep's rows: their summary (nil when rep_summary has none)
// and their enrollments, ascending by id.
type repRows struct {
	id      int64
	summary *summaryRow
	rows    []progressRow
}

// progressRow is a row of enrollment_progress with its texts in lower case,
// as the rep table sorts and searches them.
type progressRow struct {
	tracking.EnrollmentProgress
	name, team, course string
	// live says whether the row counts in a report: the rep not removed,
	// the enrollment not cancelled (tombstones are not in a snapshot).
	live bool
}

// summaryRow is a row of rep_summary with its name and email in lower case.
type summaryRow struct {
	tracking.RepSummary
	name, email string
}

// inScope says whether a row of the team is in s, narrowed to team unless
// it is 0.
func (s Scope) inScope(rowTeam, team int64) bool {
	switch {
	case team != 0:
		return rowTeam == team
	case s.All:
		return true
	}
	return s.HasTeam(rowTeam)
}

// scoped calls fn with the reps that may have rows in the scope, narrowed
// to team unless it is 0, each with the one team its rows must be of (0:
// any), in no particular order.
func (sn *snapshot) scoped(s Scope, team int64, fn func(r *repRows, team int64)) {
	switch {
	case team != 0:
		for _, r := range sn.teams[team] {
			fn(r, team)
		}
	case s.All:
		for _, r := range sn.all {
			fn(r, 0)
		}
	default:
		for _, t := range s.Teams {
			for _, r := range sn.teams[t] {
				fn(r, t)
			}
		}
	}
}

// rows calls fn with each live row of the snapshot in the scope, narrowed to
// team unless it is 0, in no particular order.
func (sn *snapshot) rows(s Scope, team int64, fn func(*progressRow)) {
	sn.scoped(s, team, func(r *repRows, team int64) {
		for i := range r.rows {
			if p := &r.rows[i]; p.live && (team == 0 || p.TeamID == team) && hasAll(p.Tags, s.tags) {
				fn(p)
			}
		}
	})
}

// summaries calls fn with the summary of each rep in the scope who is not
// removed, in no particular order.
func (sn *snapshot) summaries(s Scope, fn func(*summaryRow)) {
	sn.scoped(s, 0, func(r *repRows, team int64) {
		if m := r.summary; m != nil && m.RepStatus != "removed" && (team == 0 || m.TeamID == team) {
			fn(m)
		}
	})
}

// snapshotStep is a change from one snapshot to the next: the generation
// it reached, and the reps whose rows it read again.
type snapshotStep struct {
	gen  int64
	reps []int64
}

// maxSteps bounds the steps a snapshot keeps.
const maxSteps = 64

// changedSince returns the reps whose rows changed from the snapshot of
// generation gen, of the same whole read, to sn (some may be given twice);
// ok is false when sn does not know, gen being older than its steps.
func (sn *snapshot) changedSince(gen int64) (reps []int64, ok bool) {
	from := 0
	if gen != sn.base {
		i := slices.IndexFunc(sn.steps, func(st snapshotStep) bool { return st.gen == gen })
		if i < 0 {
			return nil, false
		}
		from = i + 1
	}
	for _, st := range sn.steps[from:] {
		reps = append(reps, st.reps...)
	}
	return reps, true
}

// withReps returns a copy of sn at generation gen in which the reps' rows
// are the ones given, which must be of those reps only (a rep given none
// has none): the copy shares the other reps' rows, which nothing changes.
func (sn *snapshot) withReps(gen int64, repIDs []int64, progress []tracking.EnrollmentProgress, summaries []tracking.RepSummary) *snapshot {
	out := &snapshot{gen: gen, loaded: sn.loaded, base: sn.base, reps: maps.Clone(sn.reps),
		steps: append(slices.Clip(sn.steps), snapshotStep{gen: gen, reps: repIDs})}
	if n := len(out.steps); n > maxSteps {
		out.base, out.steps = out.steps[n-maxSteps-1].gen, out.steps[n-maxSteps:]
	}
	for _, id := range repIDs {
		delete(out.reps, id)
	}
	out.add(progress, summaries)
	sn.carryOrders(out, repIDs)
	return out
}

// add puts rows into sn, which is being built, and indexes it again.
func (sn *snapshot) add(progress []tracking.EnrollmentProgress, summaries []tracking.RepSummary) {
	rep := func(id int64) *repRows {
		r := sn.reps[id]
		if r == nil {
			r = &repRows{id: id}
			sn.reps[id] = r
		}
		return r
	}
	for _, p := range progress {
		r := rep(p.RepID)
		r.rows = append(r.rows, progressRow{EnrollmentProgress: p, live: p.RepStatus != "removed" && p.Status != "cancelled",
			name: strings.ToLower(p.Name), team: strings.ToLower(p.Team), course: strings.ToLower(p.CourseTitle)})
	}
	for _, s := range summaries {
		rep(s.RepID).summary = &summaryRow{RepSummary: s, name: strings.ToLower(s.Name), email: strings.ToLower(s.Email)}
	}
	sn.all = slices.SortedFunc(maps.Values(sn.reps), func(a, b *repRows) int { return cmp.Compare(a.id, b.id) })
	sn.teams = map[int64][]*repRows{}
	for _, r := range sn.all {
		index := func(team int64) {
			if list := sn.teams[team]; len(list) == 0 || list[len(list)-1] != r {
				sn.teams[team] = append(list, r)
			}
		}
		if r.summary != nil {
			index(r.summary.TeamID)
		}
		for _, p := range r.rows {
			index(p.TeamID)
		}
	}
}

// loadSnapshot reads the organisation's rollups whole, as of generation gen.
func loadSnapshot(ctx context.Context, ch driver.Conn, orgID, gen int64) (*snapshot, error) {
	progress, summaries, err := tracking.StoredRepProgress(ctx, ch, orgID, nil)
	if err != nil {
		return nil, &Unavailable{fmt.Errorf("read the reports of org %d: %w", orgID, err)}
	}
	sn := &snapshot{gen: gen, base: gen, loaded: time.Now(), reps: make(map[int64]*repRows, len(summaries))}
	sn.add(progress, summaries)
	return sn, nil
}

// Keeping snapshots.
const (
	// snapshotIdle is how long an organisation's snapshot is kept unread.
	snapshotIdle = 10 * time.Minute
	// snapshotReload is how old a snapshot may grow before it is read whole
	// again, however few changes the log told of: a guard, should a write
	// have reached ClickHouse and failed to be logged.
	snapshotReload = 5 * time.Minute
	// healthEvery is how long ClickHouse is taken to be up after it last
	// answered: a page served from a snapshot makes sure it is no older.
	healthEvery = time.Second
	// staleFor is how long a page may be answered from the snapshot that
	// another request is replacing.
	staleFor = time.Second
)

// snapshots keeps each organisation's snapshot current: before a page
// reads one, it asks the change log in Postgres (tracking.Changes: one
// indexed read) whether anything was written since, and reads again from
// ClickHouse only the reps that changed. So a page shows what ClickHouse
// holds now, and ClickHouse answers a few reads per write instead of one
// per page.
type snapshots struct {
	ch          driver.Conn
	log         tracking.Querier
	healthEvery time.Duration // healthEvery, but for tests
	mu          sync.Mutex
	orgs        map[int64]*orgSnapshot
	swept       time.Time
	lastUp      atomic.Int64 // Unix ns when ClickHouse last answered
}

type orgSnapshot struct {
	load    chan struct{} // one loader at a time: a token
	loading atomic.Int64  // Unix ns when the token's holder took it
	snap    atomic.Pointer[snapshot]
	used    atomic.Int64 // Unix ns
}

func newSnapshots(ch driver.Conn, log tracking.Querier) *snapshots {
	return &snapshots{ch: ch, log: log, healthEvery: healthEvery, orgs: map[int64]*orgSnapshot{}}
}

// org returns the organisation's entry, and forgets those unread for
// snapshotIdle.
func (c *snapshots) org(orgID int64) *orgSnapshot {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) > time.Minute {
		for id, o := range c.orgs {
			if now.Sub(time.Unix(0, o.used.Load())) > snapshotIdle {
				delete(c.orgs, id)
			}
		}
		c.swept = now
	}
	o := c.orgs[orgID]
	if o == nil {
		o = &orgSnapshot{load: make(chan struct{}, 1)}
		c.orgs[orgID] = o
	}
	o.used.Store(now.UnixNano())
	return o
}

// current returns the organisation's snapshot as of its newest change; or,
// while another request reads a newer one, for up to staleFor from the
// start of that read, the one it replaces: so that the pages do not all
// wait on each write, and none shows a state older than staleFor.
func (c *snapshots) current(ctx context.Context, orgID int64) (*snapshot, error) {
	o := c.org(orgID)
	sn := o.snap.Load()
	if sn != nil && time.Since(sn.loaded) < snapshotReload {
		changes, err := tracking.Changes(ctx, c.log, orgID, sn.gen)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			return sn, c.up(ctx)
		}
	}
	select {
	case o.load <- struct{}{}:
	default:
		if sn != nil && time.Since(time.Unix(0, o.loading.Load())) < staleFor {
			return sn, nil
		}
		select {
		case o.load <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-o.load }()
	o.loading.Store(time.Now().UnixNano())
	return c.refresh(ctx, o, orgID)
}

// refresh brings the snapshot up to the newest change, with o's token.
func (c *snapshots) refresh(ctx context.Context, o *orgSnapshot, orgID int64) (*snapshot, error) {
	sn := o.snap.Load()
	if sn == nil || time.Since(sn.loaded) >= snapshotReload {
		return c.reload(ctx, o, orgID)
	}
	changes, err := tracking.Changes(ctx, c.log, orgID, sn.gen)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 { // another request brought it up to date
		return sn, c.up(ctx)
	}
	var reps []int64
	for _, ch := range changes {
		if ch.All {
			return c.reload(ctx, o, orgID)
		}
		reps = append(reps, ch.RepIDs...)
	}
	progress, summaries, err := tracking.StoredRepProgress(ctx, c.ch, orgID, reps)
	if err != nil {
		return nil, &Unavailable{fmt.Errorf("read the reports of org %d: %w", orgID, err)}
	}
	c.lastUp.Store(time.Now().UnixNano())
	sn = sn.withReps(changes[len(changes)-1].Generation, reps, progress, summaries)
	o.snap.Store(sn)
	return sn, nil
}

// reload reads the organisation's snapshot whole: the generation first,
// then the rows, which hold at least what that generation logged.
func (c *snapshots) reload(ctx context.Context, o *orgSnapshot, orgID int64) (*snapshot, error) {
	gen, err := tracking.Generation(ctx, c.log, orgID)
	if err != nil {
		return nil, err
	}
	sn, err := loadSnapshot(ctx, c.ch, orgID, gen)
	if err != nil {
		return nil, err
	}
	c.lastUp.Store(time.Now().UnixNano())
	o.snap.Store(sn)
	return sn, nil
}

// up makes sure ClickHouse answered within healthEvery: a snapshot is
// current only while nothing can be waiting to reach it.
func (c *snapshots) up(ctx context.Context) error {
	if time.Since(time.Unix(0, c.lastUp.Load())) < c.healthEvery {
		return nil
	}
	if err := c.ch.Ping(ctx); err != nil {
		return &Unavailable{fmt.Errorf("ping ClickHouse: %w", err)}
	}
	c.lastUp.Store(time.Now().UnixNano())
	return nil
}
