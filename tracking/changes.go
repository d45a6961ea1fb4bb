package tracking

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// The change log (migrations/postgres/0015). Every write of the rollups
// (WriteClickHouse, RollUpOrg) records, per organisation, which reps it
// recomputed, in Postgres, after ClickHouse has the rows: a reader that
// keeps the rollups in memory asks Changes whether anything is newer than
// what it holds, in one indexed read, and reads only those reps again.

// Beginner is where a change is recorded: a pool, or a transaction, with
// which the change then commits (Ship records in the transaction that
// deletes what it shipped).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// keptChanges is how many changes of an organisation the log keeps; a
// reader further behind reads the whole organisation again.
const keptChanges = 1000

// Change is one write of an organisation's rollups.
type Change struct {
	Generation int64
	RepIDs     []int64 // the reps recomputed; nil with All
	All        bool    // every rep of the organisation may have changed
}

// recordChanges records, for each organisation that events are about, the
// reps whose rollups were recomputed. Organisations are locked in order of
// id, so that writers of several at once cannot deadlock.
func recordChanges(ctx context.Context, db Beginner, events []Event) error {
	byOrg := repsByOrg(events)
	if len(byOrg) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for _, org := range slices.Sorted(maps.Keys(byOrg)) {
			if err := recordChange(ctx, tx, org, byOrg[org]); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordOrgChanged records that any of the organisation's rollups may have
// changed: what a bulk load says after RollUpOrg.
func RecordOrgChanged(ctx context.Context, db Beginner, orgID int64) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return recordChange(ctx, tx, orgID, nil) })
}

// recordChange takes the organisation's next generation (its row stays
// locked until tx commits), logs the reps under it (nil: all), and drops
// the changes older than the log keeps.
func recordChange(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) error {
	var gen int64
	err := tx.QueryRow(ctx, `
		INSERT INTO analytics_generations (org_id, generation) VALUES ($1, 1)
		ON CONFLICT (org_id) DO UPDATE SET generation = analytics_generations.generation + 1
		RETURNING generation`, orgID).Scan(&gen)
	if err != nil {
		return fmt.Errorf("record the change of org %d's reports: %w", orgID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO analytics_changes (org_id, generation, rep_ids) VALUES ($1, $2, $3)`,
		orgID, gen, repIDs); err != nil {
		return fmt.Errorf("record the change of org %d's reports: %w", orgID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM analytics_changes WHERE org_id = $1 AND generation <= $2`,
		orgID, gen-keptChanges); err != nil {
		return fmt.Errorf("trim org %d's change log: %w", orgID, err)
	}
	return nil
}

// Querier is what Changes reads with: a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// MaxChanges bounds the changes one call of Changes returns.
const MaxChanges = 100

// Changes returns the organisation's changes after generation after, oldest
// first, and its newest generation. When the log no longer holds the change
// right after after (trimmed), or there are more than MaxChanges, it returns
// one change with All set.
func Changes(ctx context.Context, db Querier, orgID, after int64) ([]Change, error) {
	rows, err := db.Query(ctx, `
		SELECT generation, rep_ids FROM analytics_changes
		WHERE org_id = $1 AND generation > $2 ORDER BY generation LIMIT $3`, orgID, after, MaxChanges+1)
	if err != nil {
		return nil, fmt.Errorf("read org %d's changes: %w", orgID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Change, error) {
		var c Change
		err := row.Scan(&c.Generation, &c.RepIDs)
		c.All = c.RepIDs == nil
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read org %d's changes: %w", orgID, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if out[0].Generation != after+1 || len(out) > MaxChanges {
		if len(out) > MaxChanges {
			out = out[:MaxChanges]
		}
		// The reader is too far behind: it reads everything up to the
		// newest it was told of.
		return []Change{{Generation: out[len(out)-1].Generation, All: true}}, nil
	}
	return out, nil
}

// Generation returns the organisation's newest change generation: 0 before
// any.
func Generation(ctx context.Context, db Querier, orgID int64) (int64, error) {
	rows, err := db.Query(ctx, `SELECT generation FROM analytics_generations WHERE org_id = $1`, orgID)
	if err != nil {
		return 0, fmt.Errorf("read org %d's generation: %w", orgID, err)
	}
	gens, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("read org %d's generation: %w", orgID, err)
	}
	if len(gens) == 0 {
		return 0, nil
	}
	return gens[0], nil
}
