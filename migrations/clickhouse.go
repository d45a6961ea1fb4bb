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
	return migrateClickHouse(ctx, conn, ClickHouse(), log)
}

func migrateClickHouse(ctx context.Context, conn driver.Conn, steps []Step, log *slog.Logger) (int, error) {
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS morsel_migrations (
		version    UInt32,
		name       String,
		applied_at DateTime('UTC')
	) ENGINE = MergeTree() ORDER BY version`); err != nil {
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
		for _, stmt := range statements(s.SQL) {
			if err := conn.Exec(ctx, stmt); err != nil && !alreadyDone(stmt, err) {
				return applied, fmt.Errorf("apply clickhouse migration %s: %w", s.Name, err)
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
