package main

import (
	"context"
	"flag"

	"github.com/morselhq/morsel/cmd/morsel/bench"
)

func benchImportSetup(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
	cfg.databaseFlags(fs)
	var o bench.ImportOptions
	fs.IntVar(&o.Reps, "reps", 10000, "how many reps to generate and import")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object, the last line of stdout")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageError{"bench import takes no arguments"}
		}
		if o.Reps < 1 || o.Reps > 1_000_000 {
			return usageError{"--reps must be 1 to 1,000,000"}
		}
		fig, err := bench.Import(ctx, benchEnv(e, *cfg), o)
		return printFigures(e, *asJSON, fig, err)
	}
}
