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

// Ship moves up to limit events from the Postgres outbox to ClickHouse and
// returns how many it moved. It locks a batch (SKIP LOCKED: shippers in
// several processes share the work), inserts it into ClickHouse, runs
// onShipped (which may be nil) in the same Postgres transaction, and deletes
// the batch from the outbox. A crash after the ClickHouse insert ships the
// batch again; the copies collapse by key, so reports count them once.
// Rep changes among the events also go to the reps dimension (SyncReps).
func Ship(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, limit int, onShipped func(context.Context, pgx.Tx, []Event) error) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id, org_id, rep_id, event_key, kind, occurred_at, course_id, enrollment_id, assignment_id,
				lesson_id, value, detail, version, deleted
			FROM event_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		var ids []int64
		var events []Event
		for rows.Next() {
			var id, version int64
			var e Event
			if err := rows.Scan(&id, &e.OrgID, &e.RepID, &e.Key, &e.Kind, &e.OccurredAt, &e.CourseID, &e.EnrollmentID,
				&e.AssignmentID, &e.LessonID, &e.Value, &e.Detail, &version, &e.Deleted); err != nil {
				rows.Close()
				return fmt.Errorf("read outbox: %w", err)
			}
			e.Version = uint64(version)
			ids = append(ids, id)
			events = append(events, e)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if len(events) == 0 {
			return nil
		}
		if err := WriteClickHouse(ctx, ch, events); err != nil {
			return err
		}
		var reps []RepRow
		for _, e := range events {
			if e.Kind == KindRepChanged {
				reps = append(reps, RepRow{OrgID: e.OrgID, RepID: e.RepID, TeamID: int64(e.Value), Status: e.Detail, Version: e.Version})
			}
		}
		if err := SyncReps(ctx, ch, reps); err != nil {
			return err
		}
		if onShipped != nil {
			if err := onShipped(ctx, tx, events); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM event_outbox WHERE id = ANY($1)`, ids); err != nil {
			return fmt.Errorf("clear outbox: %w", err)
		}
		n = len(events)
		return nil
	})
	return n, err
}

// WriteClickHouse inserts events into the events table in one batch.
func WriteClickHouse(ctx context.Context, ch driver.Conn, events []Event) error {
	batch, err := ch.PrepareBatch(ctx, insertEvents)
	if err != nil {
		return fmt.Errorf("ship events to clickhouse: %w", err)
	}
	for _, e := range events {
		var deleted uint8
		if e.Deleted {
			deleted = 1
		}
		if err := batch.Append(uint64(e.OrgID), uint64(e.RepID), e.Key, e.Kind, e.OccurredAt.UTC(), uint64(e.CourseID),
			uint64(e.EnrollmentID), uint64(e.AssignmentID), uint64(e.LessonID), e.Value, e.Detail, e.Version, deleted); err != nil {
			batch.Abort()
			return fmt.Errorf("ship events to clickhouse: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("ship %d events to clickhouse: %w", len(events), err)
	}
	return nil
}

// Backlog returns how many events wait in the outbox and the age of the oldest.
func Backlog(ctx context.Context, pool *pgxpool.Pool) (int, time.Duration, error) {
	var n int
	var oldest *time.Time
	err := pool.QueryRow(ctx, `SELECT count(*), min(occurred_at) FROM event_outbox`).Scan(&n, &oldest)
	if err != nil || oldest == nil {
		return n, 0, err
	}
	return n, time.Since(*oldest), nil
}
