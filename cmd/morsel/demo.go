package main

import (
	"bytes"
	"context"
	"embed"
	"flag"
	"fmt"
	"strings"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

//go:embed demodata/*.json
var demoCourses embed.FS

// demoLogin is a demo user with a known password, so the demo can print it.
type demoLogin struct {
	role     lessons.Role
	name     string
	email    string
	password string
	teams    []string
}

var demoLogins = []demoLogin{
	{lessons.RoleAdmin, "Ada Admin", "admin@demo.morsel.test", "demo-admin-1", nil},
	{lessons.RoleTrainer, "Tess Trainer", "trainer@demo.morsel.test", "demo-trainer-1", nil},
	{lessons.RoleManager, "Nora North", "north@demo.morsel.test", "demo-manager-1", []string{"North"}},
	{lessons.RoleManager, "Sam South", "south@demo.morsel.test", "demo-manager-2", []string{"South", "West"}},
}

const demoRepCount = 200

func init() {
	commands = append(commands, command{name: "demo", summary: "Load the demo organisation (courses, teams, 200 reps, logins); safe to run again",
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			cfg.databaseFlags(fs)
			publicURL := fs.String("public-url", "", "where the app is served, for lesson links and the printed sign-in link (default PUBLIC_URL, else http://localhost with HTTP_ADDR's port)")
			var scale scaleOptions
			fs.StringVar(&scale.slug, "org-slug", "demo", "the organisation; any other than demo gets generated data at scale (see --reps, --events)")
			fs.IntVar(&scale.reps, "reps", demoRepCount, "reps to generate, for an organisation at scale")
			fs.IntVar(&scale.events, "events", 0, "events of history to generate, for an organisation at scale (0: about 170 a rep; more: replays of the videos)")
			fs.Uint64Var(&scale.seed, "seed", 1, "the generator's seed, for an organisation at scale")
			return func(ctx context.Context, e *env, _ []string) error {
				if scale.slug != "demo" {
					if scale.reps == demoRepCount && !flagSet(fs, "reps") {
						scale.reps = 7000
					}
					return demoScale(ctx, e, *cfg, scale)
				}
				if flagSet(fs, "reps") || flagSet(fs, "events") {
					return usageError{"--reps and --events make an organisation at scale: name it with --org-slug (the demo organisation has 200 reps)"}
				}
				return demo(ctx, e, *cfg, *publicURL)
			}
		}})
}

func demo(ctx context.Context, e *env, cfg Config, publicURL string) error {
	pool, ch, done, err := openDatabases(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	if publicURL == "" {
		publicURL = cfg.publicURL()
	}
	publicURL = strings.TrimSuffix(publicURL, "/")
	cfg.PublicURL = publicURL
	store := lessons.NewStore(pool, lessons.StoreConfig{PublicURL: publicURL})
	org, err := store.CreateOrg(ctx, lessons.Org{Slug: "demo", Name: "Demo Sales Co",
		HelpText: "Demo Sales Co training. Reply with a letter to answer, STOP to opt out."})
	fresh := err == nil
	if errs.CodeOf(err) == errs.Conflict {
		org, err = store.OrgBySlug(ctx, "demo")
	}
	if err != nil {
		return fmt.Errorf("demo organisation: %w", err)
	}
	for _, l := range demoLogins {
		_, _, err := store.CreateUser(ctx, org.ID, lessons.NewUser{Name: l.name, Email: l.email, Role: l.role, Teams: l.teams})
		if err != nil && errs.CodeOf(err) != errs.Conflict {
			return fmt.Errorf("demo user %s: %w", l.email, err)
		}
		if err := store.SetPassword(ctx, l.email, l.password, false); err != nil {
			return fmt.Errorf("demo user %s: %w", l.email, err)
		}
	}
	if _, err := store.ImportReps(ctx, org.ID, lessons.GenerateReps(demoRepCount, 1)); err != nil {
		return fmt.Errorf("demo reps: %w", err)
	}
	files, err := demoCourses.ReadDir("demodata")
	if err != nil {
		return err
	}
	var required, second lessons.CourseVersion
	for _, f := range files {
		v, err := loadDemoCourse(ctx, store, org.ID, f.Name())
		if err != nil {
			return err
		}
		if v.Spec.Slug == "calling-compliance" {
			required = v
		} else {
			second = v
		}
	}
	teams, err := store.Teams(ctx, org.ID)
	if err != nil {
		return err
	}
	var teamIDs []int64
	for _, t := range teams {
		teamIDs = append(teamIDs, t.ID)
	}
	enrolled := 0
	if fresh {
		// Weeks of training, played through the scheduler: every page has
		// something to show at once.
		if enrolled, err = playDemoHistory(ctx, e, cfg, pool, ch, org, required, second, teamIDs); err != nil {
			return err
		}
		if err := demoNotes(ctx, store, org.ID, teams); err != nil {
			return err
		}
	}
	_, key, err := store.CreateAPIKey(ctx, org.ID, "demo")
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stdout, "\nDemo data is in organisation %q: 2 courses, %d teams, %d reps (%d newly enrolled, with %d days of history).\n",
		org.Slug, len(teams), demoRepCount, enrolled, demoHistoryDays)
	fmt.Fprintf(e.stdout, "Open %s and sign in; as the admin or trainer, the phone simulator at %s/simulator shows every rep's texts (reply as a rep there).\n", publicURL, publicURL)
	fmt.Fprintf(e.stdout, "Managers see their teams' progress at %s/dashboard; a few reps get a nudge within the first minute, and the next lessons go out at the courses' cadence slots in each rep's time zone.\nLogins (%s/signin):\n", publicURL, publicURL)
	for _, l := range demoLogins {
		fmt.Fprintf(e.stdout, "  %-8s %-26s password %s\n", l.role, l.email, l.password)
	}
	fmt.Fprintf(e.stdout, "Served with OPERATOR_ORG=%s (as make demo does), its admin also sees River's jobs at %s/admin/jobs.\n", org.Slug, publicURL)
	fmt.Fprintf(e.stdout, "API key: %s\n  (try: curl -H 'Authorization: Bearer %s' %s/api/v1/courses)\n\n", key, key, publicURL)
	return nil
}

// loadDemoCourse publishes the embedded course file unless it is published
// already.
func loadDemoCourse(ctx context.Context, store *lessons.Store, orgID int64, name string) (lessons.CourseVersion, error) {
	b, err := demoCourses.ReadFile("demodata/" + name)
	if err != nil {
		return lessons.CourseVersion{}, err
	}
	spec, err := lessons.ParseCourseFile(bytes.NewReader(b))
	if err != nil {
		return lessons.CourseVersion{}, fmt.Errorf("demo course %s: %w", name, err)
	}
	v, err := demoCourse(ctx, store, orgID, spec)
	if err != nil {
		return lessons.CourseVersion{}, fmt.Errorf("demo course %s: %w", spec.Slug, err)
	}
	return v, nil
}

// flagSet says whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// demoCourse publishes spec unless the course is published already, so that
// running the demo again changes nothing.
func demoCourse(ctx context.Context, store *lessons.Store, orgID int64, spec lessons.CourseSpec) (lessons.CourseVersion, error) {
	courses, err := store.Courses(ctx, orgID)
	if err != nil {
		return lessons.CourseVersion{}, err
	}
	for _, c := range courses {
		if c.Slug == spec.Slug && c.PublishedVersion > 0 {
			return store.PublishedVersion(ctx, orgID, c.ID)
		}
	}
	return store.SaveCourse(ctx, orgID, spec, true)
}

// demoNotes has each manager leave notes on a few reps of their first team,
// with tags and a mention of the trainer: the rep table's tag filter, the
// breakdown by tag and the trainer's mentions have something to show.
func demoNotes(ctx context.Context, store *lessons.Store, orgID int64, teams []lessons.Team) error {
	texts := []string{
		"Called her about the pricing quiz, #needs-coaching. @tess can you send the objection-handling video again?",
		"Strong first week, #top-performer and a natural on the phone.",
		"Started late after the holidays, #new-hire #needs-coaching",
		"Asked for the compliance script in Spanish, #spanish",
	}
	for _, l := range demoLogins {
		if l.role != lessons.RoleManager {
			continue
		}
		u, err := store.Authenticate(ctx, l.email, l.password)
		if err != nil {
			return fmt.Errorf("demo notes: %w", err)
		}
		var team int64
		for _, t := range teams {
			if t.Name == l.teams[0] {
				team = t.ID
			}
		}
		reps, err := store.Reps(ctx, orgID, lessons.RepFilter{TeamID: team, Limit: 12})
		if err != nil {
			return fmt.Errorf("demo notes: %w", err)
		}
		for i, r := range reps {
			if i%3 != 0 {
				continue
			}
			if _, err := store.AddNote(ctx, u, r.ID, texts[(i/3)%len(texts)]); err != nil {
				return fmt.Errorf("demo note on rep %d: %w", r.ID, err)
			}
		}
	}
	return nil
}
