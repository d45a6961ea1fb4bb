package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"regexp"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

// metrics are serve's Prometheus metrics, in a registry of their own, served
// at /metrics on METRICS_ADDR: apart from the app's port, so that they are
// reached from the monitoring network only.
type metrics struct {
	reg        *prometheus.Registry
	web        *web.Metrics
	scheduler  *scheduler.Metrics
	clickhouse *prometheus.HistogramVec
}

func newMetrics(pool *pgxpool.Pool) (*metrics, error) {
	m := &metrics{reg: prometheus.NewRegistry(),
		clickhouse: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "morsel_clickhouse_query_duration_seconds",
			Help:    "How long ClickHouse took to answer, by what ran (query, exec, batch, and rollup: recomputing the rollups).",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 9)}, []string{"op"}),
	}
	// Beside the defaults, go_gc_heap_live_bytes: the heap the last GC found
	// live, the figure that tells a leak from garbage not yet collected.
	goMetrics := collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}))
	m.reg.MustRegister(goMetrics, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), m.clickhouse)
	var err error
	if m.web, err = web.NewMetrics(m.reg); err != nil {
		return nil, err
	}
	if m.scheduler, err = scheduler.NewMetrics(m.reg, pool); err != nil {
		return nil, err
	}
	return m, nil
}

// timed returns ch with its work counted in the ClickHouse histogram.
func (m *metrics) timed(ch driver.Conn) driver.Conn {
	return tracking.TimedConn(ch, func(op string, took time.Duration) {
		m.clickhouse.WithLabelValues(op).Observe(took.Seconds())
	})
}

// serve serves /metrics on addr until ctx ends, and Go's profiles at
// /debug/pprof/ (a heap profile tells what a growing serve keeps); errors
// that stop it go to errc.
func (m *metrics) serve(ctx context.Context, e *env, addr string, errc chan<- error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on METRICS_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: errorLogger{e}, Timeout: 10 * time.Second}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second}
	e.log.Info("serving metrics", "addr", ln.Addr().String())
	if e.metricsListening != nil {
		e.metricsListening(ln.Addr().String())
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve metrics: %w", err)
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return nil
}

// errorLogger logs promhttp's errors (a gauge whose query failed) as warnings.
type errorLogger struct{ e *env }

func (l errorLogger) Println(v ...any) { l.e.log.Warn("metrics: " + fmt.Sprint(v...)) }
