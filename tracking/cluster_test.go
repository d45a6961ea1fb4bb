package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// TestClusterOrganisationOnOneShard: on a two-shard cluster, each
// organisation's events, corrections and tombstones land on one shard, the
// organisations spread over both, and the reports (FINAL and argMax by version)
// see every write at once.
func TestClusterOrganisationOnOneShard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := correctionBundle{pool: dbtest.Postgres(t), ch: dbtest.ClickHouseCluster(t)}
	shards := dbtest.ClusterShards(t, b.ch)
	require.Len(t, shards, 2)

	orgs := []int64{1, 2, 3, 4}
	for _, org := range orgs {
		b.live(t, graded(org, 5, "grade/55/0", 40), graded(org, 5, "grade/55/1", 60), graded(org, 6, "grade/55/0", 80))
	}
	_, err := tracking.Void(ctx, b.pool, b.ch, time.Now(), 3, "grade/55/0", 5, "graded by a bug", "test")
	require.NoError(t, err)
	fixed := graded(2, 6, "grade/55/0", 100)
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 2, fixed)
	require.NoError(t, err)

	want := map[int64]map[uint64]repReport{
		1: {5: {2, 100}, 6: {1, 80}},
		2: {5: {2, 100}, 6: {1, 100}},
		3: {5: {1, 60}, 6: {1, 80}},
		4: {5: {2, 100}, 6: {1, 80}},
	}
	for _, org := range orgs {
		require.Equal(t, want[org], b.report(t, org), "org %d, read at once through the Distributed table", org)
	}

	used := map[int]bool{}
	for _, org := range orgs {
		var on []int
		for i, shard := range shards {
			var n uint64
			require.NoError(t, shard.QueryRow(ctx, `SELECT count() FROM events_local WHERE org_id = ?`, org).Scan(&n))
			if n > 0 {
				on = append(on, i)
				used[i] = true
			}
		}
		require.Len(t, on, 1, "org %d's rows are on one shard", org)
	}
	require.Len(t, used, 2, "the organisations spread over both shards")
}
