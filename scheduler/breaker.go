package scheduler

import (
	"math/rand/v2"
	"sync"
	"time"
)

// The provider circuit breaker. Every outbound message is one job on the one
// SMS queue, whoever sends it, so a failing sender cannot be paused by
// pausing a River queue (that would stop every organisation's sends): a send
// job whose sender's breaker is open snoozes instead. River does not count a
// snooze as an attempt (it gives the attempt back), so jobs wait out an
// outage without running out of retries or backing off for an hour. While
// the breaker is open one job at a time is let through every ProbeInterval,
// as a probe; its success closes the breaker, and the snoozed jobs send when
// they wake. Order is kept as it always is: a rep's next step is queued only
// once the provider accepted the one before, so a rep has at most one send
// job at a time, and snoozing it reorders nothing; no job is dropped or run
// twice by it, since a snooze is a River outcome like a retry.
//
// The breaker is each worker process's own (in memory): two processes each
// open and probe on their own, which is at most one probe per process per
// interval.

// BreakerConfig sets when a sender's breaker opens. The zero value is
// sensible.
type BreakerConfig struct {
	// FailureRatio opens the breaker when at least this share of a sender's
	// sends in Window failed at the provider (5xx, 429, timeouts, dropped
	// connections; a refusal about one recipient, such as 21610 or 21211,
	// is an answer, not a failure); default 0.5. Above 1: never opens.
	FailureRatio float64
	// MinSends is how many sends Window must hold before their share counts
	// (default 20), so that one rep's retries do not open it.
	MinSends int
	// Window is the span the sends are counted over (default 1 min).
	Window time.Duration
	// ProbeInterval is how often an open breaker lets one message through to
	// see whether the provider is back (default 5 s).
	ProbeInterval time.Duration
	// AlertRatio reports (OnChange, BreakerFailureRate) a sender whose
	// failures in a full window reach this share, open or not (default 0.2).
	AlertRatio float64
	// OnChange is told of each change of a sender's state, from the sending
	// worker: it must not block (the alerts hand it to a goroutine).
	OnChange func(BreakerEvent)
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.FailureRatio <= 0 {
		c.FailureRatio = 0.5
	}
	if c.MinSends <= 0 {
		c.MinSends = 20
	}
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = 5 * time.Second
	}
	if c.AlertRatio <= 0 {
		c.AlertRatio = 0.2
	}
	return c
}

// BreakerChange is what happened to a sender's breaker.
type BreakerChange int

// The changes OnChange is told of.
const (
	BreakerOpened         BreakerChange = iota + 1 // the provider failed most sends: sending paused
	BreakerClosed                                  // a probe went through: sending resumed
	BreakerFailureRate                             // a window's failures reached AlertRatio
	BreakerFailureRateLow                          // a later window's stayed under it
)

func (c BreakerChange) String() string {
	switch c {
	case BreakerOpened:
		return "opened"
	case BreakerClosed:
		return "closed"
	case BreakerFailureRate:
		return "failure-rate-high"
	case BreakerFailureRateLow:
		return "failure-rate-normal"
	}
	return "unknown"
}

// BreakerEvent is a change of one sender's breaker.
type BreakerEvent struct {
	Sender string // the From number or messaging service
	Change BreakerChange
	Sends  int // in the window that caused it
	Fails  int
	At     time.Time
	Reason string // the last failure, when it is one
}

// breaker holds every sender's circuit.
type breaker struct {
	cfg     BreakerConfig
	metrics *Metrics
	mu      sync.Mutex
	senders map[string]*circuit
}

// circuit is one sender's state.
type circuit struct {
	windowStart  time.Time
	sends, fails int
	rateHigh     bool // told BreakerFailureRate, not yet BreakerFailureRateLow
	open         bool
	nextProbe    time.Time
	probing      bool // a probe is out
	lastFailure  string
}

func newBreaker(cfg BreakerConfig, m *Metrics) *breaker {
	return &breaker{cfg: cfg.withDefaults(), metrics: m, senders: map[string]*circuit{}}
}

// outcome of a send, for the breaker.
type outcome int

const (
	outcomeNone     outcome = iota // the provider was not reached (our database failed, say)
	outcomeAnswered                // the provider answered: accepted, or refused one recipient
	outcomeFailed                  // the provider failed
)

// outcomeOf says what err, from a provider call, tells of the provider.
func outcomeOf(err error) outcome {
	if err == nil {
		return outcomeAnswered
	}
	if f := failureOf(err); f.Kind == Permanent {
		return outcomeAnswered
	}
	return outcomeFailed
}

// pass is a send let through; done reports how it went (once).
type pass struct {
	b      *breaker
	sender string
	probe  bool
	used   bool
}

// admit lets a send to sender through, or says how long to snooze it.
func (b *breaker) admit(sender string, now time.Time) (*pass, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.senders[sender]
	if c == nil || !c.open {
		return &pass{b: b, sender: sender}, 0
	}
	if !c.probing && !now.Before(c.nextProbe) {
		c.probing = true
		return &pass{b: b, sender: sender, probe: true}, 0
	}
	// Wake when the next probe is due, spread over an interval so that the
	// waiting jobs do not all wake at once: the first awake probes, the
	// others snooze again (River gives each snooze's attempt back).
	wait := c.nextProbe.Sub(now)
	if wait <= 0 {
		wait = b.cfg.ProbeInterval // a probe is out: its answer comes before long
	}
	return nil, wait + rand.N(b.cfg.ProbeInterval)
}

// done reports the send's outcome at now; err is the provider call's.
func (p *pass) done(now time.Time, o outcome, err error) {
	if p == nil || p.used {
		return
	}
	p.used = true
	p.b.record(p.sender, p.probe, now, o, err)
}

func (b *breaker) record(sender string, probe bool, now time.Time, o outcome, err error) {
	var events []BreakerEvent
	b.mu.Lock()
	c := b.senders[sender]
	if c == nil {
		c = &circuit{windowStart: now}
		b.senders[sender] = c
	}
	if probe {
		c.probing = false
	}
	ev := func(ch BreakerChange) {
		events = append(events, BreakerEvent{Sender: sender, Change: ch, Sends: c.sends, Fails: c.fails, At: now, Reason: c.lastFailure})
	}
	if o != outcomeNone {
		if now.Sub(c.windowStart) >= b.cfg.Window {
			if c.rateHigh && c.sends >= b.cfg.MinSends && float64(c.fails) < b.cfg.AlertRatio*float64(c.sends) {
				ev(BreakerFailureRateLow)
				c.rateHigh = false
			}
			c.windowStart, c.sends, c.fails = now, 0, 0
		}
		c.sends++
		if o == outcomeFailed {
			c.fails++
			c.lastFailure = err.Error()
		}
		enough := c.sends >= b.cfg.MinSends
		if enough && !c.rateHigh && float64(c.fails) >= b.cfg.AlertRatio*float64(c.sends) {
			c.rateHigh = true
			ev(BreakerFailureRate)
		}
		switch {
		case c.open && probe && o == outcomeAnswered:
			c.open = false
			c.windowStart, c.sends, c.fails = now, 0, 0
			ev(BreakerClosed)
		case c.open && o == outcomeFailed:
			c.nextProbe = now.Add(b.cfg.ProbeInterval)
		case !c.open && enough && b.cfg.FailureRatio <= 1 && float64(c.fails) >= b.cfg.FailureRatio*float64(c.sends):
			c.open = true
			c.nextProbe = now.Add(b.cfg.ProbeInterval)
			ev(BreakerOpened)
		}
	}
	open := c.open
	b.mu.Unlock()
	if len(events) > 0 {
		b.metrics.breakerState(sender, open)
	}
	for _, e := range events {
		if e.Change == BreakerOpened {
			b.metrics.breakerOpened(sender)
		}
		if b.cfg.OnChange != nil {
			b.cfg.OnChange(e)
		}
	}
}

// isOpen says whether sender's breaker is open, for tests.
func (b *breaker) isOpen(sender string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.senders[sender]
	return c != nil && c.open
}
