package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/scheduler/alerts"
)

const jobsURL = "https://morsel.test/admin/jobs"

// webhook is a real HTTP server taking Slack-style posts; fail answers the
// first posts with the given statuses.
type webhook struct {
	*httptest.Server
	mu    sync.Mutex
	texts []string
	tries int
	fail  []int
}

func newWebhook(t *testing.T, fail ...int) *webhook {
	w := &webhook{fail: fail}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct {
			Text string `json:"text"`
		}
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
			http.Error(rw, "bad alert", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.tries++
		if len(w.fail) > 0 {
			status := w.fail[0]
			w.fail = w.fail[1:]
			rw.WriteHeader(status)
			return
		}
		w.texts = append(w.texts, body.Text)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) received() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.texts...)
}

// waitFor waits, with a deadline, until the webhook has n texts.
func (w *webhook) waitFor(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(w.received()) < n; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the webhook has %d posts, want %d", len(w.received()), n)
	}
}

// checker starts an alerter (a worker process's) posting to w; stop stops it
// and waits until it posted what it had queued.
func checker(t *testing.T, pool *pgxpool.Pool, w *webhook, name string) (a *alerts.Alerter, stop func()) {
	t.Helper()
	a, err := alerts.New(pool, alerts.Config{WebhookURL: w.URL, JobsURL: jobsURL, Name: name, Every: time.Hour, Backoff: time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return a, stop
}

// Two worker processes check for each kind of incident: it is alerted once
// when it starts and resolved once when it ends, with a link to River's UI.
func TestIncidentAlertedOnceAndResolvedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		start  string // SQL that causes the incident
		end    string // SQL that ends it
		header string // what the alert says
	}{
		{"queue stopped draining",
			`INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at) VALUES ('{}', 'send_sms', 20, 'sms', 'available', now() - interval '1 hour')`,
			`UPDATE river_job SET state = 'completed', finalized_at = now()`,
			"Queue sms stopped draining: 1 jobs available for over 5m0s and none completed."},
		{"outbox lagging",
			`INSERT INTO event_outbox (org_id, rep_id, event_key, kind, occurred_at, version) VALUES (1, 1, 'k', 'lesson_sent', now() - interval '1 hour', 1)`,
			`DELETE FROM event_outbox`,
			"The events outbox lags: its oldest event waited"},
		{"worker gone",
			`INSERT INTO worker_heartbeats (name, started_at, seen_at) VALUES ('w3:42', now() - interval '1 day', now() - interval '10 minutes')`,
			`DELETE FROM worker_heartbeats WHERE name = 'w3:42'`,
			"Worker process w3:42 is gone: last seen 10m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := dbtest.Postgres(t)
			w := newWebhook(t)
			a, stopA := checker(t, pool, w, "w1:1")
			b, stopB := checker(t, pool, w, "w2:2")
			checkBoth := func() {
				var wg sync.WaitGroup
				for _, c := range []*alerts.Alerter{a, b, a, b} {
					wg.Go(func() { require.NoError(t, c.Check(ctx)) })
				}
				wg.Wait()
			}
			checkBoth() // nothing yet
			_, err := pool.Exec(ctx, tt.start)
			require.NoError(t, err)
			checkBoth()
			checkBoth() // still open: no second alert
			w.waitFor(t, 1)
			_, err = pool.Exec(ctx, tt.end)
			require.NoError(t, err)
			checkBoth()
			checkBoth()
			stopA()
			stopB()

			got := w.received()
			require.Len(t, got, 2, "one alert, one resolution: %q", got)
			require.Contains(t, got[0], tt.header)
			require.NotContains(t, got[0], "Resolved")
			require.Contains(t, got[1], "Resolved: "+tt.header)
			for _, text := range got {
				require.Contains(t, text, "<"+jobsURL+"|River UI>")
			}
		})
	}
}

// Of two processes that report the same incident, one alerts; the breaker's
// reports (Report) are applied without the reporter waiting.
func TestReportedIncidentOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	w := newWebhook(t)
	a, stopA := checker(t, pool, w, "w1:1")
	b, stopB := checker(t, pool, w, "w2:2")

	openedA, err := a.Open(ctx, "breaker:+15005550006", "Sender +15005550006 paused: the provider failed 20 of 20 sends.")
	require.NoError(t, err)
	openedB, err := b.Open(ctx, "breaker:+15005550006", "Sender +15005550006 paused: the provider failed 20 of 20 sends.")
	require.NoError(t, err)
	require.True(t, openedA)
	require.False(t, openedB, "the incident is open already")
	w.waitFor(t, 1)

	a.Report("breaker:+15005550006", false, "Sender +15005550006 resumed.")
	w.waitFor(t, 2)
	resolvedB, err := b.Resolve(ctx, "breaker:+15005550006", "Sender +15005550006 resumed.")
	require.NoError(t, err)
	require.False(t, resolvedB, "resolved already")
	stopA()
	stopB()
	got := w.received()
	require.Len(t, got, 2)
	require.Contains(t, got[0], "Sender +15005550006 paused")
	require.Contains(t, got[1], "Resolved: Sender +15005550006 resumed.")
}

// A post that fails for a while (5xx, 429) is tried again; a 4xx is not.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fail      []int
		wantTries int
		delivered bool
	}{
		{"answers at once", nil, 1, true},
		{"500 then ok", []int{500}, 2, true},
		{"429 twice then ok", []int{429, 429}, 3, true},
		{"down three times: given up", []int{503, 503, 503, 503}, 3, false},
		{"400: not retried", []int{400}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := dbtest.Postgres(t)
			w := newWebhook(t, tt.fail...)
			a, stop := checker(t, pool, w, "w1:1")
			opened, err := a.Open(ctx, "outbox-lagging", "The events outbox lags.")
			require.NoError(t, err)
			require.True(t, opened)
			stop()
			w.mu.Lock()
			defer w.mu.Unlock()
			require.Equal(t, tt.wantTries, w.tries)
			require.Equal(t, tt.delivered, len(w.texts) == 1)
		})
	}
}
