package migrations_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations"
)

// TestClusterRewritesEveryStep: every ClickHouse step, a new one included, has
// a cluster rewrite, checked without a cluster.
func TestClusterRewritesEveryStep(t *testing.T) {
	t.Parallel()
	for _, s := range migrations.ClickHouse() {
		require.NoError(t, migrations.PlanCluster(s), s.Name)
	}
	err := migrations.PlanCluster(migrations.Step{Version: 9, Name: "0009_x.sql", SQL: "INSERT INTO events (org_id) SELECT 1;\nTRUNCATE TABLE events;\n"})
	require.ErrorContains(t, err, "clickhouse migration 0009_x.sql, statement 2: cluster mode knows no rewrite for this statement")
	require.ErrorContains(t, err, "TRUNCATE TABLE events")
}

func TestClusterRewrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stmt string
		want       []string
		err        string
	}{
		{
			name: "table",
			stmt: "CREATE TABLE IF NOT EXISTS reps (\n  org_id UInt64, -- the rep's organisation (its shard)\n  rep_id UInt64,\n  version UInt64\n) ENGINE = ReplacingMergeTree(version)\nORDER BY (org_id, rep_id)\nSETTINGS index_granularity = 1024",
			want: []string{
				"CREATE TABLE IF NOT EXISTS d.reps_local ON CLUSTER c (\n  org_id UInt64, \n  rep_id UInt64,\n  version UInt64\n) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/d/reps_local/N', '{replica}', version) ORDER BY (org_id, rep_id)\nSETTINGS index_granularity = 1024",
				"CREATE TABLE IF NOT EXISTS d.reps ON CLUSTER c AS d.reps_local ENGINE = Distributed(c, d, reps_local, org_id)",
			},
		},
		{
			name: "table without engine arguments",
			stmt: "CREATE TABLE t (org_id UInt64) ENGINE = MergeTree ORDER BY org_id",
			want: []string{
				"CREATE TABLE IF NOT EXISTS d.t_local ON CLUSTER c (org_id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/d/t_local/N', '{replica}') ORDER BY org_id",
				"CREATE TABLE IF NOT EXISTS d.t ON CLUSTER c AS d.t_local ENGINE = Distributed(c, d, t_local, org_id)",
			},
		},
		{
			name: "table as another",
			stmt: "CREATE TABLE IF NOT EXISTS events_1024 AS events\nENGINE = ReplacingMergeTree(version) ORDER BY (org_id, rep_id)",
			want: []string{
				"CREATE TABLE IF NOT EXISTS d.events_1024_local ON CLUSTER c AS d.events_local ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/d/events_1024_local/N', '{replica}', version) ORDER BY (org_id, rep_id)",
				"CREATE TABLE IF NOT EXISTS d.events_1024 ON CLUSTER c AS d.events_1024_local ENGINE = Distributed(c, d, events_1024_local, org_id)",
			},
		},
		{
			name: "add column",
			stmt: "ALTER TABLE reps ADD COLUMN name String",
			want: []string{
				"ALTER TABLE d.reps_local ON CLUSTER c ADD COLUMN name String",
				"DROP TABLE IF EXISTS d.reps ON CLUSTER c",
				"CREATE TABLE IF NOT EXISTS d.reps ON CLUSTER c AS d.reps_local ENGINE = Distributed(c, d, reps_local, org_id)",
			},
		},
		{
			name: "mutation",
			stmt: "ALTER TABLE events DELETE WHERE org_id = 7",
			want: []string{"ALTER TABLE d.events_local ON CLUSTER c DELETE WHERE org_id = 7"},
		},
		{
			name: "rename",
			stmt: "RENAME TABLE events TO events_8192, events_1024 TO events",
			want: []string{
				"RENAME TABLE d.events_local TO d.events_8192_local, d.events_1024_local TO d.events_local ON CLUSTER c",
				"DROP TABLE IF EXISTS d.events ON CLUSTER c",
				"DROP TABLE IF EXISTS d.events_8192 ON CLUSTER c",
				"DROP TABLE IF EXISTS d.events_1024 ON CLUSTER c",
				"CREATE TABLE IF NOT EXISTS d.events_8192 ON CLUSTER c AS d.events_8192_local ENGINE = Distributed(c, d, events_8192_local, org_id)",
				"CREATE TABLE IF NOT EXISTS d.events ON CLUSTER c AS d.events_local ENGINE = Distributed(c, d, events_local, org_id)",
			},
		},
		{
			name: "drop",
			stmt: "DROP TABLE IF EXISTS events_8192",
			want: []string{"DROP TABLE IF EXISTS d.events_8192 ON CLUSTER c", "DROP TABLE IF EXISTS d.events_8192_local ON CLUSTER c"},
		},
		{
			name: "materialized view",
			stmt: "CREATE MATERIALIZED VIEW IF NOT EXISTS events_to_1024 TO events_1024 AS SELECT * FROM events",
			want: []string{"CREATE MATERIALIZED VIEW IF NOT EXISTS d.events_to_1024 ON CLUSTER c TO d.events_1024_local AS SELECT * FROM d.events_local"},
		},
		{
			name: "insert",
			stmt: "INSERT INTO question_attempts (org_id) SELECT org_id FROM events",
			want: []string{"INSERT INTO question_attempts (org_id) SELECT org_id FROM events"},
		},
		{name: "no org_id", stmt: "CREATE TABLE t (id UInt64) ENGINE = MergeTree ORDER BY id", err: "table t has no org_id column"},
		{name: "not a MergeTree", stmt: "CREATE TABLE t (org_id UInt64) ENGINE = Memory", err: "cluster mode replicates *MergeTree engines only, not Memory"},
		{name: "already replicated", stmt: "CREATE TABLE t (org_id UInt64) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY org_id", err: "not ReplicatedMergeTree"},
		{name: "database named", stmt: "ALTER TABLE other.reps ADD COLUMN x String", err: "plain table names (no database, no quotes), not other.reps"},
		{name: "view with a join", stmt: "CREATE MATERIALIZED VIEW v TO t AS SELECT * FROM a JOIN b USING (org_id)", err: "materialized view v: cluster mode rewrites a view that reads one table"},
		{name: "view without TO", stmt: "CREATE MATERIALIZED VIEW v ENGINE = MergeTree ORDER BY x AS SELECT * FROM a", err: "knows no rewrite"},
		{name: "plain view", stmt: "CREATE VIEW v AS SELECT * FROM events", err: "knows no rewrite"},
		{name: "truncate", stmt: "TRUNCATE TABLE events", err: "knows no rewrite for this statement (CREATE TABLE, CREATE MATERIALIZED VIEW ... TO, ALTER TABLE, RENAME TABLE, DROP TABLE, OPTIMIZE TABLE and INSERT are rewritten): TRUNCATE TABLE events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := migrations.ClusterRewrite("c", "d", tt.stmt)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			for i := range got {
				got[i] = strings.TrimSpace(got[i])
			}
			require.Equal(t, tt.want, got)
		})
	}
}
