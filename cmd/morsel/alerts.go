package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/alerts"
)

// startAlerts runs the alerts of a worker process when ALERT_WEBHOOK_URL is
// set, until ctx is done or stop is called (stop then waits for the last
// posts, 5 s at most), and tells them
// of the breaker's changes through cfg.Breaker.OnChange.
func startAlerts(ctx context.Context, e *env, cfg *Config, pool *pgxpool.Pool) (stop func(), err error) {
	if cfg.AlertWebhookURL == "" {
		return func() {}, nil
	}
	a, err := alerts.New(pool, alerts.Config{WebhookURL: cfg.AlertWebhookURL, JobsURL: cfg.PublicURL + "/admin/jobs", Log: e.log})
	if err != nil {
		return nil, err
	}
	cfg.Breaker.OnChange = func(ev scheduler.BreakerEvent) { reportBreaker(a, ev) }
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	e.log.Info("alerts on", "jobs_ui", cfg.PublicURL+"/admin/jobs")
	return func() { cancel(); <-done }, nil
}

// reportBreaker turns a change of a sender's breaker into an incident.
func reportBreaker(a *alerts.Alerter, ev scheduler.BreakerEvent) {
	switch ev.Change {
	case scheduler.BreakerOpened:
		a.Report("breaker:"+ev.Sender, true, fmt.Sprintf("SMS sender %s paused: the provider failed %d of its last %d sends (last: %s); probing until it answers.",
			ev.Sender, ev.Fails, ev.Sends, ev.Reason))
	case scheduler.BreakerClosed:
		a.Report("breaker:"+ev.Sender, false, fmt.Sprintf("SMS sender %s resumed: the provider answered a probe.", ev.Sender))
	case scheduler.BreakerFailureRate:
		a.Report("failure-rate:"+ev.Sender, true, fmt.Sprintf("SMS sender %s: the provider failed %d of %d sends (last: %s).",
			ev.Sender, ev.Fails, ev.Sends, ev.Reason))
	case scheduler.BreakerFailureRateLow:
		a.Report("failure-rate:"+ev.Sender, false, fmt.Sprintf("SMS sender %s: failures back under the threshold (%d of %d sends).",
			ev.Sender, ev.Fails, ev.Sends))
	}
}
