package reports

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/morselhq/morsel/tracking"
)

// repsCache keeps what a report read from ClickHouse for each key (an
// organisation and what the page asked for), by rep, with the snapshot it
// was read at. While that snapshot stands, no rollup of the organisation
// changed (each write of the rollups logs its reps, and the next page gets a
// new snapshot), and neither did what the report read, which is written with
// them. When a newer snapshot comes, only the reps that changed since are
// read again. So pages read ClickHouse once per change, and then only the
// rows of the reps a write touched, not the whole organisation's.
type repsCache[T any] struct {
	mu      sync.Mutex
	entries map[string]*repsEntry[T]
}

type repsEntry[T any] struct {
	mu sync.Mutex
	// The snapshot the value was read at: its generation, and when the
	// whole read it descends from was made.
	gen    int64
	loaded time.Time
	byRep  map[int64][]T // never changed once stored: a change stores a new map
	// reading is closed when the read in flight ends (nil: none), and
	// readErr is then why it failed.
	reading chan struct{}
	readErr error
}

// maxCacheEntries bounds the keys kept; past it they are all dropped.
const maxCacheEntries = 1000

// maxDeltaReps is how many changed reps a cache reads by rep; past it, it
// reads the key whole again, as cheap then as a long list of reps.
const maxDeltaReps = 2000

// readTimeout bounds a cache's read of ClickHouse. A read outlives the
// request that started it (whose deadline is a few seconds): a whole read of
// a big organisation on a busy server can take longer, and one cut off at
// each request's deadline would never finish; this way one read runs, and
// every request until it ends waits for it up to its own deadline.
const readTimeout = time.Minute

// get returns key's rows by rep as they stand at sn. read reads the rows of
// the reps given from ClickHouse, or all of the key's rows for nil; repOf
// says whose a row is. One read of a key runs at a time; the others wait for
// it, each up to its own deadline.
func (c *repsCache[T]) get(ctx context.Context, sn *snapshot, key string,
	read func(ctx context.Context, reps []int64) ([]T, error), repOf func(T) int64) (map[int64][]T, error) {
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCacheEntries {
		c.entries = map[string]*repsEntry[T]{}
	}
	e := c.entries[key]
	if e == nil {
		e = &repsEntry[T]{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	for started := false; ; {
		e.mu.Lock()
		current := e.byRep != nil && e.loaded.Equal(sn.loaded)
		if current && e.gen >= sn.gen || e.byRep != nil && e.loaded.After(sn.loaded) {
			// Read at sn, or at a newer snapshot than a request that
			// waited was given.
			byRep := e.byRep
			e.mu.Unlock()
			return byRep, nil
		}
		reading, readErr := e.reading, e.readErr
		if reading == nil {
			if started { // the read this request started failed
				e.mu.Unlock()
				return nil, readErr
			}
			var reps []int64
			delta := false
			if current {
				reps, delta = sn.changedSince(e.gen)
				delta = delta && len(reps) <= maxDeltaReps
			}
			if delta && len(reps) == 0 {
				e.gen = sn.gen
				e.mu.Unlock()
				continue
			}
			if !delta {
				reps = nil
			}
			reading = make(chan struct{})
			e.reading, started = reading, true
			go e.read(context.WithoutCancel(ctx), sn, reps, read, repOf)
		}
		e.mu.Unlock()
		select {
		case <-reading:
		case <-ctx.Done():
			return nil, &Unavailable{fmt.Errorf("wait for the report's rows: %w", ctx.Err())}
		}
	}
}

// read brings the entry to sn: the rows of the reps given read again, or
// all of them for nil.
func (e *repsEntry[T]) read(ctx context.Context, sn *snapshot, reps []int64,
	read func(ctx context.Context, reps []int64) ([]T, error), repOf func(T) int64) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	rows, err := read(ctx, reps)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.readErr = err
	defer func() { close(e.reading); e.reading = nil }()
	if err != nil {
		return
	}
	var byRep map[int64][]T
	if reps == nil {
		byRep = map[int64][]T{}
		e.loaded = sn.loaded
	} else {
		byRep = maps.Clone(e.byRep)
		for _, id := range reps {
			delete(byRep, id)
		}
	}
	addByRep(byRep, rows, repOf)
	e.gen, e.byRep = sn.gen, byRep
}

// rowsByRep returns key's rows by rep as they stand at sn: kept in c and
// brought up to sn, or, without a change log (nothing then says when rows
// are stale), read whole.
func rowsByRep[T any](ctx context.Context, r *Reports, c *repsCache[T], sn *snapshot, key string,
	read func(ctx context.Context, reps []int64) ([]T, error), repOf func(T) int64) (map[int64][]T, error) {
	if r.snapshots != nil {
		return c.get(ctx, sn, key, read, repOf)
	}
	rows, err := read(ctx, nil)
	if err != nil {
		return nil, err
	}
	byRep := map[int64][]T{}
	addByRep(byRep, rows, repOf)
	return byRep, nil
}

// addByRep appends rows to their reps' lists in byRep.
func addByRep[T any](byRep map[int64][]T, rows []T, repOf func(T) int64) {
	for _, row := range rows {
		id := repOf(row)
		byRep[id] = append(byRep[id], row)
	}
}

// byReps is the condition that narrows a read by rep to the reps given
// (rep_id IN, which the tables' primary keys serve); none for nil, a read
// of all.
func byReps(reps []int64) string {
	if reps == nil {
		return ""
	}
	reps = slices.Compact(slices.Sorted(slices.Values(reps)))
	if len(reps) == 0 {
		return " AND 0"
	}
	return " AND rep_id IN (" + tracking.IDList(reps) + ")"
}
