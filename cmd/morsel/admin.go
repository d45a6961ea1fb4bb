package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations"
)

func init() {
	commands = append(commands,
		command{name: "migrate", summary: "Apply the Postgres (with River) and ClickHouse migrations; a second run does nothing",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				return func(ctx context.Context, e *env, _ []string) error { return migrate(ctx, e, *cfg) }
			}},
		command{name: "org create", summary: "Create an organisation",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var o lessons.Org
				fs.StringVar(&o.Slug, "slug", "", "short key, e.g. acme (required)")
				fs.StringVar(&o.Name, "name", "", "display name (required)")
				fs.StringVar(&o.SMSFrom, "sms-from", "", "the organisation's From number, E.164 (default: TWILIO_FROM)")
				fs.StringVar(&o.SMSMessagingServiceSID, "messaging-service-sid", "", "the organisation's messaging service (default: TWILIO_MESSAGING_SERVICE_SID)")
				fs.StringVar(&o.HelpText, "help-text", "", "the answer to HELP")
				fs.BoolVar(&o.AdvancedOptOut, "twilio-advanced-opt-out", false, "Twilio Advanced Opt-Out answers STOP/START/HELP: send no second confirmation")
				fs.StringVar(&o.TimeZone, "time-zone", "UTC", "IANA time zone where the reports' weeks and months start, e.g. America/Chicago")
				return func(ctx context.Context, e *env, _ []string) error {
					store, done, err := openStore(ctx, *cfg)
					if err != nil {
						return err
					}
					defer done()
					o, err := store.CreateOrg(ctx, o)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "created organisation %s (%s), id %d\n", o.Slug, o.Name, o.ID)
					return nil
				}
			}},
		command{name: "org set-time-zone", summary: "Change where an organisation's reports' weeks and months start",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				slug := fs.String("org", "", "the organisation's slug (required)")
				zone := fs.String("time-zone", "", "IANA time zone, e.g. Europe/Paris (required)")
				return func(ctx context.Context, e *env, _ []string) error {
					if *slug == "" || *zone == "" {
						return usageError{"--org and --time-zone are required"}
					}
					store, done, err := openStore(ctx, *cfg)
					if err != nil {
						return err
					}
					defer done()
					o, err := store.OrgBySlug(ctx, *slug)
					if err != nil {
						return err
					}
					if err := store.SetOrgTimeZone(ctx, o.ID, *zone); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "organisation %s: reports' periods start in %s\n", o.Slug, *zone)
					return nil
				}
			}},
		command{name: "user create", summary: "Create an admin, trainer or manager; prints a one-time password",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org, teams string
				var nu lessons.NewUser
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.StringVar(&nu.Name, "name", "", "full name (required)")
				fs.StringVar(&nu.Email, "email", "", "email, used to sign in (required)")
				fs.StringVar((*string)(&nu.Role), "role", "", "admin, trainer or manager (required)")
				fs.StringVar(&teams, "team", "", "for managers: the teams they manage, comma-separated (created if missing)")
				return func(ctx context.Context, e *env, _ []string) error {
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					nu.Teams = splitList(teams)
					u, password, err := store.CreateUser(ctx, o.ID, nu)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "created %s %s <%s>\none-time password: %s\n(they choose their own at first sign-in)\n", u.Role, u.Name, u.Email, password)
					return nil
				}
			}},
		command{name: "user reset-password", summary: "Give a user a fresh one-time password and sign them out everywhere",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org, email string
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.StringVar(&email, "email", "", "the user's email (required)")
				return func(ctx context.Context, e *env, _ []string) error {
					if email == "" {
						return usageError{"--email is required: the user's email"}
					}
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					password, err := store.ResetPassword(ctx, o.ID, email)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "one-time password for %s: %s\n(their sessions have ended; they choose their own password at sign-in)\n", email, password)
					return nil
				}
			}},
		command{name: "apikey create", summary: "Create an API key for an organisation; prints it once",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org, name string
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.StringVar(&name, "name", "default", "what the key is for, e.g. hr-sync")
				return func(ctx context.Context, e *env, _ []string) error {
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					_, secret, err := store.CreateAPIKey(ctx, o.ID, name)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "API key for %s (shown once, keep it safe):\n%s\n", o.Slug, secret)
					return nil
				}
			}},
		command{name: "apikey list", summary: "List an organisation's API keys, with when each was last used",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org string
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				return func(ctx context.Context, e *env, _ []string) error {
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					keys, err := store.APIKeys(ctx, o.ID)
					if err != nil {
						return err
					}
					if len(keys) == 0 {
						fmt.Fprintf(e.stdout, "%s has no API key: morsel apikey create makes one\n", o.Slug)
						return nil
					}
					w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "ID\tNAME\tKEY\tCREATED\tLAST USED\tREVOKED")
					for _, k := range keys {
						fmt.Fprintf(w, "%d\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.CreatedAt.UTC().Format(time.DateTime),
							stampOr(k.LastUsedAt, "never"), stampOr(k.RevokedAt, "-"))
					}
					return w.Flush()
				}
			}},
		command{name: "apikey revoke", summary: "Revoke an API key at once, by its id (apikey list shows them)",
			setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
				cfg.databaseFlags(fs)
				var org string
				var id int64
				fs.StringVar(&org, "org", "", "organisation slug (required)")
				fs.Int64Var(&id, "id", 0, "the key's id (required)")
				return func(ctx context.Context, e *env, _ []string) error {
					if id <= 0 {
						return usageError{"--id is required: the key's id, as morsel apikey list shows it"}
					}
					store, o, done, err := openOrg(ctx, *cfg, org)
					if err != nil {
						return err
					}
					defer done()
					k, err := store.RevokeAPIKey(ctx, o.ID, id)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "revoked API key %d (%s, %s…) of %s: requests with it are refused from now on\n", k.ID, k.Name, k.Prefix, o.Slug)
					return nil
				}
			}},
	)
}

// stampOr is t as a UTC date and time, or none when t is nil.
func stampOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.DateTime)
}

func migrate(ctx context.Context, e *env, cfg Config) error {
	pool, ch, done, err := openDatabases(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	pg, err := migrations.MigratePostgres(ctx, pool, e.log)
	if err != nil {
		return err
	}
	chn, err := migrateClickHouse(ctx, e, cfg, ch)
	if err != nil {
		return err
	}
	if pg+chn == 0 {
		fmt.Fprintln(e.stdout, "migrate: the schema is up to date")
	} else {
		fmt.Fprintf(e.stdout, "migrate: applied %d Postgres and %d ClickHouse steps\n", pg, chn)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
