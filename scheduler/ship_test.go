package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// A ship job that starts while another of the process ships returns at once
// and leaves the outbox to it.
func TestShipJobsTakeTurns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	entered, release := make(chan struct{}), make(chan struct{})
	calls := 0
	w := &shipWorker{s: &Scheduler{pool: pool, store: lessons.NewStore(pool, lessons.StoreConfig{}), cfg: Config{ClickHouse: ch,
		OnShipped: func(context.Context, pgx.Tx, []tracking.Event) error {
			calls++
			if calls == 1 {
				close(entered)
				<-release
			}
			return nil
		}}}}
	event := func(seg int) tracking.Event {
		return tracking.Event{OrgID: 1, RepID: 2, Key: fmt.Sprintf("seg/3/%d", seg), Kind: tracking.KindSegmentWatched,
			OccurredAt: time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC), AssignmentID: 3, Value: float64(seg)}
	}
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, event(0)) }))

	first := make(chan error, 1)
	go func() { first <- w.Work(ctx, &river.Job[ShipArgs]{}) }()
	<-entered
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, event(1)) }))
	start := time.Now()
	require.NoError(t, w.Work(ctx, &river.Job[ShipArgs]{}))
	require.Less(t, time.Since(start), time.Second, "returned at once")
	n, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the second job shipped nothing")

	close(release)
	require.NoError(t, <-first)
	require.NoError(t, w.Work(ctx, &river.Job[ShipArgs]{}))
	n, _, err = tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, 2, calls)
}
