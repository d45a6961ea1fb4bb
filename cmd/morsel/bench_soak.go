package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/cmd/morsel/bench"
)

// soakKinds are the loads of bench soak; each runs on a database of its own,
// DATABASE_URL's name with _soak_<kind> appended, created when missing.
var soakKinds = []string{"sms", "replies", "pings", "dashboard"}

func benchSoakSetup(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
	cfg.databaseFlags(fs)
	var o bench.SoakOptions
	minutes := fs.Int("minutes", 0, "how many minutes to run (overrides --duration)")
	fs.DurationVar(&o.Duration, "duration", 30*time.Minute, "how long to run, e.g. 10s")
	fs.DurationVar(&o.Warmup, "warmup", 0, "when the memory at start is read (default: at 16 minutes, once serve's pings maps are full; at 6/10 of a shorter run, a fifth of a longer one)")
	fs.DurationVar(&o.Round, "round", 30*time.Second, "the longest round of the pings and dashboard loads (each round sets up and tears down an organisation)")
	fs.IntVar(&o.MinRounds, "min-rounds", 1, "how many rounds each load runs at least, past --duration if need be")
	fs.StringVar(&o.HeapProfiles, "heap-profiles", "", "a directory to write both processes' heap profiles to, at start and at end (for go tool pprof -diff_base)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object, the last line of stdout")
	return func(ctx context.Context, e *env, args []string) error {
		if *minutes != 0 {
			o.Duration = time.Duration(*minutes) * time.Minute
		}
		switch {
		case len(args) > 0:
			return usageError{"bench soak takes no arguments"}
		case *minutes < 0 || *minutes > 24*60:
			return usageError{"--minutes must be 1 to 1440"}
		case o.Duration < time.Second || o.Duration > 24*time.Hour:
			return usageError{"--duration must be 1s to 24h"}
		case o.Warmup < 0 || o.Warmup >= o.Duration:
			return usageError{"--warmup must be less than the run"}
		case o.Round < time.Second:
			return usageError{"--round must be 1s or more"}
		case o.MinRounds < 1 || o.MinRounds > 1000:
			return usageError{"--min-rounds must be 1 to 1000"}
		}
		if o.HeapProfiles != "" {
			if err := os.MkdirAll(o.HeapProfiles, 0o755); err != nil {
				return fmt.Errorf("--heap-profiles: %w", err)
			}
		}
		// No message goes to Twilio: each bench starts its own emulator.
		c := *cfg
		c.TwilioAccountSID, c.TwilioAuthToken, c.TwilioAPIURL = "", "", ""
		if err := c.requireDatabases(true); err != nil {
			return err
		}
		cfgs := map[string]Config{}
		for _, kind := range soakKinds {
			u, err := soakDatabase(ctx, c.DatabaseURL, kind)
			if err != nil {
				return err
			}
			k := c
			k.DatabaseURL = u
			cfgs[kind] = k
		}
		serveCfg := cfgs["pings"]
		serveCfg.HTTPAddr, serveCfg.PublicURL = "127.0.0.1:0", ""
		if err := serveCfg.validateServe(); err != nil {
			return err
		}
		envs := bench.SoakEnvs{SMS: benchEnv(e, cfgs["sms"]), Replies: benchEnv(e, cfgs["replies"]),
			Pings: benchEnv(e, cfgs["pings"]), Dashboard: benchEnv(e, cfgs["dashboard"]),
			PingsServer: pingsServer(e, cfgs["pings"], serveCfg), Demo: dashboardDemo(e)}
		fig, err := bench.Soak(ctx, benchEnv(e, c), envs, o)
		return printFigures(e, *asJSON, fig, err)
	}
}

// soakDatabase is databaseURL naming the database <name>_soak_<kind>, which
// it creates on that server when missing.
func soakDatabase(ctx context.Context, databaseURL, kind string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || strings.Trim(u.Path, "/") == "" {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL naming a database for bench soak")
	}
	name := strings.Trim(u.Path, "/") + "_soak_" + kind
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return "", fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for database %s: %w", name, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", fmt.Errorf("create database %s for bench soak: %w", name, err)
		}
	}
	u.Path = "/" + name
	return u.String(), nil
}
