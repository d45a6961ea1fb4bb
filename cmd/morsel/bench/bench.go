// Package bench measures Morsel's hot paths on real databases, each bench in
// an organisation of its own: importing reps, sending lessons, answering
// replies, taking video pings and loading the dashboard, and the last four at
// once in a soak. Each bench prints its
// progress to Env.Stderr and a summary to Env.Stdout, and returns its figures,
// whose JSON form is what `morsel bench ... --json` prints. cmd/morsel wires
// the benches to its commands; this package knows nothing of them.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations"
	"github.com/morselhq/morsel/scheduler"
)

// Env is what a bench uses of the outside world: where it writes its summary
// and its progress, its log, and how it opens the databases.
type Env struct {
	Stdout, Stderr io.Writer
	Log            *slog.Logger
	// OpenPostgres opens DATABASE_URL as serve does and checks it answers.
	OpenPostgres func(context.Context) (*pgxpool.Pool, error)
	// OpenClickHouse opens CLICKHOUSE_URL and checks it answers.
	OpenClickHouse func(context.Context) (driver.Conn, error)
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
func openBenchDB(ctx context.Context, e Env, name string, maxConns int, tracer pgx.QueryTracer) (*benchDB, error) {
	pool, err := e.OpenPostgres(ctx)
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
	applied, err := migrations.MigratePostgres(ctx, pool, scheduler.WarningsOnly(e.Log))
	if err != nil {
		pool.Close()
		return nil, err
	}
	if applied > 0 {
		fmt.Fprintf(e.Stderr, "%s: migrated the database: applied %d Postgres steps\n", name, applied)
	}
	return &benchDB{pool: pool, store: lessons.NewStore(pool, lessons.StoreConfig{})}, nil
}

func (db *benchDB) close() { db.pool.Close() }

// openBenchClickHouse opens CLICKHOUSE_URL and applies the migrations it lacks.
func openBenchClickHouse(ctx context.Context, e Env) (driver.Conn, error) {
	ch, err := e.OpenClickHouse(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := migrations.MigrateClickHouse(ctx, ch, scheduler.WarningsOnly(e.Log)); err != nil {
		ch.Close()
		return nil, err
	}
	return ch, nil
}

// createBenchOrg creates the bench's own organisation, bench-<unix nanos>.
func createBenchOrg(ctx context.Context, e Env, store *lessons.Store, name string) (lessons.Org, error) {
	now := time.Now().UnixNano()
	slug := "bench-" + strconv.FormatInt(now, 10)
	// A sender of its own: replies to it reach this run's reps, not an
	// earlier run's with the same generated phones.
	from := fmt.Sprintf("+1500%07d", now/1000%10_000_000)
	o, err := store.CreateOrg(ctx, lessons.Org{Slug: slug, Name: "Morsel " + name, SMSFrom: from})
	if err != nil {
		return lessons.Org{}, fmt.Errorf("create the bench organisation: %w", err)
	}
	fmt.Fprintf(e.Stderr, "%s: created organisation %s (id %d) for this run\n", name, o.Slug, o.ID)
	return o, nil
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
