package migrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// MigrateClickHouse applies the ClickHouse steps not yet applied to the
// connection's database and returns how many it applied. ClickHouse has no
// transactions: each statement is written to be repeatable (IF NOT EXISTS), so a
// step interrupted half-way is simply run again. Run one migrator at a time.
func MigrateClickHouse(ctx context.Context, conn driver.Conn, log *slog.Logger) (int, error) {
	return migrateClickHouse(ctx, conn, ClickHouse(), "", log)
}

// MigrateClickHouseCluster is MigrateClickHouse for the cluster named cluster
// (CLICKHOUSE_CLUSTER, a name of the servers' remote_servers): conn's database
// is created on every server, and each table of the steps becomes replicated
// local tables sharded by organisation behind a Distributed table of its name
// (see cluster.go). A step with a statement that cannot be rewritten so fails
// before it runs, naming the step and the statement.
func MigrateClickHouseCluster(ctx context.Context, conn driver.Conn, cluster string, log *slog.Logger) (int, error) {
	if !reIdent.MatchString(cluster) {
		return 0, fmt.Errorf("CLICKHOUSE_CLUSTER %q: expected the name of a cluster of the servers' remote_servers (letters, digits, _)", cluster)
	}
	return migrateClickHouse(ctx, conn, ClickHouse(), cluster, log)
}

func migrateClickHouse(ctx context.Context, conn driver.Conn, steps []Step, cluster string, log *slog.Logger) (int, error) {
	var target *clusterTarget
	if cluster != "" {
		var db string
		if err := conn.QueryRow(ctx, `SELECT currentDatabase()`).Scan(&db); err != nil {
			return 0, fmt.Errorf("read clickhouse database: %w", err)
		}
		if !reIdent.MatchString(db) {
			return 0, fmt.Errorf("clickhouse database %q: cluster mode needs a plain name (letters, digits, _)", db)
		}
		target = &clusterTarget{cluster: cluster, db: db, nonce: timeNonce}
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(ClusterSettings()))
		var known uint64
		if err := conn.QueryRow(ctx, `SELECT count() FROM system.clusters WHERE cluster = ?`, cluster).Scan(&known); err != nil {
			return 0, fmt.Errorf("read clickhouse clusters: %w", err)
		}
		if known == 0 {
			return 0, fmt.Errorf("CLICKHOUSE_CLUSTER %s: the server knows no such cluster (system.clusters; remote_servers in its config)", cluster)
		}
		if err := CheckClusterSettings(ctx, conn); err != nil {
			return 0, err
		}
		if err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", db, cluster)); err != nil {
			return 0, fmt.Errorf("create clickhouse database %s on cluster %s: %w", db, cluster, err)
		}
	}
	migrationsTable := `CREATE TABLE IF NOT EXISTS morsel_migrations (
		version    UInt32,
		name       String,
		applied_at DateTime('UTC')
	) ENGINE = MergeTree() ORDER BY version`
	if target != nil {
		migrationsTable = target.migrationsTable()
	}
	if err := conn.Exec(ctx, migrationsTable); err != nil {
		return 0, fmt.Errorf("create clickhouse morsel_migrations: %w", err)
	}
	var current uint32
	if err := conn.QueryRow(ctx, `SELECT max(version) FROM morsel_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("read clickhouse schema version: %w", err)
	}
	if latest := len(steps); int(current) > latest {
		return 0, fmt.Errorf("the ClickHouse schema is at version %d, newer than this morsel binary knows (%d): run a newer morsel", current, latest)
	}
	applied := 0
	for _, s := range steps[current:] {
		log.Info("applying clickhouse migration", "name", s.Name)
		plan, err := planStep(s, target)
		if err != nil {
			return applied, err
		}
		for _, p := range plan {
			for _, stmt := range p.run {
				if err := conn.Exec(ctx, stmt); err != nil && !alreadyDone(p.stmt, err) {
					return applied, fmt.Errorf("apply clickhouse migration %s: %w", s.Name, err)
				}
			}
		}
		// INSERT ... SELECT: the one insert form that works on 18.16 and today.
		if err := conn.Exec(ctx, `INSERT INTO morsel_migrations (version, name, applied_at) SELECT ?, ?, now()`,
			uint32(s.Version), s.Name); err != nil {
			return applied, fmt.Errorf("record clickhouse migration %s: %w", s.Name, err)
		}
		log.Info("applied clickhouse migration", "name", s.Name)
		applied++
	}
	return applied, nil
}

// planned is one statement of a step and what runs for it: itself on one
// server, its rewrite on a cluster.
type planned struct {
	stmt string
	run  []string
}

// planStep rewrites every statement of the step before any runs, so a step
// with one a cluster cannot take fails whole, naming the statement.
func planStep(s Step, target *clusterTarget) ([]planned, error) {
	var plan []planned
	for i, stmt := range statements(s.SQL) {
		if target == nil {
			plan = append(plan, planned{stmt, []string{stmt}})
			continue
		}
		run, err := target.rewrite(stmt)
		if err != nil {
			return nil, fmt.Errorf("clickhouse migration %s, statement %d: %w", s.Name, i+1, err)
		}
		plan = append(plan, planned{stmt, run})
	}
	return plan, nil
}

var (
	// addColumn matches a statement that adds one column, and nothing else.
	addColumn = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+\S+\s+ADD\s+COLUMN\s+[^,]+$`)
	// renameTable matches a RENAME TABLE statement.
	renameTable = regexp.MustCompile(`(?is)^\s*RENAME\s+TABLE\s`)
)

// alreadyDone reports whether err says that stmt, run again by a step
// interrupted after it, had done its work the first time: ClickHouse 18.16
// has no ADD COLUMN IF NOT EXISTS (the column is there: ILLEGAL_COLUMN) nor
// a conditional RENAME (the name it renamed away is taken:
// TABLE_ALREADY_EXISTS).
func alreadyDone(stmt string, err error) bool {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	return addColumn.MatchString(stmt) && ex.Code == 44 || renameTable.MatchString(stmt) && ex.Code == 57
}
