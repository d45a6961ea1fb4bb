package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
)

// The demo's history: its reps were enrolled weeks ago, and those weeks are
// played through the real scheduler on a clock that starts in the past and
// catches up with now. Lessons go out on their cadence through the River
// workers; simulated reps open them, watch the videos (segment events into
// the outbox, as the lesson page's pings), answer the quiz questions by
// SMS (some wrong), text STOP, or have a number that cannot take SMS. Every
// event takes the live path: outbox, shipper, rollups.

const (
	demoHistoryDays = 16
	demoSimulatorTo = "+15005550006" // where the phone simulator's replies go (web.simulatorTo)
	demoNudges      = 4              // reps nudged within a minute of the demo starting
	demoStep        = 2 * time.Hour  // the least step of the play
	demoShipEvery   = 6 * time.Hour  // of the past, between shipments of the outbox
)

// demoSender is the phone simulator, except that some numbers are
// landlines: the provider refuses them for good, as Twilio does.
type demoSender struct {
	scheduler.Simulator
	landlines map[string]bool
}

func (d demoSender) Send(ctx context.Context, m scheduler.SMS) (scheduler.Accepted, error) {
	if d.landlines[m.To] {
		return scheduler.Accepted{}, &scheduler.SendError{Kind: scheduler.Permanent, Code: lessons.ErrorLandline,
			Message: "Landline or unreachable carrier"}
	}
	return d.Simulator.Send(ctx, m)
}

// demoAction is something a simulated rep does at a time.
type demoAction struct {
	at time.Time
	do func(context.Context) error
}

type demoPlayer struct {
	e       *env
	pool    *pgxpool.Pool
	ch      driver.Conn
	store   *lessons.Store
	sched   *scheduler.Scheduler
	clock   *scheduler.Clock
	org     lessons.Org
	rng     *mathrand.Rand
	persona map[int64]persona // by rep
	handled map[int64]bool    // messages the reps have seen
	stopped map[int64]bool    // reps who texted STOP
	pending []demoAction
	seenTo  time.Time       // messages sent before it were seen
	shipped time.Time       // the outbox was last shipped
	answers map[int64][]int // course version's lesson id -> the correct choice of each question
}

// playDemoHistory enrolls the reps demoHistoryDays ago and plays the weeks
// since; it returns the enrollments made.
func playDemoHistory(ctx context.Context, e *env, cfg Config, pool *pgxpool.Pool, ch driver.Conn, org lessons.Org,
	required, second lessons.CourseVersion, teamIDs []int64) (int, error) {
	now := time.Now().UTC()
	start := now.Add(-demoHistoryDays * 24 * time.Hour)
	p := &demoPlayer{e: e, pool: pool, ch: ch, org: org, clock: scheduler.NewClock(start), seenTo: start, rng: mathrand.New(mathrand.NewPCG(7, 7)),
		persona: map[int64]persona{}, handled: map[int64]bool{}, stopped: map[int64]bool{}, answers: map[int64][]int{}}
	queue, err := scheduler.NewQueue(pool, scheduler.QueueConfig{Now: p.clock.Now, Test: river.TestConfig{Time: p.clock}}, scheduler.WarningsOnly(e.log))
	if err != nil {
		return 0, err
	}
	p.store = lessons.NewStore(pool, lessons.StoreConfig{PublicURL: cfg.PublicURL, Queue: queue, Now: p.clock.Now})
	landlines := map[string]bool{}
	for after := int64(0); ; {
		reps, err := p.store.Reps(ctx, org.ID, lessons.RepFilter{AfterID: after, Limit: 1000})
		if err != nil {
			return 0, err
		}
		if len(reps) == 0 {
			break
		}
		for _, r := range reps {
			pr := pickPersona(p.rng)
			p.persona[r.ID] = pr
			if pr.badPhone {
				landlines[r.Phone] = true
			}
		}
		after = reps[len(reps)-1].ID
	}
	for _, v := range []lessons.CourseVersion{required, second} {
		for _, l := range v.Spec.Lessons {
			for _, q := range l.Questions {
				p.answers[l.ID] = append(p.answers[l.ID], q.Correct)
			}
		}
	}
	sched, err := scheduler.New(pool, p.store, demoSender{landlines: landlines}, scheduler.Config{
		SMSWorkers: 50, DefaultMPS: 0, Now: p.clock.Now, FetchPollInterval: 20 * time.Millisecond, Test: river.TestConfig{Time: p.clock},
		StatusCallback: cfg.PublicURL + "/webhooks/twilio/status", DefaultFrom: cfg.TwilioFrom,
		DefaultMessagingServiceSID: cfg.TwilioMessagingServiceSID,
	}, scheduler.WarningsOnly(e.log), true)
	if err != nil {
		return 0, err
	}
	p.sched = sched
	if err := p.sched.Start(ctx); err != nil {
		return 0, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.sched.Stop(stopCtx)
	}()

	// Teams start in waves, so that some are done, some halfway and some
	// just begun: the required course for each team a week apart, the
	// second course for all but the last team.
	type wave struct {
		at       time.Time
		course   int64
		teams    []int64
		startNow bool // the first lesson at once, as a trainer enrolling today's hires does
	}
	var waves []wave
	for i, team := range teamIDs {
		waves = append(waves, wave{start.Add(time.Duration(i*6) * 24 * time.Hour), required.CourseID, []int64{team}, false})
	}
	if len(teamIDs) > 1 {
		waves = append(waves, wave{start.Add(4 * 24 * time.Hour), second.CourseID, teamIDs[:len(teamIDs)-1], true})
	}
	slices.SortFunc(waves, func(a, b wave) int { return a.at.Compare(b.at) })
	n := 0
	last := time.Now()
	for t := start; t.Before(now); {
		for len(waves) > 0 && !waves[0].at.After(t) {
			p.clock.Set(waves[0].at)
			res, err := p.store.Enroll(ctx, org.ID, lessons.EnrollRequest{CourseID: waves[0].course, TeamIDs: waves[0].teams, StartNow: waves[0].startNow})
			if err != nil {
				return 0, fmt.Errorf("demo enrollments: %w", err)
			}
			n += len(res.Enrollments)
			waves = waves[1:]
		}
		if err := p.step(ctx, t, false); err != nil {
			return 0, err
		}
		if time.Since(last) > time.Second {
			fmt.Fprintf(e.stderr, "\rdemo history: %d of %d days", int(t.Sub(start).Hours()/24), demoHistoryDays)
			last = time.Now()
		}
		end := now
		if len(waves) > 0 {
			end = minTime(end, waves[0].at)
		}
		t = p.next(ctx, t, end)
	}
	if err := p.step(ctx, time.Now(), true); err != nil {
		return 0, err
	}
	fmt.Fprintf(e.stderr, "\rdemo history: %d of %d days\n", demoHistoryDays, demoHistoryDays)
	return n, p.nudgeSoon(ctx)
}

// next is when the play goes on after t: the next job due or the next
// thing a rep does, whichever comes first, at least demoStep on and no
// later than end.
func (p *demoPlayer) next(ctx context.Context, t, end time.Time) time.Time {
	next := end
	if job, ok, err := p.sched.NextDue(ctx); err == nil && ok {
		next = minTime(next, job)
	}
	if len(p.pending) > 0 {
		next = minTime(next, p.pending[0].at)
	}
	// What falls due within demoStep of each other is played together:
	// a rep's reply may come up to that much later than planned.
	return minTime(maxTime(next, t.Add(demoStep)), end)
}

// step moves the clock to t, has the reps do what they planned to by then,
// lets the workers do what is due (lessons, replies), looks at what the
// reps got, and now and then ships the events, so that watched videos
// complete as the shipper makes them.
func (p *demoPlayer) step(ctx context.Context, t time.Time, last bool) error {
	p.clock.Set(t)
	for len(p.pending) > 0 && !p.pending[0].at.After(p.clock.Now()) {
		a := p.pending[0]
		p.pending = p.pending[1:]
		if err := a.do(ctx); err != nil {
			return err
		}
	}
	if err := p.settle(ctx); err != nil {
		return err
	}
	if err := p.see(ctx); err != nil {
		return err
	}
	if !last && p.clock.Now().Sub(p.shipped) < demoShipEvery {
		return nil
	}
	p.shipped = p.clock.Now()
	for {
		n, err := tracking.Ship(ctx, p.pool, p.ch, 50_000, func(ctx context.Context, tx pgx.Tx, events []tracking.Event) error {
			return p.store.RecordWatched(ctx, tx, lessons.WatchedSegments(events))
		})
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// settle makes the jobs due by the clock available and waits until none is
// left to run (see the scheduler tests' advance).
func (p *demoPlayer) settle(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for idle := 0; idle < 2; {
		now := p.clock.Now()
		if _, err := p.sched.ReleaseDue(ctx, now); err != nil {
			return err
		}
		busy, err := p.sched.Busy(ctx, now)
		if err != nil {
			return err
		}
		if busy == 0 {
			idle++
			continue
		}
		idle = 0
		if time.Now().After(deadline) {
			return fmt.Errorf("demo history: %d jobs still busy after a minute", busy)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// see looks at the messages the reps got since the last step and plans
// what each does about them.
func (p *demoPlayer) see(ctx context.Context) error {
	ms, err := p.store.ReceivedSince(ctx, p.org.ID, p.seenTo.Add(-time.Minute))
	if err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	p.seenTo = p.clock.Now()
	for _, m := range ms {
		if p.handled[m.MessageID] || p.stopped[m.RepID] {
			continue
		}
		p.handled[m.MessageID] = true
		pr := p.persona[m.RepID]
		at := m.SentAt.Add(time.Duration(p.rng.Int64N(int64(pr.delay)+1)) + time.Minute)
		if pr.optOut && p.rng.IntN(6) == 0 {
			p.stopped[m.RepID] = true
			p.later(at, func(ctx context.Context) error { return p.reply(ctx, m.Phone, "STOP") })
			continue
		}
		if p.rng.Float64() >= pr.doProb {
			continue
		}
		switch {
		case m.Purpose == lessons.PurposeQuestion:
			choice := 0
			if q := p.answers[m.LessonID]; m.Question < len(q) {
				choice = q[m.Question]
				if p.rng.IntN(5) == 0 { // one answer in five is wrong
					choice = (choice + 1) % 2
				}
			}
			p.later(at, func(ctx context.Context) error { return p.reply(ctx, m.Phone, lessons.ChoiceLetter(choice)) })
		case m.Token != "" && m.Kind == lessons.KindVideo:
			p.later(at, func(ctx context.Context) error { return p.watch(ctx, m.Token, m.VideoSeconds) })
		case m.Token != "":
			p.later(at, func(ctx context.Context) error {
				_, err := p.store.OpenLesson(ctx, m.Token)
				return err
			})
		}
	}
	return nil
}

// later plans what a rep does at a time; the plans stay in time order.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (p *demoPlayer) later(at time.Time, do func(context.Context) error) {
	i, _ := slices.BinarySearchFunc(p.pending, at, func(a demoAction, t time.Time) int { return a.at.Compare(t) })
	p.pending = slices.Insert(p.pending, i, demoAction{at: at, do: do})
}

// reply texts body from the rep's phone, as the phone simulator does.
func (p *demoPlayer) reply(ctx context.Context, from, body string) error {
	b := make([]byte, 16)
	rand.Read(b)
	to := p.org.SMSFrom
	if to == "" {
		to = demoSimulatorTo
	}
	return p.sched.Receive(ctx, lessons.InboundSMS{SID: "SIM" + hex.EncodeToString(b), From: from, To: to, Body: body})
}

// watch opens a video lesson and plays it, all of it or the first part,
// writing the segment events the page's pings would.
func (p *demoPlayer) watch(ctx context.Context, token string, seconds int) error {
	v, err := p.store.OpenLesson(ctx, token)
	if err != nil {
		return err
	}
	segments := max(1, (seconds+tracking.SegmentSeconds-1)/tracking.SegmentSeconds)
	watched := segments
	if p.rng.IntN(3) == 0 {
		watched = 1 + p.rng.IntN(segments) // left before the end
	}
	now := p.clock.Now()
	events := make([]tracking.Event, watched)
	for i := range events {
		events[i] = tracking.Event{OrgID: v.OrgID, RepID: v.RepID, Key: tracking.SegmentKey(v.AssignmentID, i),
			Kind: tracking.KindSegmentWatched, OccurredAt: now.Add(time.Duration(i+1) * tracking.SegmentSeconds * time.Second),
			CourseID: v.CourseID, EnrollmentID: v.EnrollmentID, AssignmentID: v.AssignmentID, LessonID: v.LessonID, Value: float64(i)}
	}
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) })
}

// nudgeSoon queues a nudge, due within the first minute, for a few reps
// with a lesson sent and not done: the phone simulator shows traffic as
// soon as the app serves.
func (p *demoPlayer) nudgeSoon(ctx context.Context) error {
	ids, err := p.store.Unnudged(ctx, p.org.ID, demoNudges)
	if err != nil {
		return fmt.Errorf("demo nudges: %w", err)
	}
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for i, id := range ids {
			at := time.Now().Add(time.Duration(15+10*i) * time.Second)
			if _, err := p.sched.Client().InsertTx(ctx, tx, scheduler.NudgeArgs{AssignmentID: id}, &river.InsertOpts{ScheduledAt: at}); err != nil {
				return fmt.Errorf("demo nudges: %w", err)
			}
		}
		return nil
	})
}
