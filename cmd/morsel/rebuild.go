package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// rebuildRepChunk is how many reps a rebuild derives, writes and rolls up at
// a time: the memory it holds is their events.
const rebuildRepChunk = 200

// rebuildInsertChunk bounds each ClickHouse insert of a rebuild.
const rebuildInsertChunk = 50_000

const rebuildHelp = `Rebuild ClickHouse (events, the reps' and enrollments' facts, the rollups, the question attempts) from
what Postgres holds, for one organisation (--org) or every one; ClickHouse's schema is migrated first. Safe while
the app runs and to run again: every event keeps its live key, and a rebuilt row never replaces a live one, a void
or a correction. Interrupted, run it again, or resume with --after-rep (the last rep done, printed on failure).
Postgres does not keep, so a rebuild cannot restore: video pauses and ends; path changes; opt-ins and any opt-out
but the current one; when each video segment was watched (all get the time the video's progress last changed) and
the player's position, rate and visit; a video's completion value at the time; lesson openings before migration 19.`

func init() {
	commands = append(commands, command{
		name:    "rebuild-analytics",
		summary: "Rebuild ClickHouse's events and reports from Postgres (a lost ClickHouse is a rebuild, not a loss)",
		help:    rebuildHelp,
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			cfg.databaseFlags(fs)
			var slug string
			var after int64
			fs.StringVar(&slug, "org", "", "organisation slug (default: every organisation)")
			fs.Int64Var(&after, "after-rep", 0, "resume after this rep id (with --org)")
			return func(ctx context.Context, e *env, _ []string) error {
				if after != 0 && slug == "" {
					return usageError{"--after-rep resumes one organisation: name it with --org"}
				}
				pool, ch, done, err := openDatabases(ctx, *cfg)
				if err != nil {
					return err
				}
				defer done()
				store, err := newStore(e, *cfg, pool)
				if err != nil {
					return err
				}
				// A dropped database comes back in the same mode: sharded
				// when CLICKHOUSE_CLUSTER names a cluster.
				if _, err := migrateClickHouse(ctx, e, *cfg, ch); err != nil {
					return err
				}
				orgs, err := store.AnalyticsOrgs(ctx)
				if err != nil {
					return err
				}
				if slug != "" {
					o, err := orgBySlug(ctx, store, slug)
					if err != nil {
						return err
					}
					orgs = []lessons.Org{o}
				}
				for _, o := range orgs {
					n, err := rebuildOrg(ctx, e.stderr, store, pool, ch, o, after, time.Now)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "rebuild-analytics: %s: %d events written\n", o.Slug, n)
				}
				return nil
			}
		},
	})
}

// rebuildOrg rebuilds the organisation's reps above after, a chunk of reps at
// a time, showing its progress on w, and returns how many events it wrote.
// clock times the progress display only.
func rebuildOrg(ctx context.Context, w io.Writer, store *lessons.Store, pool *pgxpool.Pool, ch driver.Conn, o lessons.Org,
	after int64, clock func() time.Time) (int, error) {
	total, err := store.AnalyticsRepCount(ctx, o.ID, after)
	if err != nil {
		return 0, err
	}
	p := rebuildProgress{w: w, slug: o.Slug, total: total, start: clock(), clock: clock}
	for {
		ids, err := store.AnalyticsRepIDs(ctx, o.ID, after, rebuildRepChunk)
		if err != nil {
			return p.events, err
		}
		if len(ids) == 0 {
			break
		}
		if err := rebuildReps(ctx, store, pool, ch, o.ID, ids, &p); err != nil {
			fmt.Fprintln(w)
			return p.events, fmt.Errorf("rebuild %s: %w (reps up to %d are done: resume with --org %s --after-rep %d)",
				o.Slug, err, after, o.Slug, after)
		}
		after = ids[len(ids)-1]
	}
	p.show(true)
	return p.events, nil
}

// rebuildReps writes the events Postgres derives for the reps to ClickHouse
// and rolls the reps up, as the live path would have.
func rebuildReps(ctx context.Context, store *lessons.Store, pool *pgxpool.Pool, ch driver.Conn, orgID int64, ids []int64,
	p *rebuildProgress) error {
	events, err := store.AnalyticsEvents(ctx, orgID, ids)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(events, rebuildInsertChunk) {
		if err := tracking.InsertEvents(ctx, ch, chunk); err != nil {
			return err
		}
		p.events += len(chunk)
		p.show(false)
	}
	if err := tracking.RollUpOrg(ctx, pool, ch, orgID, ids, nil); err != nil {
		return err
	}
	p.reps += len(ids)
	p.show(false)
	return nil
}

// rebuildProgress is the progress line of a rebuild on stderr: reps done of
// the total, events written and their rate, and the time left.
type rebuildProgress struct {
	w            io.Writer
	slug         string
	total        int
	reps, events int
	start, shown time.Time
	clock        func() time.Time
}

// show writes the line again, at most every 200 ms unless final.
func (p *rebuildProgress) show(final bool) {
	now := p.clock()
	if !final && now.Sub(p.shown) < 200*time.Millisecond {
		return
	}
	p.shown = now
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.events) / elapsed.Seconds()
	}
	pct := 100.0
	eta := "0s"
	if p.total > 0 {
		pct = float64(p.reps) * 100 / float64(p.total)
		if p.reps > 0 && p.reps < p.total {
			left := time.Duration(float64(elapsed) * float64(p.total-p.reps) / float64(p.reps))
			eta = left.Round(time.Second).String()
		} else if p.reps == 0 {
			eta = "?"
		}
	}
	end := "\r"
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\rrebuild-analytics: %s: %d/%d reps (%.1f%%), %d events, %.0f events/s, ETA %s   %s",
		p.slug, p.reps, p.total, pct, p.events, rate, eta, end)
}
