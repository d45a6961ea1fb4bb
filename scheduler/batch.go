package scheduler

import (
	"context"
	"sync"
)

// batcher gathers the calls that many workers make at once into batches, so
// that a few statements and one commit serve hundreds of messages: while one
// batch runs, the next one queues. A batch is at most max calls; runners
// batches run at a time.
type batcher[In, Out any] struct {
	calls chan *call[In, Out]
	max   int
	run   func(context.Context, []In) ([]Out, []error)

	mu      sync.RWMutex // held for reading while a call is being queued
	closing bool         // set under mu: no call is queued after it
	closed  context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

type call[In, Out any] struct {
	ctx  context.Context
	in   In
	out  Out
	err  error
	done chan struct{}
}

// newBatcher starts runners goroutines that call run with up to max inputs;
// run returns an output and an error for each input, in order.
func newBatcher[In, Out any](runners, max int, run func(context.Context, []In) ([]Out, []error)) *batcher[In, Out] {
	ctx, stop := context.WithCancel(context.Background())
	b := &batcher[In, Out]{calls: make(chan *call[In, Out], max), max: max, run: run, closed: ctx, stop: stop}
	for range runners {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// do adds in to the next batch and waits for its result.
func (b *batcher[In, Out]) do(ctx context.Context, in In) (Out, error) {
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan struct{})}
	b.mu.RLock()
	if b.closing { // no runners left: run it alone
		b.mu.RUnlock()
		b.runBatch([]*call[In, Out]{c}, nil)
		return c.out, c.err
	}
	select {
	case b.calls <- c:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		var zero Out
		return zero, ctx.Err()
	}
	// Once queued, the call runs even if ctx ends meanwhile: waiting for it
	// says truly whether it happened.
	<-c.done
	return c.out, c.err
}

// close stops the runners once the calls already queued are done.
func (b *batcher[In, Out]) close() {
	b.mu.Lock() // waits for the calls being queued
	b.closing = true
	b.mu.Unlock()
	b.stop()
	b.wg.Wait()
}

func (b *batcher[In, Out]) loop() {
	defer b.wg.Done()
	batch := make([]*call[In, Out], 0, b.max)
	ins := make([]In, 0, b.max)
	for {
		batch = batch[:0]
		select {
		case c := <-b.calls:
			batch = append(batch, c)
		case <-b.closed.Done():
			// Nothing is queued after closing: run what is left, then stop.
			for {
				select {
				case c := <-b.calls:
					b.runBatch([]*call[In, Out]{c}, ins)
				default:
					return
				}
			}
		}
	gather:
		for len(batch) < b.max {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break gather
			}
		}
		b.runBatch(batch, ins)
	}
}

// runBatch runs the calls as one batch and hands each its result; ins is
// scratch space.
func (b *batcher[In, Out]) runBatch(batch []*call[In, Out], ins []In) {
	ins = ins[:0]
	for _, c := range batch {
		ins = append(ins, c.in)
	}
	// The batch outlives any one caller's context: the callers wait for it.
	outs, errs := b.run(context.WithoutCancel(batch[0].ctx), ins)
	for i, c := range batch {
		c.out, c.err = outs[i], errs[i]
		close(c.done)
	}
}
