package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/morselhq/morsel/lessons"
)

// importGoal is the target: 10,000 reps imported in under 5 s.
const (
	importGoalRows = 10000
	importGoalTime = 5 * time.Second
)

// ImportOptions are the flags of bench import.
type ImportOptions struct {
	Reps int // reps to generate and import, 1 to 1,000,000
}

// ImportFigures are the figures of bench import; durations in milliseconds.
type ImportFigures struct {
	Org       string  `json:"org"`
	Rows      int     `json:"rows"`
	CSVBytes  int64   `json:"csv_bytes"`
	ParseMs   float64 `json:"parse_ms"`
	StoreMs   float64 `json:"store_ms"`
	TotalMs   float64 `json:"total_ms"`
	RowsPerS  float64 `json:"rows_per_sec"`
	Created   int     `json:"created"`
	UpParseMs float64 `json:"update_parse_ms"`
	UpStoreMs float64 `json:"update_store_ms"`
	UpTotalMs float64 `json:"update_total_ms"`
	UpRowsPer float64 `json:"update_rows_per_sec"`
	Updated   int     `json:"updated"`
}

// importRun is one timed import of the file.
type importRun struct {
	parse, store time.Duration
	res          lessons.ImportResult
}

func (r importRun) total() time.Duration { return r.parse + r.store }

// Import times `morsel import reps` in an organisation of its own: it
// generates o.Reps reps as a CSV file and imports it twice, all new reps,
// then all updates, parsing and storing as the command does.
func Import(ctx context.Context, e Env, o ImportOptions) (*ImportFigures, error) {
	const name = "bench import"
	n := o.Reps
	db, err := openBenchDB(ctx, e, name, 0, nil)
	if err != nil {
		return nil, err
	}
	defer db.close()
	org, err := createBenchOrg(ctx, e, db.store, name)
	if err != nil {
		return nil, err
	}

	f, err := os.CreateTemp("", "morsel-bench-reps-*.csv")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 64<<10)
	if err := lessons.WriteRepsCSV(w, lessons.GenerateReps(n, 1)); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	info, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.Stderr, "%s: generated %s reps in %s (%s bytes); importing them as `morsel import reps` does, twice\n",
		name, thousands(n), f.Name(), thousands(info.Size()))

	runs := make([]importRun, 2)
	for i := range runs {
		label := fmt.Sprintf("%s: run %d (%s)", name, i+1, [...]string{"new reps", "updates"}[i])
		if runs[i], err = timeImport(ctx, e, db.store, org.ID, f.Name(), info.Size(), label); err != nil {
			return nil, err
		}
	}

	first, second := runs[0], runs[1]
	fig := ImportFigures{
		Org: org.Slug, Rows: n, CSVBytes: info.Size(),
		ParseMs: ms(first.parse), StoreMs: ms(first.store), TotalMs: ms(first.total()),
		RowsPerS: round(float64(n)/first.total().Seconds(), 0), Created: first.res.Created,
		UpParseMs: ms(second.parse), UpStoreMs: ms(second.store), UpTotalMs: ms(second.total()),
		UpRowsPer: round(float64(n)/second.total().Seconds(), 0), Updated: second.res.Updated,
	}
	out := e.Stdout
	fmt.Fprintf(out, "bench import: %s reps (%s bytes of CSV) into %s, the path of `morsel import reps` (ParseRepsCSV, then ImportReps)\n",
		thousands(n), thousands(info.Size()), org.Slug)
	fmt.Fprintf(out, "  run 1, all new:     parse %7.1f ms + store %7.1f ms = %7.1f ms  %8s rows/s  (%s created)\n",
		fig.ParseMs, fig.StoreMs, fig.TotalMs, thousands(int64(fig.RowsPerS)), thousands(first.res.Created))
	fmt.Fprintf(out, "  run 2, all updates: parse %7.1f ms + store %7.1f ms = %7.1f ms  %8s rows/s  (%s updated)\n",
		fig.UpParseMs, fig.UpStoreMs, fig.UpTotalMs, thousands(int64(fig.UpRowsPer)), thousands(second.res.Updated))
	slowest := max(first.total(), second.total())
	goalRate := float64(importGoalRows) / importGoalTime.Seconds()
	verdict := "met"
	if float64(n)/slowest.Seconds() < goalRate {
		verdict = "MISSED"
	}
	if n == importGoalRows {
		fmt.Fprintf(out, "  goal, 10,000 rows in under 5 s: %s (slower run %.2f s)\n", verdict, slowest.Seconds())
	} else {
		fmt.Fprintf(out, "  goal, 10,000 rows in under 5 s (%s rows/s): %s at this size (slower run %s rows/s)\n",
			thousands(int64(goalRate)), verdict, thousands(int64(float64(n)/slowest.Seconds())))
	}
	return &fig, nil
}

// timeImport reads the file and stores its reps as importReps does, timing
// the two halves.
func timeImport(ctx context.Context, e Env, store *lessons.Store, orgID int64, path string, size int64, label string) (importRun, error) {
	var run importRun
	f, err := os.Open(path)
	if err != nil {
		return run, err
	}
	defer f.Close()
	var read atomic.Int64
	ticker := startCountTicker(e.Stderr, label+", parsing", "bytes", size, &read)
	start := time.Now()
	reps, err := lessons.ParseRepsCSV(f, "US", read.Store)
	run.parse = time.Since(start)
	ticker.Stop()
	if err != nil {
		return run, fmt.Errorf("parse the generated CSV: %w", err)
	}
	ticker = startTicker(e.Stderr, func(elapsed time.Duration) string {
		return fmt.Sprintf("%s: storing %s reps in one transaction, %.0f s", label, thousands(len(reps)), elapsed.Seconds())
	})
	start = time.Now()
	run.res, err = store.ImportReps(ctx, orgID, reps)
	run.store = time.Since(start)
	ticker.Stop()
	if err != nil {
		return run, fmt.Errorf("store the reps: %w", err)
	}
	fmt.Fprintf(e.Stderr, "%s: parsed in %.0f ms, stored in %.0f ms\n", label, ms(run.parse), ms(run.store))
	return run, nil
}
