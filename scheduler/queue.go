package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/morselhq/morsel/lessons"
)

// defaultFetchCooldown is River's FetchCooldown for the SMS queue and for
// insert notifications (see Config.FetchCooldown).
const defaultFetchCooldown = 5 * time.Millisecond

// QueueConfig tunes a Queue. The zero value is sensible.
type QueueConfig struct {
	// Now is the clock (default time.Now): a job due by now is inserted
	// available.
	Now func() time.Time
	// Test is passed to River, for tests that stub its time; it must be the
	// working scheduler's, since River stamps inserted jobs with it.
	Test river.TestConfig
}

// Queue inserts River jobs inside the caller's transaction, so that a job
// exists if and only if that transaction commits. It runs no workers (an
// insert-only River client): it is the lessons store's queue (lessons.Queue),
// for the sends and reminders that the store's writes cause, in processes
// with or without a Scheduler.
type Queue struct {
	client *river.Client[pgx.Tx]
	now    func() time.Time
}

var _ lessons.Queue = (*Queue)(nil)

// NewQueue builds an insert-only River client on pool.
func NewQueue(pool *pgxpool.Pool, cfg QueueConfig, log *slog.Logger) (*Queue, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger: WarningsOnly(log),
		Test:   cfg.Test,
		// The client's FetchCooldown spaces its insert notifications per
		// queue: at River's 100 ms default, a job inserted within 100 ms of
		// another waits for the workers' next poll, up to 1 s.
		FetchCooldown: defaultFetchCooldown,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &Queue{client: client, now: cfg.Now}, nil
}

// QueueSteps inserts a send job per step, due at the step's time, in tx.
func (q *Queue) QueueSteps(ctx context.Context, tx pgx.Tx, steps []lessons.Step) error {
	params := make([]river.InsertManyParams, len(steps))
	for i, st := range steps {
		params[i] = river.InsertManyParams{Args: SendArgs{MessageID: st.MessageID},
			InsertOpts: &river.InsertOpts{ScheduledAt: st.At}}
	}
	return q.insert(ctx, tx, params, "send")
}

// QueueReminders inserts a job per due-date reminder or overdue flag, due at
// its time, in tx.
func (q *Queue) QueueReminders(ctx context.Context, tx pgx.Tx, rs []lessons.Reminder) error {
	params := make([]river.InsertManyParams, len(rs))
	for i, r := range rs {
		params[i] = river.InsertManyParams{Args: RemindArgs{EnrollmentID: r.EnrollmentID, DaysBefore: r.DaysBefore},
			InsertOpts: &river.InsertOpts{ScheduledAt: r.At}}
	}
	return q.insert(ctx, tx, params, "reminder")
}

// insert inserts the jobs in tx: one alone, many in one statement. A job due
// by now is inserted available, to be worked at once: River holds any job
// given a ScheduledAt until its scheduler's next pass, up to seconds later.
func (q *Queue) insert(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams, what string) error {
	now := q.now()
	for i, p := range params {
		if p.InsertOpts != nil && !p.InsertOpts.ScheduledAt.IsZero() && !p.InsertOpts.ScheduledAt.After(now) {
			opts := *p.InsertOpts
			opts.ScheduledAt = time.Time{}
			params[i].InsertOpts = &opts
		}
	}
	switch len(params) {
	case 0:
		return nil
	case 1:
		if _, err := q.client.InsertTx(ctx, tx, params[0].Args, params[0].InsertOpts); err != nil {
			return fmt.Errorf("queue %s job: %w", what, err)
		}
	default:
		// COPY is the fast way, but fails where a unique job exists already;
		// InsertManyTx skips that one.
		insert := func() error { _, err := q.client.InsertManyFastTx(ctx, tx, params); return err }
		if slices.ContainsFunc(params, isUnique) {
			insert = func() error { _, err := q.client.InsertManyTx(ctx, tx, params); return err }
		}
		if err := insert(); err != nil {
			return fmt.Errorf("queue %d %s jobs: %w", len(params), what, err)
		}
	}
	return nil
}

// isUnique says whether a job is unique, by its own options or its args'
// (River merges the two).
func isUnique(p river.InsertManyParams) bool {
	unique := func(u river.UniqueOpts) bool { return u.ByArgs || u.ByPeriod != 0 || u.ByQueue || len(u.ByState) > 0 }
	if p.InsertOpts != nil && unique(p.InsertOpts.UniqueOpts) {
		return true
	}
	a, ok := p.Args.(river.JobArgsWithInsertOpts)
	return ok && unique(a.InsertOpts().UniqueOpts)
}
