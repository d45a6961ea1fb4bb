package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// Monday 2027-03-08, 09:00 in New York is 14:00 UTC.
var (
	faultStart  = time.Date(2027, 3, 8, 6, 0, 0, 0, time.UTC)
	firstLesson = time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	nextLesson  = time.Date(2027, 3, 9, 14, 0, 0, 0, time.UTC)
)

const nyPhone = "+12125550101"

// oneRep sets up one New York rep enrolled in a two-lesson course.
func oneRep(t *testing.T, opts twilioemu.Options) (testBundle, lessons.Rep) {
	t.Helper()
	b := setupTimeout(t, faultStart, opts, 2*time.Second)
	v := b.course(t, 2)
	reps := b.reps(t, nyPhone, "America/New_York")
	b.enroll(t, v.CourseID, reps)
	return b, reps[0]
}

// retryUntilIdle advances the clock in 3 s steps (retries come 2 s apart) for
// up to a minute of test time.
func (b testBundle) retryUntilIdle(t *testing.T, from time.Time) {
	t.Helper()
	for at := from; at.Before(from.Add(time.Minute)); at = at.Add(3 * time.Second) {
		b.advance(t, at)
	}
}

func TestTransientFailuresAreRetriedWithoutDuplicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault twilioemu.Fault
	}{
		{"500 twice", twilioemu.Fault{Kind: twilioemu.FaultServerError, Times: 2}},
		{"503", twilioemu.Fault{Kind: twilioemu.FaultUnavailable}},
		{"502 from a proxy", twilioemu.Fault{Kind: twilioemu.FaultBadGateway}},
		{"accepted, then 504 from a proxy", twilioemu.Fault{Kind: twilioemu.FaultGatewayTimeout}},
		{"429 three times", twilioemu.Fault{Kind: twilioemu.FaultRateLimited, Times: 3}},
		{"connection dropped", twilioemu.Fault{Kind: twilioemu.FaultDrop}},
		{"accepted, then the connection dropped", twilioemu.Fault{Kind: twilioemu.FaultAcceptThenDrop}},
		{"accepted, answered too late", twilioemu.Fault{Kind: twilioemu.FaultTimeout, Delay: 3 * time.Second}},
		{"five failures: backoff", twilioemu.Fault{Kind: twilioemu.FaultServerError, Times: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := oneRep(t, twilioemu.Options{})
			tt.fault.To = nyPhone
			b.emu.Fail(tt.fault)
			b.retryUntilIdle(t, firstLesson)
			if tt.fault.Times > 3 {
				// Past the quick retries the wait grows: 15 s, 30 s...
				b.retryUntilIdle(t, firstLesson.Add(time.Minute))
			}
			require.Equal(t, []string{"Lesson 1"}, lessonTitles(received(b.emu)[nyPhone]), "sent exactly once")

			// The next lesson waited for the first and then comes on time.
			b.advance(t, nextLesson.Add(time.Second))
			require.Equal(t, []string{"Lesson 1", "Lesson 2"}, lessonTitles(received(b.emu)[nyPhone]))
			var queued int
			require.NoError(t, b.pool.QueryRow(context.Background(),
				`SELECT count(*) FROM messages WHERE status = 'queued' AND provider_sid IS NOT NULL`).Scan(&queued))
			require.Equal(t, 2, queued)
		})
	}
}

func TestPermanentFailuresStopTheRep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     twilioemu.FaultKind
		code      int
		optedOut  bool
		invalidAt bool
	}{
		{"21610 unsubscribed", twilioemu.FaultUnsubscribed, 21610, true, false},
		{"21211 invalid number", twilioemu.FaultInvalidNumber, 21211, false, true},
		{"21614 not a mobile", twilioemu.FaultNotMobile, 21614, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, rep := oneRep(t, twilioemu.Options{})
			b.emu.Fail(twilioemu.Fault{Kind: tt.fault, To: nyPhone})
			b.retryUntilIdle(t, firstLesson)
			b.advance(t, nextLesson.Add(time.Hour))
			require.Empty(t, received(b.emu)[nyPhone], "nothing is sent after a permanent failure")

			ctx := context.Background()
			var status string
			var code int
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT status, error_code FROM messages WHERE rep_id = $1`, rep.ID).Scan(&status, &code))
			require.Equal(t, "failed", status)
			require.Equal(t, tt.code, code)
			var optedOut, invalid bool
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT opted_out_at IS NOT NULL, phone_invalid_at IS NOT NULL FROM reps WHERE id = $1`, rep.ID).Scan(&optedOut, &invalid))
			require.Equal(t, tt.optedOut, optedOut)
			require.Equal(t, tt.invalidAt, invalid)
			var attempts int
			var state string
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT attempt, state FROM river_job WHERE kind = 'send_sms'`).Scan(&attempts, &state))
			require.Equal(t, 1, attempts, "a permanent failure is not retried")
			require.Equal(t, "cancelled", state)
		})
	}
}

func TestOptedOutRepReceivesNothingMore(t *testing.T) {
	t.Parallel()
	b, rep := oneRep(t, twilioemu.Options{})
	b.advance(t, firstLesson.Add(time.Second))
	require.Len(t, received(b.emu)[nyPhone], 1)

	_, err := b.store.SetOptedOut(context.Background(), b.org.ID, rep.ID, true)
	require.NoError(t, err)
	b.advance(t, nextLesson.Add(time.Hour))
	require.Len(t, received(b.emu)[nyPhone], 1, "nothing after opting out")
	var status, reason string
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT status, error_message FROM messages WHERE rep_id = $1 ORDER BY id DESC LIMIT 1`, rep.ID).Scan(&status, &reason))
	require.Equal(t, "cancelled", status)
	require.Equal(t, "the rep opted out", reason)
}

func TestTwoWorkerProcessesSendEachMessageOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{})
	sender, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: b.emu.AccountSID(), AuthToken: b.emu.AuthToken(), APIURL: b.emu.URL()})
	require.NoError(t, err)
	newScheduler(t, b.pool, b.store, sender, b.clock) // a second process on the same database

	v := b.course(t, 2)
	var in []lessons.RepInput
	for _, r := range lessons.GenerateReps(60, 7) {
		r.TimeZone = "America/New_York"
		in = append(in, r)
	}
	_, err = b.store.ImportReps(context.Background(), b.org.ID, in)
	require.NoError(t, err)
	reps, err := b.store.Reps(context.Background(), b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	b.enroll(t, v.CourseID, reps)

	b.advance(t, firstLesson.Add(time.Second))
	got := received(b.emu)
	require.Len(t, got, 60)
	for phone, bodies := range got {
		require.Equal(t, []string{"Lesson 1"}, lessonTitles(bodies), phone)
	}
}

// A worker killed while sending leaves its job running; River rescues it, and
// the retry finds the message the provider had already taken rather than
// sending it again.
func TestKilledWorkerLosesNothingAndSendsOnce(t *testing.T) {
	t.Parallel()
	b, _ := oneRep(t, twilioemu.Options{})
	ctx := context.Background()
	require.NoError(t, b.sched.Stop(ctx)) // the process that will "die"

	// It had fetched the job and the provider had taken the message, then it died.
	var body string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT body FROM messages`).Scan(&body))
	sender, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: b.emu.AccountSID(), AuthToken: b.emu.AuthToken(), APIURL: b.emu.URL()})
	require.NoError(t, err)
	b.clock.set(firstLesson)
	_, err = sender.Send(ctx, scheduler.SMS{From: "+15005550006", To: nyPhone, Body: body})
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '10 minutes',
		attempted_by = '{dead-worker}' WHERE kind = 'send_sms'`)
	require.NoError(t, err)

	newScheduler(t, b.pool, b.store, sender, b.clock) // a fresh process starts
	deadline := time.Now().Add(20 * time.Second)
	for {
		var state string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT state FROM river_job WHERE kind = 'send_sms' ORDER BY id LIMIT 1`).Scan(&state))
		if state != "running" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the stuck job was not rescued")
		time.Sleep(50 * time.Millisecond)
	}
	b.retryUntilIdle(t, firstLesson.Add(time.Second))
	b.advance(t, nextLesson.Add(time.Second))
	require.Equal(t, []string{"Lesson 1", "Lesson 2"}, lessonTitles(received(b.emu)[nyPhone]), "lesson 1 once, then lesson 2")
}

// A From number carries at most DefaultMPS messages a second, whatever the
// number of workers.
func TestSenderRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{}, func(c *scheduler.Config) { c.DefaultMPS, c.DefaultFrom = 5, "+15005550006" })
	_, err := b.pool.Exec(context.Background(), `UPDATE organisations SET sms_from = NULL`)
	require.NoError(t, err)
	v := b.course(t, 1)
	var in []lessons.RepInput
	for _, r := range lessons.GenerateReps(15, 3) {
		r.TimeZone = "America/New_York"
		in = append(in, r)
	}
	_, err = b.store.ImportReps(context.Background(), b.org.ID, in)
	require.NoError(t, err)
	reps, err := b.store.Reps(context.Background(), b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	b.enroll(t, v.CourseID, reps)

	b.advance(t, firstLesson.Add(time.Second))
	for end := time.Now().Add(20 * time.Second); b.emu.MessageCount() < 15 && time.Now().Before(end); {
		b.advance(t, b.clock.Now())
	}
	msgs := b.emu.Messages()
	require.Len(t, msgs, 15)
	for i := 0; i+5 < len(msgs); i++ {
		gap := msgs[i+5].DateCreated.Sub(msgs[i].DateCreated)
		require.GreaterOrEqual(t, gap, 900*time.Millisecond, "messages %d-%d within %s: more than 5 a second", i, i+5, gap)
	}
}
