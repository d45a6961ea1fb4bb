package scheduler

import (
	"context"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/morselhq/morsel/tracking"
)

// ShipArgs is the periodic job that moves the events outbox to ClickHouse.
type ShipArgs struct{}

// Kind names the job for River.
func (ShipArgs) Kind() string { return "ship_events" }

// InsertOpts puts shipping on the maintenance queue; an attempt that fails is
// simply the next period's.
func (ShipArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 1}
}

// shipBatch is how many events one transaction moves: a second of pings at
// full load, so that each assignment's progress is written once a second,
// not once a batch.
const shipBatch = 50_000

type shipWorker struct {
	river.WorkerDefaults[ShipArgs]
	s *Scheduler

	// shipping is held while a job of this process ships. The next period's
	// job, started while a long one still runs (many lessons completing at
	// once), leaves the work to it rather than wait for the same progress
	// rows and hold batches of its own meanwhile.
	shipping sync.Mutex
}

func (w *shipWorker) Timeout(*river.Job[ShipArgs]) time.Duration { return time.Minute }

// Work ships batches until the outbox is empty or a few seconds have passed;
// the next period goes on. It returns at once while another job of this
// process ships.
func (w *shipWorker) Work(ctx context.Context, job *river.Job[ShipArgs]) error {
	if !w.shipping.TryLock() {
		return nil
	}
	defer w.shipping.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := tracking.Ship(ctx, w.s.pool, w.s.cfg.ClickHouse, shipBatch, w.s.cfg.OnShipped)
		if err != nil {
			return err
		}
		if n < shipBatch {
			return nil
		}
	}
	return nil
}
