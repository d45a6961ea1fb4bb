package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/morselhq/morsel/lessons"
)

func init() {
	commands = append(commands,
		command{name: "import course", args: "FILE.json", summary: "Load a course file as the course's draft (or publish it)",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org string
				var publish bool
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.BoolVar(&publish, "publish", false, "publish the version at once")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usageError{"name one course file"}
					}
					spec, err := parseCourseFile(args[0])
					if err != nil {
						return err
					}
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					v, err := store.SaveCourse(ctx, o.ID, spec, publish)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "course %s: version %d (%s), %d lessons\n", spec.Slug, v.Number, v.Status, len(v.Spec.Lessons))
					return nil
				}
			}},
		command{name: "import reps", args: "FILE.csv", summary: "Create or update reps from a CSV (name,phone,email,team,timezone); all or nothing",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org, region string
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.StringVar(&region, "region", "US", "region for phone numbers written without +, e.g. US, GB")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usageError{"name one CSV file"}
					}
					return importReps(ctx, e, *cfg, org, region, args[0])
				}
			}},
	)
}

func parseCourseFile(path string) (lessons.CourseSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return lessons.CourseSpec{}, err
	}
	defer f.Close()
	spec, err := lessons.ParseCourseFile(f)
	if err != nil {
		return lessons.CourseSpec{}, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

func importReps(ctx context.Context, e *env, cfg Config, org, region, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	store, o, done, err := openOrg(ctx, cfg, org)
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	bar := newProgress(e.stderr, "reading "+path, info.Size())
	reps, err := lessons.ParseRepsCSV(f, region, bar.set)
	bar.done()
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", path, err)
	}
	fmt.Fprintf(e.stderr, "storing %d reps...\n", len(reps))
	res, err := store.ImportReps(ctx, o.ID, reps)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", path, err)
	}
	fmt.Fprintf(e.stdout, "imported %d reps into %s: %d created, %d updated, %d teams created (%.1fs)\n",
		len(reps), o.Slug, res.Created, res.Updated, res.TeamsCreated, time.Since(start).Seconds())
	return nil
}

// progress draws a progress bar on a terminal, and nothing elsewhere.
type progress struct {
	w     io.Writer
	label string
	total int64
	on    bool
	last  time.Time
}

func newProgress(w io.Writer, label string, total int64) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, label: label, total: total, on: ok && term.IsTerminal(int(f.Fd())) && total > 0}
}

func (p *progress) set(n int64) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	pct := int(100 * n / p.total)
	const width = 30
	filled := width * pct / 100
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.w, "\r%s [%s] %3d%%", p.label, bar, pct)
}

func (p *progress) done() {
	if p.on {
		p.last = time.Time{}
		p.set(p.total)
		fmt.Fprintln(p.w)
	}
}
