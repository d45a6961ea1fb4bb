package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// An organisation at scale: `morsel demo --org-slug big --reps 7000 --events
// 2000000`. Postgres gets the organisation, its teams, users (an admin, a
// trainer, a manager for every two teams) and the demo courses; the reps and
// their weeks of history go straight to ClickHouse, in the events the live
// path writes, and the rollups are then computed by the same code the event
// writer runs, so they are what the live path would have produced.

const (
	scaleTeamSize  = 25      // reps per team
	scaleBatch     = 200_000 // events per insert
	scaleRepIDBase = 1 << 40 // ids of made-up reps, enrollments and assignments: clear of Postgres's
)

// scaleOptions are the flags of a demo at scale.
type scaleOptions struct {
	slug   string
	reps   int
	events int // 0: the history's own size
	seed   uint64
}

type scaleOrg struct {
	org      lessons.Org
	teams    []lessons.Team
	managers []lessons.User
	admins   []lessons.User
	courses  []historyCourse
	reps     []historyRep
}

func demoScale(ctx context.Context, e *env, cfg Config, o scaleOptions) error {
	if o.reps < 1 || o.reps > 1_000_000 {
		return usageError{fmt.Sprintf("--reps is %d; it must be from 1 to 1000000", o.reps)}
	}
	if o.events < 0 {
		return usageError{fmt.Sprintf("--events is %d; it must be 0 (the history's own size) or more", o.events)}
	}
	pool, ch, done, err := openDatabases(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	// The accounts share the password printed below: a costly hash would only
	// slow the load down.
	store := lessons.NewStore(pool, lessons.StoreConfig{PasswordCost: bcrypt.MinCost})
	s, st, err := generateScale(ctx, e, pool, store, ch, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nOrganisation %q: %d reps in %d teams, %d events of history in %s (%.0f events/s), rolled up in %s.\n",
		s.org.Slug, len(s.reps), len(s.teams), st.events, st.written.Round(100*time.Millisecond),
		float64(st.events)/st.written.Seconds(), st.rolled.Round(100*time.Millisecond))
	fmt.Fprintf(e.stdout, "Logins (%s/signin), password %s:\n  admin    admin@%s.morsel.test (and admin2@, admin3@)\n  trainer  trainer@%s.morsel.test\n  manager  manager1@%s.morsel.test … manager%d@%s.morsel.test (two teams each)\n",
		cfg.publicURL(), scalePassword, s.org.Slug, s.org.Slug, s.org.Slug, len(s.managers), s.org.Slug)
	fmt.Fprintf(e.stdout, "Check the figures with: morsel check-analytics --org %s\n\n", s.org.Slug)
	return nil
}

const scalePassword = "demo-scale-1"

// scaleStats is what generating an organisation at scale took.
type scaleStats struct {
	events          int
	written, rolled time.Duration
}

// generateScale creates the organisation, writes its history and rolls it up
// (from the events and the facts in pool, store's database).
func generateScale(ctx context.Context, e *env, pool *pgxpool.Pool, store *lessons.Store, ch driver.Conn, o scaleOptions) (scaleOrg, scaleStats, error) {
	var st scaleStats
	start := time.Now()
	s, err := scaleSetup(ctx, e, store, o)
	if err != nil {
		return s, st, err
	}
	if st.events, err = writeScaleHistory(ctx, e, ch, s, o); err != nil {
		return s, st, err
	}
	st.written = time.Since(start)
	ids := make([]int64, len(s.reps))
	for i, r := range s.reps {
		ids[i] = r.id
	}
	err = tracking.RollUpOrg(ctx, pool, ch, s.org.ID, ids, func(done int) {
		fmt.Fprintf(e.stderr, "\rrolling up: %d of %d reps", done, len(ids))
	})
	fmt.Fprintln(e.stderr)
	st.rolled = time.Since(start) - st.written
	return s, st, err
}

// scaleSetup creates the organisation in Postgres and lays out its reps.
func scaleSetup(ctx context.Context, e *env, store *lessons.Store, o scaleOptions) (scaleOrg, error) {
	var s scaleOrg
	org, err := store.CreateOrg(ctx, lessons.Org{Slug: o.slug, Name: "Scale " + o.slug})
	if errs.CodeOf(err) == errs.Conflict {
		return s, fmt.Errorf("organisation %q exists already: each run makes a fresh one, so choose another --org-slug", o.slug)
	}
	if err != nil {
		return s, err
	}
	s.org = org
	files, err := demoCourses.ReadDir("demodata")
	if err != nil {
		return s, err
	}
	for _, f := range files {
		v, err := loadDemoCourse(ctx, store, org.ID, f.Name())
		if err != nil {
			return s, err
		}
		s.courses = append(s.courses, historyCourseOf(v))
	}
	nTeams := (o.reps + scaleTeamSize - 1) / scaleTeamSize
	for i := range nTeams {
		t, err := store.CreateTeam(ctx, org.ID, fmt.Sprintf("Team %03d", i+1))
		if err != nil {
			return s, err
		}
		s.teams = append(s.teams, t)
	}
	users := []lessons.NewUser{
		{Name: "Ada Admin", Email: "admin@" + o.slug + ".morsel.test", Role: lessons.RoleAdmin},
		{Name: "Abe Admin", Email: "admin2@" + o.slug + ".morsel.test", Role: lessons.RoleAdmin},
		{Name: "Ava Admin", Email: "admin3@" + o.slug + ".morsel.test", Role: lessons.RoleAdmin},
		{Name: "Tess Trainer", Email: "trainer@" + o.slug + ".morsel.test", Role: lessons.RoleTrainer},
	}
	for i := 0; i < nTeams; i += 2 {
		nu := lessons.NewUser{Name: fmt.Sprintf("Manager %d", i/2+1), Email: fmt.Sprintf("manager%d@%s.morsel.test", i/2+1, o.slug),
			Role: lessons.RoleManager, Teams: []string{s.teams[i].Name}}
		if i+1 < nTeams {
			nu.Teams = append(nu.Teams, s.teams[i+1].Name)
		}
		users = append(users, nu)
	}
	for i, nu := range users {
		u, _, err := store.CreateUser(ctx, org.ID, nu)
		if err != nil {
			return s, fmt.Errorf("user %s: %w", nu.Email, err)
		}
		if err := store.SetPassword(ctx, nu.Email, scalePassword, false); err != nil {
			return s, fmt.Errorf("user %s: %w", nu.Email, err)
		}
		switch u.Role {
		case lessons.RoleManager:
			s.managers = append(s.managers, u)
		case lessons.RoleAdmin:
			s.admins = append(s.admins, u)
		}
		if i%50 == 49 {
			fmt.Fprintf(e.stderr, "\rusers: %d of %d", i+1, len(users))
		}
	}
	fmt.Fprintf(e.stderr, "\rusers: %d of %d\n", len(users), len(users))

	now := time.Now().UTC()
	rng := rand.New(rand.NewPCG(o.seed, 1))
	for i, in := range lessons.GenerateReps(o.reps, int64(o.seed)) {
		t := s.teams[i%nTeams]
		r := historyRep{id: scaleRepIDBase + int64(i), teamID: t.ID, team: t.Name, in: in}
		for c := range s.courses {
			id := scaleRepIDBase + int64(i)*int64(len(s.courses)) + int64(c)
			en := historyEnrollment{id: id, course: c, enrolledAt: now.Add(-time.Duration(2*3600+rng.IntN(35*24*3600)) * time.Second)}
			for step := range s.courses[c].steps {
				en.assignments = append(en.assignments, scaleRepIDBase+(id-scaleRepIDBase)*64+int64(step))
			}
			r.enrollments = append(r.enrollments, en)
		}
		s.reps = append(s.reps, r)
	}
	return s, nil
}

// writeScaleHistory generates the reps' history and inserts it into
// ClickHouse in large batches, two at a time, showing progress; it returns
// how many events it wrote.
func writeScaleHistory(ctx context.Context, e *env, ch driver.Conn, s scaleOrg, o scaleOptions) (int, error) {
	now := time.Now().UTC()
	gen := func(tips int, emit func(tracking.Event)) {
		h := &history{org: s.org.ID, now: now, courses: s.courses, tips: tips, nextID: scaleRepIDBase}
		for i, r := range s.reps {
			h.rep(rand.New(rand.NewPCG(o.seed, uint64(i)+2)), r, emit)
		}
	}
	var base int
	gen(0, func(tracking.Event) { base++ })
	tips := tipsFor(base, len(s.reps), o.events)
	total := base + 2*tips*len(s.reps)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []tracking.Event, 2)
	var written atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := tracking.InsertEvents(ctx, ch, b); err != nil {
					cancel(err)
					continue
				}
				written.Add(int64(len(b)))
			}
		}()
	}
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	show := func() {
		n := written.Load()
		fmt.Fprintf(e.stderr, "\revents: %d of ~%d (%.0f/s)   ", n, total, float64(n)/time.Since(start).Seconds())
	}
	batch := make([]tracking.Event, 0, scaleBatch)
	gen(tips, func(ev tracking.Event) {
		batch = append(batch, ev)
		if len(batch) < scaleBatch || ctx.Err() != nil {
			return
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
		}
		batch = make([]tracking.Event, 0, scaleBatch)
		select {
		case <-tick.C:
			show()
		default:
		}
	})
	if len(batch) > 0 && ctx.Err() == nil {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	show()
	fmt.Fprintln(e.stderr)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return int(written.Load()), err
	}
	return int(written.Load()), ctx.Err()
}
