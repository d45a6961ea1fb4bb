package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
)

// openPostgres connects to DATABASE_URL and checks that it answers, failing
// with one line that names the variable and the (redacted) address.
func openPostgres(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	if err := cfg.requireDatabases(false); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL %s is not a Postgres URL: %s", tracking.Redact(cfg.DatabaseURL), tracking.RedactIn(err.Error(), cfg.DatabaseURL))
	}
	pc.MaxConns = max(pc.MaxConns, 20)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("cannot open Postgres at DATABASE_URL %s: %s", tracking.Redact(cfg.DatabaseURL), tracking.RedactIn(err.Error(), cfg.DatabaseURL))
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach Postgres at DATABASE_URL %s: %s", tracking.Redact(cfg.DatabaseURL), tracking.RedactIn(fmt.Sprint(rootCause(err)), cfg.DatabaseURL))
	}
	return pool, nil
}

// openClickHouse connects to CLICKHOUSE_URL and checks that it answers.
func openClickHouse(ctx context.Context, cfg Config) (driver.Conn, error) {
	if err := cfg.requireDatabases(true); err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if cfg.ClickHouseCluster == "" {
		return tracking.OpenClickHouse(pingCtx, cfg.ClickHouseURL)
	}
	return openClickHouseCluster(pingCtx, cfg.ClickHouseURL)
}

// openDatabases opens Postgres and ClickHouse; done closes both.
func openDatabases(ctx context.Context, cfg Config) (*pgxpool.Pool, driver.Conn, func(), error) {
	pool, err := openPostgres(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	ch, err := openClickHouse(ctx, cfg)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return pool, ch, func() { ch.Close(); pool.Close() }, nil
}

// openStore opens Postgres and returns the lessons store on it, which queues
// no jobs: for commands that schedule nothing.
func openStore(ctx context.Context, cfg Config) (*lessons.Store, func(), error) {
	pool, err := openPostgres(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return lessons.NewStore(pool, lessons.StoreConfig{}), pool.Close, nil
}

// newStore builds the lessons store of a process that schedules: its writes
// queue the sends and reminders they cause on a River queue on pool, in their
// own transactions, and its messages link to PUBLIC_URL.
func newStore(e *env, cfg Config, pool *pgxpool.Pool) (*lessons.Store, error) {
	queue, err := scheduler.NewQueue(pool, scheduler.QueueConfig{}, e.log)
	if err != nil {
		return nil, err
	}
	return lessons.NewStore(pool, lessons.StoreConfig{PublicURL: cfg.PublicURL, Queue: queue}), nil
}

// openOrg opens the store and finds the organisation a command names with --org.
func openOrg(ctx context.Context, cfg Config, slug string) (*lessons.Store, lessons.Org, func(), error) {
	store, done, err := openStore(ctx, cfg)
	if err != nil {
		return nil, lessons.Org{}, nil, err
	}
	o, err := orgBySlug(ctx, store, slug)
	if err != nil {
		done()
		return nil, lessons.Org{}, nil, err
	}
	return store, o, done, nil
}

// orgBySlug finds the organisation a command names with --org.
func orgBySlug(ctx context.Context, store *lessons.Store, slug string) (lessons.Org, error) {
	if slug == "" {
		return lessons.Org{}, usageError{"--org is required: the organisation's slug"}
	}
	return store.OrgBySlug(ctx, slug)
}

// newScheduler builds the scheduler on pool for the store (from newStore);
// with ch it ships events there. Without Twilio credentials messages go to the
// in-app phone simulator. With work false it runs no workers and only queues
// the jobs of inbound messages, for processes that serve HTTP only. m, if not
// nil, counts its work.
func newScheduler(e *env, cfg Config, pool *pgxpool.Pool, ch driver.Conn, store *lessons.Store, work bool, m *scheduler.Metrics) (*scheduler.Scheduler, error) {
	var sender scheduler.Sender = scheduler.Simulator{}
	if cfg.TwilioAccountSID != "" {
		tw, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: cfg.TwilioAccountSID,
			AuthToken: cfg.TwilioAuthToken, APIURL: cfg.TwilioAPIURL})
		if err != nil {
			return nil, err
		}
		sender = tw
	}
	return scheduler.New(pool, store, sender, scheduler.Config{
		StatusCallback:             cfg.PublicURL + "/webhooks/twilio/status",
		DefaultFrom:                cfg.TwilioFrom,
		DefaultMessagingServiceSID: cfg.TwilioMessagingServiceSID,
		DefaultMPS:                 cfg.SMSMPS,
		Breaker:                    cfg.Breaker,
		RescueAfter:                cfg.JobRescueAfter,
		ClickHouse:                 ch,
		Metrics:                    m,
		OnShipped: func(ctx context.Context, tx pgx.Tx, events []tracking.Event) error {
			return store.RecordWatched(ctx, tx, lessons.WatchedSegments(events))
		},
	}, e.log, work)
}

// rootCause returns the innermost error of err's chain: drivers wrap the one
// useful line ("connection refused") in several of their own, over lines.
func rootCause(err error) error {
	for {
		var next error
		switch e := err.(type) {
		case interface{ Unwrap() error }:
			next = e.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := e.Unwrap(); len(errs) > 0 {
				next = errs[len(errs)-1]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}

// migrateClickHouse applies the ClickHouse migrations, in cluster mode when
// CLICKHOUSE_CLUSTER names one (sharded tables behind Distributed ones).
func migrateClickHouse(ctx context.Context, e *env, cfg Config, ch driver.Conn) (int, error) {
	if cfg.ClickHouseCluster != "" {
		return migrations.MigrateClickHouseCluster(ctx, ch, cfg.ClickHouseCluster, e.log)
	}
	return migrations.MigrateClickHouse(ctx, ch, e.log)
}
