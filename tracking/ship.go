package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// insertEvents spells out the columns: ClickHouse 18.16 needs them.
const insertEvents = `INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, course_id, enrollment_id,
	assignment_id, lesson_id, value, detail, version, deleted)`

// Ship moves up to limit events of the Postgres outbox, and up to limit of
// its event batches (at least one batch), to ClickHouse and returns how many
// it moved. It locks them (SKIP LOCKED: shippers in several processes share
// the work), inserts them into ClickHouse, runs onShipped (which may be nil)
// with them in the same Postgres transaction, the outbox's first, each in
// the order it was written, and deletes them. A crash after the ClickHouse
// insert ships them again; the copies collapse by key, so reports count them
// once.
func Ship(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, limit int, onShipped func(context.Context, pgx.Tx, []Event) error) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		ids, events, err := lockOutbox(ctx, tx, limit)
		if err != nil {
			return err
		}
		batchIDs, batched, err := lockBatches(ctx, tx, limit)
		if err != nil {
			return err
		}
		events = append(events, batched...)
		if len(events) == 0 {
			return nil
		}
		if err := WriteClickHouse(ctx, tx, ch, events); err != nil {
			return err
		}
		if onShipped != nil {
			if err := onShipped(ctx, tx, events); err != nil {
				return err
			}
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM event_outbox WHERE id = ANY($1)`, ids); err != nil {
				return fmt.Errorf("clear outbox: %w", err)
			}
		}
		if len(batchIDs) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM event_batches WHERE id = ANY($1)`, batchIDs); err != nil {
				return fmt.Errorf("clear event batches: %w", err)
			}
		}
		n = len(events)
		return nil
	})
	return n, err
}

// outboxColumns are the outbox's columns as scanOutbox reads them.
const outboxColumns = `id, org_id, rep_id, event_key, kind, occurred_at, course_id, enrollment_id, assignment_id,
	lesson_id, value, detail, version, deleted`

// scanOutbox reads outbox rows of outboxColumns: their ids and events.
func scanOutbox(rows pgx.Rows) ([]int64, []Event, error) {
	defer rows.Close()
	var ids []int64
	var events []Event
	for rows.Next() {
		var id, version int64
		var e Event
		if err := rows.Scan(&id, &e.OrgID, &e.RepID, &e.Key, &e.Kind, &e.OccurredAt, &e.CourseID, &e.EnrollmentID,
			&e.AssignmentID, &e.LessonID, &e.Value, &e.Detail, &version, &e.Deleted); err != nil {
			return nil, nil, fmt.Errorf("read outbox: %w", err)
		}
		e.Version = uint64(version)
		ids = append(ids, id)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read outbox: %w", err)
	}
	return ids, events, nil
}

// lockOutbox locks up to limit of the oldest outbox rows that are not locked
// and returns their ids and events, in order.
func lockOutbox(ctx context.Context, tx pgx.Tx, limit int) ([]int64, []Event, error) {
	rows, err := tx.Query(ctx, `SELECT `+outboxColumns+` FROM event_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("read outbox: %w", err)
	}
	return scanOutbox(rows)
}

// WriteClickHouse inserts events into the events table in one batch, the
// facts among them into their tables (see facts.go), then rolls up the
// progress of what they touched (RollUp, then RollUpReps), so that the
// rollups are current when it returns, and records in db which reps'
// rollups changed (changes.go): with a transaction, the record commits with
// it.
func WriteClickHouse(ctx context.Context, db Beginner, ch driver.Conn, events []Event) error {
	if err := InsertEvents(ctx, ch, events); err != nil {
		return err
	}
	if err := RollUp(ctx, ch, events); err != nil {
		return err
	}
	if err := RollUpReps(ctx, ch, events); err != nil {
		return err
	}
	return recordChanges(ctx, db, events)
}

// InsertEvents inserts events into the events table in one batch and the
// facts among them into their tables, without rolling anything up: what
// WriteClickHouse does first, and what a bulk load does before it rolls
// the organisation up once (RollUpOrg). It hands the driver a slice per
// column: a shipped batch has tens of thousands of events, which a value at
// a time would cost more to encode.
func InsertEvents(ctx context.Context, ch driver.Conn, events []Event) error {
	batch, err := ch.PrepareBatch(ctx, insertEvents)
	if err != nil {
		return fmt.Errorf("ship events to clickhouse: %w", err)
	}
	n := len(events)
	orgs, reps, courses, enrollments := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
	assignments, lessons, versions := make([]uint64, n), make([]uint64, n), make([]uint64, n)
	keys, kinds, details := make([]string, n), make([]string, n), make([]string, n)
	at, values, deleted := make([]time.Time, n), make([]float64, n), make([]uint8, n)
	for i, e := range events {
		orgs[i], reps[i], keys[i], kinds[i], at[i] = uint64(e.OrgID), uint64(e.RepID), e.Key, e.Kind, e.OccurredAt.UTC()
		courses[i], enrollments[i] = uint64(e.CourseID), uint64(e.EnrollmentID)
		assignments[i], lessons[i] = uint64(e.AssignmentID), uint64(e.LessonID)
		values[i], details[i], versions[i] = e.Value, e.Detail, e.Version
		if e.Deleted {
			deleted[i] = 1
		}
	}
	// In the order of insertEvents' columns.
	for i, col := range []any{orgs, reps, keys, kinds, at, courses, enrollments, assignments, lessons, values, details, versions, deleted} {
		if err := batch.Column(i).Append(col); err != nil {
			batch.Abort()
			return fmt.Errorf("ship events to clickhouse: column %d: %w", i, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("ship %d events to clickhouse: %w", len(events), err)
	}
	if err := writeAttempts(ctx, ch, events); err != nil {
		return err
	}
	return writeFacts(ctx, ch, events)
}

// Backlog returns how many events wait in the outbox and its batches, and
// the age of the oldest (of a batch: since it was written).
func Backlog(ctx context.Context, pool *pgxpool.Pool) (int, time.Duration, error) {
	var n int
	var oldest *time.Time
	err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM event_outbox) + (SELECT coalesce(sum(events), 0) FROM event_batches),
			least((SELECT min(occurred_at) FROM event_outbox), (SELECT min(written_at) FROM event_batches))`).Scan(&n, &oldest)
	if err != nil || oldest == nil {
		return n, 0, err
	}
	return n, time.Since(*oldest), nil
}

// Pending returns the events of the organisation (of every one, for orgID
// 0) that wait in the outbox and its batches, in the order Ship takes them:
// to look at what is not shipped yet.
func Pending(ctx context.Context, pool *pgxpool.Pool, orgID int64) ([]Event, error) {
	var out []Event
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+outboxColumns+` FROM event_outbox WHERE $1 = 0 OR org_id = $1 ORDER BY id`, orgID)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if _, out, err = scanOutbox(rows); err != nil {
			return err
		}
		batched, err := batchedEvents(ctx, tx, orgID)
		out = append(out, batched...)
		return err
	})
	return out, err
}

// DiscardUnshipped deletes the organisation's events still in the outbox and
// returns how many: they never reach ClickHouse. Events already written into
// a batch, which other organisations' events may share, are left for Ship.
// It is for benchmarks and operations clearing what an organisation's run
// left behind when it ended before the shipper took it.
func DiscardUnshipped(ctx context.Context, pool *pgxpool.Pool, orgID int64) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM event_outbox WHERE org_id = $1`, orgID)
	if err != nil {
		return 0, fmt.Errorf("discard the unshipped events of organisation %d: %w", orgID, err)
	}
	return tag.RowsAffected(), nil
}
