package scheduler

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// The breaker's rules on an injected time: what opens it, what does not, one
// probe at a time at the probe interval, and closing on an answer.
func TestBreakerRules(t *testing.T) {
	t.Parallel()
	var (
		t0       = time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
		down     = &SendError{Kind: Transient, Code: 20500, Message: "internal error"}
		timeout  = &SendError{Kind: Ambiguous, Message: "Twilio did not answer in time"}
		optedOut = &SendError{Kind: Permanent, Code: 21610, Message: "unsubscribed"}
	)
	type send struct {
		at  time.Duration // after t0
		err error         // nil: accepted
	}
	tests := []struct {
		name     string
		sends    []send
		wantOpen bool
		want     []BreakerChange
	}{
		{"most fail", []send{{0, down}, {1, timeout}, {2, down}, {3, nil}}, true,
			[]BreakerChange{BreakerFailureRate, BreakerOpened}},
		{"too few sends", []send{{0, down}, {1, down}, {2, down}}, false, nil},
		{"refusals about recipients are answers", []send{{0, optedOut}, {1, optedOut}, {2, optedOut}, {3, optedOut}}, false, nil},
		{"a quarter fail: alert, no breaker", []send{{0, down}, {1, nil}, {2, nil}, {3, nil}}, false,
			[]BreakerChange{BreakerFailureRate}},
		{"failures spread over windows", []send{{0, down}, {1, down}, {61, nil}, {62, nil}, {63, nil}, {64, nil}, {65, nil}, {66, down}}, false, nil},
		{"a calm window after an alert", []send{{0, down}, {1, nil}, {2, nil}, {3, nil}, {61, nil}, {62, nil}, {63, nil}, {64, nil}, {125, nil}}, false,
			[]BreakerChange{BreakerFailureRate, BreakerFailureRateLow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []BreakerChange
			b := newBreaker(BreakerConfig{MinSends: 4, Window: time.Minute, ProbeInterval: 5 * time.Second,
				OnChange: func(e BreakerEvent) { got = append(got, e.Change) }}, nil)
			for _, s := range tt.sends {
				now := t0.Add(s.at * time.Second)
				p, wait := b.admit("+15005550006", now)
				require.Zero(t, wait)
				p.done(now, outcomeOf(s.err), s.err)
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantOpen, b.isOpen("+15005550006"))
		})
	}
}

func TestBreakerProbesOneAtATimeAndCloses(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, nil)
	require.NoError(t, err)
	var events []BreakerEvent
	b := newBreaker(BreakerConfig{MinSends: 2, ProbeInterval: 5 * time.Second,
		OnChange: func(e BreakerEvent) { events = append(events, e) }}, m)
	down := errors.New("connection reset")
	const from = "+15005550006"
	for range 2 {
		p, _ := b.admit(from, t0)
		p.done(t0, outcomeFailed, down)
	}
	require.True(t, b.isOpen(from))
	require.Equal(t, 1.0, testutil.ToFloat64(m.breaker.WithLabelValues(from)))
	require.Equal(t, 1.0, testutil.ToFloat64(m.breakerOpen.WithLabelValues(from)))
	other, wait := b.admit("+15005550007", t0)
	require.NotNil(t, other, "another sender is not held back")
	require.Zero(t, wait)

	// Before the probe is due every send snoozes, past the probe's time.
	_, wait = b.admit(from, t0.Add(time.Second))
	require.GreaterOrEqual(t, wait, 4*time.Second)
	require.Less(t, wait, 9*time.Second)

	// Once due, one send goes through as the probe; the others wait for it.
	probe, wait := b.admit(from, t0.Add(5*time.Second))
	require.Zero(t, wait)
	require.True(t, probe.probe)
	_, wait = b.admit(from, t0.Add(5*time.Second))
	require.Positive(t, wait, "one probe at a time")

	// A failed probe waits a whole interval for the next.
	probe.done(t0.Add(6*time.Second), outcomeFailed, down)
	_, wait = b.admit(from, t0.Add(10*time.Second))
	require.Positive(t, wait, "the next probe is 5 s after the failed one")

	// A probe that never reached the provider frees the slot and decides nothing.
	probe, _ = b.admit(from, t0.Add(11*time.Second))
	require.True(t, probe.probe)
	probe.done(t0.Add(11*time.Second), outcomeNone, nil)
	require.True(t, b.isOpen(from))

	probe, _ = b.admit(from, t0.Add(12*time.Second))
	require.True(t, probe.probe)
	probe.done(t0.Add(12*time.Second), outcomeAnswered, nil)
	probe.done(t0.Add(12*time.Second), outcomeFailed, down) // reported once only
	require.False(t, b.isOpen(from))
	p, wait := b.admit(from, t0.Add(12*time.Second))
	require.Zero(t, wait)
	require.False(t, p.probe)
	require.Equal(t, 0.0, testutil.ToFloat64(m.breaker.WithLabelValues(from)))

	var changes []BreakerChange
	for _, e := range events {
		changes = append(changes, e.Change)
		require.Equal(t, from, e.Sender)
	}
	require.Equal(t, []BreakerChange{BreakerFailureRate, BreakerOpened, BreakerClosed}, changes)
	require.Equal(t, "connection reset", events[1].Reason)
}
