package migrations_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations"
	"github.com/morselhq/morsel/migrations/dbtest"
)

// TestClickHouseClusterSchema: in cluster mode every table of the migrations is
// a Replicated*MergeTree <name>_local on each shard behind a Distributed table
// of its own name sharded by org_id, with the columns every step added; a
// second run applies nothing, from any server.
func TestClickHouseClusterSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouseCluster(t)
	shards := dbtest.ClusterShards(t, conn)
	require.GreaterOrEqual(t, len(shards), 2, "CLICKHOUSE_CLUSTER_SHARDS names a server of each of two shards")

	tables := []string{"events", "reps", "assignment_progress", "enrollments", "enrollment_progress", "rep_summary", "question_attempts"}
	for i, shard := range shards {
		for _, table := range tables {
			var engine, localEngine string
			require.NoError(t, shard.QueryRow(ctx, `SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = ?`, table).Scan(&engine), "shard %d, %s", i+1, table)
			require.Equal(t, "Distributed", engine, "shard %d, %s", i+1, table)
			require.NoError(t, shard.QueryRow(ctx, `SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = ?`, table+"_local").Scan(&localEngine), "shard %d, %s_local", i+1, table)
			require.Equal(t, "ReplicatedReplacingMergeTree", localEngine, "shard %d, %s_local", i+1, table)
		}
		// The columns added by ALTER (steps 3 and 6) are on the Distributed
		// table too, which is made again after each.
		var cols uint64
		require.NoError(t, shard.QueryRow(ctx, `SELECT count() FROM system.columns WHERE database = currentDatabase()
			AND ((table = 'assignment_progress' AND name IN ('segments', 'last_activity_at')) OR (table = 'reps' AND name = 'time_zone'))`).Scan(&cols))
		require.EqualValues(t, 3, cols, "shard %d", i+1)
		// Step 4's copy left no table behind.
		var left uint64
		require.NoError(t, shard.QueryRow(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE 'events_%' AND name != 'events_local'`).Scan(&left))
		require.Zero(t, left, "shard %d", i+1)

		n, err := migrations.MigrateClickHouseCluster(ctx, shard, "morsel", quiet)
		require.NoError(t, err, "shard %d", i+1)
		require.Zero(t, n, "shard %d: every server reads the replicated record of the applied steps", i+1)
	}
}

// TestClickHouseClusterUnknownName: a cluster the server does not know is
// refused by name before anything runs.
func TestClickHouseClusterUnknownName(t *testing.T) {
	t.Parallel()
	conn := dbtest.ClickHouseCluster(t)
	_, err := migrations.MigrateClickHouseCluster(context.Background(), conn, "nosuchcluster", quiet)
	require.ErrorContains(t, err, "CLICKHOUSE_CLUSTER nosuchcluster: the server knows no such cluster")
	_, err = migrations.MigrateClickHouseCluster(context.Background(), conn, "bad name;", quiet)
	require.ErrorContains(t, err, `CLICKHOUSE_CLUSTER "bad name;"`)
}

// TestClickHouseClusterStepRunsAgain: in cluster mode too, steps interrupted
// after some of their statements run again whole: the columns are taken as
// there, step 4's copy and rename leave one events table with every row.
func TestClickHouseClusterStepRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouseCluster(t)
	for i := range 3 {
		insertEvent(t, conn, fmt.Sprintf("msg/%d", i))
	}
	last := len(migrations.ClickHouse())
	forgetSteps(t, conn, 3)
	n, err := migrations.MigrateClickHouseCluster(ctx, conn, "morsel", quiet)
	require.NoError(t, err)
	require.Equal(t, last-2, n)
	var columns uint64
	require.NoError(t, conn.QueryRow(ctx, `SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'reps' AND name = 'team_name'`).Scan(&columns))
	require.EqualValues(t, 1, columns)
	var keys uint64
	require.NoError(t, conn.QueryRow(ctx, `SELECT uniqExact(event_key) FROM events`).Scan(&keys))
	require.EqualValues(t, 3, keys)
	var left string
	require.NoError(t, conn.QueryRow(ctx, `SELECT arrayStringConcat(groupArray(name), ' ') FROM (
		SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'events%' ORDER BY name)`).Scan(&left))
	require.Equal(t, "events events_local", left, "the copy's tables are gone")
}
