package reports

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A cache's read of ClickHouse outlives the request that started it: that
// request gives up at its deadline, the read goes on, and the requests
// after it get its rows without a second read. A newer snapshot then reads
// again only the reps its step changed.
func TestRepsCacheReadOutlivesItsRequest(t *testing.T) {
	t.Parallel()
	sn := &snapshot{gen: 1, base: 1, loaded: time.Now()}
	var c repsCache[int64]
	release := make(chan struct{})
	var calls atomic.Int32
	var asked atomic.Pointer[[]int64]
	read := func(ctx context.Context, reps []int64) ([]int64, error) {
		calls.Add(1)
		asked.Store(&reps)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if reps == nil {
			return []int64{1, 2, 2, 3}, nil
		}
		return []int64{2}, nil
	}
	self := func(v int64) int64 { return v }

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.get(ctx, sn, "k", read, self)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var unavailable *Unavailable
	require.ErrorAs(t, err, &unavailable, "the page says the reports are unavailable")

	type result struct {
		rows map[int64][]int64
		err  error
	}
	results := make(chan result)
	for range 3 {
		go func() {
			rows, err := c.get(context.Background(), sn, "k", read, self)
			results <- result{rows, err}
		}()
	}
	close(release)
	for range 3 {
		r := <-results
		require.NoError(t, r.err)
		require.Equal(t, map[int64][]int64{1: {1}, 2: {2, 2}, 3: {3}}, r.rows)
	}
	require.EqualValues(t, 1, calls.Load(), "one read, which outlived the request that started it")
	require.Nil(t, *asked.Load(), "a whole read")

	next := &snapshot{gen: 2, base: 1, loaded: sn.loaded, steps: []snapshotStep{{gen: 2, reps: []int64{2}}}}
	rows, err := c.get(context.Background(), next, "k", read, self)
	require.NoError(t, err)
	require.Equal(t, map[int64][]int64{1: {1}, 2: {2}, 3: {3}}, rows)
	require.EqualValues(t, 2, calls.Load())
	require.Equal(t, []int64{2}, *asked.Load(), "only the rep that changed")

	// A request still holding the older snapshot gets the newer rows, not
	// a read of its own.
	rows, err = c.get(context.Background(), sn, "k", read, self)
	require.NoError(t, err)
	require.Equal(t, map[int64][]int64{1: {1}, 2: {2}, 3: {3}}, rows)
	require.EqualValues(t, 2, calls.Load())
}
