package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/morselhq/morsel/tracking/reports"
)

// maxShownDifferences bounds what check-analytics prints: past it, a count.
const maxShownDifferences = 100

func init() {
	commands = append(commands, command{
		name:    "check-analytics",
		summary: "Recount every dashboard figure of an organisation from the raw events; print each difference (exit 1 if any)",
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			cfg.databaseFlags(fs)
			var org string
			fs.StringVar(&org, "org", "", "organisation slug (required)")
			return func(ctx context.Context, e *env, _ []string) error {
				store, o, done, err := openOrg(ctx, *cfg, org)
				if err != nil {
					return err
				}
				defer done()
				ch, err := openClickHouse(ctx, *cfg)
				if err != nil {
					return err
				}
				defer ch.Close()
				fmt.Fprintf(e.stderr, "check-analytics: recounting %s from the raw events…\n", o.Slug)
				res, err := reports.New(ch, nil, store.Now).Audit(ctx, o.ID)
				if err != nil {
					return err
				}
				for i, d := range res.Differences {
					if i == maxShownDifferences {
						fmt.Fprintf(e.stdout, "… and %d more\n", len(res.Differences)-i)
						break
					}
					fmt.Fprintln(e.stdout, d)
				}
				checked := fmt.Sprintf("%d reps, %d enrollments, %d courses", res.Reps, res.Enrollments, res.Courses)
				if n := len(res.Differences); n > 0 {
					return fmt.Errorf("%s: %d figures differ from the raw events (%s checked)", o.Slug, n, checked)
				}
				fmt.Fprintf(e.stdout, "check-analytics: %s: every figure matches the raw events (%s checked)\n", o.Slug, checked)
				return nil
			}
		},
	})
}
