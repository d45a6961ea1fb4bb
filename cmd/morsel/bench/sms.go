package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
	"github.com/morselhq/morsel/tracking"
)

// smsGoal is the sustained rate a 2-core machine should reach.
const smsGoal = 2000

// benchNudgeAfter keeps the nudges that the send transaction queues, as in
// production, beyond the bench's last lesson, so that they are never sent.
const benchNudgeAfter = 2 * 365 * 24 * time.Hour

// smsZones are the zones the reps of bench sms live in, in the order --zones takes them.
var smsZones = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}

// SMSZones returns the zones the reps of bench sms live in, in the order
// --zones takes them, a fresh slice each call.
func SMSZones() []string { return slices.Clone(smsZones) }

// SMSOptions are the flags of bench sms.
type SMSOptions struct {
	Reps          int           // reps to enroll in one Enroll call, 1 to 100,000
	Steps         int           // text lessons in the course, 1 to 200
	Workers       int           // SMS workers, 1 to 10,000
	FetchCooldown time.Duration // how often the SMS queue may fetch jobs
	Zones         int           // how many of SMSZones() the reps live in
	Conns         int           // Postgres connections; 0: as serve
	Queries       bool          // also print the statements that took the most time
	CPUProfile    string        // a file to write a CPU profile of the sending to; "": none
}

// SMSFigures are the figures of bench sms, the JSON object --json prints; durations in milliseconds, shares
// in percent.
type SMSFigures struct {
	MessagesPerSec  float64 `json:"messages_per_sec"`
	P50Ms           float64 `json:"p50_ms"`
	P90Ms           float64 `json:"p90_ms"`
	P99Ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	Lost            int     `json:"lost"`
	Duplicated      int     `json:"duplicated"`
	OutOfOrder      int     `json:"out_of_order"`
	Unrecorded      int     `json:"unrecorded"`
	Messages        int     `json:"messages"`
	Reps            int     `json:"reps"`
	Steps           int     `json:"steps"`
	Workers         int     `json:"workers"`
	FetchCooldownMs float64 `json:"fetch_cooldown_ms"`
	PoolConns       int     `json:"pool_conns"`
	Zones           int     `json:"zones"`
	Waves           int     `json:"waves"`
	SendMs          float64 `json:"send_ms"`
	EnrollMs        float64 `json:"enroll_ms"`
	// Where a message's time goes, averaged over the messages sent.
	JobMs             float64 `json:"job_ms_avg"`
	ProviderMs        float64 `json:"provider_ms_avg"`
	DBMs              float64 `json:"db_ms_per_message"`
	PoolWaitMs        float64 `json:"pool_wait_ms_per_message"`
	QueriesPerMessage float64 `json:"queries_per_message"`
	WorkerBusyPct     float64 `json:"worker_busy_pct"`
	CPUBusyPct        float64 `json:"cpu_busy_pct"`
	MorselCPUPct      float64 `json:"morsel_cpu_pct"`
	PostgresCPUPct    float64 `json:"postgres_cpu_pct"`
	// CPU time a message costs, and the rate all cores would allow at that cost.
	MorselCPUMs    float64 `json:"morsel_cpu_ms_per_message"`
	PostgresCPUMs  float64 `json:"postgres_cpu_ms_per_message"`
	CPUCeilingPerS float64 `json:"cpu_ceiling_messages_per_sec"`
	Org            string  `json:"org"`
}

// smsRun is one run of bench sms.
type smsRun struct {
	o       SMSOptions
	e       Env
	pool    *pgxpool.Pool
	store   *lessons.Store
	clock   *scheduler.Clock
	sched   *scheduler.Scheduler
	emu     *twilioemu.Server
	sender  *timedSender
	queries *queryCounter
	org     lessons.Org

	waves []smsWave
	cpu   cpuTicks // over the waves
}

// smsWave is one release of due jobs and their sending.
type smsWave struct {
	released int
	accepted int64
	took     time.Duration
	jobs     int           // send jobs completed in the wave
	jobTime  time.Duration // their summed time from fetch to completion
}

// SMS measures the sending of lessons: in an organisation of its own it
// enrolls o.Reps reps in a course of o.Steps text lessons, then moves the
// scheduler's clock from due time to due time while the River workers send
// each wave to a Twilio emulator, and checks that every lesson went out once
// and in order. It refuses a database where other River work is pending.
//
// Once the sending is measured SMS returns its figures, with an error too when
// a lesson was lost, duplicated, out of order or not recorded, or when the
// bench could not delete the jobs and events it leaves.
func SMS(ctx context.Context, e Env, o SMSOptions) (_ *SMSFigures, err error) {
	const name = "bench sms"
	r := &smsRun{o: o, e: e, queries: &queryCounter{perSQL: o.Queries}}
	db, err := openBenchDB(ctx, e, name, o.Conns, r.queries)
	if err != nil {
		return nil, err
	}
	defer db.close()
	r.pool, r.store = db.pool, db.store
	if err := checkQuietRiver(ctx, e, r.pool); err != nil {
		return nil, err
	}
	if r.org, err = createBenchOrg(ctx, e, r.store, name); err != nil {
		return nil, err
	}
	start := benchStart(time.Now())
	r.clock = scheduler.NewClock(start)
	queue, err := scheduler.NewQueue(r.pool, scheduler.QueueConfig{Now: r.clock.Now, Test: river.TestConfig{Time: r.clock}}, scheduler.WarningsOnly(e.Log))
	if err != nil {
		return nil, err
	}
	r.store = lessons.NewStore(r.pool, lessons.StoreConfig{PublicURL: "https://bench.morsel.test", Queue: queue, Now: r.clock.Now})

	r.emu = twilioemu.New(twilioemu.Options{DisableCallbacks: true, Now: time.Now})
	if err := r.emu.Start(); err != nil {
		return nil, err
	}
	defer r.emu.Close()
	tw, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: r.emu.AccountSID(), AuthToken: r.emu.AuthToken(), APIURL: r.emu.URL(),
		MaxConns: o.Workers})
	if err != nil {
		return nil, err
	}
	r.sender = &timedSender{next: tw}
	r.sched, err = scheduler.New(r.pool, r.store, r.sender, scheduler.Config{
		SMSWorkers: o.Workers, FetchCooldown: o.FetchCooldown, DefaultMPS: 0, NudgeAfter: benchNudgeAfter,
		Now: r.clock.Now, Test: river.TestConfig{Time: r.clock},
	}, scheduler.WarningsOnly(e.Log), true)
	if err != nil {
		return nil, err
	}
	// From here on the bench has jobs that a worker on the real clock would
	// send to real numbers in a few days, and events a shipper would ship:
	// delete them however the bench ends.
	defer func() {
		if cerr := r.cleanUp(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()

	enrollTook, err := r.prepare(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.Stderr, "%s: Twilio emulator at %s; %d workers, fetch cooldown %s, %d Postgres connections\n",
		name, r.emu.URL(), o.Workers, o.FetchCooldown, r.pool.Config().MaxConns)
	fmt.Fprintf(e.Stderr, "%s: sending: the clock moves to each due time from %s on, the due jobs are released, the workers send\n",
		name, start.Format("Mon 2 Jan 2006"))

	if err := r.sched.Start(ctx); err != nil {
		return nil, err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return r.sched.Stop(stopCtx)
	}
	defer stop()

	qBefore, statBefore := r.queries.snapshot(), r.pool.Stat()
	total := int64(o.Reps * o.Steps)
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	ticker := startCountTicker(e.Stderr, name, "messages accepted", total, &r.sender.accepted)
	err = r.drive(ctx)
	ticker.Stop()
	stopProfile()
	if err != nil {
		return nil, err
	}
	qAfter, statAfter := r.queries.snapshot(), r.pool.Stat()
	if err := stop(); err != nil {
		return nil, err
	}

	fig, err := r.figures(ctx, enrollTook, qAfter.minus(qBefore), statBefore, statAfter)
	if err != nil {
		return nil, err
	}
	r.report(e.Stdout, fig)
	if o.Queries {
		r.queries.printTop(e.Stdout, 12)
	}
	if fig.Lost+fig.Duplicated+fig.OutOfOrder+fig.Unrecorded > 0 {
		return &fig, fmt.Errorf("%d lost, %d duplicated, %d out of order, %d accepted but not recorded",
			fig.Lost, fig.Duplicated, fig.OutOfOrder, fig.Unrecorded)
	}
	return &fig, nil
}

// benchStart is the bench's first moment on its clock: the Monday, 00:00 UTC,
// at least two days after now. Every job of the bench is due in the future of
// the real clock, so a worker on that clock never takes one.
func benchStart(now time.Time) time.Time {
	d := now.UTC().AddDate(0, 0, 2)
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// checkQuietRiver refuses a database where other River work is pending or
// workers run: the bench's workers run on a clock days ahead and would take
// that work (and send it to the emulator), and the bench's released jobs
// would be theirs to take.
func checkQuietRiver(ctx context.Context, e Env, pool *pgxpool.Pool) error {
	// A lease expiring more than a minute from now was taken on a moved clock
	// by a bench or test that did not stop cleanly; River's TTL is seconds.
	tag, err := pool.Exec(ctx, `DELETE FROM river_leader WHERE expires_at > now() + interval '1 minute'`)
	if err != nil {
		return fmt.Errorf("check River: %w", err)
	}
	if tag.RowsAffected() > 0 {
		fmt.Fprintln(e.Stderr, "bench sms: removed a River leadership lease left on a moved clock by an earlier run")
	}
	var pending int
	var workers bool
	err = pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')),
			EXISTS (SELECT FROM river_leader WHERE expires_at > now())`).Scan(&pending, &workers)
	if err != nil {
		return fmt.Errorf("check River: %w", err)
	}
	const fix = "point DATABASE_URL at a database of its own, e.g. `createdb morsel_bench` and DATABASE_URL=postgres://.../morsel_bench (the bench migrates it)"
	switch {
	case workers:
		return errors.New("River workers are running on this database (a morsel serve?): they would take the bench's jobs; " + fix)
	case pending > 0:
		return fmt.Errorf("this database has %d unfinished River jobs, which the bench's workers (on a clock days ahead) would run; %s", pending, fix)
	}
	return nil
}

// prepare stores the course and the reps and enrolls them; it returns how
// long the enrollment took.
func (r *smsRun) prepare(ctx context.Context) (time.Duration, error) {
	const name = "bench sms"
	spec := lessons.CourseSpec{Slug: "bench", Title: "Bench", PassMark: 70, DueDays: min(365, 30+2*r.o.Steps),
		Cadence: lessons.Cadence{Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
			Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow()}
	for i := range r.o.Steps {
		spec.Lessons = append(spec.Lessons, lessons.Lesson{Key: fmt.Sprintf("l%d", i+1), Kind: lessons.KindText,
			Title: fmt.Sprintf("Lesson %d", i+1), Body: "Ask before you discount: what would make this an easy yes?"})
	}
	v, err := r.store.SaveCourse(ctx, r.org.ID, spec, true)
	if err != nil {
		return 0, fmt.Errorf("store the bench course: %w", err)
	}

	reps := lessons.GenerateReps(r.o.Reps, 1)
	for i := range reps {
		reps[i].TimeZone = smsZones[i%r.o.Zones]
	}
	t := time.Now()
	if _, err := r.store.ImportReps(ctx, r.org.ID, reps); err != nil {
		return 0, fmt.Errorf("store the bench reps: %w", err)
	}
	fmt.Fprintf(r.e.Stderr, "%s: course %q of %d text lessons (weekdays, 09:00); %s reps in %s stored in %.0f ms\n",
		name, spec.Title, r.o.Steps, thousands(r.o.Reps), strings.Join(smsZones[:r.o.Zones], ", "), ms(time.Since(t)))

	teams, err := r.store.Teams(ctx, r.org.ID)
	if err != nil {
		return 0, err
	}
	var teamIDs []int64
	for _, tm := range teams {
		teamIDs = append(teamIDs, tm.ID)
	}
	t = time.Now()
	res, err := r.store.Enroll(ctx, r.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, TeamIDs: teamIDs})
	took := time.Since(t)
	if err != nil {
		return 0, fmt.Errorf("enroll the bench reps: %w", err)
	}
	if len(res.Enrollments) != r.o.Reps {
		return 0, fmt.Errorf("enrolled %d reps of %d", len(res.Enrollments), r.o.Reps)
	}
	fmt.Fprintf(r.e.Stderr, "%s: enrolled %s reps in one Enroll call in %.0f ms (%s lessons to send)\n",
		name, thousands(r.o.Reps), ms(took), thousands(r.o.Reps*r.o.Steps))
	return took, nil
}

// drive moves the clock to the next due send, releases the jobs due then,
// waits until the workers have worked them all, and repeats until no send is
// left.
func (r *smsRun) drive(ctx context.Context) error {
	qctx := untraced(ctx)
	for {
		var next *time.Time
		err := r.pool.QueryRow(qctx, `SELECT min(scheduled_at) FROM river_job
			WHERE state IN ('scheduled', 'retryable') AND kind = $1`, scheduler.SendArgs{}.Kind()).Scan(&next)
		if err != nil {
			return fmt.Errorf("find the next due job: %w", err)
		}
		if next == nil {
			return nil
		}
		r.clock.Set(*next)
		pids, err := r.backendPIDs(qctx)
		if err != nil {
			return err
		}
		before := r.sender.accepted.Load()
		cpu0 := readCPU(pids)
		fakeStart := r.clock.Now()
		start := time.Now()
		r.sender.waveStart.Store(start.UnixNano())
		n, err := r.sched.ReleaseDue(qctx, fakeStart)
		if err != nil {
			return err
		}
		if err := r.waitIdle(qctx, before+int64(n)); err != nil {
			return err
		}
		w := smsWave{released: n, accepted: r.sender.accepted.Load() - before, took: time.Since(start)}
		r.cpu = r.cpu.plus(readCPU(pids).since(cpu0))
		var secs float64
		err = r.pool.QueryRow(qctx, `
			SELECT count(*), coalesce(sum(extract(epoch FROM finalized_at - attempted_at)), 0)::float8
			FROM river_job WHERE state = 'completed' AND kind = 'send_sms' AND finalized_at >= $1`, fakeStart).Scan(&w.jobs, &secs)
		if err != nil {
			return fmt.Errorf("read the wave's jobs: %w", err)
		}
		w.jobTime = time.Duration(secs * float64(time.Second))
		r.waves = append(r.waves, w)
		fmt.Fprintf(r.e.Stderr, "bench sms: wave %d: %s jobs due %s, %s accepted in %.0f ms (%s/s)\n",
			len(r.waves), thousands(n), next.UTC().Format("Mon 2 Jan 15:04 UTC"), thousands(w.accepted),
			ms(w.took), thousands(int64(float64(w.accepted)/w.took.Seconds())))
	}
}

// backendPIDs returns the process ids of the Postgres backends connected to
// the bench's database: with the server on this machine, /proc tells their
// CPU time.
func (r *smsRun) backendPIDs(ctx context.Context) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT pid::text FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil, fmt.Errorf("list the Postgres backends: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// waitIdle waits until no job is available or running: at once after the
// sender has seen target messages accepted, now and then before (a failed
// send never gets there).
func (r *smsRun) waitIdle(ctx context.Context, target int64) error {
	const stall = time.Minute
	lastCount, lastProgress, lastCheck := r.sender.accepted.Load(), time.Now(), time.Now()
	for {
		n := r.sender.accepted.Load()
		if n != lastCount {
			lastCount, lastProgress = n, time.Now()
		}
		if n >= target || time.Since(lastCheck) > 100*time.Millisecond {
			lastCheck = time.Now()
			var busy bool
			err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM river_job WHERE state IN ('available', 'running'))`).Scan(&busy)
			if err != nil {
				return fmt.Errorf("watch the jobs: %w", err)
			}
			if !busy {
				return nil
			}
		}
		if time.Since(lastProgress) > stall {
			return fmt.Errorf("stalled: nothing accepted for %s, %d of %d messages of the wave", stall, n, target)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// cleanUp deletes the jobs of the bench's organisation (sends, nudges and
// due-date reminders) and its events not yet shipped.
func (r *smsRun) cleanUp(ctx context.Context) error {
	return cleanUpBench(ctx, &benchDB{pool: r.pool, store: r.store}, r.org.ID)
}

// benchJobKinds are the scheduler's jobs that act on an organisation's
// messages, assignments and enrollments: what a bench deletes of its own.
var benchJobKinds = lessons.JobKinds{
	Message:    []string{scheduler.SendArgs{}.Kind(), scheduler.ReplyArgs{}.Kind()},
	Assignment: []string{scheduler.NudgeArgs{}.Kind()},
	Enrollment: []string{scheduler.RemindArgs{}.Kind()},
}

// deleteBenchJobs deletes the River jobs of a bench's organisation: its
// lesson messages, replies, nudges and due-date reminders are never run.
func deleteBenchJobs(ctx context.Context, store *lessons.Store, orgID int64) error {
	if _, err := store.DeleteQueuedJobs(ctx, orgID, benchJobKinds); err != nil {
		return fmt.Errorf("delete the bench's jobs: %w", err)
	}
	return nil
}

// cleanUpBench deletes what a bench leaves for a later worker or shipper:
// its jobs, on a clock days ahead that a worker on the real clock would run
// then, and its outbox events not shipped when it ended early. Its events
// already in batches, which other organisations' events may share, are left
// for the shipper.
func cleanUpBench(ctx context.Context, db *benchDB, orgID int64) error {
	if err := deleteBenchJobs(ctx, db.store, orgID); err != nil {
		return err
	}
	if _, err := tracking.DiscardUnshipped(ctx, db.pool, orgID); err != nil {
		return fmt.Errorf("delete the bench's events: %w", err)
	}
	return nil
}

// figures checks what the emulator received and works out the figures.
func (r *smsRun) figures(ctx context.Context, enrollTook time.Duration, q querySnapshot, before, after *pgxpool.Stat) (SMSFigures, error) {
	o := r.o
	msgs := r.emu.Messages()
	c := checkDelivery(msgs, o.Reps, o.Steps)
	counts, err := r.store.SendCounts(ctx, r.org.ID)
	if err != nil {
		return SMSFigures{}, fmt.Errorf("count the recorded messages: %w", err)
	}
	recorded := counts.Recorded
	var send, jobTime time.Duration
	var jobs int
	for _, w := range r.waves {
		send += w.took
		jobTime += w.jobTime
		jobs += w.jobs
	}
	lat := r.sender.latencies()
	n := float64(len(msgs))
	perMsg := func(d time.Duration) float64 {
		if n == 0 {
			return 0
		}
		return ms(time.Duration(float64(d) / n))
	}
	fig := SMSFigures{
		P50Ms: ms(percentile(lat, 0.50)), P90Ms: ms(percentile(lat, 0.90)), P99Ms: ms(percentile(lat, 0.99)), MaxMs: ms(percentile(lat, 1)),
		Lost: c.lost, Duplicated: c.duplicated, OutOfOrder: c.outOfOrder, Unrecorded: max(0, c.distinct-recorded),
		Messages: len(msgs), Reps: o.Reps, Steps: o.Steps, Workers: o.Workers,
		FetchCooldownMs: ms(o.FetchCooldown), PoolConns: int(r.pool.Config().MaxConns), Zones: o.Zones,
		Waves: len(r.waves), SendMs: ms(send), EnrollMs: ms(enrollTook),
		DBMs: perMsg(q.nanos), PoolWaitMs: perMsg(after.AcquireDuration() - before.AcquireDuration()),
		Org: r.org.Slug,
	}
	if send > 0 {
		fig.MessagesPerSec = round(n/send.Seconds(), 0)
		fig.WorkerBusyPct = round(100*jobTime.Seconds()/(float64(o.Workers)*send.Seconds()), 1)
	}
	if jobs > 0 {
		fig.JobMs = ms(jobTime / time.Duration(jobs))
	}
	if sends := r.sender.sends.Load(); sends > 0 {
		fig.ProviderMs = ms(time.Duration(r.sender.sendNanos.Load() / sends))
	}
	if n > 0 {
		fig.QueriesPerMessage = round(float64(q.n)/n, 1)
	}
	if r.cpu.total > 0 {
		fig.CPUBusyPct = round(100*float64(r.cpu.busy)/float64(r.cpu.total), 1)
		fig.MorselCPUPct = round(100*float64(r.cpu.self)/float64(r.cpu.total), 1)
		fig.PostgresCPUPct = round(100*float64(r.cpu.postgres)/float64(r.cpu.total), 1)
		if n > 0 {
			// total ticks = cores × wall time: a share of them times the
			// cores is a share of the wall time.
			cpuMs := func(ticks int64) float64 {
				return float64(ticks) / float64(r.cpu.total) * float64(runtime.NumCPU()) * send.Seconds() * 1000 / n
			}
			fig.MorselCPUMs, fig.PostgresCPUMs = round(cpuMs(r.cpu.self), 2), round(cpuMs(r.cpu.postgres), 2)
			if both := cpuMs(r.cpu.self + r.cpu.postgres); both > 0 {
				fig.CPUCeilingPerS = round(float64(runtime.NumCPU())*1000/both, 0)
			}
		}
	}
	return fig, nil
}

// report prints the human summary.
func (r *smsRun) report(w io.Writer, f SMSFigures) {
	fmt.Fprintf(w, "bench sms: %s reps × %d lessons = %s messages to the Twilio emulator through River and twilio-go, in %s\n",
		thousands(f.Reps), f.Steps, thousands(f.Reps*f.Steps), f.Org)
	fmt.Fprintf(w, "  setup: %d workers, fetch cooldown %gms, %d Postgres connections, %d time zone(s); Enroll of all reps took %.0f ms\n",
		f.Workers, f.FetchCooldownMs, f.PoolConns, f.Zones, f.EnrollMs)
	goal := "met"
	if f.MessagesPerSec < smsGoal {
		goal = "MISSED"
	}
	fmt.Fprintf(w, "  throughput: %s messages in %.2f s of sending (%d waves): %s messages/s (goal >= %s/s: %s)\n",
		thousands(f.Messages), f.SendMs/1000, f.Waves, thousands(int64(f.MessagesPerSec)), thousands(smsGoal), goal)
	fmt.Fprintf(w, "  latency, release of a wave to acceptance: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		f.P50Ms, f.P90Ms, f.P99Ms, f.MaxMs)
	fmt.Fprintf(w, "  checks: %d lost, %d duplicated, %d reps out of order, %d accepted but not recorded\n",
		f.Lost, f.Duplicated, f.OutOfOrder, f.Unrecorded)
	other := f.JobMs - f.ProviderMs - f.DBMs - f.PoolWaitMs
	fmt.Fprintf(w, "  a send job takes %.1f ms on average: provider call %.1f ms, Postgres queries ~%.1f ms (%.1f queries a message), waiting for a connection ~%.1f ms, the rest ~%.1f ms\n",
		f.JobMs, f.ProviderMs, f.DBMs, f.QueriesPerMessage, f.PoolWaitMs, max(other, 0))
	fmt.Fprintf(w, "  the workers were busy %.0f%% of the time; %d workers / %.1f ms a job = %s jobs/s at most\n",
		f.WorkerBusyPct, f.Workers, f.JobMs, thousands(int64(float64(f.Workers)/max(f.JobMs, 0.001)*1000)))
	if f.CPUBusyPct > 0 {
		fmt.Fprintf(w, "  CPU while sending, of all cores: %.0f%% busy: this process (workers, twilio-go, emulator) %.0f%%, Postgres serving this database %.0f%%, other processes %.0f%%\n",
			f.CPUBusyPct, f.MorselCPUPct, f.PostgresCPUPct, max(0, f.CPUBusyPct-f.MorselCPUPct-f.PostgresCPUPct))
		fmt.Fprintf(w, "  CPU a message costs: Postgres %.2f ms + this process %.2f ms; with all %d cores to themselves: %s messages/s at most\n",
			f.PostgresCPUMs, f.MorselCPUMs, runtime.NumCPU(), thousands(int64(f.CPUCeilingPerS)))
	}
	fmt.Fprintf(w, "  limit: %s\n", limitOf(f))
}

// limitOf names what most likely limits the throughput.
func limitOf(f SMSFigures) string {
	switch {
	case f.CPUBusyPct >= 85:
		return fmt.Sprintf("the CPU: the cores were %.0f%% busy while sending (%.0f%% by other processes); a message costs %.2f ms of Postgres CPU "+
			"and %.2f ms of ours in %.1f statements, so fewer statements a message is the lever, not more workers or connections",
			f.CPUBusyPct, max(0, f.CPUBusyPct-f.MorselCPUPct-f.PostgresCPUPct), f.PostgresCPUMs, f.MorselCPUMs, f.QueriesPerMessage)
	case f.WorkerBusyPct < 60:
		return fmt.Sprintf("feeding the workers: they were busy only %.0f%% of the time (fetching, or waves too small for %d workers)", f.WorkerBusyPct, f.Workers)
	case f.PoolWaitMs > f.JobMs/3:
		return fmt.Sprintf("Postgres connections: a job waits ~%.1f of its %.1f ms for one; raise --conns (pool_max_conns in DATABASE_URL)", f.PoolWaitMs, f.JobMs)
	case f.ProviderMs > f.JobMs/2:
		return fmt.Sprintf("the provider call (%.1f of %.1f ms a job): raise --workers", f.ProviderMs, f.JobMs)
	}
	return fmt.Sprintf("the workers: %d of them at %.1f ms a job", f.Workers, f.JobMs)
}

// deliveryChecks is what the emulator's messages say about the sending.
type deliveryChecks struct {
	distinct   int // (rep, lesson) pairs accepted
	lost       int // expected pairs never accepted
	duplicated int // acceptances beyond the first of a pair
	outOfOrder int // reps whose lessons were not accepted in increasing order
}

var lessonNumber = regexp.MustCompile(`^Bench (\d+)/\d+: `)

func checkDelivery(msgs []twilioemu.Message, reps, steps int) deliveryChecks {
	type repLesson struct {
		to     string
		lesson int
	}
	var c deliveryChecks
	seen := make(map[repLesson]int, len(msgs))
	last := map[string]int{}
	late := map[string]bool{}
	for _, m := range msgs {
		sub := lessonNumber.FindStringSubmatch(m.Body)
		if sub == nil {
			continue // not a bench lesson
		}
		n, _ := strconv.Atoi(sub[1])
		if n < 1 || n > steps {
			continue
		}
		k := repLesson{m.To, n}
		if seen[k]++; seen[k] > 1 {
			c.duplicated++
		}
		if n <= last[m.To] {
			late[m.To] = true
		}
		last[m.To] = n
	}
	c.distinct = len(seen)
	c.lost = reps*steps - c.distinct
	c.outOfOrder = len(late)
	return c
}

// percentile returns the p-th (0-1) of the sorted durations, by nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1)+0.5)]
}

// timedSender wraps the provider: it times each call and records when each
// message was accepted, relative to the release of its wave.
type timedSender struct {
	next      scheduler.Sender
	waveStart atomic.Int64 // unix nanos of the current wave's release
	accepted  atomic.Int64
	sends     atomic.Int64
	sendNanos atomic.Int64

	mu      sync.Mutex
	latency []time.Duration
}

func (t *timedSender) Send(ctx context.Context, m scheduler.SMS) (scheduler.Accepted, error) {
	start := time.Now()
	acc, err := t.next.Send(ctx, m)
	end := time.Now()
	t.sends.Add(1)
	t.sendNanos.Add(int64(end.Sub(start)))
	if err == nil {
		lat := time.Duration(end.UnixNano() - t.waveStart.Load())
		t.mu.Lock()
		t.latency = append(t.latency, lat)
		t.mu.Unlock()
		t.accepted.Add(1)
	}
	return acc, err
}

func (t *timedSender) Find(ctx context.Context, m scheduler.SMS, since time.Time) ([]string, error) {
	return t.next.Find(ctx, m, since)
}

// latencies returns the recorded latencies, sorted.
func (t *timedSender) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.latency)
	slices.Sort(out)
	return out
}

// queryCounter is a pgx tracer that counts the queries on the bench's pool
// and the time until their answer, leaving out the bench's own (untraced).
type queryCounter struct {
	n, nanos atomic.Int64
	bySQL    sync.Map // SQL -> *sqlStat, when --queries asks
	perSQL   bool
}

type sqlStat struct{ n, nanos atomic.Int64 }

type queryStart struct {
	at  time.Time
	sql string
}

type querySnapshot struct {
	n     int64
	nanos time.Duration
}

func (s querySnapshot) minus(o querySnapshot) querySnapshot {
	return querySnapshot{s.n - o.n, s.nanos - o.nanos}
}

func (q *queryCounter) snapshot() querySnapshot {
	return querySnapshot{q.n.Load(), time.Duration(q.nanos.Load())}
}

type (
	untracedKey   struct{}
	queryStartKey struct{}
)

// untraced marks the bench's own queries, which are not the system's cost.
func untraced(ctx context.Context) context.Context {
	return context.WithValue(ctx, untracedKey{}, true)
}

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if ctx.Value(untracedKey{}) != nil {
		return ctx
	}
	return context.WithValue(ctx, queryStartKey{}, queryStart{time.Now(), data.SQL})
}

func (q *queryCounter) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	start, ok := ctx.Value(queryStartKey{}).(queryStart)
	if !ok {
		return
	}
	d := int64(time.Since(start.at))
	q.n.Add(1)
	q.nanos.Add(d)
	if q.perSQL {
		v, _ := q.bySQL.LoadOrStore(start.sql, &sqlStat{})
		st := v.(*sqlStat)
		st.n.Add(1)
		st.nanos.Add(d)
	}
}

// printTop prints the statements that took the most time, with their count
// and time each.
func (q *queryCounter) printTop(w io.Writer, top int) {
	type row struct {
		sql      string
		n, nanos int64
	}
	var rows []row
	q.bySQL.Range(func(k, v any) bool {
		st := v.(*sqlStat)
		rows = append(rows, row{k.(string), st.n.Load(), st.nanos.Load()})
		return true
	})
	slices.SortFunc(rows, func(a, b row) int { return int(b.nanos - a.nanos) })
	fmt.Fprintln(w, "  statements by time (whole run, setup included):")
	for i, r := range rows {
		if i == top {
			break
		}
		sql := strings.Join(strings.Fields(r.sql), " ")
		if len(sql) > 110 {
			sql = sql[:110] + "…"
		}
		fmt.Fprintf(w, "    %8.1f ms total %7s calls %6.3f ms each  %s\n", ms(time.Duration(r.nanos)), thousands(r.n),
			float64(r.nanos)/float64(max(r.n, 1))/1e6, sql)
	}
}

// cpuTicks are CPU times in clock ticks: the machine's busy and total (all
// cores), this process's, and Postgres's (the server processes that serve
// the bench's database).
type cpuTicks struct{ busy, total, self, postgres int64 }

func (a cpuTicks) plus(b cpuTicks) cpuTicks {
	return cpuTicks{a.busy + b.busy, a.total + b.total, a.self + b.self, a.postgres + b.postgres}
}

// cpuSample is a reading of /proc.
type cpuSample struct {
	cpuTicks
	pg map[string]int64 // ticks of each postgres process, by pid
}

// since returns the ticks spent between o and s. A Postgres process that
// ended in between is left out.
func (s cpuSample) since(o cpuSample) cpuTicks {
	d := cpuTicks{s.busy - o.busy, s.total - o.total, s.self - o.self, 0}
	for pid, t := range s.pg {
		d.postgres += t - o.pg[pid]
	}
	return d
}

// readCPU reads /proc, counting as Postgres the server processes of pids;
// where there is no /proc it returns zeros, and the figures leave the CPU out.
func readCPU(pids []string) cpuSample {
	var c cpuSample
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuSample{}
	}
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseInt(v, 10, 64)
		c.total += n
		if i != 3 && i != 4 {
			c.busy += n
		}
	}
	_, c.self = procTicks("self")
	c.pg = map[string]int64{}
	for _, pid := range pids {
		if comm, t := procTicks(pid); comm == "postgres" {
			c.pg[pid] = t
		}
	}
	return c
}

// procTicks returns the command name of a process and the CPU ticks it used.
func procTicks(pid string) (string, int64) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", 0
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return "", 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return s[open+1 : end], utime + stime
}
