package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/cmd/morsel/bench"
	"github.com/morselhq/morsel/lessons"
)

// The benches measure Morsel's hot paths on the databases DATABASE_URL names,
// each in an organisation of its own. They print a summary and, with --json,
// one JSON object of their figures as the last line of stdout. Package bench
// runs them; here are their commands: the flags, their checks, and what the
// benches are given.
func init() {
	// The benches come before "bench" itself: commands are matched in order.
	commands = append(commands,
		command{name: "bench import", summary: "Time `import reps` on generated reps: parse and store, then again as updates",
			setup: benchImportSetup},
		command{name: "bench sms", summary: "Send lessons through the River workers to a Twilio emulator: throughput, latency, losses",
			setup: benchSMSSetup},
		command{name: "bench replies", summary: "Post signed quiz replies to the webhook: time until the provider accepts the feedback",
			setup: benchRepliesSetup},
		command{name: "bench dashboard", summary: "Load the manager dashboard with many signed-in managers while events arrive: latency per page, loads/s, freshness",
			setup: benchDashboardSetup},
		command{name: "bench pings", summary: "Post video pings to a real server from many watchers: throughput, latency, losses (--kill: through a crash)",
			setup: benchPingsSetup},
		command{name: "bench soak", summary: "Run sms, replies, pings and dashboard at once for --minutes: throughput, errors, memory at start and end",
			setup: benchSoakSetup},
		command{name: "bench", summary: "List the benches",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				return func(_ context.Context, e *env, args []string) error {
					if len(args) > 0 {
						return usageError{fmt.Sprintf("unknown bench %q: morsel bench lists them", args[0])}
					}
					fmt.Fprintln(e.stdout, "benches (each in an organisation of its own on DATABASE_URL; -h tells more):")
					for _, c := range commands {
						if len(c.name) > len("bench ") && c.name[:len("bench ")] == "bench " {
							fmt.Fprintf(e.stdout, "  morsel %-14s %s\n", c.name, c.summary)
						}
					}
					return nil
				}
			}},
	)
}

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
		case o.Zones < 1 || o.Zones > len(bench.SMSZones()):
			return usageError{fmt.Sprintf("--zones must be 1 to %d", len(bench.SMSZones()))}
		case o.Conns < 0:
			return usageError{"--conns must be positive (0: as serve)"}
		}
		fig, err := bench.SMS(ctx, benchEnv(e, *cfg), o)
		return printFigures(e, *asJSON, fig, err)
	}
}

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

func benchPingsSetup(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
	cfg.databaseFlags(fs)
	var o bench.PingsOptions
	fs.IntVar(&o.Watchers, "watchers", 2000, "reps watching the video at once, one lesson link each")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to post pings")
	fs.IntVar(&o.Conns, "conns", 128, "keep-alive connections the watchers share")
	fs.Int64Var(&o.MaxPings, "max-pings", 5_000_000, "stop after this many pings posted, even before --duration")
	fs.DurationVar(&o.ShipWait, "ship-wait", 3*time.Minute, "how long to wait for the shipper to move the outbox to ClickHouse")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object, the last line of stdout")
	fs.BoolVar(&o.Process, "process", false, "run the server as a process of its own (this executable's serve), so that its CPU is told apart from the load's")
	fs.BoolVar(&o.Kill, "kill", false, "run the server as a process of its own, kill -9 it at 40% of the duration and start it again")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the load (and, without --kill or --process, of the server) to this file")
	return func(ctx context.Context, e *env, args []string) error {
		switch {
		case len(args) > 0:
			return usageError{"bench pings takes no arguments"}
		case o.Watchers < 1 || o.Watchers > 100_000:
			return usageError{"--watchers must be 1 to 100,000"}
		case o.Duration <= 0:
			return usageError{"--duration must be positive, e.g. 20s"}
		case o.Conns < 1 || o.Conns > 10_000:
			return usageError{"--conns must be 1 to 10,000"}
		case o.MaxPings < 1:
			return usageError{"--max-pings must be positive"}
		case o.ShipWait <= 0:
			return usageError{"--ship-wait must be positive"}
		}
		o.Conns = min(o.Conns, o.Watchers)
		// The bench's reps have real-looking phone numbers: whatever the
		// environment says, no message goes to Twilio.
		c := *cfg
		c.TwilioAccountSID, c.TwilioAuthToken, c.TwilioAPIURL = "", "", ""
		if err := c.requireDatabases(true); err != nil {
			return err
		}
		// The server in this process listens on a port of its own.
		serveCfg := c
		serveCfg.HTTPAddr, serveCfg.PublicURL = "127.0.0.1:0", ""
		if !o.Kill && !o.Process {
			if err := serveCfg.validateServe(); err != nil {
				return err
			}
		}
		srv := pingsServer(e, c, serveCfg)
		fig, err := bench.Pings(ctx, benchEnv(e, c), srv, o)
		return printFigures(e, *asJSON, fig, err)
	}
}

// pingsServer is how bench pings starts `morsel serve`: in this process on
// serveCfg, or as a process of its own on c's databases.
func pingsServer(e *env, c, serveCfg Config) bench.PingsServer {
	return bench.PingsServer{
		NewStore: func(pool *pgxpool.Pool) (*lessons.Store, error) { return newStore(e, c, pool) },
		Serve: func(ctx context.Context, log *slog.Logger, listening func(string)) error {
			se := &env{stdout: io.Discard, stderr: e.stderr, getenv: e.getenv, log: log, listening: listening}
			return serve(ctx, se, serveCfg, true, true)
		},
		Environ:       serveEnviron(os.Environ(), c),
		ShutdownGrace: shutdownGrace,
	}
}

// serveEnviron is environ with the databases the bench uses (ClickHouse's
// cluster, too: cfg's, not one the environment names) and without Twilio:
// the child sends messages to the simulator only.
func serveEnviron(environ []string, cfg Config) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		k = strings.TrimSuffix(k, "_FILE")
		switch {
		case k == "DATABASE_URL", k == "CLICKHOUSE_URL", k == "CLICKHOUSE_CLUSTER", k == "HTTP_ADDR", k == "PUBLIC_URL",
			strings.HasPrefix(k, "TWILIO_"):
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "DATABASE_URL="+cfg.DatabaseURL, "CLICKHOUSE_URL="+cfg.ClickHouseURL)
	if cfg.ClickHouseCluster != "" {
		out = append(out, "CLICKHOUSE_CLUSTER="+cfg.ClickHouseCluster)
	}
	return out
}

func benchDashboardSetup(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
	cfg.databaseFlags(fs)
	var o bench.DashboardOptions
	var pages string
	fs.StringVar(&o.Org, "org", "", "an organisation made by `morsel demo --org-slug` (default: generate a fresh one with --reps and --events)")
	fs.IntVar(&o.Reps, "reps", 7000, "reps of the generated organisation")
	fs.IntVar(&o.Events, "events", 2_000_000, "events of history of the generated organisation")
	fs.IntVar(&o.Managers, "managers", 50, "managers signed in at once, two teams each")
	fs.IntVar(&o.Admins, "admins", 3, "admins signed in at once")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to load the pages")
	fs.DurationVar(&o.Warmup, "warmup", 5*time.Second, "how long the users load pages first, unmeasured, as a server that has run a while has its caches filled")
	fs.DurationVar(&o.Think, "think", 200*time.Millisecond, "each user's pause between page loads")
	fs.IntVar(&o.EventsPerSec, "events-per-sec", 200, "live events written to the outbox a second meanwhile")
	fs.StringVar(&pages, "pages", "", "load only these pages, comma-separated (default: all of "+strings.Join(bench.DashboardPages(), ", ")+")")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the load and the server to this file")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object on the last line")
	return func(ctx context.Context, e *env, _ []string) error {
		if o.Managers < 1 || o.Admins < 0 || o.Duration <= 0 || o.Warmup < 0 || o.Think < 0 || o.EventsPerSec < 0 {
			return usageError{"--managers must be 1 or more, --duration positive, and --admins, --warmup, --think and --events-per-sec not negative"}
		}
		o.Pages = splitList(pages)
		for _, p := range o.Pages {
			if !slices.Contains(bench.DashboardPages(), p) {
				return usageError{fmt.Sprintf("--pages names %q: the pages are %s", p, strings.Join(bench.DashboardPages(), ", "))}
			}
		}
		demo := dashboardDemo(e)
		fig, err := bench.Dashboard(ctx, benchEnv(e, *cfg), demo, o)
		return printFigures(e, *asJSON, fig, err)
	}
}

// dashboardDemo is `morsel demo --org-slug`'s generator, for bench dashboard.
func dashboardDemo(e *env) bench.Demo {
	return bench.Demo{Password: scalePassword,
		Generate: func(ctx context.Context, pool *pgxpool.Pool, store *lessons.Store, ch driver.Conn, slug string, reps, events int, seed uint64) error {
			_, _, err := generateScale(ctx, e, pool, store, ch, scaleOptions{slug: slug, reps: reps, events: events, seed: seed})
			return err
		}}
}

// benchEnv is what the benches use of e, on the databases cfg names.
func benchEnv(e *env, cfg Config) bench.Env {
	return bench.Env{Stdout: e.stdout, Stderr: e.stderr, Log: e.log,
		OpenPostgres:   func(ctx context.Context) (*pgxpool.Pool, error) { return openPostgres(ctx, cfg) },
		OpenClickHouse: func(ctx context.Context) (driver.Conn, error) { return openClickHouse(ctx, cfg) }}
}

// printFigures ends a bench: with asJSON it prints the bench's figures, if it
// has any, as one line of JSON, the last of stdout, then returns the bench's
// error. A bench may return both: the figures of a run that failed its checks.
func printFigures[F any](e *env, asJSON bool, fig *F, err error) error {
	if asJSON && fig != nil {
		b, jerr := json.Marshal(fig)
		if jerr != nil {
			return jerr
		}
		if _, jerr := fmt.Fprintf(e.stdout, "%s\n", b); jerr != nil {
			return jerr
		}
	}
	return err
}
