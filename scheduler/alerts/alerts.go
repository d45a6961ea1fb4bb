// Package alerts tells a Slack-compatible incoming webhook (a POST of
// {"text": ...}) of unusual activity: a sender's failure rate over its
// threshold and its circuit breaker opening and closing (reported by the
// scheduler, through Report), a queue that stops draining, the events outbox
// lagging and a worker process gone (found by Check, which Run calls
// periodically in every worker process). Each incident is alerted once when
// it opens and once when it resolves: an open incident is a row of
// alert_incidents, and only the process whose insert made the row (whose
// delete removed it) posts, so several worker processes do not alert twice.
// Posting is bounded in time and retried a few times on a goroutine of its
// own; a full queue drops the alert (logged) rather than block sending.
package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config sets the webhook and the thresholds. Zero values take the defaults.
type Config struct {
	// WebhookURL is the incoming webhook (ALERT_WEBHOOK_URL); required.
	WebhookURL string
	// JobsURL is River's UI (PUBLIC_URL + /admin/jobs), linked from each alert.
	JobsURL string
	// Client posts the alerts; default a client with a 5 s timeout.
	Client *http.Client
	// Tries is how many times a post is tried (default 3), Backoff the wait
	// after the first failure, doubling (default 1 s).
	Tries   int
	Backoff time.Duration
	// Every is how often Run checks and beats (default 15 s).
	Every time.Duration
	// QueueStall: a queue with jobs available this long and none completed
	// in as long has stopped draining (default 5 min).
	QueueStall time.Duration
	// OutboxLag: an outbox whose oldest event is older lags (default 2 min).
	OutboxLag time.Duration
	// WorkerGone: a worker not seen this long is gone (default 1 min); its
	// row is forgotten (the incident resolved) after WorkerForget (default 24 h).
	WorkerGone   time.Duration
	WorkerForget time.Duration
	// Name is this process's heartbeat name (default host:pid).
	Name string
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Alerter records incidents and posts their alerts.
type Alerter struct {
	pool    *pgxpool.Pool
	cfg     Config
	reports chan report
	posts   chan string
	started time.Time
}

// report is an incident's change handed over by Report.
type report struct {
	key, text string
	open      bool
}

// New returns an alerter; Run starts its work.
func New(pool *pgxpool.Pool, cfg Config) (*Alerter, error) {
	if cfg.WebhookURL == "" {
		return nil, fmt.Errorf("alerts: no webhook URL")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Every <= 0 {
		cfg.Every = 15 * time.Second
	}
	if cfg.QueueStall <= 0 {
		cfg.QueueStall = 5 * time.Minute
	}
	if cfg.OutboxLag <= 0 {
		cfg.OutboxLag = 2 * time.Minute
	}
	if cfg.WorkerGone <= 0 {
		cfg.WorkerGone = time.Minute
	}
	if cfg.WorkerForget <= 0 {
		cfg.WorkerForget = 24 * time.Hour
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Alerter{pool: pool, cfg: cfg, reports: make(chan report, 256), posts: make(chan string, 256), started: cfg.Now()}, nil
}

// Report hands over an incident opening (open) or resolving, from code that
// must not wait: the scheduler's breaker. When the queue is full it is dropped.
func (a *Alerter) Report(key string, open bool, text string) {
	select {
	case a.reports <- report{key: key, open: open, text: text}:
	default:
		a.cfg.Log.Warn("alert dropped: too many waiting", "incident", key)
	}
}

// Open records the incident key; when this call opened it, the alert is
// posted (queued for the poster), and Open says true.
func (a *Alerter) Open(ctx context.Context, key, text string) (bool, error) {
	tag, err := a.pool.Exec(ctx, `INSERT INTO alert_incidents (key, opened_at, summary) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, a.cfg.Now(), text)
	if err != nil {
		return false, fmt.Errorf("open incident %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	a.post(":rotating_light: " + text)
	return true, nil
}

// Resolve removes the incident key; when this call removed it, the
// resolution is posted, and Resolve says true.
func (a *Alerter) Resolve(ctx context.Context, key, text string) (bool, error) {
	tag, err := a.pool.Exec(ctx, `DELETE FROM alert_incidents WHERE key = $1`, key)
	if err != nil {
		return false, fmt.Errorf("resolve incident %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	a.post(":white_check_mark: Resolved: " + text)
	return true, nil
}

// post queues a message for the poster, with the link to River's UI.
func (a *Alerter) post(text string) {
	if a.cfg.JobsURL != "" {
		text += " <" + a.cfg.JobsURL + "|River UI>"
	}
	select {
	case a.posts <- text:
	default:
		a.cfg.Log.Warn("alert dropped: too many waiting to be posted", "text", text)
	}
}

// Run beats, checks every Every, applies Report's changes and posts, until
// ctx is done; then it removes this process's heartbeat, so that a clean
// stop is no worker gone, and posts what is waiting (bounded in time).
func (a *Alerter) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() { defer close(done); a.poster(ctx) }()
	tick := time.NewTicker(a.cfg.Every)
	defer tick.Stop()
	a.tick(ctx)
	for {
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if _, err := a.pool.Exec(stop, `DELETE FROM worker_heartbeats WHERE name = $1`, a.cfg.Name); err != nil {
				a.cfg.Log.Warn("remove worker heartbeat", "err", err)
			}
			cancel()
			<-done
			return
		case r := <-a.reports:
			a.apply(ctx, r)
		case <-tick.C:
			a.tick(ctx)
		}
	}
}

func (a *Alerter) apply(ctx context.Context, r report) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var err error
	if r.open {
		_, err = a.Open(ctx, r.key, r.text)
	} else {
		_, err = a.Resolve(ctx, r.key, r.text)
	}
	if err != nil {
		a.cfg.Log.Warn("alert", "err", err)
	}
}

func (a *Alerter) tick(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Every)
	defer cancel()
	if err := a.Beat(ctx); err != nil {
		a.cfg.Log.Warn("worker heartbeat", "err", err)
	}
	if err := a.Check(ctx); err != nil {
		a.cfg.Log.Warn("alert checks", "err", err)
	}
}

// poster posts the queued messages one at a time, in order; once ctx is
// done it posts what is left, for 5 s more at most.
func (a *Alerter) poster(ctx context.Context) {
	postCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(5*time.Second, cancel) })
	defer stop()
	for {
		select {
		case text := <-a.posts:
			a.deliver(postCtx, text)
		case <-ctx.Done():
			for {
				select {
				case text := <-a.posts:
					a.deliver(postCtx, text)
				default:
					return
				}
			}
		}
	}
}

// deliver posts text, trying Tries times with a doubling backoff; a 4xx
// other than 429 is not tried again.
func (a *Alerter) deliver(ctx context.Context, text string) {
	wait := a.cfg.Backoff
	for try := 1; ; try++ {
		err, again := a.postOnce(ctx, text)
		if err == nil {
			return
		}
		if !again || try >= a.cfg.Tries {
			a.cfg.Log.Warn("alert not posted", "text", text, "tries", try, "err", err)
			return
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			a.cfg.Log.Warn("alert not posted", "text", text, "err", ctx.Err())
			return
		}
		wait *= 2
	}
}

func (a *Alerter) postOnce(ctx context.Context, text string) (err error, again bool) {
	body, err := jsonText(text)
	if err != nil {
		return err, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.WebhookURL, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("alert webhook request: %w", err), false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post alert: %w", redact(err, a.cfg.WebhookURL)), true
	}
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return nil, false
	}
	again = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	return fmt.Errorf("post alert: the webhook answered %s", resp.Status), again
}

// redact keeps the webhook's URL, a secret, out of logged errors.
func redact(err error, url string) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), url, "ALERT_WEBHOOK_URL"))
}
