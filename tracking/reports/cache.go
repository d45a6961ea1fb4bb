package reports

import (
	"context"
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
	mu sync.Mutex // one reader of ClickHouse at a time; the others wait for its value
	// The snapshot the value was read at: its generation, and when the
	// whole read it descends from was made.
	gen    int64
	loaded time.Time
	byRep  map[int64][]T // never changed once stored: a change stores a new map
}

// maxCacheEntries bounds the keys kept; past it they are all dropped.
const maxCacheEntries = 1000

// maxDeltaReps is how many changed reps a cache reads by rep; past it, it
// reads the key whole again, as cheap then as a long list of reps.
const maxDeltaReps = 2000

// get returns key's rows by rep as they stand at sn. read reads the rows of
// the reps given from ClickHouse, or all of the key's rows for nil; repOf
// says whose a row is.
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
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byRep != nil && e.loaded.Equal(sn.loaded) {
		if e.gen == sn.gen {
			return e.byRep, nil
		}
		if reps, ok := sn.changedSince(e.gen); ok && len(reps) <= maxDeltaReps {
			if len(reps) == 0 {
				e.gen = sn.gen
				return e.byRep, nil
			}
			rows, err := read(ctx, reps)
			if err != nil {
				return nil, err
			}
			byRep := maps.Clone(e.byRep)
			for _, id := range reps {
				delete(byRep, id)
			}
			addByRep(byRep, rows, repOf)
			e.gen, e.byRep = sn.gen, byRep
			return byRep, nil
		}
	}
	rows, err := read(ctx, nil)
	if err != nil {
		return nil, err
	}
	byRep := map[int64][]T{}
	addByRep(byRep, rows, repOf)
	e.gen, e.loaded, e.byRep = sn.gen, sn.loaded, byRep
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
