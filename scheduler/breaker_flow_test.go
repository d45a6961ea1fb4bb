package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// callLog is a Sender that notes when (on the test clock) each provider call
// started and ended, and how many were out at once.
type callLog struct {
	scheduler.Sender
	now func() time.Time

	mu sync.Mutex
	// out counts the calls in flight that began while the breaker was
	// open, the probes; maxOut is the most at once. A send that began
	// before it opened may still be in flight when the first probe starts
	// (seen on a loaded CI run): it is not a probe.
	out     int
	maxOut  int
	calls   []time.Time
	pausing func() bool
}

func (c *callLog) begin() func() {
	c.mu.Lock()
	probe := c.pausing()
	if probe {
		c.out++
		c.maxOut = max(c.maxOut, c.out)
	}
	c.calls = append(c.calls, c.now())
	c.mu.Unlock()
	return func() {
		if probe {
			c.mu.Lock()
			c.out--
			c.mu.Unlock()
		}
	}
}

func (c *callLog) Send(ctx context.Context, m scheduler.SMS) (scheduler.Accepted, error) {
	defer c.begin()()
	return c.Sender.Send(ctx, m)
}

func (c *callLog) Find(ctx context.Context, m scheduler.SMS, since time.Time) ([]string, error) {
	defer c.begin()()
	return c.Sender.Find(ctx, m, since)
}

// breakerEvents collects what the breaker tells.
type breakerEvents struct {
	mu     sync.Mutex
	events []scheduler.BreakerEvent
}

func (e *breakerEvents) add(ev scheduler.BreakerEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

func (e *breakerEvents) changes() []scheduler.BreakerChange {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []scheduler.BreakerChange
	for _, ev := range e.events {
		if ev.Change == scheduler.BreakerOpened || ev.Change == scheduler.BreakerClosed {
			out = append(out, ev.Change)
		}
	}
	return out
}

func (e *breakerEvents) at(ch scheduler.BreakerChange) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		if ev.Change == ch {
			return ev.At, true
		}
	}
	return time.Time{}, false
}

// A provider that fails every send for a while opens the sender's breaker:
// the jobs snooze instead of using their retries, one probe at a time goes
// out every ProbeInterval, the first that gets through closes it, and every
// rep then gets each lesson once, in order.
func TestBreakerPausesAFailingProviderAndResumes(t *testing.T) {
	t.Parallel()
	const reps, probes = 8, 3 // probes: the failed ones, before the provider is back
	tests := []struct {
		name  string
		fault twilioemu.Fault
		// lookup: the failed send may have reached the provider (a timeout,
		// a dropped connection), so its retry first looks the message up; a
		// lookup that the provider answers closes the breaker, although its
		// sends may still fail for a while.
		lookup bool
	}{
		{"500", twilioemu.Fault{Kind: twilioemu.FaultServerError}, false},
		{"503", twilioemu.Fault{Kind: twilioemu.FaultUnavailable}, false},
		{"502 from a proxy", twilioemu.Fault{Kind: twilioemu.FaultBadGateway}, false},
		{"connection dropped", twilioemu.Fault{Kind: twilioemu.FaultDrop}, true},
		{"accepted, answered too late", twilioemu.Fault{Kind: twilioemu.FaultTimeout, Delay: 3 * time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const probeEvery = 5 * time.Second
			b := setupTimeout(t, faultStart, twilioemu.Options{}, 2*time.Second)
			ctx := context.Background()
			require.NoError(t, b.sched.Stop(ctx)) // replaced by one with the breaker under test

			var events breakerEvents
			sender, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: b.emu.AccountSID(), AuthToken: b.emu.AuthToken(),
				APIURL: b.emu.URL(), Timeout: 2 * time.Second})
			require.NoError(t, err)
			log := &callLog{Sender: sender, now: b.clock.Now, pausing: func() bool {
				ch := events.changes()
				return len(ch) == 1 // opened, not yet closed
			}}
			reg := prometheus.NewRegistry()
			metrics, err := scheduler.NewMetrics(reg, b.pool)
			require.NoError(t, err)
			newScheduler(t, b.pool, b.store, log, b.clock, func(c *scheduler.Config) {
				c.Metrics = metrics
				c.Breaker = scheduler.BreakerConfig{MinSends: 4, Window: time.Minute, ProbeInterval: probeEvery, OnChange: events.add}
			})

			v := b.course(t, 2)
			var in []lessons.RepInput
			for _, r := range lessons.GenerateReps(reps, 11) {
				r.TimeZone = "America/New_York"
				in = append(in, r)
			}
			_, err = b.store.ImportReps(ctx, b.org.ID, in)
			require.NoError(t, err)
			rs, err := b.store.Reps(ctx, b.org.ID, lessons.RepFilter{})
			require.NoError(t, err)
			b.enroll(t, v.CourseID, rs)

			fault := tt.fault
			fault.Times = reps
			if !tt.lookup {
				// The probes fail too. Not with a lookup: its probe is the
				// lookup, which the provider answers, closing the breaker at
				// once; faults left over would then fail the sends after it
				// and, within the same window, open it again (seen in make
				// test, depending on which sends ran first).
				fault.Times += probes
			}
			b.emu.Fail(fault)
			b.advance(t, firstLesson.Add(time.Second))
			require.Equal(t, []scheduler.BreakerChange{scheduler.BreakerOpened}, events.changes(), "every first send failed")
			require.Equal(t, 1.0, gauge(t, reg, "morsel_sms_breaker_open", "+15005550006"))

			// Step the clock a second at a time until every rep's lesson 1 is
			// recorded as sent.
			for at := firstLesson.Add(2 * time.Second); ; at = at.Add(time.Second) {
				var sent int
				require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE provider_sid IS NOT NULL`).Scan(&sent))
				if sent == reps {
					break
				}
				require.True(t, at.Before(firstLesson.Add(3*time.Minute)), "lesson 1 not sent to everyone in 3 minutes: %d", sent)
				b.advance(t, at)
			}
			require.Equal(t, []scheduler.BreakerChange{scheduler.BreakerOpened, scheduler.BreakerClosed}, events.changes())
			require.Equal(t, 0.0, gauge(t, reg, "morsel_sms_breaker_open", "+15005550006"))

			// While open: the probes alone reached the provider, one at a
			// time, each at least a probe interval after the one before; and
			// until it closed, every call but the last took a fault.
			opened, _ := events.at(scheduler.BreakerOpened)
			closed, _ := events.at(scheduler.BreakerClosed)
			log.mu.Lock()
			var during, untilClosed []time.Time
			for _, c := range log.calls {
				if c.After(opened) && !c.After(closed) {
					during = append(during, c)
				}
				if !c.After(closed) {
					untilClosed = append(untilClosed, c)
				}
			}
			maxOut := log.maxOut
			log.mu.Unlock()
			require.NotEmpty(t, during, "a probe closed the breaker")
			for i := 1; i < len(during); i++ {
				require.GreaterOrEqual(t, during[i].Sub(during[i-1]), probeEvery, "probe %d came too soon", i)
			}
			require.LessOrEqual(t, maxOut, 1, "one probe at a time")
			if !tt.lookup {
				require.Len(t, untilClosed, fault.Times+1, "the faults, then the probe that got through")
			}

			// Jobs snoozed rather than spent their attempts: an attempt is a
			// call that failed (a fault) or the one that sent.
			var sumAttempts, snoozed int
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT sum(attempt), count(*) FILTER (WHERE (metadata->>'snoozes')::int > 0)
				FROM river_job WHERE kind = 'send_sms' AND state = 'completed'`).Scan(&sumAttempts, &snoozed))
			require.Equal(t, fault.Times+reps, sumAttempts)
			require.Positive(t, snoozed, "jobs waited out the open breaker")

			b.advance(t, nextLesson.Add(time.Second))
			got := received(b.emu)
			require.Len(t, got, reps)
			for phone, bodies := range got {
				require.Equal(t, []string{"Lesson 1", "Lesson 2"}, lessonTitles(bodies), "%s: each lesson once, in order", phone)
			}
		})
	}
}

// gauge reads one labelled gauge from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name, sender string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "sender" && l.GetValue() == sender {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{sender=%q}", name, sender)
	return 0
}
