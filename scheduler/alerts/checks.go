package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/tracking"
)

// The incidents Check owns, by the prefix of their keys; the others are
// Report's (the breaker's).
const (
	keyQueueStalled = "queue-stalled:"
	keyOutboxLag    = "outbox-lagging"
	keyWorkerGone   = "worker-gone:"
)

// Beat records that this process is alive.
func (a *Alerter) Beat(ctx context.Context) error {
	_, err := a.pool.Exec(ctx, `INSERT INTO worker_heartbeats (name, started_at, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at`, a.cfg.Name, a.started, a.cfg.Now())
	if err != nil {
		return fmt.Errorf("record heartbeat of %s: %w", a.cfg.Name, err)
	}
	return nil
}

// Check looks for the incidents it owns, opens those it finds and resolves
// those open that it no longer finds.
func (a *Alerter) Check(ctx context.Context) error {
	now := a.cfg.Now()
	found := map[string]string{}
	if err := a.stalledQueues(ctx, now, found); err != nil {
		return err
	}
	_, age, err := tracking.Backlog(ctx, a.pool)
	if err != nil {
		return fmt.Errorf("outbox backlog: %w", err)
	}
	if age > a.cfg.OutboxLag {
		found[keyOutboxLag] = fmt.Sprintf("The events outbox lags: its oldest event waited %s to be shipped to ClickHouse (threshold %s).",
			age.Round(time.Second), a.cfg.OutboxLag)
	}
	if err := a.goneWorkers(ctx, now, found); err != nil {
		return err
	}

	rows, err := a.pool.Query(ctx, `SELECT key, summary FROM alert_incidents
		WHERE key LIKE 'queue-stalled:%' OR key = 'outbox-lagging' OR key LIKE 'worker-gone:%'`)
	if err != nil {
		return fmt.Errorf("read open incidents: %w", err)
	}
	open := map[string]string{}
	var key, summary string
	_, err = pgx.ForEachRow(rows, []any{&key, &summary}, func() error { open[key] = summary; return nil })
	if err != nil {
		return fmt.Errorf("read open incidents: %w", err)
	}
	for k, text := range found {
		if _, ok := open[k]; !ok {
			if _, err := a.Open(ctx, k, text); err != nil {
				return err
			}
		}
	}
	for k, text := range open {
		if _, ok := found[k]; !ok {
			if _, err := a.Resolve(ctx, k, text); err != nil {
				return err
			}
		}
	}
	return nil
}

// stalledQueues finds the queues with jobs available for QueueStall and none
// completed in that time.
func (a *Alerter) stalledQueues(ctx context.Context, now time.Time, found map[string]string) error {
	since := now.Add(-a.cfg.QueueStall)
	rows, err := a.pool.Query(ctx, `
		SELECT w.queue, w.waiting FROM (
			SELECT queue, count(*) AS waiting FROM river_job
			WHERE state = 'available' AND scheduled_at < $1 GROUP BY queue
		) w
		WHERE NOT EXISTS (SELECT 1 FROM river_job c
			WHERE c.state = 'completed' AND c.finalized_at >= $1 AND c.queue = w.queue)`, since)
	if err != nil {
		return fmt.Errorf("look for stalled queues: %w", err)
	}
	var queue string
	var waiting int64
	_, err = pgx.ForEachRow(rows, []any{&queue, &waiting}, func() error {
		found[keyQueueStalled+queue] = fmt.Sprintf("Queue %s stopped draining: %d jobs available for over %s and none completed.",
			queue, waiting, a.cfg.QueueStall)
		return nil
	})
	if err != nil {
		return fmt.Errorf("look for stalled queues: %w", err)
	}
	return nil
}

// goneWorkers finds the worker processes not seen for WorkerGone, and
// forgets those not seen for WorkerForget (their incident then resolves).
func (a *Alerter) goneWorkers(ctx context.Context, now time.Time, found map[string]string) error {
	if _, err := a.pool.Exec(ctx, `DELETE FROM worker_heartbeats WHERE seen_at < $1`, now.Add(-a.cfg.WorkerForget)); err != nil {
		return fmt.Errorf("forget old workers: %w", err)
	}
	rows, err := a.pool.Query(ctx, `SELECT name, seen_at FROM worker_heartbeats WHERE seen_at < $1`, now.Add(-a.cfg.WorkerGone))
	if err != nil {
		return fmt.Errorf("look for gone workers: %w", err)
	}
	var name string
	var seen time.Time
	_, err = pgx.ForEachRow(rows, []any{&name, &seen}, func() error {
		found[keyWorkerGone+name] = fmt.Sprintf("Worker process %s is gone: last seen %s ago.", name, now.Sub(seen).Round(time.Second))
		return nil
	})
	if err != nil {
		return fmt.Errorf("look for gone workers: %w", err)
	}
	return nil
}

// jsonText is the webhook's body: {"text": text}.
func jsonText(text string) (string, error) {
	b, err := json.Marshal(struct {
		Text string `json:"text"`
	}{strings.ToValidUTF8(text, "?")})
	if err != nil {
		return "", fmt.Errorf("encode alert: %w", err)
	}
	return string(b), nil
}
