package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Ingester writes events from many concurrent requests to the outbox with
// group commit: requests arriving together share one transaction, so each is
// durable when Write returns without a commit per request. Postgres commits
// about 2,500 times a second from one connection; grouped, the same commits
// carry tens of thousands of events. A flusher waits for nothing: it writes
// what is queued as one row of event_batches, and what arrives meanwhile is
// the next batch. Ship moves the batches with the outbox.
type Ingester struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	reqs     chan *ingestReq
	maxBatch int
	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once

	// mu is held for reading while a request is being queued; Stop sets
	// stopping under it, so that nothing is queued once the flushers may
	// have drained the queue and gone.
	mu       sync.RWMutex
	stopping bool

	// tick is closed, and replaced, every waitTick: writers that wait
	// within a time wake on it to look at the clock, where a timer each
	// would cost more than their write.
	tick atomic.Pointer[chan struct{}]
}

// waitTick is how late WriteWithin may give up.
const waitTick = 100 * time.Millisecond

type ingestReq struct {
	events []Event
	done   chan error
}

// reqPool recycles the requests that were answered: an acknowledged ping
// costs no allocation for its place in the queue.
var reqPool = sync.Pool{New: func() any { return &ingestReq{done: make(chan error, 1)} }}

// ErrStopped is returned by Write after Stop.
var ErrStopped = errors.New("tracking: the ingester is stopped")

// NewIngester starts an ingester with `flushers` goroutines, each committing a
// batch while the others gather the next.
func NewIngester(pool *pgxpool.Pool, log *slog.Logger, flushers int) *Ingester {
	if flushers <= 0 {
		flushers = 2
	}
	in := &Ingester{pool: pool, log: log, reqs: make(chan *ingestReq, 8192), maxBatch: 4000, stop: make(chan struct{})}
	tick := make(chan struct{})
	in.tick.Store(&tick)
	in.wg.Add(1)
	go in.runClock()
	for range flushers {
		in.wg.Add(1)
		go in.flushLoop()
	}
	return in
}

func (in *Ingester) runClock() {
	defer in.wg.Done()
	t := time.NewTicker(waitTick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			next := make(chan struct{})
			close(*in.tick.Swap(&next))
		case <-in.stop:
			return
		}
	}
}

// Write stores events durably in the outbox and returns once they are
// committed, or with the error that kept them from it.
func (in *Ingester) Write(ctx context.Context, events []Event) error {
	return in.WriteWithin(ctx, 0, events)
}

// WriteWithin is Write that gives up after wait (0: never), or up to
// waitTick later, with an error that is context.DeadlineExceeded. It costs
// no timer, unlike a context with a timeout.
func (in *Ingester) WriteWithin(ctx context.Context, wait time.Duration, events []Event) error {
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	req := reqPool.Get().(*ingestReq)
	req.events = events
	drop := func() {
		req.events = nil
		reqPool.Put(req)
	}
	if err := in.queue(ctx, req, wait, deadline); err != nil {
		drop()
		return err
	}
	for {
		select {
		case err := <-req.done:
			drop()
			return err
		case <-ctx.Done():
			return ctx.Err() // it may still commit: pings are idempotent by key
		case <-in.ticks(wait):
			if !time.Now().Before(deadline) {
				return fmt.Errorf("store %d events: not committed within %s: %w", len(events), wait, context.DeadlineExceeded)
			}
		}
	}
}

// queue puts req in the queue, waiting for room until ctx is done or the
// deadline passes (none for a zero wait).
func (in *Ingester) queue(ctx context.Context, req *ingestReq, wait time.Duration, deadline time.Time) error {
	in.mu.RLock()
	defer in.mu.RUnlock()
	if in.stopping {
		return ErrStopped
	}
	for {
		select {
		case in.reqs <- req:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-in.ticks(wait):
			if !time.Now().Before(deadline) {
				return fmt.Errorf("queue %d events: no room within %s: %w", len(req.events), wait, context.DeadlineExceeded)
			}
		}
	}
}

// ticks returns the channel that the next tick closes, or, when there is no
// time limit, nil, which never is.
func (in *Ingester) ticks(wait time.Duration) <-chan struct{} {
	if wait <= 0 {
		return nil
	}
	return *in.tick.Load()
}

// Stop writes what is queued and stops.
func (in *Ingester) Stop() {
	in.mu.Lock() // waits for the requests being queued
	in.stopping = true
	in.mu.Unlock()
	in.stopOnce.Do(func() { close(in.stop) })
	in.wg.Wait()
}

func (in *Ingester) flushLoop() {
	defer in.wg.Done()
	var batch []*ingestReq
	var events []Event
	var buf []byte
	for {
		batch = batch[:0]
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
		case <-in.stop:
			// Write what is queued, then stop.
			for {
				batch, events = in.gather(batch[:0], events[:0])
				if len(batch) == 0 {
					return
				}
				buf = in.flush(batch, events, buf)
			}
		}
		batch, events = in.gather(batch, append(events[:0], batch[0].events...))
		buf = in.flush(batch, events, buf)
		clear(events) // let the strings go
	}
}

// gather adds the queued requests to batch, up to maxBatch events, without
// waiting, and their events to events.
func (in *Ingester) gather(batch []*ingestReq, events []Event) ([]*ingestReq, []Event) {
	for len(events) < in.maxBatch {
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
			events = append(events, r.events...)
		default:
			return batch, events
		}
	}
	return batch, events
}

// flush writes a batch; buf is a buffer for its lines, which it returns.
func (in *Ingester) flush(batch []*ingestReq, events []Event, buf []byte) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	buf, err := insertBatch(ctx, in.pool, events, buf)
	if err != nil {
		in.log.Error("write events", "events", len(events), "err", err)
		err = fmt.Errorf("store %d events: %w", len(events), err)
	}
	for _, r := range batch {
		r.done <- err
	}
	return buf
}
