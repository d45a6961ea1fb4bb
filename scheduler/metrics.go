package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/morselhq/morsel/tracking"
)

// Metrics counts the scheduler's work for Prometheus: River's jobs by kind
// and outcome, the SMS the provider took or refused, and, read from Postgres
// when scraped, the queues' depth and the events outbox's backlog. A nil
// *Metrics counts nothing.
type Metrics struct {
	jobs        *prometheus.CounterVec
	jobSeconds  *prometheus.HistogramVec
	smsSent     prometheus.Counter
	smsFailures *prometheus.CounterVec
	breaker     *prometheus.GaugeVec
	breakerOpen *prometheus.CounterVec
}

// NewMetrics registers the scheduler's metrics with reg; the gauges read
// from pool on each scrape.
func NewMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) (*Metrics, error) {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "morsel_river_jobs_worked_total",
			Help: "River jobs worked, by kind and outcome (completed, failed: retried or discarded, cancelled, snoozed)."},
			[]string{"kind", "outcome"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "morsel_river_job_duration_seconds",
			Help: "How long River jobs took to work, by kind.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)},
			[]string{"kind"}),
		smsSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "morsel_sms_sent_total",
			Help: "Messages the SMS provider accepted."}),
		smsFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "morsel_sms_send_failures_total",
			Help: "Sends the SMS provider refused or did not answer, by the provider's error code (0: none given) and kind (transient, ambiguous, permanent)."},
			[]string{"code", "kind"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "morsel_sms_breaker_open",
			Help: "1 while a sender's circuit breaker is open (its sends paused, probing the provider), 0 once closed; this process's view."},
			[]string{"sender"}),
		breakerOpen: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "morsel_sms_breaker_opened_total",
			Help: "Times a sender's circuit breaker opened in this process."},
			[]string{"sender"}),
	}
	for _, c := range []prometheus.Collector{m.jobs, m.jobSeconds, m.smsSent, m.smsFailures, m.breaker, m.breakerOpen, &backlogCollector{pool: pool}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register scheduler metrics: %w", err)
		}
	}
	return m, nil
}

// middleware counts each job River works, by its outcome.
func (m *Metrics) middleware() rivertype.Middleware {
	return river.WorkerMiddlewareFunc(func(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
		start := time.Now()
		err := doInner(ctx)
		m.jobSeconds.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
		m.jobs.WithLabelValues(job.Kind, jobOutcome(err)).Inc()
		return err
	})
}

// jobOutcome names what River does with a job that returned err.
func jobOutcome(err error) string {
	var cancel *rivertype.JobCancelError
	var snooze *rivertype.JobSnoozeError
	switch {
	case err == nil:
		return "completed"
	case errors.As(err, &cancel):
		return "cancelled"
	case errors.As(err, &snooze):
		return "snoozed"
	default:
		return "failed"
	}
}

// sent counts a message the provider accepted.
func (m *Metrics) sent() {
	if m != nil {
		m.smsSent.Inc()
	}
}

// failed counts a send the provider refused or did not answer.
func (m *Metrics) failed(f *SendError) {
	if m != nil {
		m.smsFailures.WithLabelValues(strconv.Itoa(f.Code), f.Kind.String()).Inc()
	}
}

// breakerState sets a sender's breaker gauge.
func (m *Metrics) breakerState(sender string, open bool) {
	if m != nil {
		v := 0.0
		if open {
			v = 1
		}
		m.breaker.WithLabelValues(sender).Set(v)
	}
}

// breakerOpened counts a sender's breaker opening.
func (m *Metrics) breakerOpened(sender string) {
	if m != nil {
		m.breakerOpen.WithLabelValues(sender).Inc()
	}
}

// backlogCollector reads, when scraped, the jobs waiting in each River queue
// and the events waiting in the outbox, each query bounded in time.
type backlogCollector struct {
	pool *pgxpool.Pool
}

var (
	queueJobsDesc = prometheus.NewDesc("morsel_river_queue_jobs", "River jobs in each queue, by state (available, scheduled, retryable, running).",
		[]string{"queue", "state"}, nil)
	outboxEventsDesc = prometheus.NewDesc("morsel_outbox_events", "Events in the outbox not yet shipped to ClickHouse.", nil, nil)
	outboxAgeDesc    = prometheus.NewDesc("morsel_outbox_oldest_event_age_seconds",
		"Age of the oldest event waiting in the outbox (a batch of pings: since it was written): how far ClickHouse lags.", nil, nil)
)

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- outboxEventsDesc
	ch <- outboxAgeDesc
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.pool.Query(ctx, `SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY 1, 2`)
	if err == nil {
		var queue, state string
		var n int64
		for rows.Next() {
			if err = rows.Scan(&queue, &state, &n); err != nil {
				break
			}
			ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(n), queue, state)
		}
		rows.Close()
		err = errors.Join(err, rows.Err())
	}
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueJobsDesc, fmt.Errorf("count river jobs: %w", err))
	}
	n, age, err := tracking.Backlog(ctx, c.pool)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxEventsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxEventsDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age.Seconds())
}
