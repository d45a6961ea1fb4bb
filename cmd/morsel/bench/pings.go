package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
)

// The goal on a 2-core machine: pings acknowledged a second, sustained, and
// the 99th percentile of their latency.
const (
	pingsGoalRate = 20000
	pingsGoalP99  = 50 * time.Millisecond
)

// Bench pings' watchers: one 15-minute video lesson each, pinged at just
// under the server's limit per link (20 a second).
const (
	benchVideoSeconds = 900
	watcherRate       = 19.5                 // pings a second per watcher
	watcherInterval   = time.Second * 2 / 39 // 1/watcherRate
	pingTimeout       = 10 * time.Second
	redialWait        = 20 * time.Millisecond // after a connection error, before dialling again
	killAt            = 0.4                   // of the duration, in --kill mode
)

// PingsOptions are the flags of bench pings.
type PingsOptions struct {
	Watchers   int           // reps watching the video at once, one lesson link each; 1 to 100,000
	Conns      int           // keep-alive connections the watchers share, at most Watchers
	Duration   time.Duration // how long to post pings
	MaxPings   int64         // stop after this many pings posted, even before Duration
	ShipWait   time.Duration // how long to wait for the shipper to empty the outbox
	Process    bool          // run the server as a process of its own
	Kill       bool          // run it as a process of its own, kill -9 it at 40% of Duration and start it again
	CPUProfile string        // a file to write a CPU profile of the load to; "": none

	// server is a server the caller started and stops (bench soak's
	// long-lived serve); nil: Pings starts one and stops it.
	server pingServer
}

// PingsServer is how bench pings runs the server it loads: `morsel serve`,
// with its workers and its shipper.
type PingsServer struct {
	// NewStore returns a store on pool whose writes queue the jobs they
	// cause, as serve's does.
	NewStore func(pool *pgxpool.Pool) (*lessons.Store, error)
	// Serve runs serve in this process until ctx ends, logging to log; it
	// tells listening the address it listens on.
	Serve func(ctx context.Context, log *slog.Logger, listening func(addr string)) error
	// Environ is the environment of `morsel serve` as a process of its own
	// (this executable's): the bench's databases, and no Twilio.
	Environ []string
	// ShutdownGrace is how long serve takes at most to stop after SIGTERM.
	ShutdownGrace time.Duration
}

// PingsFigures are the figures of bench pings, the JSON object --json prints; durations in milliseconds.
type PingsFigures struct {
	PingsPerSec  float64 `json:"pings_per_sec"`
	P50Ms        float64 `json:"p50_ms"`
	P90Ms        float64 `json:"p90_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	Lost         int     `json:"lost"`         // acknowledged (token, segment) keys not in ClickHouse
	Acknowledged int64   `json:"acknowledged"` // 204s
	Rejected     int64   `json:"rejected"`     // other answers: 429s and 5xx, not acknowledged
	Throttled    int64   `json:"throttled"`    // the 429s among them
	ConnErrors   int64   `json:"conn_errors"`  // pings without an answer, posted again
	Keys         int     `json:"keys"`         // distinct (token, segment) acknowledged
	Stored       int     `json:"stored"`       // segment_watched rows in ClickHouse, FINAL
	Watchers     int     `json:"watchers"`
	Conns        int     `json:"conns"`
	DurationS    float64 `json:"duration_s"` // of the load, as measured
	Kills        int     `json:"kills"`
	Restarts     int     `json:"restarts"`
	DowntimeMs   float64 `json:"downtime_ms"` // from the kill until the new server was ready
	ShipWaitMs   float64 `json:"ship_wait_ms"`
	LogBytes     int64   `json:"log_bytes"` // what the server logged during the bench
	// CPU in cores over the load, as /proc tells; the bench process is the
	// load and, without --kill or --process, the server.
	CoresBusy       float64 `json:"cpu_cores_busy"`
	CoresBench      float64 `json:"cpu_cores_bench"`
	CoresServer     float64 `json:"cpu_cores_server"`
	CoresPostgres   float64 `json:"cpu_cores_postgres"`
	CoresClickHouse float64 `json:"cpu_cores_clickhouse"`
	CoresOther      float64 `json:"cpu_cores_other"`
	Org             string  `json:"org"`
}

// Pings measures the lesson pages' pings end to end. In an organisation
// of its own it enrolls o.Watchers reps in a course of one video lesson, starts
// the server as `morsel serve` runs it (workers and shipper included), opens
// each rep's lesson page, then posts pings from every watcher, one segment a
// request, as fast as the links' limit allows, for o.Duration. Once the
// shipper has emptied the outbox it checks that every ping acknowledged
// with a 204 is in ClickHouse.
//
// Once the load is measured Pings returns its figures, with an error too when
// an acknowledged ping is not in ClickHouse or none was acknowledged, or when
// the bench could not clean up after itself.
func Pings(ctx context.Context, e Env, s PingsServer, o PingsOptions) (_ *PingsFigures, err error) {
	const name = "bench pings"
	db, err := openBenchDB(ctx, e, name, 0, nil)
	if err != nil {
		return nil, err
	}
	defer db.close()
	ch, err := openBenchClickHouse(ctx, e)
	if err != nil {
		return nil, err
	}
	defer ch.Close()

	org, err := db.store.CreateOrg(ctx, lessons.Org{Slug: "bench-pings-" + strconv.FormatInt(time.Now().UnixNano(), 10),
		Name: "Morsel " + name, SMSFrom: "+15005550006"})
	if err != nil {
		return nil, fmt.Errorf("create the bench organisation: %w", err)
	}
	fmt.Fprintf(e.Stderr, "%s: created organisation %s (id %d) for this run\n", name, org.Slug, org.ID)
	defer func() {
		if cerr := cleanUpBench(context.WithoutCancel(ctx), db, org.ID); cerr != nil && err == nil {
			err = cerr
		}
	}()
	links, err := preparePings(ctx, e, s, db, org.ID, o.Watchers)
	if err != nil {
		return nil, err
	}

	srv := o.server
	switch {
	case srv != nil:
	case o.Kill || o.Process:
		srv, err = startServeProcess(ctx, e, s)
	default:
		srv, err = startServeInProcess(ctx, e, s)
	}
	if err != nil {
		return nil, err
	}
	if o.server == nil {
		defer srv.stop()
	}
	if p, ok := srv.(*serveProcess); ok && o.server == nil {
		defer func() {
			if err == nil {
				os.Remove(p.logPath) // kept when the bench fails, for its story
			}
		}()
	}
	fmt.Fprintf(e.Stderr, "%s: server at %s (%s); %s watchers of a %d-segment video on %d connections, %.1f pings/s each, for %s\n",
		name, srv.addr(), srv.kind(), thousands(o.Watchers), tracking.SegmentCount(benchVideoSeconds), o.Conns, watcherRate, o.Duration)

	if err := openLessonPages(ctx, e, srv.addr(), links, o.Conns); err != nil {
		return nil, err
	}
	load := newPingLoad(srv.addr(), links, o)
	stopLoad := context.AfterFunc(ctx, func() { load.stopped.Store(true) })
	defer stopLoad()
	var killer *pingKiller
	if o.Kill {
		killer = startKiller(e, srv.(*serveProcess), time.Duration(float64(o.Duration)*killAt))
	}
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	cpu0, log0 := readPingsCPU(ctx, db, srv.pid()), srv.logBytes()
	ticker := startTicker(e.Stderr, load.progress)
	took := load.run()
	ticker.Stop()
	cpu1, log1 := readPingsCPU(ctx, db, srv.pid()), srv.logBytes()
	stopProfile()
	if killer != nil {
		if err := killer.wait(); err != nil {
			return nil, err
		}
		cpu1.server += killer.serverTicks // the killed process's time
	}

	fig := load.figures(took)
	fig.Org, fig.Watchers, fig.Conns, fig.LogBytes = org.Slug, o.Watchers, o.Conns, log1-log0
	cpu1.since(cpu0, took).fill(&fig)
	if killer != nil {
		fig.Kills, fig.Restarts, fig.DowntimeMs = killer.kills, killer.restarts, ms(killer.downtime)
	}

	shipStart := time.Now()
	if err := waitShipped(ctx, e, db, org.ID, o.ShipWait); err != nil {
		return nil, err
	}
	fig.ShipWaitMs = ms(time.Since(shipStart))
	stored, err := storedSegments(ctx, ch, org.ID)
	if err != nil {
		return nil, err
	}
	fig.Stored = len(stored)
	for _, w := range load.watchers {
		for seg, n := range w.acked {
			if n > 0 && !stored[segmentKey{w.assignmentID, seg}] {
				fig.Lost++
			}
		}
	}
	if o.server == nil {
		if err := srv.stop(); err != nil {
			return nil, err
		}
	}

	reportPings(e.Stdout, fig, o)
	if fig.Lost > 0 {
		return &fig, fmt.Errorf("%d acknowledged pings (distinct segments) are not in ClickHouse", fig.Lost)
	}
	if fig.Acknowledged == 0 {
		return &fig, errors.New("no ping was acknowledged")
	}
	return &fig, nil
}

// benchLink is a watcher's lesson link.
type benchLink struct {
	token        string
	assignmentID int64
}

// preparePings stores a course of one 15-minute video lesson, n reps, and
// enrolls them, which schedules the lesson's message and so its link; it
// returns the links. The send jobs are deleted at once: nothing is sent.
func preparePings(ctx context.Context, e Env, s PingsServer, db *benchDB, orgID int64, n int) ([]benchLink, error) {
	const name = "bench pings"
	t := time.Now()
	spec := lessons.CourseSpec{Slug: "bench-video", Title: "Bench video", PassMark: 70, DueDays: 30,
		Cadence: lessons.Cadence{Weekdays: []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday,
			time.Thursday, time.Friday, time.Saturday}, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow(),
		Lessons: []lessons.Lesson{{Key: "v1", Kind: lessons.KindVideo, Title: "Handling the price objection",
			Body: "Watch how the best reps answer \"too expensive\".", VideoURL: "/media/bench.mp4", VideoSeconds: benchVideoSeconds}}}
	v, err := db.store.SaveCourse(ctx, orgID, spec, true)
	if err != nil {
		return nil, fmt.Errorf("store the bench course: %w", err)
	}
	if _, err := db.store.ImportReps(ctx, orgID, lessons.GenerateReps(n, 1)); err != nil {
		return nil, fmt.Errorf("store the bench reps: %w", err)
	}
	teams, err := db.store.Teams(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var teamIDs []int64
	for _, tm := range teams {
		teamIDs = append(teamIDs, tm.ID)
	}
	// A store with the scheduler's queue schedules the first lesson as it
	// enrolls, as `morsel enroll` does: its message, and the link in it.
	store, err := s.NewStore(db.pool)
	if err != nil {
		return nil, err
	}
	res, err := store.Enroll(ctx, orgID, lessons.EnrollRequest{CourseID: v.CourseID, TeamIDs: teamIDs})
	if err != nil {
		return nil, fmt.Errorf("enroll the bench reps: %w", err)
	}
	if len(res.Enrollments) != n {
		return nil, fmt.Errorf("enrolled %d reps of %d", len(res.Enrollments), n)
	}
	if err := deleteBenchJobs(ctx, db.store, orgID); err != nil {
		return nil, err
	}
	issued, err := db.store.LessonLinks(ctx, orgID)
	if err != nil {
		return nil, err
	}
	links := make([]benchLink, len(issued))
	for i, l := range issued {
		links[i] = benchLink{token: l.Token, assignmentID: l.AssignmentID}
	}
	if len(links) != n {
		return nil, fmt.Errorf("enrolling made %d lesson links for %d reps", len(links), n)
	}
	fmt.Fprintf(e.Stderr, "%s: a course of one %d-second video lesson, %s reps enrolled, their lesson links made in %.0f ms\n",
		name, benchVideoSeconds, thousands(n), ms(time.Since(t)))
	return links, nil
}

// openLessonPages opens each watcher's lesson page, as a rep does before
// the video plays: the page records the opening and puts the link in the
// server's cache, which the pings then find it in.
func openLessonPages(ctx context.Context, e Env, addr string, links []benchLink, conns int) error {
	t := time.Now()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	next := make(chan string)
	errc := make(chan error, conns)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for token := range next {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/l/"+token, nil)
				if err != nil {
					errc <- err
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					errc <- fmt.Errorf("open a lesson page: %w", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errc <- fmt.Errorf("open a lesson page: %s", resp.Status)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, l := range links {
		select {
		case next <- l.token:
		case err = <-errc:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errc) > 0 {
		err = <-errc
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "bench pings: the watchers opened their lesson pages in %.0f ms\n", ms(time.Since(t)))
	return nil
}

// waitShipped waits until the shipper has moved the organisation's events
// from the outbox to ClickHouse.
func waitShipped(ctx context.Context, e Env, db *benchDB, orgID int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var left, all atomic.Int64
	ticker := startTicker(e.Stderr, func(elapsed time.Duration) string {
		return fmt.Sprintf("bench pings: shipping: %s of the bench's events in the outbox (%s in all) after %.0f s",
			thousands(left.Load()), thousands(all.Load()), elapsed.Seconds())
	})
	defer ticker.Stop()
	for {
		pending, err := tracking.Pending(ctx, db.pool, orgID)
		if err != nil {
			return err
		}
		n := int64(len(pending))
		backlog, _, err := tracking.Backlog(ctx, db.pool)
		if err != nil {
			return fmt.Errorf("read the outbox: %w", err)
		}
		left.Store(n)
		all.Store(int64(backlog))
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of the bench's events are still in the outbox after %s: the shipper does not keep up (--ship-wait waits longer)", n, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// segmentKey names a segment of an assignment's video, as an event key does.
type segmentKey struct {
	assignmentID int64
	segment      int
}

// storedSegments reads the organisation's segment_watched events from
// ClickHouse, FINAL: one row a key.
func storedSegments(ctx context.Context, ch driver.Conn, orgID int64) (map[segmentKey]bool, error) {
	rows, err := ch.Query(ctx, `SELECT assignment_id, value FROM events FINAL
		WHERE org_id = ? AND kind = 'segment_watched' AND deleted = 0`, uint64(orgID))
	if err != nil {
		return nil, fmt.Errorf("read the segments from clickhouse: %w", err)
	}
	defer rows.Close()
	out := map[segmentKey]bool{}
	for rows.Next() {
		var assignment uint64
		var value float64
		if err := rows.Scan(&assignment, &value); err != nil {
			return nil, fmt.Errorf("read the segments from clickhouse: %w", err)
		}
		out[segmentKey{int64(assignment), int(value)}] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the segments from clickhouse: %w", err)
	}
	return out, nil
}

func reportPings(w io.Writer, f PingsFigures, o PingsOptions) {
	fmt.Fprintf(w, "bench pings: %s watchers posting one ping a request on %d keep-alive connections for %.1f s, into %s\n",
		thousands(f.Watchers), f.Conns, f.DurationS, f.Org)
	fmt.Fprintf(w, "  acknowledged %s pings (204): %s/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		thousands(f.Acknowledged), thousands(int64(f.PingsPerSec)), f.P50Ms, f.P90Ms, f.P99Ms, f.MaxMs)
	fmt.Fprintf(w, "  rejected %s (%s of them 429), %s without an answer and posted again\n",
		thousands(f.Rejected), thousands(f.Throttled), thousands(f.ConnErrors))
	if o.Kill {
		fmt.Fprintf(w, "  the server was killed with SIGKILL %d time(s) and restarted %d time(s); it was down %.0f ms\n",
			f.Kills, f.Restarts, f.DowntimeMs)
	}
	fmt.Fprintf(w, "  ClickHouse holds %s segments of %s acknowledged (distinct); %d lost, after %.1f s of shipping\n",
		thousands(f.Stored), thousands(f.Keys), f.Lost, f.ShipWaitMs/1000)
	fmt.Fprintf(w, "  the server logged %s bytes\n", thousands(f.LogBytes))
	fmt.Fprintf(w, "  CPU cores used during the load: %.2f in all: bench %.2f, server %.2f, Postgres %.2f, ClickHouse %.2f, other %.2f\n",
		f.CoresBusy, f.CoresBench, f.CoresServer, f.CoresPostgres, f.CoresClickHouse, f.CoresOther)
	verdict := "met"
	if f.PingsPerSec < pingsGoalRate || f.P99Ms >= ms(pingsGoalP99) || f.Lost > 0 {
		verdict = "MISSED"
	}
	fmt.Fprintf(w, "  goal, %s pings/s with p99 under %.0f ms and nothing lost: %s\n",
		thousands(pingsGoalRate), ms(pingsGoalP99), verdict)
}

// pingServer is the server under load: in this process or in one of its own.
type pingServer interface {
	addr() string
	kind() string
	pid() int // the process to count the server's CPU time of; 0: this one
	stop() error
	logBytes() int64 // what the server logged so far
}

// byteCounter counts what is written to it, and drops it.
type byteCounter struct{ n atomic.Int64 }

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// serveInProcess runs serve, as `morsel serve` does, in this process.
type serveInProcess struct {
	logged  byteCounter // what the server logged
	address string
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	err     error
}

func startServeInProcess(ctx context.Context, e Env, srv PingsServer) (*serveInProcess, error) {
	addrc := make(chan string, 1)
	s := &serveInProcess{done: make(chan error, 1)}
	// The server logs as serve does (info and up), counted, not shown; its
	// warnings and errors show on the bench's own log too.
	logged := slog.NewTextHandler(&s.logged, nil)
	log := slog.New(slog.NewMultiHandler(logged, scheduler.WarningsOnly(e.Log).Handler()))
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	go func() { s.done <- srv.Serve(sctx, log, func(a string) { addrc <- a }) }()
	select {
	case s.address = <-addrc:
	case err := <-s.done:
		cancel()
		return nil, fmt.Errorf("serve: %w", err)
	case <-time.After(30 * time.Second):
		cancel()
		return nil, errors.New("serve did not start listening in 30 s")
	}
	if err := waitReady(ctx, s.address, 30*time.Second, nil); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *serveInProcess) addr() string    { return s.address }
func (s *serveInProcess) kind() string    { return "morsel serve in this process, with its workers" }
func (s *serveInProcess) pid() int        { return 0 }
func (s *serveInProcess) logBytes() int64 { return s.logged.n.Load() }

func (s *serveInProcess) stop() error {
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}

// serveProcess runs `morsel serve` as a process of its own, which the bench
// may kill and start again on the same address.
type serveProcess struct {
	e       Env
	exe     string
	address string
	environ []string
	logPath string
	log     *os.File
	grace   time.Duration // serve's, after SIGTERM

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

func startServeProcess(ctx context.Context, e Env, srv PingsServer) (*serveProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the morsel executable: %w", err)
	}
	address, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.CreateTemp("", "morsel-bench-pings-serve-*.log")
	if err != nil {
		return nil, err
	}
	p := &serveProcess{e: e, exe: exe, address: address, logPath: log.Name(), log: log,
		environ: srv.Environ, grace: srv.ShutdownGrace}
	if err := p.start(ctx); err != nil {
		p.stop()
		return nil, err
	}
	fmt.Fprintf(e.Stderr, "bench pings: started %s serve --addr %s (pid %d); its log is %s\n", exe, address, p.pid(), p.logPath)
	return p, nil
}

// freeAddr is a loopback address with a port free at the moment, for a
// process of its own to listen on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start starts the server and waits until it answers /readyz.
func (p *serveProcess) start(ctx context.Context) error {
	cmd := exec.Command(p.exe, "serve", "--addr", p.address, "--public-url", "http://"+p.address)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.environ, p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s serve: %w", p.exe, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	if err := waitReady(ctx, p.address, time.Minute, exited); err != nil {
		return fmt.Errorf("%w; the server's log: %s\n%s", err, p.logPath, tail(p.logPath, 10))
	}
	return nil
}

// kill kills the server with SIGKILL and waits until it is gone; it returns
// the CPU time the process had used, in clock ticks.
func (p *serveProcess) kill() (uint64, error) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	ticks := processTicks(cmd.Process.Pid)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return 0, fmt.Errorf("kill the server: %w", err)
	}
	<-exited
	return ticks, nil
}

func (p *serveProcess) addr() string { return p.address }

// logBytes is the size of the server's log file, of every run of it.
func (p *serveProcess) logBytes() int64 {
	fi, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}
func (p *serveProcess) kind() string { return "morsel serve, a process of its own" }

func (p *serveProcess) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// stop stops the server with SIGTERM, as a deployment does, and kills it if
// it has not stopped in time.
func (p *serveProcess) stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil
	}
	p.stopped = true
	defer p.log.Close()
	if p.cmd == nil {
		return nil
	}
	select {
	case <-p.exited:
		return nil
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(p.grace + 5*time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("the server did not stop within %s of SIGTERM; killed it", p.grace+5*time.Second)
	}
	return nil
}

// waitReady waits until the server at addr answers /readyz with 200.
func waitReady(ctx context.Context, addr string, limit time.Duration, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server at %s was not ready within %s", addr, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the server exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of a file, for an error message.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// pingKiller kills the server once, after a while, and starts it again.
type pingKiller struct {
	done        chan error
	kills       int
	restarts    int
	downtime    time.Duration
	serverTicks uint64 // CPU time of the killed process
}

func startKiller(e Env, p *serveProcess, after time.Duration) *pingKiller {
	k := &pingKiller{done: make(chan error, 1)}
	go func() {
		time.Sleep(after)
		at := time.Now()
		ticks, err := p.kill()
		if err != nil {
			k.done <- err
			return
		}
		k.kills, k.serverTicks = 1, ticks
		fmt.Fprintf(e.Stderr, "bench pings: killed the server with SIGKILL at %.1f s; starting it again\n", after.Seconds())
		if err := p.start(context.Background()); err != nil {
			k.done <- fmt.Errorf("start the server again: %w", err)
			return
		}
		k.restarts, k.downtime = 1, time.Since(at)
		fmt.Fprintf(e.Stderr, "bench pings: the server is back (pid %d) after %.0f ms\n", p.pid(), ms(k.downtime))
		k.done <- nil
	}()
	return k
}

func (k *pingKiller) wait() error { return <-k.done }

// pingLoad is the watchers and their connections.
type pingLoad struct {
	addr     string
	watchers []*pingWatcher
	conns    int
	duration time.Duration
	maxPings int64

	stopped                                    atomic.Bool // the bench is interrupted
	posted, acked, throttled, failed, connErrs atomic.Int64
	lastAcked                                  int64
	lastAt                                     time.Duration
	latencies                                  [][]time.Duration // per connection, of the acknowledged pings
}

// pingWatcher is one rep playing the video: it pings each segment in turn,
// from the start again at the end, in a new session. The server credits no
// more new segments than a player at 4x plays since the link's first ping
// (web/pinglimits.go), so until a segment is reachable the watcher pings the
// last one it played again, as fast as the load goes.
type pingWatcher struct {
	index        int
	token        string
	assignmentID int64
	rate         float64 // playback rate
	next         time.Time
	first        time.Time // of the first ping
	again        bool      // the next ping repeats the last segment played
	played       int       // segments acknowledged, each new when sent
	acked        []uint32  // acknowledgements by segment
}

// hold says whether the watcher's next new segment is beyond what the
// server's pace allows at now, one segment short of it for safety.
func (w *pingWatcher) hold(now time.Time) bool {
	if w.first.IsZero() {
		w.first = now
	}
	reachable := 1 + int(now.Sub(w.first).Seconds()*4/float64(tracking.SegmentSeconds))
	return w.played > 0 && w.played < len(w.acked) && w.played >= reachable
}

func newPingLoad(addr string, links []benchLink, o PingsOptions) *pingLoad {
	rates := []float64{1, 1, 1.25, 1.5, 2}
	l := &pingLoad{addr: addr, conns: o.Conns, duration: o.Duration, maxPings: o.MaxPings,
		latencies: make([][]time.Duration, o.Conns)}
	segments := tracking.SegmentCount(benchVideoSeconds)
	for i, k := range links {
		l.watchers = append(l.watchers, &pingWatcher{index: i, token: k.token, assignmentID: k.assignmentID,
			rate: rates[i%len(rates)], acked: make([]uint32, segments)})
	}
	return l
}

// appendPing appends the watcher's next ping: the segment after the last one
// acknowledged, reported at its end, as the lesson page's player does.
func (w *pingWatcher) appendPing(b []byte) []byte {
	n := len(w.acked)
	played := w.played
	if w.again {
		played--
	}
	seg, loop := played%n, played/n
	position := float64((seg+1)*tracking.SegmentSeconds) - float64(played%4)*0.25
	b = append(b, `{"token":"`...)
	b = append(b, w.token...)
	b = append(b, `","segment":`...)
	b = strconv.AppendInt(b, int64(seg), 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendFloat(b, position, 'f', -1, 64)
	b = append(b, `,"rate":`...)
	b = strconv.AppendFloat(b, w.rate, 'f', -1, 64)
	b = append(b, `,"session":"bench-`...)
	b = strconv.AppendInt(b, int64(w.index), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(loop), 10)
	b = append(b, `","event":"segment"}`...)
	return b
}

// run posts pings until the duration is over or maxPings were posted, and
// returns how long it took.
func (l *pingLoad) run() time.Duration {
	start := time.Now()
	deadline := start.Add(l.duration)
	var wg sync.WaitGroup
	for c := range l.conns {
		var mine []*pingWatcher
		for i := c; i < len(l.watchers); i += l.conns {
			l.watchers[i].next = start
			mine = append(mine, l.watchers[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.latencies[c] = l.post(mine, deadline)
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// post posts the pings of its watchers on one connection, in turn, each
// watcher at most watcherRate a second; a ping that gets no answer is
// posted again on a new connection.
func (l *pingLoad) post(ws []*pingWatcher, deadline time.Time) []time.Duration {
	c := &pingClient{addr: l.addr}
	defer c.close()
	lat := make([]time.Duration, 0, int(min(float64(l.maxPings)/float64(l.conns), l.duration.Seconds()*watcherRate*float64(len(ws))))+16)
	var body []byte
	for i := 0; ; i = (i + 1) % len(ws) {
		w := ws[i]
		now := time.Now()
		if w.next.After(now) {
			if !w.next.Before(deadline) {
				return lat
			}
			time.Sleep(w.next.Sub(now))
			now = time.Now()
		}
		if !now.Before(deadline) || l.stopped.Load() || l.posted.Add(1) > l.maxPings {
			return lat
		}
		w.next = now.Add(watcherInterval)
		w.again = w.hold(now)
		body = w.appendPing(body[:0])
		status, err := c.post(body)
		took := time.Since(now)
		switch {
		case err != nil:
			l.connErrs.Add(1)
			time.Sleep(redialWait)
		case status == http.StatusNoContent:
			l.acked.Add(1)
			lat = append(lat, took)
			if w.again {
				break
			}
			w.acked[w.played%len(w.acked)]++
			w.played++
		case status == http.StatusTooManyRequests:
			l.throttled.Add(1)
		default:
			l.failed.Add(1)
		}
	}
}

// progress is the line the ticker prints each second.
func (l *pingLoad) progress(elapsed time.Duration) string {
	n := l.acked.Load()
	rate := float64(n-l.lastAcked) / (elapsed - l.lastAt).Seconds()
	l.lastAcked, l.lastAt = n, elapsed
	return fmt.Sprintf("bench pings: %2.0f s: %s acknowledged (%s/s), %s rejected (%s of them 429), %s without an answer",
		elapsed.Seconds(), thousands(n), thousands(int64(rate)), thousands(l.throttled.Load()+l.failed.Load()),
		thousands(l.throttled.Load()), thousands(l.connErrs.Load()))
}

// figures works out the load's figures once it has run.
func (l *pingLoad) figures(took time.Duration) PingsFigures {
	var all []time.Duration
	for _, lat := range l.latencies {
		all = append(all, lat...)
	}
	slices.Sort(all)
	f := PingsFigures{Acknowledged: l.acked.Load(), Throttled: l.throttled.Load(), ConnErrors: l.connErrs.Load(),
		DurationS: round(took.Seconds(), 2)}
	f.Rejected = f.Throttled + l.failed.Load()
	f.PingsPerSec = round(float64(f.Acknowledged)/took.Seconds(), 0)
	if len(all) > 0 {
		f.P50Ms, f.P90Ms, f.P99Ms = ms(pingPercentile(all, 50)), ms(pingPercentile(all, 90)), ms(pingPercentile(all, 99))
		f.MaxMs = ms(all[len(all)-1])
	}
	for _, w := range l.watchers {
		for _, n := range w.acked {
			if n > 0 {
				f.Keys++
			}
		}
	}
	return f
}

// pingPercentile returns the p-th percentile of sorted, by the nearest rank.
func pingPercentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i-1, len(sorted)-1))]
}

// pingClient posts pings over one keep-alive HTTP/1.1 connection. It writes
// each request in one call and reads the answer itself: much lighter than an
// http.Client, whose cost would come off the server's share of the cores.
type pingClient struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	req  []byte
}

// post posts one body and returns the answer's status; an error means no
// answer, and the connection is closed.
func (c *pingClient) post(body []byte) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 2*time.Second)
		if err != nil {
			return 0, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 4096)
		} else {
			c.br.Reset(conn)
		}
	}
	c.req = append(c.req[:0], "POST /t/pings HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.addr...)
	c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	c.conn.SetDeadline(time.Now().Add(pingTimeout))
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return 0, err
	}
	status, closing, err := readAnswer(c.br)
	if err != nil || closing {
		c.close()
	}
	return status, err
}

// readAnswer reads one HTTP/1.1 answer and discards its body; it returns the
// status and whether the server closes the connection after it. It reads
// what net/http's server writes, without net/http's allocations.
func readAnswer(br *bufio.Reader) (status int, closing bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, fmt.Errorf("malformed status line %q", line)
		}
		status = status*10 + int(d-'0')
	}
	closing = line[7] == '0' // HTTP/1.0
	length, chunked := int64(-1), false
	for {
		if line, err = br.ReadSlice('\n'); err != nil {
			return 0, false, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = closing || bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
	case chunked:
		err = discardChunks(br)
	case length >= 0:
		_, err = br.Discard(int(length))
	default: // the body ends with the connection
		_, err = io.Copy(io.Discard, br)
		closing = true
	}
	return status, closing, err
}

// discardChunks reads a chunked body and its trailer.
func discardChunks(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		hex, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(hex)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if size == 0 {
			for { // the trailer, up to an empty line
				if line, err = br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(line, "\r\n")) == 0 {
					return err
				}
			}
		}
		if _, err := br.Discard(int(size)); err != nil {
			return err
		}
		if _, err := br.ReadSlice('\n'); err != nil {
			return err
		}
	}
}

func (c *pingClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// pingsCPU is CPU time in clock ticks (USER_HZ, 100 a second on Linux), as
// /proc tells: of the machine, of this process, of the server process, of
// the Postgres backends serving the bench's database (by pid: a backend that
// ends before the sample is not counted) and of ClickHouse. Where /proc is
// not, it stays zero.
type pingsCPU struct {
	busy, self, server, clickhouse uint64
	postgres                       map[int]uint64
}

const clockTicks = 100

// backendPIDs returns the process ids of the Postgres backends connected to
// the bench's database.
func backendPIDs(ctx context.Context, db *benchDB) []int {
	rows, err := db.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int])
	return pids
}

func readPingsCPU(ctx context.Context, db *benchDB, serverPID int) pingsCPU {
	c := pingsCPU{postgres: map[int]uint64{}}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			if i != 3 && i != 4 && i < 8 { // all but idle and iowait, guest time being in user already
				c.busy += n
			}
		}
	}
	c.self = processTicks(os.Getpid())
	if serverPID > 0 {
		c.server = processTicks(serverPID)
	}
	for _, pid := range backendPIDs(ctx, db) {
		c.postgres[pid] = processTicks(pid)
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if pid, err := strconv.Atoi(d.Name()); err == nil && strings.HasPrefix(processName(pid), "clickhouse") {
			c.clickhouse += processTicks(pid)
		}
	}
	return c
}

// since returns the CPU used from c0 to c, as cores over d.
func (c pingsCPU) since(c0 pingsCPU, d time.Duration) pingsCores {
	cores := func(a, b uint64) float64 {
		if a < b {
			return 0
		}
		return round(float64(a-b)/clockTicks/d.Seconds(), 2)
	}
	var pg, pg0 uint64
	for pid, t := range c.postgres {
		pg, pg0 = pg+t, pg0+c0.postgres[pid] // a backend started since counts from 0
	}
	r := pingsCores{busy: cores(c.busy, c0.busy), self: cores(c.self, c0.self), server: cores(c.server, c0.server),
		postgres: cores(pg, pg0), clickhouse: cores(c.clickhouse, c0.clickhouse)}
	r.other = round(max(0, r.busy-r.self-r.server-r.postgres-r.clickhouse), 2)
	return r
}

type pingsCores struct{ busy, self, server, postgres, clickhouse, other float64 }

func (r pingsCores) fill(f *PingsFigures) {
	f.CoresBusy, f.CoresBench, f.CoresServer = r.busy, r.self, r.server
	f.CoresPostgres, f.CoresClickHouse, f.CoresOther = r.postgres, r.clickhouse, r.other
}

// processTicks returns the user and system CPU time of a process.
func processTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseUint(f[11], 10, 64)
	sys, _ := strconv.ParseUint(f[12], 10, 64)
	return user + sys
}

// processName returns a process's command name.
func processName(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
