package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/morselhq/morsel/tracking/xapi"
)

// xapiPage is how many events export-xapi reads at a time.
const xapiPage = 1000

func init() {
	commands = append(commands, command{
		name:    "export-xapi",
		summary: "Write an organisation's events as xAPI statements, one JSON statement a line (JSON lines), for a Learning Record Store",
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			cfg.databaseFlags(fs)
			fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "the server's public URL, the statements' account homePage and activity ids' base (env PUBLIC_URL; default http://localhost plus HTTP_ADDR's port)")
			var org, since, out string
			fs.StringVar(&org, "org", "", "organisation slug (required)")
			fs.StringVar(&since, "since", "", "only events that occurred at or after this time, RFC 3339 (e.g. 2027-03-01T00:00:00Z)")
			fs.StringVar(&out, "o", "", "write to this file (replaced only once the export is complete) instead of standard output")
			return func(ctx context.Context, e *env, _ []string) error {
				var from time.Time
				if since != "" {
					t, err := time.Parse(time.RFC3339, since)
					if err != nil {
						return usageError{fmt.Sprintf("--since %q is not a time in RFC 3339, such as 2027-03-01T00:00:00Z", since)}
					}
					from = t
				}
				home := strings.TrimSuffix(cfg.publicURL(), "/")
				if u, err := url.Parse(home); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return fmt.Errorf("PUBLIC_URL %q is not an http(s) URL", home)
				}
				store, o, done, err := openOrg(ctx, *cfg, org)
				if err != nil {
					return err
				}
				defer done()
				ch, err := openClickHouse(ctx, *cfg)
				if err != nil {
					return err
				}
				defer ch.Close()
				catalog, err := xapi.LoadCatalog(ctx, store, o.ID)
				if err != nil {
					return err
				}
				x := xapi.Exporter{CH: ch, Converter: xapi.Converter{HomePage: home, OrgID: o.ID, Catalog: catalog}}
				write := func(w io.Writer) (int, error) { return exportXAPI(ctx, x, from, w, e.stderr, o.Slug) }
				var n int
				if out == "" {
					n, err = write(e.stdout)
				} else {
					n, err = writeFileAtomically(out, write)
				}
				if err != nil {
					return err
				}
				where := "standard output"
				if out != "" {
					where = out
				}
				fmt.Fprintf(e.stderr, "export-xapi: %s: %d statements written to %s\n", o.Slug, n, where)
				return nil
			}
		},
	})
}

// exportXAPI writes every statement of the exporter's organisation since
// from to w as JSON lines, telling progress each page, and returns how many.
func exportXAPI(ctx context.Context, x xapi.Exporter, from time.Time, w io.Writer, progress io.Writer, slug string) (int, error) {
	buf := bufio.NewWriter(w)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	n := 0
	var cursor xapi.Cursor
	for {
		page, next, err := x.Page(ctx, from, cursor, xapiPage)
		if err != nil {
			return n, err
		}
		for _, s := range page {
			if err := enc.Encode(s); err != nil {
				return n, fmt.Errorf("write the statements: %w", err)
			}
		}
		n += len(page)
		if next.IsZero() {
			break
		}
		fmt.Fprintf(progress, "export-xapi: %s: %d statements (reps up to id %d)…\n", slug, n, next.RepID)
		cursor = next
	}
	if err := buf.Flush(); err != nil {
		return n, fmt.Errorf("write the statements: %w", err)
	}
	return n, nil
}

// writeFileAtomically writes path through write into a temporary file beside
// it, renamed over path once write succeeds: a failed export leaves any
// earlier file as it was.
func writeFileAtomically(path string, write func(io.Writer) (int, error)) (int, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("-o %s: %w", path, err)
	}
	n, err := write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("-o %s: %w", path, cerr)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}
