package main

import (
	"context"
	"flag"
	"time"

	"github.com/morselhq/morsel/cmd/morsel/bench"
)

func benchRepliesSetup(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
	cfg.databaseFlags(fs)
	var o bench.RepliesOptions
	fs.IntVar(&o.Reps, "reps", 1000, "reps, each with a quiz question open, who each answer once")
	fs.IntVar(&o.Rate, "rate", bench.RepliesGoalRate, "replies posted a second")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "how long a reply's feedback may take before it counts as lost")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object, the last line of stdout")
	return func(ctx context.Context, e *env, args []string) error {
		switch {
		case len(args) > 0:
			return usageError{"bench replies takes no arguments"}
		case o.Reps < 1 || o.Reps > 100_000:
			return usageError{"--reps must be 1 to 100,000"}
		case o.Rate < 1 || o.Rate > 10_000:
			return usageError{"--rate must be 1 to 10,000"}
		case o.Timeout <= 0:
			return usageError{"--timeout must be positive, e.g. 10s"}
		}
		fig, err := bench.Replies(ctx, benchEnv(e, *cfg), o)
		return printFigures(e, *asJSON, fig, err)
	}
}
