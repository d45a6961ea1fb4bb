package reports

import (
	"context"
	"sync"
)

// snapshotCache keeps what a report read from ClickHouse for each key (an
// organisation and what the page asked for) with the snapshot it was read
// at: while that snapshot stands, no rollup of the organisation changed
// (each write of the rollups logs its reps, and the next page gets a new
// snapshot), and neither did what the report read, which is written with
// them. Pages then read ClickHouse once per change, not once per load.
type snapshotCache[T any] struct {
	mu      sync.Mutex
	entries map[string]*snapshotEntry[T]
}

type snapshotEntry[T any] struct {
	mu  sync.Mutex // one reader of ClickHouse at a time; the others wait for its value
	sn  *snapshot
	val T
}

// maxCacheEntries bounds the keys kept; past it they are all dropped.
const maxCacheEntries = 1000

// get returns key's value as read at sn, reading it with read unless it was
// read at sn already.
func (c *snapshotCache[T]) get(ctx context.Context, sn *snapshot, key string, read func(context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCacheEntries {
		c.entries = map[string]*snapshotEntry[T]{}
	}
	e := c.entries[key]
	if e == nil {
		e = &snapshotEntry[T]{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sn == sn {
		return e.val, nil
	}
	val, err := read(ctx)
	if err != nil {
		return val, err
	}
	e.sn, e.val = sn, val
	return val, nil
}
