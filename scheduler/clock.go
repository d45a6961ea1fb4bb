package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Clock is a clock that runs at real speed from a time of our choosing: real
// time plus an offset that Set and Advance move forward. Tests and benchmarks
// share one between the store (lessons.Store.Now), the scheduler (Config.Now)
// and River (Config.Test.Time: it is a rivertype.TimeGenerator), so that a
// lesson due next Monday is sent without waiting for Monday. The zero value
// tells real time.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewClock returns a clock that reads start now, in the past or the future.
func NewClock(start time.Time) *Clock {
	return &Clock{offset: time.Until(start)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// NowOrNil returns the clock's time: River then uses it instead of the
// database's now() in its queries.
func (c *Clock) NowOrNil() *time.Time {
	t := c.Now()
	return &t
}

// Set moves the clock to t. It only moves forward: a t earlier than the
// clock's time leaves it as it is.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := time.Until(t); d > c.offset {
		c.offset = d
	}
}

// Advance moves the clock forward by d (nothing when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.offset += d
	}
}

// ReleaseDue makes the scheduled and retryable jobs due by now available and
// tells the workers of their queues at once, as River's job scheduler does
// every few seconds; it returns how many it released. Tests and benchmarks
// that move a Clock call it instead of waiting for River.
func (s *Scheduler) ReleaseDue(ctx context.Context, now time.Time) (int, error) {
	released := 0
	err := s.store.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH released AS (
				UPDATE river_job SET state = 'available'
				WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= $1
				RETURNING queue
			)
			SELECT queue, count(*) FROM released GROUP BY queue`, now)
		if err != nil {
			return err
		}
		type queueCount struct {
			queue string
			n     int
		}
		counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (queueCount, error) {
			var q queueCount
			return q, r.Scan(&q.queue, &q.n)
		})
		if err != nil {
			return err
		}
		queues := make([]string, len(counts))
		for i, q := range counts {
			released += q.n
			queues[i] = fmt.Sprintf(`{"queue": %q}`, q.queue)
		}
		if len(queues) == 0 {
			return nil
		}
		// River's insert notification (topic "<schema>.river_insert"): its
		// producers fetch at once rather than at their next poll.
		_, err = tx.Exec(ctx, `SELECT pg_notify(current_schema() || '.river_insert', p) FROM unnest($1::text[]) p`, queues)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release due jobs: %w", err)
	}
	return released, nil
}

// NextDue is when the earliest scheduled or retryable job falls due; ok is
// false when no job waits.
func (s *Scheduler) NextDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var next *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(scheduled_at) FROM river_job WHERE state IN ('scheduled', 'retryable')`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("read the next job due: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return *next, true, nil
}

// Busy counts the jobs running and those due by now (available, scheduled or
// retryable; a job River made available for later, a snoozed one, is not
// yet): none left means the workers have nothing to do until the clock moves
// on. Whoever moves a Clock waits for it to reach zero after ReleaseDue.
func (s *Scheduler) Busy(ctx context.Context, now time.Time) (int, error) {
	var busy int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM river_job
		WHERE state = 'running' OR (state IN ('available', 'scheduled', 'retryable') AND scheduled_at <= $1)`, now).Scan(&busy)
	if err != nil {
		return 0, fmt.Errorf("count the jobs busy: %w", err)
	}
	return busy, nil
}
