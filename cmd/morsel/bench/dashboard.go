package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web"
)

// bench dashboard: managers and admins signed in at once go through the
// dashboard's pages over loopback, while events keep arriving through the
// outbox and the shipper, and probes time how long a new event takes to show.

// DashboardOptions are the flags of bench dashboard.
type DashboardOptions struct {
	Org              string        // an organisation made by `morsel demo --org-slug`; "": generate one
	Reps, Events     int           // of the organisation generated without Org
	Managers, Admins int           // signed in at once; Managers at least 1
	Duration, Think  time.Duration // how long to load the pages, and each user's pause between loads
	// Warmup is how long the users load pages before Duration starts,
	// unmeasured: the server's caches fill as a server's that has run a
	// while are (its first reads of an organisation are whole ones).
	Warmup       time.Duration
	EventsPerSec int      // live events written to the outbox a second meanwhile
	Pages        []string // load only these of DashboardPages(); none: all
	CPUProfile   string   // a file to write a CPU profile of the load and the server to; "": none
}

// Demo is `morsel demo --org-slug`'s generator of organisations at scale,
// whose managers and admins bench dashboard signs in as.
type Demo struct {
	// Generate creates the organisation slug in store (whose database is
	// pool's), with reps reps and about events events of history in ch, drawn
	// from seed, and rolls it up.
	Generate func(ctx context.Context, pool *pgxpool.Pool, store *lessons.Store, ch driver.Conn, slug string, reps, events int, seed uint64) error
	// Password is the password of its users.
	Password string
}

// scaleTags are the tags of the notes on the reps of an organisation
// generated at scale (TagsOf gives each rep's), which bench dashboard
// filters and narrows the reports by.
var scaleTags = []string{"needs-coaching", "top-performer", "new-hire", "spanish", "weekend-shift"}

// TagsOf is the tags of the generated rep with the id: none for half the
// reps, one or two of scaleTags for the others.
func TagsOf(repID int64) []string {
	switch n := int(repID % 10); {
	case n < 5:
		return nil
	case n < 8:
		return []string{scaleTags[(repID/10)%int64(len(scaleTags))]}
	default:
		a, b := scaleTags[(repID/10)%int64(len(scaleTags))], scaleTags[(repID/10+1)%int64(len(scaleTags))]
		if b < a {
			a, b = b, a
		}
		return []string{a, b}
	}
}

// DashboardPages returns the names of the pages bench dashboard loads, as its
// figures do, a fresh slice each call.
func DashboardPages() []string { return slices.Clone(dashboardPages) }

// dashboardPages are the pages DashboardPages returns.
var dashboardPages = []string{"overview", "rep_table", "rep_table_filtered", "rep_table_next_page", "search", "rep_table_csv", "breakdown",
	"breakdown_csv", "question_report", "question_csv", "video_report", "mentions", "tag_suggestions", "rep_page"}

type dashUser struct {
	name    string
	session string
	admin   bool
	teams   []int64
}

type dashRun struct {
	o       DashboardOptions
	base    string
	client  *http.Client
	pool    *pgxpool.Pool
	ch      driver.Conn
	org     lessons.Org
	courses []int64
	targets []dashTarget // live events and probes pick from these

	mu        sync.Mutex
	latencies map[string][]time.Duration
	errors    map[string]int
	lastError string
	loads     atomic.Int64
	recording atomic.Bool // the warm-up is over: loads are measured
	written   atomic.Int64
	cores     pingsCores // CPU used while the pages loaded
}

// dashTarget is an assignment sent and not done, of a rep in progress.
type dashTarget struct {
	rep, enrollment, course, assignment, lesson int64
}

// Dashboard loads the dashboard's pages over loopback as o.Managers managers
// and o.Admins admins signed in at once, each pausing o.Think between loads,
// for o.Duration, while live events go through the outbox and the shipper to
// ClickHouse and probes time how long a new event takes to show on a rep's
// page. It loads o.Org, or an organisation demo generates.
//
// Once the load is measured Dashboard returns its figures, with an error too
// when a page load failed.
func Dashboard(ctx context.Context, e Env, demo Demo, o DashboardOptions) (*DashboardFigures, error) {
	db, err := openBenchDB(ctx, e, "bench dashboard", 40, nil)
	if err != nil {
		return nil, err
	}
	defer db.close()
	ch, err := openBenchClickHouse(ctx, e)
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	r := &dashRun{o: o, pool: db.pool, ch: ch, latencies: map[string][]time.Duration{}, errors: map[string]int{}}
	slug := o.Org
	if slug == "" {
		// bcrypt.MinCost: the generated accounts share a printed password.
		db.store = lessons.NewStore(db.pool, lessons.StoreConfig{PasswordCost: 4})
		slug = "bench-dash-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		fmt.Fprintf(e.Stderr, "bench dashboard: generating %s: %d reps, %d events\n", slug, o.Reps, o.Events)
		if err := demo.Generate(ctx, db.pool, db.store, ch, slug, o.Reps, o.Events, 1); err != nil {
			return nil, err
		}
	}
	if r.org, err = db.store.OrgBySlug(ctx, slug); err != nil {
		return nil, err
	}
	users, err := r.signIn(ctx, db.store, demo.Password)
	if err != nil {
		return nil, err
	}
	if err := r.loadTargets(ctx); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: web.New(web.Deps{Store: db.store, ClickHouse: ch, Pool: db.pool, Logger: scheduler.WarningsOnly(slog.New(slog.NewTextHandler(e.Stderr, nil)))}).Handler(),
		ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	r.base = "http://" + ln.Addr().String()
	r.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: len(users) + 4}}

	var count uint64
	if err := ch.QueryRow(ctx, `SELECT count() FROM events WHERE org_id = ?`, uint64(r.org.ID)).Scan(&count); err != nil {
		return nil, fmt.Errorf("count the organisation's events: %w", err)
	}
	events := int64(count)
	fmt.Fprintf(e.Stderr, "bench dashboard: %s: %s events; %d managers and %d admins for %s, %s between loads, %d live events/s\n",
		r.org.Slug, thousands(events), o.Managers, o.Admins, o.Duration, o.Think, o.EventsPerSec)

	runCtx, stop := context.WithTimeout(ctx, o.Warmup+o.Duration)
	defer stop()
	var wg sync.WaitGroup
	var freshness []time.Duration
	var stale int
	wg.Add(3)
	go func() { defer wg.Done(); r.writeLive(runCtx) }()
	go func() { defer wg.Done(); r.ship(runCtx) }()
	// The probes time writes to the page through the warm-up too: how
	// fresh a page is does not depend on the caches.
	go func() { defer wg.Done(); freshness, stale = r.probe(runCtx, users[len(users)-1]) }()
	var browsing sync.WaitGroup
	for i, u := range users {
		browsing.Add(1)
		go func() {
			defer browsing.Done()
			r.browse(runCtx, u, rand.New(rand.NewPCG(uint64(i), 7)))
		}()
	}
	if o.Warmup > 0 {
		fmt.Fprintf(e.Stderr, "bench dashboard: warming up for %s (not measured)\n", o.Warmup)
		select {
		case <-runCtx.Done():
		case <-time.After(o.Warmup):
		}
	}
	r.recording.Store(true)
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	ticker := startCountTicker(e.Stderr, "bench dashboard", "page loads", 0, &r.loads)
	cpu0 := readPingsCPU(ctx, db, 0)
	start := time.Now()
	browsing.Wait()
	elapsed := time.Since(start)
	r.cores = readPingsCPU(ctx, db, 0).since(cpu0, elapsed)
	wg.Wait()
	ticker.Stop()
	// What the live writer left in the outbox goes too: no shipper of
	// another process should find it.
	for {
		n, err := tracking.Ship(ctx, r.pool, r.ch, 50_000, nil)
		if err != nil {
			return nil, fmt.Errorf("ship the last live events: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return r.report(e, elapsed, events, freshness, stale)
}

// signIn starts the sessions of the managers and admins, through the
// store's sign-in with the demo's password.
func (r *dashRun) signIn(ctx context.Context, store *lessons.Store, password string) ([]dashUser, error) {
	var out []dashUser
	add := func(email string, admin bool) error {
		u, err := store.Authenticate(ctx, email, password)
		if err != nil {
			return fmt.Errorf("sign in as %s (made by morsel demo --org-slug, password %s): %w", email, password, err)
		}
		sess, err := store.StartSession(ctx, u)
		if err != nil {
			return err
		}
		out = append(out, dashUser{name: email, session: sess.Token, admin: admin, teams: u.TeamIDs})
		return nil
	}
	for i := range r.o.Managers {
		if err := add(fmt.Sprintf("manager%d@%s.morsel.test", i+1, r.org.Slug), false); err != nil {
			return nil, err
		}
	}
	for i := range r.o.Admins {
		email := "admin@" + r.org.Slug + ".morsel.test"
		if i > 0 {
			email = fmt.Sprintf("admin%d@%s.morsel.test", i+1, r.org.Slug)
		}
		if err := add(email, true); err != nil {
			return nil, err
		}
	}
	if r.o.Admins == 0 { // the probes read as an admin
		if err := add("admin@"+r.org.Slug+".morsel.test", true); err != nil {
			return nil, err
		}
	}
	courses, err := store.Courses(ctx, r.org.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range courses {
		r.courses = append(r.courses, c.ID)
	}
	return out, nil
}

// loadTargets finds assignments sent and not done, for the live events and
// the probes.
func (r *dashRun) loadTargets(ctx context.Context) error {
	rows, err := r.ch.Query(ctx, `
		SELECT rep_id, enrollment_id, course_id, assignment_id, lesson_id
		FROM assignment_progress FINAL
		WHERE org_id = ? AND deleted = 0 AND toUInt32(sent_at) > 0 AND toUInt32(completed_at) = 0
		LIMIT 20000`, uint64(r.org.ID))
	if err != nil {
		return fmt.Errorf("find assignments in progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t [5]uint64
		if err := rows.Scan(&t[0], &t[1], &t[2], &t[3], &t[4]); err != nil {
			return err
		}
		r.targets = append(r.targets, dashTarget{int64(t[0]), int64(t[1]), int64(t[2]), int64(t[3]), int64(t[4])})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(r.targets) < 100 {
		return fmt.Errorf("organisation %s has %d assignments in progress: too few to write live events to", r.org.Slug, len(r.targets))
	}
	rand.Shuffle(len(r.targets), func(i, j int) { r.targets[i], r.targets[j] = r.targets[j], r.targets[i] })
	return nil
}

// pageChoice draws each page alone, for --pages: a number its case of
// browse's switch takes.
var pageChoice = map[string]int{"overview": 0, "rep_table": 20, "rep_table_filtered": 35, "rep_table_next_page": 50, "search": 70,
	"rep_table_csv": 80, "breakdown": 82, "breakdown_csv": 84, "question_report": 85, "question_csv": 87, "video_report": 88,
	"mentions": 90, "tag_suggestions": 91, "rep_page": 92}

var (
	nextLinkRE = regexp.MustCompile(`href="(/dashboard/reps\?[^"]*)" rel="next"`)
	repIDRE    = regexp.MustCompile(`data-rep="(\d+)"`)
	letters    = "abcdeghjklmnoprst" // that start names
)

// browse is one user going through the dashboard until ctx ends.
func (r *dashRun) browse(ctx context.Context, u dashUser, rng *rand.Rand) {
	var next string // the last table's next page
	var reps []string
	only := r.o.Pages
	for ctx.Err() == nil {
		var page, path string
		var fragment bool
		x := rng.IntN(100)
		if len(only) > 0 {
			x = pageChoice[only[rng.IntN(len(only))]]
		}
		switch {
		case x < 20:
			page, path = "overview", "/dashboard"
			if len(u.teams) > 1 && rng.IntN(2) == 0 {
				path += "?team=" + strconv.FormatInt(u.teams[rng.IntN(len(u.teams))], 10)
			}
		case x < 35:
			page, path = "rep_table", "/dashboard/reps?sort="+string(reports.Columns()[rng.IntN(len(reports.Columns()))])
			if rng.IntN(2) == 0 {
				path += "&dir=desc"
			}
		case x < 50:
			q := []string{"status=" + reports.Statuses()[rng.IntN(len(reports.Statuses()))].String()}
			if rng.IntN(2) == 0 && len(r.courses) > 0 {
				q = append(q, "course="+strconv.FormatInt(r.courses[rng.IntN(len(r.courses))], 10))
			}
			if rng.IntN(3) == 0 {
				q = append(q, "due="+strconv.Itoa(1+rng.IntN(14)))
			}
			if len(u.teams) > 0 && rng.IntN(2) == 0 {
				q = append(q, "team="+strconv.FormatInt(u.teams[rng.IntN(len(u.teams))], 10))
			}
			if rng.IntN(3) == 0 {
				q = append(q, "tag="+scaleTags[rng.IntN(len(scaleTags))])
			}
			q = append(q, "sort="+string(reports.Columns()[rng.IntN(len(reports.Columns()))]))
			page, path, fragment = "rep_table_filtered", "/dashboard/reps?"+strings.Join(q, "&"), rng.IntN(2) == 0
		case x < 62 && next != "":
			page, path, fragment = "rep_table_next_page", next, true
		case x < 80:
			// Typing one letter, then a second: two requests, as the box sends them.
			q := string(letters[rng.IntN(len(letters))])
			r.load(ctx, u, "search", "/dashboard/search?q="+q, true)
			page, path, fragment = "search", "/dashboard/search?q="+q+string(letters[rng.IntN(len(letters))]), true
		case x < 82:
			// The whole table in the user's scope, as a spreadsheet takes it.
			page, path = "rep_table_csv", "/dashboard/reps.csv?sort="+string(reports.Columns()[rng.IntN(len(reports.Columns()))])
		case x < 84:
			page, path = "breakdown", "/reports/breakdown?"+breakdownParams(rng)+
				"&compare="+string(reports.Measures()[rng.IntN(len(reports.Measures()))])
		case x < 85:
			page, path = "breakdown_csv", "/reports/breakdown.csv?"+breakdownParams(rng)
		case x < 87 && len(r.courses) > 0:
			page, path = "question_report", "/reports/questions?course="+strconv.FormatInt(r.courses[rng.IntN(len(r.courses))], 10)+
				tagParam(rng)
		case x < 88 && len(r.courses) > 0:
			page, path = "question_csv", "/reports/questions.csv?course="+strconv.FormatInt(r.courses[rng.IntN(len(r.courses))], 10)+
				tagParam(rng)
		case x < 90 && len(r.courses) > 0:
			// A course's video lessons: drop-off curves over the user's scope.
			page, path = "video_report", "/reports/videos?course="+strconv.FormatInt(r.courses[rng.IntN(len(r.courses))], 10)+
				tagParam(rng)
		case x < 91:
			page, path = "mentions", "/mentions"
		case x < 92:
			// Typing a tag in a note: the suggestions for its first letters.
			tag := scaleTags[rng.IntN(len(scaleTags))]
			page, path = "tag_suggestions", "/dashboard/tags?q="+tag[:1+rng.IntN(min(3, len(tag)))]
		default:
			if len(reps) == 0 {
				page, path = "rep_table", "/dashboard/reps"
				break
			}
			page, path = "rep_page", "/dashboard/reps/"+reps[rng.IntN(len(reps))]
		}
		body := r.load(ctx, u, page, path, fragment)
		if strings.HasPrefix(page, "rep_table") {
			next = ""
			if m := nextLinkRE.FindSubmatch(body); m != nil {
				next = strings.ReplaceAll(string(m[1]), "&amp;", "&")
			}
			if ms := repIDRE.FindAllSubmatch(body, -1); len(ms) > 0 {
				reps = reps[:0]
				for _, m := range ms {
					reps = append(reps, string(m[1]))
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.o.Think):
		}
	}
}

// load fetches one page as u and records how long it took.
func (r *dashRun) load(ctx context.Context, u dashUser, page, path string, fragment bool) []byte {
	measured := r.recording.Load() // not a load of the warm-up
	start := time.Now()
	body, err := r.get(ctx, u, path, fragment)
	took := time.Since(start)
	if ctx.Err() != nil {
		return nil // cut off by the end of the run: not a figure
	}
	if !measured && err == nil {
		return body // a failure counts even in the warm-up
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors[page]++
		r.lastError = page + ": " + err.Error()
		return nil
	}
	r.latencies[page] = append(r.latencies[page], took)
	r.loads.Add(1)
	return body
}

// get fetches a page as u, as htmx does when fragment is set; anything but
// a 200 is an error.
func (r *dashRun) get(ctx context.Context, u dashUser, path string, fragment bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", r.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.AddCookie(&http.Cookie{Name: "morsel_session", Value: u.session})
	if fragment {
		req.Header.Set("HX-Request", "true")
	}
	res, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %q", path, res.Status, firstLine(body, 200))
	}
	return body, err
}

// writeLive appends live events to the outbox, as the app does: segment
// pings of assignments in progress, in one transaction per tenth of a second.
func (r *dashRun) writeLive(ctx context.Context) {
	if r.o.EventsPerSec == 0 {
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	per := max(1, r.o.EventsPerSec/10)
	rng := rand.New(rand.NewPCG(3, 3))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UTC()
		events := make([]tracking.Event, per)
		for i := range events {
			t := r.targets[rng.IntN(len(r.targets)/2)] // the second half is for the probes
			seg := rng.IntN(4)
			events[i] = tracking.Event{OrgID: r.org.ID, RepID: t.rep, Key: tracking.SegmentKey(t.assignment, seg), Kind: tracking.KindSegmentWatched,
				OccurredAt: now, CourseID: t.course, EnrollmentID: t.enrollment, AssignmentID: t.assignment, LessonID: t.lesson, Value: float64(seg)}
		}
		err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) })
		if err == nil {
			r.written.Add(int64(len(events)))
		}
	}
}

// ship moves the outbox to ClickHouse every second, as the scheduler's
// periodic shipping job does (tracking.Ship, the same batches).
func (r *dashRun) ship(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for ctx.Err() == nil {
			n, err := tracking.Ship(ctx, r.pool, r.ch, 50_000, nil)
			if err != nil || n < 50_000 {
				break
			}
		}
	}
}

var doneRE = regexp.MustCompile(`data-enrollment="(\d+)" data-done="(\d+)"`)

// probe, once a second, completes an assignment in progress through the
// outbox and times until the rep's page shows one more lesson done.
func (r *dashRun) probe(ctx context.Context, admin dashUser) ([]time.Duration, int) {
	var out []time.Duration
	stale := 0
	targets := r.targets[len(r.targets)/2:]
	seen := map[int64]bool{}
	for i := 0; ctx.Err() == nil && i < len(targets); i++ {
		t := targets[i]
		if seen[t.enrollment] {
			continue
		}
		seen[t.enrollment] = true
		path := "/dashboard/reps/" + strconv.FormatInt(t.rep, 10)
		before, ok := r.doneOf(ctx, admin, path, t.enrollment)
		if !ok {
			continue
		}
		e := tracking.Event{OrgID: r.org.ID, RepID: t.rep, Key: tracking.DoneKey(t.assignment), Kind: tracking.KindLessonCompleted,
			OccurredAt: time.Now().UTC(), CourseID: t.course, EnrollmentID: t.enrollment, AssignmentID: t.assignment, LessonID: t.lesson}
		if err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, e) }); err != nil {
			continue
		}
		written := time.Now()
		shown := false
		for ctx.Err() == nil && time.Since(written) < 30*time.Second {
			if done, ok := r.doneOf(ctx, admin, path, t.enrollment); ok && done > before {
				out = append(out, time.Since(written))
				shown = true
				break
			}
			time.Sleep(20 * time.Millisecond) // polling the page, as a browser refresh would
		}
		if !shown && ctx.Err() == nil {
			stale++
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return out, stale
}

// doneOf reads the lessons done of one enrollment on a rep's page.
func (r *dashRun) doneOf(ctx context.Context, admin dashUser, path string, enrollment int64) (int, bool) {
	body, err := r.get(ctx, admin, path, false)
	if err != nil {
		return 0, false
	}
	for _, m := range doneRE.FindAllSubmatch(body, -1) {
		if string(m[1]) == strconv.FormatInt(enrollment, 10) {
			n, _ := strconv.Atoi(string(m[2]))
			return n, true
		}
	}
	return 0, false
}

// PageFigures are the figures of one page, or of all.
type PageFigures struct {
	Loads       int     `json:"loads"`
	LoadsPerSec float64 `json:"loads_per_sec"`
	P50         float64 `json:"p50_ms"`
	P95         float64 `json:"p95_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	Errors      int     `json:"errors"`
}

func figuresOf(ds []time.Duration, errors int, elapsed time.Duration) PageFigures {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	f := PageFigures{Loads: len(ds), LoadsPerSec: round(float64(len(ds))/elapsed.Seconds(), 1), Errors: errors}
	if len(ds) > 0 {
		f.P50, f.P95, f.P99, f.Max = ms(percentile(ds, 0.50)), ms(percentile(ds, 0.95)), ms(percentile(ds, 0.99)), ms(ds[len(ds)-1])
	}
	return f
}

// DashboardFigures are the figures of bench dashboard, the JSON object --json
// prints: of all pages, of each, of the freshness probes and of the CPU.
type DashboardFigures struct {
	PageFigures
	Pages           map[string]PageFigures `json:"pages"`
	Events          int64                  `json:"events"`
	Reps            int                    `json:"reps"`
	Users           int                    `json:"users"`
	LiveEvents      int64                  `json:"live_events_written"`
	FreshnessP50    float64                `json:"freshness_p50_ms"`
	FreshnessP99    float64                `json:"freshness_p99_ms"`
	FreshnessMax    float64                `json:"freshness_max_ms"`
	FreshnessProbes int                    `json:"freshness_probes"`
	FreshnessStale  int                    `json:"freshness_stale"`
	DurationSec     float64                `json:"duration_sec"`
	CoresBusy       float64                `json:"cores_busy"`
	CoresMorsel     float64                `json:"cores_morsel"` // the server and the load, one process
	CoresClickHouse float64                `json:"cores_clickhouse"`
	CoresPostgres   float64                `json:"cores_postgres"`
}

func (r *dashRun) report(e Env, elapsed time.Duration, events int64, freshness []time.Duration, stale int) (*DashboardFigures, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := DashboardFigures{Pages: map[string]PageFigures{}, Events: events, Users: r.o.Managers + r.o.Admins,
		LiveEvents: r.written.Load(), FreshnessProbes: len(freshness), FreshnessStale: stale, DurationSec: round(elapsed.Seconds(), 1),
		CoresBusy: r.cores.busy, CoresMorsel: r.cores.self, CoresClickHouse: r.cores.clickhouse, CoresPostgres: r.cores.postgres}
	var all []time.Duration
	allErrors := 0
	for _, p := range dashboardPages {
		res.Pages[p] = figuresOf(slices.Clone(r.latencies[p]), r.errors[p], elapsed)
		all = append(all, r.latencies[p]...)
		allErrors += r.errors[p]
	}
	res.PageFigures = figuresOf(all, allErrors, elapsed)
	fs := figuresOf(slices.Clone(freshness), 0, elapsed)
	res.FreshnessP50, res.FreshnessP99, res.FreshnessMax = fs.P50, fs.P99, fs.Max
	var reps uint64
	_ = r.ch.QueryRow(context.Background(), `SELECT count() FROM rep_summary FINAL WHERE org_id = ? AND deleted = 0`, uint64(r.org.ID)).Scan(&reps)
	res.Reps = int(reps)

	fmt.Fprintf(e.Stdout, "\nbench dashboard: %s, %d reps, %s events, %d users, %.0f s\n", r.org.Slug, res.Reps, thousands(events), res.Users, elapsed.Seconds())
	fmt.Fprintf(e.Stdout, "%-22s %8s %8s %8s %8s %8s %8s %7s\n", "page", "loads", "loads/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors")
	for _, p := range append(DashboardPages(), "all") {
		f := res.PageFigures
		if p != "all" {
			f = res.Pages[p]
		}
		fmt.Fprintf(e.Stdout, "%-22s %8d %8.1f %8.1f %8.1f %8.1f %8.1f %7d\n", p, f.Loads, f.LoadsPerSec, f.P50, f.P95, f.P99, f.Max, f.Errors)
	}
	fmt.Fprintf(e.Stdout, "freshness (an event written to the outbox until the rep's page shows it): p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d probes (%d never shown)\n",
		res.FreshnessP50, res.FreshnessP99, res.FreshnessMax, len(freshness), stale)
	fmt.Fprintf(e.Stdout, "live events written meanwhile: %s\n", thousands(res.LiveEvents))
	fmt.Fprintf(e.Stdout, "CPU (cores): ClickHouse %.2f, morsel (server and load) %.2f, Postgres %.2f, machine %.2f\n",
		res.CoresClickHouse, res.CoresMorsel, res.CoresPostgres, res.CoresBusy)
	if r.lastError != "" {
		fmt.Fprintf(e.Stdout, "last error: %s\n", r.lastError)
	}
	if allErrors > 0 {
		return &res, fmt.Errorf("%d page loads failed, the last: %s", allErrors, r.lastError)
	}
	return &res, nil
}

// breakdownParams are a breakdown's dimension and period, drawn at random,
// with a tag a third of the time.
func breakdownParams(rng *rand.Rand) string {
	return "by=" + string(reports.Dimensions()[rng.IntN(len(reports.Dimensions()))]) +
		"&period=" + []string{"week", "month"}[rng.IntN(2)] + tagParam(rng)
}

// tagParam narrows a report to one of scaleTags a third of the time.
func tagParam(rng *rand.Rand) string {
	if rng.IntN(3) != 0 {
		return ""
	}
	return "&tag=" + scaleTags[rng.IntN(len(scaleTags))]
}

// firstLine is the first line of body, cut to at most n bytes: enough of an
// error page to tell why it failed.
func firstLine(body []byte, n int) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(body), []byte("\n"))
	if len(line) > n {
		line = line[:n]
	}
	return string(line)
}
