package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ingester writes events from many concurrent requests to the outbox with
// group commit: requests arriving together share one transaction, so each is
// durable when Write returns without a commit per request. Postgres commits
// about 2,500 times a second from one connection; grouped, the same commits
// carry tens of thousands of events.
type Ingester struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	reqs     chan *ingestReq
	maxBatch int
	maxWait  time.Duration
	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
}

type ingestReq struct {
	events []Event
	done   chan error
}

// ErrStopped is returned by Write after Stop.
var ErrStopped = errors.New("tracking: the ingester is stopped")

// NewIngester starts an ingester with `flushers` goroutines, each committing a
// batch while the others gather the next.
func NewIngester(pool *pgxpool.Pool, log *slog.Logger, flushers int) *Ingester {
	if flushers <= 0 {
		flushers = 4
	}
	in := &Ingester{pool: pool, log: log, reqs: make(chan *ingestReq, 8192), maxBatch: 4000,
		maxWait: 2 * time.Millisecond, stop: make(chan struct{})}
	for range flushers {
		in.wg.Add(1)
		go in.flushLoop()
	}
	return in
}

// Write stores events durably in the outbox and returns once they are
// committed, or with the error that kept them from it.
func (in *Ingester) Write(ctx context.Context, events []Event) error {
	req := &ingestReq{events: events, done: make(chan error, 1)}
	select {
	case <-in.stop:
		return ErrStopped
	default:
	}
	select {
	case in.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-in.stop:
		return ErrStopped
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // it may still commit: pings are idempotent by key
	}
}

// Stop writes what is queued and stops.
func (in *Ingester) Stop() {
	in.stopOnce.Do(func() { close(in.stop) })
	in.wg.Wait()
}

func (in *Ingester) flushLoop() {
	defer in.wg.Done()
	for {
		var first *ingestReq
		select {
		case first = <-in.reqs:
		case <-in.stop:
			// Drain what is queued, then stop.
			for {
				select {
				case r := <-in.reqs:
					in.flush([]*ingestReq{r})
				default:
					return
				}
			}
		}
		batch := []*ingestReq{first}
		n := len(first.events)
		timer := time.NewTimer(in.maxWait)
	gather:
		for n < in.maxBatch {
			select {
			case r := <-in.reqs:
				batch = append(batch, r)
				n += len(r.events)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		in.flush(batch)
	}
}

func (in *Ingester) flush(batch []*ingestReq) {
	var events []Event
	for _, r := range batch {
		events = append(events, r.events...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := pgx.BeginFunc(ctx, in.pool, func(tx pgx.Tx) error { return Append(ctx, tx, events...) })
	if err != nil {
		in.log.Error("write events", "events", len(events), "err", err)
		err = fmt.Errorf("store %d events: %w", len(events), err)
	}
	for _, r := range batch {
		r.done <- err
	}
}
