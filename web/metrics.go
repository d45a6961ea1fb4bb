package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts the server's requests for Prometheus: every request's
// latency by route pattern and status (the request log keeps only errors and
// slow ones), and the video pings stored. A nil *Metrics counts nothing.
type Metrics struct {
	requests *prometheus.HistogramVec
	pings    prometheus.Counter
}

// NewMetrics registers the server's metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "morsel_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern (\"unmatched\" for none) and status code, and how long they took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}},
			[]string{"route", "code"}),
		pings: prometheus.NewCounter(prometheus.CounterOpts{Name: "morsel_pings_accepted_total",
			Help: "Video progress pings stored (each request may carry several)."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.pings} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register web metrics: %w", err)
		}
	}
	return m, nil
}

// request counts a request answered with status after took.
func (m *Metrics) request(pattern string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if pattern == "" {
		pattern = "unmatched" // a path of the client's choosing is not a label
	}
	m.requests.WithLabelValues(pattern, strconv.Itoa(status)).Observe(took.Seconds())
}

// pingsAccepted counts n pings stored.
func (m *Metrics) pingsAccepted(n int) {
	if m != nil {
		m.pings.Add(float64(n))
	}
}
