// Package scheduler runs every scheduled or retried piece of work on River:
// sending each step at the rep's local time through the SMS provider
// (Twilio, or the in-app simulator), retrying failed sends, processing
// replies, reminding and nudging, and shipping events to ClickHouse each
// second. A sender whose provider fails most of its sends is paused by a
// circuit breaker (breaker.go): its jobs snooze rather than use their retries
// (one SMS queue serves every sender, so a River queue pause would stop them
// all), and one probe at a time tells when the provider is back. Jobs are
// inserted in the same transaction as the data that causes them (Queue, for
// the lessons store; Scheduler, for the workers' own).
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// The queues.
const (
	QueueSMS         = "sms"         // outbound messages
	QueueReplies     = "replies"     // inbound messages
	QueueMaintenance = "maintenance" // reminders, housekeeping
)

// Config tunes the workers. The zero value is sensible.
type Config struct {
	// SMSWorkers is how many messages one process sends at once (default 1,000:
	// a provider call takes 100-300 ms, and the workers batch their writes).
	SMSWorkers int
	// FetchCooldown is how often the SMS queue may fetch jobs (default 5 ms):
	// River's default of 100 ms caps a queue near 1,000 jobs/s.
	FetchCooldown time.Duration
	// FetchPollInterval is how often each queue looks for jobs it was not
	// told of (default 1 s); a replay of the past on a moved clock sets it
	// short, since its jobs fall due without an insert to announce them.
	FetchPollInterval time.Duration
	// StatusCallback is the URL the provider posts delivery statuses to.
	StatusCallback string
	// DefaultFrom and DefaultMessagingServiceSID send for organisations that
	// name no sender of their own.
	DefaultFrom                string
	DefaultMessagingServiceSID string
	// DefaultMPS limits each From number to this many messages per second
	// (default 1, as Twilio allows a long code); 0 lifts the limit. A messaging
	// service is not limited unless its organisation sets a limit.
	DefaultMPS float64
	// NudgeAfter is how long after a lesson is sent a rep who has not done it
	// gets one nudge, inside the send window (default 4 h; negative: never).
	NudgeAfter time.Duration
	// ClickHouse receives the events outbox every second; nil: no shipping.
	ClickHouse driver.Conn
	// OnShipped runs in the transaction that ships a batch of events, e.g. to
	// roll video progress up into Postgres.
	OnShipped func(context.Context, pgx.Tx, []tracking.Event) error
	// Breaker pauses a sender whose provider fails most of its sends.
	Breaker BreakerConfig
	// Metrics counts jobs and sends for Prometheus; nil: not counted.
	Metrics *Metrics
	// RescueAfter is how long a job may stay running before River takes it
	// for stuck (its worker killed) and runs it again (default 3 min). River's
	// leader looks for stuck jobs every 30 s. Jobs without a timeout of their
	// own are limited to it too, so that a slow job is not run twice: a send's
	// own limit is 45 s, so below that only tests, with a fast provider,
	// should set it.
	RescueAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Test is passed to River, for tests that stub its time.
	Test river.TestConfig
}

// defaultRescueAfter is Config.RescueAfter's default.
const defaultRescueAfter = 3 * time.Minute

// Scheduler owns the River client and the workers.
type Scheduler struct {
	client *river.Client[pgx.Tx]
	pool   *pgxpool.Pool // for the events outbox, which tracking ships
	jobs   *Queue        // inserts the workers' jobs through client
	store  *lessons.Store
	sender Sender
	brk    *breaker
	cfg    Config
	log    *slog.Logger

	// The send workers read their messages and record what the provider
	// accepted in batches: a few statements and one commit for hundreds.
	loads   *batcher[int64, lessons.Outbound]
	accepts *batcher[acceptance, struct{}]
}

// Batching of the send workers' reads and writes.
const (
	batchMax     = 500 // messages a batch
	batchRunners = 4   // batches of each kind at once
)

// New builds the River client with the workers. With work false it only
// inserts jobs (for processes that serve HTTP only, and for commands).
func New(pool *pgxpool.Pool, store *lessons.Store, sender Sender, cfg Config, log *slog.Logger, work bool) (*Scheduler, error) {
	if cfg.SMSWorkers <= 0 {
		cfg.SMSWorkers = 1000
	}
	if cfg.FetchPollInterval <= 0 {
		cfg.FetchPollInterval = time.Second
	}
	if cfg.FetchCooldown <= 0 {
		cfg.FetchCooldown = defaultFetchCooldown
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NudgeAfter == 0 {
		cfg.NudgeAfter = 4 * time.Hour
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = defaultRescueAfter
	}
	s := &Scheduler{pool: pool, store: store, sender: sender, cfg: cfg, log: log, brk: newBreaker(cfg.Breaker, cfg.Metrics)}
	if work {
		s.loads = newBatcher(batchRunners, batchMax, s.loadOutbound)
		s.accepts = newBatcher(batchRunners, batchMax, s.recordAccepted)
	}
	rc := &river.Config{
		Logger:               WarningsOnly(log),
		JobTimeout:           min(time.Minute, cfg.RescueAfter), // River wants it no longer than the rescue
		RescueStuckJobsAfter: cfg.RescueAfter,                   // a killed worker's jobs come back this soon
		Test:                 cfg.Test,
		// The client's FetchCooldown also spaces its insert notifications per
		// queue: at River's 100 ms default, a job inserted within 100 ms of
		// another waits for the next poll (FetchPollInterval), up to 1 s.
		FetchCooldown: cfg.FetchCooldown,
	}
	if work {
		workers := river.NewWorkers()
		river.AddWorker(workers, &sendWorker{s: s})
		river.AddWorker(workers, &nudgeWorker{s: s})
		river.AddWorker(workers, &remindWorker{s: s})
		river.AddWorker(workers, &replyWorker{s: s})
		river.AddWorker(workers, &shipWorker{s: s})
		if cfg.ClickHouse != nil {
			rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Second),
				func() (river.JobArgs, *river.InsertOpts) { return ShipArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}
		}
		rc.Workers = workers
		if cfg.Metrics != nil {
			rc.Middleware = append(rc.Middleware, cfg.Metrics.middleware())
		}
		rc.Queues = map[string]river.QueueConfig{
			QueueSMS:         {MaxWorkers: cfg.SMSWorkers, FetchCooldown: cfg.FetchCooldown, FetchPollInterval: cfg.FetchPollInterval},
			QueueReplies:     {MaxWorkers: 50, FetchCooldown: min(10*time.Millisecond, cfg.FetchPollInterval), FetchPollInterval: cfg.FetchPollInterval},
			QueueMaintenance: {MaxWorkers: 10, FetchCooldown: min(100*time.Millisecond, cfg.FetchPollInterval), FetchPollInterval: cfg.FetchPollInterval},
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	s.client = client
	s.jobs = &Queue{client: client, now: cfg.Now}
	return s, nil
}

// Start starts the workers; they run until Stop.
func (s *Scheduler) Start(ctx context.Context) error {
	if err := s.client.Start(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish, until ctx is
// done; then it cancels them, and River returns them to the queue.
func (s *Scheduler) Stop(ctx context.Context) error {
	if s.loads != nil {
		defer s.loads.close()
		defer s.accepts.close()
	}
	err := s.client.Stop(ctx)
	if err != nil {
		if err := s.client.StopAndCancel(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("stop workers: %w", err)
		}
	}
	return nil
}

// Client returns the River client, for tests and for subscribing to events.
func (s *Scheduler) Client() *river.Client[pgx.Tx] { return s.client }

// WarningsOnly returns l passing on warnings and errors only: the logger the
// scheduler gives River, whose INFO is a line every 5 s per queue, and the
// one the benches give the libraries they run.
func WarningsOnly(l *slog.Logger) *slog.Logger {
	return slog.New(atLeast{l.Handler(), slog.LevelWarn})
}

// atLeast passes on only records of its level or higher.
type atLeast struct {
	slog.Handler
	level slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(attrs []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(attrs), h.level}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.level}
}
