package tracking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// BenchmarkRollUp measures what the rollup adds to a shipped batch at the
// scale of a 7,000-rep organisation: each op writes a batch of 50,000 video
// segments spread over every rep, each rep watching one video (about two
// seconds of pings at full load), into a table that already holds 200 events
// a rep over 20 lessons, and rolls those 7,000 (rep, lesson) pairs up.
//
//	go test -run '^$' -bench RollUp -benchtime 5x ./tracking/
func BenchmarkRollUp(b *testing.B) {
	const reps, history, lessons, batch = 7000, 200, 20, 50_000
	ctx := context.Background()
	pool, ch := dbtest.Postgres(b), dbtest.ClickHouse(b)
	at := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	event := func(rep, i, lesson int) tracking.Event {
		assignment := int64(rep*100 + lesson)
		return tracking.Event{OrgID: 1, RepID: int64(rep), Key: fmt.Sprintf("seg/%d/%d", assignment, i), Kind: tracking.KindSegmentWatched,
			OccurredAt: at, AssignmentID: assignment, Value: float64(i), Version: 1}
	}
	var old []tracking.Event
	for rep := 1; rep <= reps; rep++ {
		for i := range history {
			old = append(old, event(rep, i, i%lessons))
		}
	}
	require.NoError(b, tracking.WriteClickHouse(ctx, pool, ch, old))
	round := 0
	for b.Loop() {
		round++
		events := make([]tracking.Event, batch)
		for i := range events {
			events[i] = event(1+i%reps, history+round*batch+i, round%lessons)
		}
		require.NoError(b, tracking.WriteClickHouse(ctx, pool, ch, events))
	}
	var rows uint64
	require.NoError(b, ch.QueryRow(ctx, `SELECT count() FROM assignment_progress FINAL WHERE deleted = 0`).Scan(&rows))
	require.EqualValues(b, reps*lessons, rows)
}
