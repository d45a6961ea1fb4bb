package dbtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The cluster tests run against the servers `.ci/cluster` starts (or any
// cluster): CLICKHOUSE_CLUSTER_URL is one of its servers, CLICKHOUSE_CLUSTER the
// cluster's name in their remote_servers, CLICKHOUSE_CLUSTER_SHARDS the URL of
// one server of each shard, space-separated, in shard order. With
// MORSEL_TEST_CLICKHOUSE=cluster, ClickHouse and ClickHouseURL give every test a
// database on the cluster (`make test-cluster`).

// ClusterSkipReason is why the cluster tests skip, or "" when the cluster is set.
func ClusterSkipReason() string {
	if os.Getenv("CLICKHOUSE_CLUSTER_URL") == "" || os.Getenv("CLICKHOUSE_CLUSTER") == "" {
		return "CLICKHOUSE_CLUSTER_URL and CLICKHOUSE_CLUSTER are not set: the ClickHouse cluster tests need a cluster; `make test-cluster` (or `eval \"$(.ci/cluster)\"`) starts one on loopback ports"
	}
	return ""
}

// ClickHouseCluster returns a connection to a fresh database created on every
// server of the cluster, with the schema applied in cluster mode, dropped when
// the test ends. It skips the test when no cluster is set.
func ClickHouseCluster(t testing.TB) driver.Conn {
	t.Helper()
	conn, _ := clickHouseCluster(t)
	return conn
}

// ClickHouseClusterURL is ClickHouseCluster but returns the database's URL.
func ClickHouseClusterURL(t testing.TB) string {
	t.Helper()
	_, url := clickHouseCluster(t)
	return url
}

func clickHouseCluster(t testing.TB) (driver.Conn, string) {
	t.Helper()
	if reason := ClusterSkipReason(); reason != "" {
		t.Skip(reason)
	}
	return clickHouseOn(t, os.Getenv("CLICKHOUSE_CLUSTER_URL"), os.Getenv("CLICKHOUSE_CLUSTER"))
}

// ClusterShards returns a connection to one server of each shard of the
// cluster, with conn's database, so a test can see where rows landed (in the
// _local tables). It skips the test when CLICKHOUSE_CLUSTER_SHARDS is not set.
func ClusterShards(t testing.TB, conn driver.Conn) []driver.Conn {
	t.Helper()
	urls := strings.Fields(os.Getenv("CLICKHOUSE_CLUSTER_SHARDS"))
	if len(urls) == 0 {
		t.Skip("CLICKHOUSE_CLUSTER_SHARDS is not set: `.ci/cluster` prints it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var db string
	if err := conn.QueryRow(ctx, `SELECT currentDatabase()`).Scan(&db); err != nil {
		t.Fatalf("read the test database's name: %v", err)
	}
	var out []driver.Conn
	for i, u := range urls {
		opts, err := clickhouse.ParseDSN(u)
		if err != nil {
			t.Fatalf("CLICKHOUSE_CLUSTER_SHARDS, URL %d: %v", i+1, err)
		}
		opts.Auth.Database = db
		opts.DialTimeout, opts.ReadTimeout = 5*time.Second, time.Minute
		c, err := clickhouse.Open(opts)
		if err == nil {
			err = c.Ping(ctx)
		}
		if err != nil {
			t.Fatalf("open shard %d of CLICKHOUSE_CLUSTER_SHARDS: %v", i+1, fmt.Errorf("%s: %w", opts.Addr, err))
		}
		t.Cleanup(func() { c.Close() })
		out = append(out, c)
	}
	return out
}

// RequireNoMerge checks that the reads before it ran on unmerged parts of
// table, written by inserts inserts: on one server, the table has one active
// part per insert; on a cluster (a <table>_local beside it), where an insert
// of several organisations makes a part on each of their shards, no active part
// of the local tables on any server comes of a merge (level 0) and there are at
// least as many as inserts.
func RequireNoMerge(t testing.TB, conn driver.Conn, table string, inserts int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var db string
	var locals uint64
	if err := conn.QueryRow(ctx, `SELECT currentDatabase(), (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?)`,
		table+"_local").Scan(&db, &locals); err != nil {
		t.Fatalf("read the test database: %v", err)
	}
	cluster := os.Getenv("CLICKHOUSE_CLUSTER")
	if locals == 0 || cluster == "" {
		var parts uint64
		if err := conn.QueryRow(ctx, `SELECT count() FROM system.parts WHERE database = ? AND table = ? AND active`, db, table).Scan(&parts); err != nil {
			t.Fatalf("count the parts of %s: %v", table, err)
		}
		if parts != uint64(inserts) {
			t.Fatalf("a merge happened: %s has %d active parts after %d inserts", table, parts, inserts)
		}
		return
	}
	var parts, merged uint64
	if err := conn.QueryRow(ctx, `SELECT count(), countIf(level > 0) FROM cluster(`+cluster+`, system.parts)
		WHERE database = ? AND table = ? AND active`, db, table+"_local").Scan(&parts, &merged); err != nil {
		t.Fatalf("count the parts of %s_local on the cluster: %v", table, err)
	}
	if merged > 0 || parts < uint64(inserts) {
		t.Fatalf("a merge happened: %s_local has %d active parts on the cluster (%d of them merged) after %d inserts", table, parts, merged, inserts)
	}
}
