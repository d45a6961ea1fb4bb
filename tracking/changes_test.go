package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// Every write of the rollups is logged with the reps it recomputed: the
// shipper's in its own transaction, a correction's after it.
func TestChangesLogEveryWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	at := time.Now().Add(-time.Hour).UTC()
	ev := func(org, rep int64, key string) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Key: key, Kind: tracking.KindLessonOpened, OccurredAt: at, AssignmentID: rep * 10}
	}
	b.live(t, ev(1, 5, "open/50"), ev(1, 6, "open/60"), ev(2, 7, "open/70"))
	changes, err := tracking.Changes(ctx, b.pool, 1, 0)
	require.NoError(t, err)
	require.Equal(t, []tracking.Change{{Generation: 1, RepIDs: []int64{5, 6}}}, changes)
	changes, err = tracking.Changes(ctx, b.pool, 2, 0)
	require.NoError(t, err)
	require.Equal(t, []tracking.Change{{Generation: 1, RepIDs: []int64{7}}}, changes)

	_, err = tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "open/60", 6, "a link preview", "test")
	require.NoError(t, err)
	changes, err = tracking.Changes(ctx, b.pool, 1, 1)
	require.NoError(t, err)
	require.Equal(t, []tracking.Change{{Generation: 2, RepIDs: []int64{6}}}, changes)
	gen, err := tracking.Generation(ctx, b.pool, 1)
	require.NoError(t, err)
	require.EqualValues(t, 2, gen)

	none, err := tracking.Changes(ctx, b.pool, 1, 2)
	require.NoError(t, err)
	require.Empty(t, none)
	gen, err = tracking.Generation(ctx, b.pool, 3)
	require.NoError(t, err)
	require.Zero(t, gen, "an organisation never written")
}

// Generations commit in order: a second writer of an organisation waits for
// the first to commit, so a reader that sees generation n has seen every
// one before it.
func TestChangesCommitInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	first, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer first.Rollback(ctx)
	require.NoError(t, tracking.RecordOrgChanged(ctx, first, 1))

	second := make(chan error, 1)
	go func() { second <- tracking.RecordOrgChanged(ctx, pool, 1) }()
	// The second writer is waiting on the first's lock, as Postgres says.
	require.Eventually(t, func() bool {
		var waiting int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%analytics_generations%'`).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 5*time.Millisecond)
	select {
	case err := <-second:
		t.Fatalf("the second writer did not wait: %v", err)
	default:
	}
	changes, err := tracking.Changes(ctx, pool, 1, 0)
	require.NoError(t, err)
	require.Empty(t, changes, "nothing is committed yet")

	require.NoError(t, first.Commit(ctx))
	require.NoError(t, <-second)
	changes, err = tracking.Changes(ctx, pool, 1, 0)
	require.NoError(t, err)
	require.Equal(t, []tracking.Change{{Generation: 1, All: true}, {Generation: 2, All: true}}, changes)
}

// A reader the log has left behind, or far behind, is told to read
// everything.
func TestChangesTooFarBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	for rep := int64(1); rep <= tracking.MaxChanges+2; rep++ {
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO analytics_generations VALUES (1, $1)
				ON CONFLICT (org_id) DO UPDATE SET generation = excluded.generation`, rep)
			if err == nil {
				_, err = tx.Exec(ctx, `INSERT INTO analytics_changes (org_id, generation, rep_ids) VALUES (1, $1, $2)`, rep, []int64{rep})
			}
			return err
		}))
	}
	changes, err := tracking.Changes(ctx, pool, 1, 3)
	require.NoError(t, err)
	require.Len(t, changes, tracking.MaxChanges-1)
	require.Equal(t, tracking.Change{Generation: 4, RepIDs: []int64{4}}, changes[0])

	changes, err = tracking.Changes(ctx, pool, 1, 0)
	require.NoError(t, err)
	require.Equal(t, []tracking.Change{{Generation: tracking.MaxChanges, All: true}}, changes, "more than MaxChanges")

	_, err = pool.Exec(ctx, `DELETE FROM analytics_changes WHERE generation = 5`)
	require.NoError(t, err)
	changes, err = tracking.Changes(ctx, pool, 1, 4)
	require.NoError(t, err)
	require.Equal(t, []tracking.Change{{Generation: tracking.MaxChanges + 2, All: true}}, changes, "a change trimmed")

	// The log keeps the newest 1,000 changes.
	_, err = pool.Exec(ctx, `UPDATE analytics_generations SET generation = 1100 WHERE org_id = 1`)
	require.NoError(t, err)
	require.NoError(t, tracking.RecordOrgChanged(ctx, pool, 1))
	rows, err := pool.Query(ctx, `SELECT generation FROM analytics_changes WHERE org_id = 1 ORDER BY generation`)
	require.NoError(t, err)
	left, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Equal(t, []int64{tracking.MaxChanges + 2, 1101}, left)
}
