package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

const exportHelp = `Write the organisation's Postgres rows (organisation, users with their password hashes, teams, reps, API keys,
courses and their versions, lessons and questions, enrollments, assignments, messages, attempts, video progress, notes,
analytics corrections) as JSON lines: a portable backup that morsel import reads back. Rows keep their ids. Not written:
uploaded videos, sessions, queued jobs (sends and reminders due), the analytics outbox (rebuild-analytics makes
ClickHouse again from the rows).`

const importHelp = `Read a file of morsel export into this database, all or nothing, keeping every row's id. Refused, naming the
line: a line that is not a record of the export, an organisation whose slug exists here, a row whose id exists here.
Then run morsel rebuild-analytics --org SLUG to make its analytics.`

func init() {
	commands = append(commands,
		command{name: "export", args: "", summary: "Write an organisation's data as JSON lines (a portable backup)", help: exportHelp,
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org, out string
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.StringVar(&out, "o", "", "write to this file (default: standard output)")
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 0 {
						return usageError{"export takes no arguments: name the organisation with --org"}
					}
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					if out == "" {
						return store.ExportOrg(ctx, o, e.stdout, tableProgress(e.stderr, "export"))
					}
					// Written beside the file and renamed once complete: a
					// failed export leaves no half file under the name.
					f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.partial")
					if err != nil {
						return err
					}
					defer os.Remove(f.Name())
					defer f.Close()
					if err := store.ExportOrg(ctx, o, f, tableProgress(e.stderr, "export")); err != nil {
						return err
					}
					if err := f.Close(); err != nil {
						return err
					}
					return os.Rename(f.Name(), out)
				}
			}},
		command{name: "import", args: "FILE.jsonl", summary: "Read an organisation's export (morsel export) into this database, all or nothing",
			help: importHelp,
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				return func(ctx context.Context, e *env, args []string) error {
					if len(args) != 1 {
						return usageError{"name one export file"}
					}
					f, err := os.Open(args[0])
					if err != nil {
						return err
					}
					defer f.Close()
					store, done, err := openStore(ctx, *cfg)
					if err != nil {
						return err
					}
					defer done()
					o, err := store.ImportOrg(ctx, f, tableProgress(e.stderr, "import"))
					if err != nil {
						return fmt.Errorf("%s: %w", args[0], err)
					}
					fmt.Fprintf(e.stdout, "import: organisation %s written; make its analytics with: morsel rebuild-analytics --org %s\n",
						o.Slug, o.Slug)
					return nil
				}
			}},
	)
}

// tableProgress shows on w how many rows of each record type a command did.
func tableProgress(w io.Writer, what string) func(kind string, rows int) {
	return func(kind string, rows int) {
		fmt.Fprintf(w, "%s: %s: %d rows\n", what, kind, rows)
	}
}
