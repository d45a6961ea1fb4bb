package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

func init() {
	commands = append(commands, command{name: "serve", summary: "Serve the web app and API and run the job workers (or one of the two)",
		setup: func(cfg *Config, fs *flag.FlagSet) func(context.Context, *env, []string) error {
			cfg.serveFlags(fs)
			webOnly := fs.Bool("web-only", false, "serve HTTP only; run the workers in other processes")
			workerOnly := fs.Bool("worker-only", false, "run the job workers only; serve no HTTP")
			return func(ctx context.Context, e *env, _ []string) error {
				if *webOnly && *workerOnly {
					return usageError{"--web-only and --worker-only exclude each other"}
				}
				if err := cfg.validateServe(); err != nil {
					return err
				}
				return serve(ctx, e, *cfg, !*workerOnly, !*webOnly)
			}
		}})
}

// shutdownGrace is how long running requests and jobs get to finish after SIGTERM.
const shutdownGrace = 25 * time.Second

func serve(ctx context.Context, e *env, cfg Config, withWeb, withWorkers bool) error {
	pool, ch, done, err := openDatabases(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	errc := make(chan error, 3)
	var m *metrics
	var webMetrics *web.Metrics
	var schedMetrics *scheduler.Metrics
	if cfg.MetricsAddr != "" {
		if m, err = newMetrics(pool); err != nil {
			return err
		}
		if err := m.serve(ctx, e, cfg.MetricsAddr, errc); err != nil {
			return err
		}
		ch, webMetrics, schedMetrics = m.timed(ch), m.web, m.scheduler
	}
	store, err := newStore(e, cfg, pool)
	if err != nil {
		return err
	}
	stopAlerts := func() {}
	if withWorkers {
		if stopAlerts, err = startAlerts(ctx, e, &cfg, pool); err != nil {
			return err
		}
	}
	defer stopAlerts()
	sched, err := newScheduler(e, cfg, pool, ch, store, withWorkers, schedMetrics)
	if err != nil {
		return err
	}
	if withWorkers {
		if err := sched.Start(ctx); err != nil {
			return err
		}
		e.log.Info("workers started", "sender", senderName(cfg))
	}

	ingester := tracking.NewIngester(pool, e.log, 2) // video pings, group-committed
	defer ingester.Stop()

	var srv *http.Server
	if withWeb {
		jobs, operatorOrg, err := jobsUI(ctx, e, cfg, store, sched)
		if err != nil {
			return err
		}
		app := web.New(web.Deps{
			Store:           store,
			Logger:          e.log,
			PublicURL:       cfg.PublicURL,
			TwilioAuthToken: cfg.TwilioAuthToken,
			Inbox:           sched,
			Simulator:       cfg.TwilioAccountSID == "",
			ClickHouse:      ch,
			Pool:            pool,
			TrustProxy:      cfg.TrustProxy,
			Ingester:        ingester,
			Metrics:         webMetrics,
			JobsUI:          jobs,
			OperatorOrgID:   operatorOrg,
			Checks: []web.Check{
				{Name: "postgres", Ping: pool.Ping},
				{Name: "clickhouse", Ping: ch.Ping},
			},
		})
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
		srv = app.HTTPServer(web.DefaultTimeouts())
		e.log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
		if e.listening != nil {
			e.listening(ln.Addr().String())
		}
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve HTTP: %w", err)
			}
		}()
	}

	select {
	case <-ctx.Done():
		e.log.Info("shutting down: finishing running requests and jobs", "grace", shutdownGrace)
	case err := <-errc:
		return err
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(stopCtx); err != nil {
			return fmt.Errorf("stop HTTP: %w", err)
		}
	}
	if withWorkers {
		if err := sched.Stop(stopCtx); err != nil {
			return err
		}
	}
	e.log.Info("stopped")
	return nil
}

func senderName(cfg Config) string {
	switch {
	case cfg.TwilioAccountSID == "":
		return "simulator (no Twilio credentials: see /simulator)"
	case cfg.TwilioAPIURL != "":
		return "twilio at " + cfg.TwilioAPIURL
	}
	return "twilio"
}
