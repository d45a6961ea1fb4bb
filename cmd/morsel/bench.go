package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/cmd/morsel/bench"
	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations"
	"github.com/morselhq/morsel/scheduler"
)

// The benches measure Morsel's hot paths on the databases DATABASE_URL names,
// each in an organisation of its own. They print a summary and, with --json,
// one JSON object of their figures as the last line of stdout.
func init() {
	// The benches come before "bench" itself: commands are matched in order.
	commands = append(commands,
		command{name: "bench import", summary: "Time `import reps` on generated reps: parse and store, then again as updates",
			setup: benchImportSetup},
		command{name: "bench sms", summary: "Send lessons through the River workers to a Twilio emulator: throughput, latency, losses",
			setup: benchSMSSetup},
		command{name: "bench replies", summary: "Post signed quiz replies to the webhook: time until the provider accepts the feedback",
			setup: benchRepliesSetup},
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

// benchDB is a bench's connection to Postgres: the pool, migrated, and the
// store on it.
type benchDB struct {
	pool  *pgxpool.Pool
	store *lessons.Store
}

// openBenchDB opens DATABASE_URL as serve does, with maxConns connections
// when it is positive and tracer watching the queries when it is not nil, and
// applies the Postgres migrations the database lacks.
func openBenchDB(ctx context.Context, e *env, cfg Config, name string, maxConns int, tracer pgx.QueryTracer) (*benchDB, error) {
	pool, err := openPostgres(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 || tracer != nil {
		pc := pool.Config()
		pool.Close()
		if maxConns > 0 {
			pc.MaxConns = int32(maxConns)
		}
		pc.ConnConfig.Tracer = tracer
		if pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			return nil, fmt.Errorf("reopen Postgres: %w", err)
		}
	}
	applied, err := migrations.MigratePostgres(ctx, pool, scheduler.WarningsOnly(e.log))
	if err != nil {
		pool.Close()
		return nil, err
	}
	if applied > 0 {
		fmt.Fprintf(e.stderr, "%s: migrated the database: applied %d Postgres steps\n", name, applied)
	}
	return &benchDB{pool: pool, store: lessons.NewStore(pool, lessons.StoreConfig{})}, nil
}

func (db *benchDB) close() { db.pool.Close() }

// openBenchClickHouse opens CLICKHOUSE_URL and applies the migrations it lacks.
func openBenchClickHouse(ctx context.Context, e *env, cfg Config) (driver.Conn, error) {
	ch, err := openClickHouse(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := migrations.MigrateClickHouse(ctx, ch, scheduler.WarningsOnly(e.log)); err != nil {
		ch.Close()
		return nil, err
	}
	return ch, nil
}

// benchEnv is what the benches use of e, on the databases cfg names.
func benchEnv(e *env, cfg Config) bench.Env {
	return bench.Env{Stdout: e.stdout, Stderr: e.stderr, Log: e.log,
		OpenPostgres:   func(ctx context.Context) (*pgxpool.Pool, error) { return openPostgres(ctx, cfg) },
		OpenClickHouse: func(ctx context.Context) (driver.Conn, error) { return openClickHouse(ctx, cfg) }}
}

// createBenchOrg creates the bench's own organisation, bench-<unix nanos>.
func createBenchOrg(ctx context.Context, e *env, store *lessons.Store, name string) (lessons.Org, error) {
	now := time.Now().UnixNano()
	slug := "bench-" + strconv.FormatInt(now, 10)
	// A sender of its own: replies to it reach this run's reps, not an
	// earlier run's with the same generated phones.
	from := fmt.Sprintf("+1500%07d", now/1000%10_000_000)
	o, err := store.CreateOrg(ctx, lessons.Org{Slug: slug, Name: "Morsel " + name, SMSFrom: from})
	if err != nil {
		return lessons.Org{}, fmt.Errorf("create the bench organisation: %w", err)
	}
	fmt.Fprintf(e.stderr, "%s: created organisation %s (id %d) for this run\n", name, o.Slug, o.ID)
	return o, nil
}

// addBench registers a bench defined in a file of its own: before "bench"
// itself, which lists them and would match first (commands are matched in
// order).
func addBench(c command) {
	if i := slices.IndexFunc(commands, func(c command) bool { return c.name == "bench" }); i >= 0 {
		commands = slices.Insert(commands, i, c)
		return
	}
	commands = append(commands, c)
}

// startCPUProfile profiles this process into the file at path until the
// returned stop is called; with path empty it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// printFigures ends a bench: with asJSON it prints the bench's figures, if it
// has any, as the last line of stdout, then returns the bench's error. A bench
// may return its figures and an error: the figures of a run that failed its
// checks.
func printFigures[F any](e *env, asJSON bool, fig *F, err error) error {
	if asJSON && fig != nil {
		if err := printJSON(e.stdout, fig); err != nil {
			return err
		}
	}
	return err
}

// percentile returns the p-th (0-1) of the sorted durations, by nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1)+0.5)]
}

// printJSON prints v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// benchTicker prints a progress line every second until stopped.
type benchTicker struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// startTicker prints line(time since start) every second.
func startTicker(w io.Writer, line func(elapsed time.Duration) string) *benchTicker {
	t := &benchTicker{stop: make(chan struct{})}
	start := time.Now()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case now := <-tick.C:
				fmt.Fprintln(w, line(now.Sub(start)))
			}
		}
	}()
	return t
}

// startCountTicker prints what is done out of the total every second, and
// the rate over the last second.
func startCountTicker(w io.Writer, label, unit string, total int64, done *atomic.Int64) *benchTicker {
	var last int64
	var lastAt time.Duration
	return startTicker(w, func(elapsed time.Duration) string {
		n := done.Load()
		rate := float64(n-last) / (elapsed - lastAt).Seconds()
		last, lastAt = n, elapsed
		return fmt.Sprintf("%s: %s/%s %s (%s/s)", label, thousands(n), thousands(total), unit, thousands(int64(rate)))
	})
}

func (t *benchTicker) Stop() {
	close(t.stop)
	t.wg.Wait()
}

// thousands formats n with commas: 12,345.
func thousands[N int | int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 1) }

// round rounds f to the given decimals, for figures that read well in JSON.
func round(f float64, decimals int) float64 {
	p := 1.0
	for range decimals {
		p *= 10
	}
	if f < 0 {
		return -float64(int64(-f*p+0.5)) / p
	}
	return float64(int64(f*p+0.5)) / p
}
