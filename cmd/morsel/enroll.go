package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
)

func init() {
	commands = append(commands, command{name: "enroll", summary: "Enroll reps (by phone or team) in a course's published version; the first lessons are scheduled at once",
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			cfg.databaseFlags(fs)
			var org, course, teams, phones, due, start string
			var startNow bool
			fs.StringVar(&org, "org", "", "organisation slug (required)")
			fs.StringVar(&course, "course", "", "course slug (required)")
			fs.StringVar(&teams, "team", "", "teams to enroll, comma-separated")
			fs.StringVar(&phones, "rep", "", "reps to enroll by phone (E.164), comma-separated")
			fs.StringVar(&due, "due", "", "due date, YYYY-MM-DD (default: the course's due_days from the start)")
			fs.StringVar(&start, "start", "", "start date, YYYY-MM-DD: the first lesson at the first send time on or after it (default: the next send time)")
			fs.BoolVar(&startNow, "start-now", false, "send the first lesson at once if the rep's send window is open, else when it opens; the rest at the cadence")
			fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "where reps open lessons, for the links in the messages (env PUBLIC_URL; default http://localhost plus HTTP_ADDR's port)")
			return func(ctx context.Context, e *env, _ []string) error {
				if course == "" || (teams == "" && phones == "") {
					return usageError{"--course and at least one --team or --rep are required"}
				}
				var dueOn, startOn time.Time
				for _, d := range []struct {
					flag, value string
					into        *time.Time
				}{{"due", due, &dueOn}, {"start", start, &startOn}} {
					if d.value == "" {
						continue
					}
					var err error
					if *d.into, err = time.Parse(time.DateOnly, d.value); err != nil {
						return usageError{fmt.Sprintf("--%s %q is not a date as YYYY-MM-DD", d.flag, d.value)}
					}
				}
				cfg.PublicURL = strings.TrimSuffix(cfg.publicURL(), "/")
				pool, err := openPostgres(ctx, *cfg)
				if err != nil {
					return err
				}
				defer pool.Close()
				store, err := newStore(e, *cfg, pool) // enrolling queues the first lessons' sends
				if err != nil {
					return err
				}
				o, err := orgBySlug(ctx, store, org)
				if err != nil {
					return err
				}
				req, err := enrollRequest(ctx, store, o.ID, course, splitList(teams), splitList(phones))
				if err != nil {
					return err
				}
				req.DueOn, req.StartOn, req.StartNow = dueOn, startOn, startNow
				res, err := store.Enroll(ctx, o.ID, req)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "enrolled %d reps in %s (%d were enrolled already)\n", len(res.Enrollments), course, res.AlreadyEnrolled)
				return nil
			}
		}})
}

// enrollRequest finds the course, teams and reps named by slug, name and phone.
func enrollRequest(ctx context.Context, store *lessons.Store, orgID int64, course string, teams, phones []string) (lessons.EnrollRequest, error) {
	var req lessons.EnrollRequest
	courses, err := store.Courses(ctx, orgID)
	if err != nil {
		return req, err
	}
	for _, c := range courses {
		if c.Slug == course {
			req.CourseID = c.ID
		}
	}
	if req.CourseID == 0 {
		return req, fmt.Errorf("no course %q in this organisation", course)
	}
	if len(teams) > 0 {
		all, err := store.Teams(ctx, orgID)
		if err != nil {
			return req, err
		}
		byName := map[string]int64{}
		for _, t := range all {
			byName[t.Name] = t.ID
		}
		for _, name := range teams {
			id, ok := byName[name]
			if !ok {
				return req, fmt.Errorf("no team %q in this organisation", name)
			}
			req.TeamIDs = append(req.TeamIDs, id)
		}
	}
	for _, phone := range phones {
		rep, err := store.RepByPhone(ctx, orgID, phone)
		if err != nil {
			return req, err
		}
		req.RepIDs = append(req.RepIDs, rep.ID)
	}
	return req, nil
}
