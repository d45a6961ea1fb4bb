package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// clock is the tests' time (scheduler.Clock), shared by the store, the
// scheduler and River; set moves it forward.
type clock struct{ *scheduler.Clock }

func (c *clock) set(t time.Time) { c.Set(t) }

type testBundle struct {
	pool  *pgxpool.Pool
	store *lessons.Store
	sched *scheduler.Scheduler
	emu   *twilioemu.Server
	clock *clock
	org   lessons.Org
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// setup starts an emulator and a scheduler sending to it, on a fresh database,
// with the clock at start.
func setup(t *testing.T, start time.Time, opts twilioemu.Options, cfgs ...func(*scheduler.Config)) testBundle {
	t.Helper()
	return setupTimeout(t, start, opts, 10*time.Second, cfgs...)
}

// setupTimeout is setup with the sender's HTTP timeout, short for the tests
// of a provider that answers too late.
func setupTimeout(t *testing.T, start time.Time, opts twilioemu.Options, timeout time.Duration, cfgs ...func(*scheduler.Config)) testBundle {
	t.Helper()
	pool := dbtest.Postgres(t)
	clk := &clock{scheduler.NewClock(start)}
	queue, err := scheduler.NewQueue(pool, scheduler.QueueConfig{Now: clk.Now, Test: river.TestConfig{Time: clk}}, quiet)
	require.NoError(t, err)
	store := lessons.NewStore(pool, lessons.StoreConfig{PublicURL: "https://morsel.test", Queue: queue,
		PasswordCost: bcrypt.MinCost, Now: clk.Now})
	org, err := store.CreateOrg(context.Background(), lessons.Org{Slug: "acme", Name: "Acme", SMSFrom: "+15005550006"})
	require.NoError(t, err)

	if opts.Now == nil {
		opts.Now = clk.Now
	}
	opts.DisableCallbacks = true
	emu := twilioemu.New(opts)
	require.NoError(t, emu.Start())
	t.Cleanup(emu.Close)
	sender, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: emu.AccountSID(), AuthToken: emu.AuthToken(),
		APIURL: emu.URL(), Timeout: timeout})
	require.NoError(t, err)
	sched := newScheduler(t, pool, store, sender, clk, cfgs...)
	return testBundle{pool: pool, store: store, sched: sched, emu: emu, clock: clk, org: org}
}

// newScheduler starts a scheduler; nudges are off unless the test turns them on.
func newScheduler(t *testing.T, pool *pgxpool.Pool, store *lessons.Store, sender scheduler.Sender, clk *clock, opts ...func(*scheduler.Config)) *scheduler.Scheduler {
	t.Helper()
	cfg := scheduler.Config{
		SMSWorkers: 20, Now: clk.Now, DefaultMPS: 0, NudgeAfter: -1,
		StatusCallback: "https://morsel.test/webhooks/twilio/status",
		Test:           river.TestConfig{Time: clk},
	}
	for _, o := range opts {
		o(&cfg)
	}
	sched, err := scheduler.New(pool, store, sender, cfg, quiet, true)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, sched.Start(ctx))
	t.Cleanup(func() {
		stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, sched.Stop(stopCtx))
		cancel()
	})
	return sched
}

// advance moves the clock to t, makes the jobs due by then available (what
// River's scheduler does every few seconds), and waits until no job is left
// to run. A job River made available for later (a short retry or snooze) is
// not due until then.
func (b testBundle) advance(t *testing.T, to time.Time) {
	t.Helper()
	b.clock.Set(to)
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	// The clock runs on from to: a job that finishes just after now is read
	// may queue work due at its own, later now. So the jobs are done when two
	// checks in a row find nothing due, the second with a now read after the
	// first found every job finished.
	for idle := 0; idle < 2; {
		now := b.clock.Now()
		_, err := b.sched.ReleaseDue(ctx, now)
		require.NoError(t, err)
		busy, err := b.sched.Busy(ctx, now)
		require.NoError(t, err)
		if busy == 0 {
			idle++
			continue
		}
		idle = 0
		if time.Now().After(deadline) {
			t.Fatalf("jobs still busy after 20s: %d", busy)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// course stores and publishes a course of n text lessons on weekdays at 09:00.
func (b testBundle) course(t *testing.T, n int) lessons.CourseVersion {
	t.Helper()
	spec := lessons.CourseSpec{Slug: "basics", Title: "Basics", PassMark: 70, DueDays: 30,
		Cadence: lessons.Cadence{Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
			Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow()}
	for i := range n {
		spec.Lessons = append(spec.Lessons, lessons.Lesson{Key: fmt.Sprintf("l%d", i+1), Kind: lessons.KindText,
			Title: fmt.Sprintf("Lesson %d", i+1), Body: "Text of the lesson."})
	}
	v, err := b.store.SaveCourse(context.Background(), b.org.ID, spec, true)
	require.NoError(t, err)
	return v
}

// reps imports reps with the phones and zones given in pairs.
func (b testBundle) reps(t *testing.T, phoneZones ...string) []lessons.Rep {
	t.Helper()
	var in []lessons.RepInput
	for i := 0; i < len(phoneZones); i += 2 {
		in = append(in, lessons.RepInput{Name: "Rep " + phoneZones[i], Phone: phoneZones[i], TimeZone: phoneZones[i+1]})
	}
	_, err := b.store.ImportReps(context.Background(), b.org.ID, in)
	require.NoError(t, err)
	reps, err := b.store.Reps(context.Background(), b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	return reps
}

func (b testBundle) enroll(t *testing.T, courseID int64, reps []lessons.Rep) {
	t.Helper()
	ids := make([]int64, len(reps))
	for i, r := range reps {
		ids[i] = r.ID
	}
	_, err := b.store.Enroll(context.Background(), b.org.ID, lessons.EnrollRequest{CourseID: courseID, RepIDs: ids})
	require.NoError(t, err)
}

// received returns the bodies the emulator took for each number, in order.
func received(emu *twilioemu.Server) map[string][]string {
	out := map[string][]string{}
	for _, m := range emu.Messages() {
		out[m.To] = append(out[m.To], m.Body)
	}
	return out
}

// lessonTitles returns the "Lesson N" titles in the bodies.
func lessonTitles(bodies []string) []string {
	var out []string
	for _, b := range bodies {
		var course string
		var step, steps, n int
		if _, err := fmt.Sscanf(b, "%s %d/%d: Lesson %d", &course, &step, &steps, &n); err == nil {
			out = append(out, fmt.Sprintf("Lesson %d", n))
		} else {
			out = append(out, b)
		}
	}
	return out
}
