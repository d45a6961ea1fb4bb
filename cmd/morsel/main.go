// Command morsel runs Morsel: the web app and API, the SMS workers, migrations,
// imports and the demo data. `morsel help` lists the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // rep time zones must resolve even where the OS has no zoneinfo
)

// env is what a command may use of the outside world.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	// listening and metricsListening, when set, are told the addresses serve
	// listens on for the app and its metrics (tests use :0).
	listening, metricsListening func(addr string)
}

// command is one `morsel` subcommand.
type command struct {
	name    string // e.g. "import reps"
	args    string // what follows the flags, for the usage line
	summary string
	help    string // more, for the command's usage; "" for none
	setup   func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error
}

var commands []command

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run runs the command named by args and returns the exit code: 0 on success,
// 2 for a usage mistake, 1 for any other failure, which it prints as one line.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		return 0
	}
	cmd, rest, ok := findCommand(args)
	if !ok {
		fmt.Fprintf(e.stderr, "morsel: unknown command %q\n\n", strings.Join(args, " "))
		usage(e.stderr)
		return 2
	}
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "morsel: %v\n", err)
		return 1
	}
	fs := flag.NewFlagSet("morsel "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	runFn := cmd.setup(&cfg, fs)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: morsel %s [flags] %s\n\n%s\n\n", cmd.name, cmd.args, cmd.summary)
		if cmd.help != "" {
			fmt.Fprintf(e.stderr, "%s\n\n", cmd.help)
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := runFn(ctx, e, fs.Args()); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "morsel %s: %v\n", cmd.name, err)
			fs.Usage()
			return 2
		}
		fmt.Fprintf(e.stderr, "morsel %s: %v\n", cmd.name, err)
		return 1
	}
	return 0
}

// usageError is a mistake in how a command was called.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// findCommand finds the command args name, the longest name first: `import
// reps` before `import`.
func findCommand(args []string) (command, []string, bool) {
	var found command
	n := 0
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(words) > n && len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			found, n = c, len(words)
		}
	}
	return found, args[n:], n > 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "morsel: bite-sized sales training by SMS.")
	fmt.Fprintln(w, "\nusage: morsel COMMAND [flags]; morsel COMMAND -h tells more.")
	fmt.Fprintln(w, "\ncommands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nenvironment: DATABASE_URL, CLICKHOUSE_URL, HTTP_ADDR, PUBLIC_URL, TWILIO_ACCOUNT_SID,")
	fmt.Fprintln(w, "TWILIO_AUTH_TOKEN, TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID, TWILIO_API_URL (flags override them;")
	fmt.Fprintln(w, "NAME_FILE reads NAME from a file).")
}

func init() {
	commands = append(commands, command{
		name: "version", summary: "Print the version",
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(_ context.Context, e *env, _ []string) error {
				fmt.Fprintln(e.stdout, "morsel", version())
				return nil
			}
		},
	})
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
