package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/morselhq/morsel/cmd/morsel/bench"
)

func benchSMSSetup(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
	cfg.databaseFlags(fs)
	var o bench.SMSOptions
	fs.IntVar(&o.Reps, "reps", 2000, "reps to enroll, in one Enroll call")
	fs.IntVar(&o.Steps, "steps", 5, "text lessons in the course, one a weekday at 09:00 (reps × steps messages)")
	fs.IntVar(&o.Workers, "workers", 1000, "SMS workers (the scheduler's SMSWorkers)")
	fs.DurationVar(&o.FetchCooldown, "fetch-cooldown", 5*time.Millisecond, "how often the SMS queue may fetch jobs (the scheduler's FetchCooldown)")
	fs.IntVar(&o.Zones, "zones", 1, "US time zones the reps live in, 1-4: each zone's lessons go out in a wave of their own")
	fs.IntVar(&o.Conns, "conns", 0, "Postgres connections (default as serve: DATABASE_URL's pool_max_conns, at least 20)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object, the last line of stdout")
	fs.BoolVar(&o.Queries, "queries", false, "also print the SQL statements that took the most time")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the sending to this file (go tool pprof reads it)")
	return func(ctx context.Context, e *env, args []string) error {
		switch {
		case len(args) > 0:
			return usageError{"bench sms takes no arguments"}
		case o.Reps < 1 || o.Reps > 100_000:
			return usageError{"--reps must be 1 to 100,000"}
		case o.Steps < 1 || o.Steps > 200:
			return usageError{"--steps must be 1 to 200"}
		case o.Workers < 1 || o.Workers > 10_000:
			return usageError{"--workers must be 1 to 10,000"}
		case o.FetchCooldown <= 0:
			return usageError{"--fetch-cooldown must be positive, e.g. 5ms"}
		case o.Zones < 1 || o.Zones > len(bench.SMSZones):
			return usageError{fmt.Sprintf("--zones must be 1 to %d", len(bench.SMSZones))}
		case o.Conns < 0:
			return usageError{"--conns must be positive (0: as serve)"}
		}
		fig, err := bench.SMS(ctx, benchEnv(e, *cfg), o)
		return printFigures(e, *asJSON, fig, err)
	}
}
