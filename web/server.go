// Package web serves Morsel over HTTP: the JSON API under /api/v1, the health
// checks, and the server-rendered pages.
package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/a-h/templ"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

// Check is a dependency /readyz checks, such as Postgres or ClickHouse.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Deps is what the server needs, passed in from cmd/.
type Deps struct {
	Store  *lessons.Store
	Checks []Check
	Logger *slog.Logger // nil: slog.Default()
	// PublicURL is where the server is reached from outside, e.g.
	// "https://morsel.example"; it becomes the OpenAPI document's server. Empty: "/".
	PublicURL string
	// TwilioAuthToken checks the signatures of Twilio's webhooks; without it
	// they are refused.
	TwilioAuthToken string
	// Inbox takes inbound SMS (from the webhook and the simulator).
	Inbox Inbox
	// Ingester writes the lesson pages' video pings to the events outbox;
	// nil: POST /t/pings answers 503.
	Ingester *tracking.Ingester
	// Simulator says the simulator sender is in use: show the phone
	// simulator at /simulator to the organisation's admins and trainers.
	// Off, it is a 404.
	Simulator bool
	// VideoCacheDir is where uploaded videos are copied from Postgres to be
	// served; a directory under the system's temporary one when empty.
	VideoCacheDir string
	// ClickHouse is where events are reported from; the event corrections
	// (/api/v1/events/..., DELETE /api/v1/reps/{id}/events) write to it. Nil:
	// they answer 503.
	ClickHouse driver.Conn
	// Pool is the database of the events outbox and of the rollups' change
	// log, which tracking and the reports read (the store's); required with
	// ClickHouse.
	Pool *pgxpool.Pool
	// Metrics counts requests for Prometheus; nil: not counted.
	Metrics *Metrics
	// JobsUI is River's own UI, built for the prefix /admin/jobs; it is
	// served there to the admins of OperatorOrgID, the organisation of the
	// people who run Morsel, and to no one else. Nil or 0: not served.
	JobsUI        http.Handler
	OperatorOrgID int64
	// TrustProxy says the server is reached only through a proxy that
	// appends the client's address to X-Forwarded-For: the limits count that
	// address, not the proxy's.
	TrustProxy bool
}

// Server answers Morsel's HTTP requests.
type Server struct {
	store   *lessons.Store
	checks  []Check
	log     *slog.Logger
	openAPI []byte // the OpenAPI document as served
	mux     *http.ServeMux

	publicURL   string // without a trailing slash
	twilioToken string
	inbox       Inbox
	lessonLinks *lessonLinks // the lesson pages' links cache and ping limiter
	simulator   bool
	ch          driver.Conn
	reports     *reports.Reports            // nil without ClickHouse
	trustProxy  bool                        // take the client's address from X-Forwarded-For
	forms       *http.CrossOriginProtection // for the forms of signed-in users
	videoDir    string                      // where stored videos are copied to be served
	// uploadTimeout is how long an upload may take to arrive (HTTPServer's Timeouts.Upload).
	uploadTimeout time.Duration
	imports       importSlots // the rep imports running, per organisation
	metrics       *Metrics
	pool          *pgxpool.Pool // the outbox's and the change log's, for tracking and the reports
	jobs          http.Handler  // River's UI, for the operator organisation's admins
	operatorOrg   int64
}

// New returns a Server on d. It panics if the embedded OpenAPI document is not
// valid JSON or the routes clash, both programming errors.
func New(d Deps) *Server {
	s := &Server{store: d.Store, checks: d.Checks, log: d.Logger, mux: http.NewServeMux(),
		publicURL: strings.TrimSuffix(d.PublicURL, "/"), twilioToken: d.TwilioAuthToken, inbox: d.Inbox, trustProxy: d.TrustProxy,
		simulator: d.Simulator, ch: d.ClickHouse, pool: d.Pool, metrics: d.Metrics, jobs: d.JobsUI, operatorOrg: d.OperatorOrgID, forms: http.NewCrossOriginProtection(), videoDir: d.VideoCacheDir}
	if s.videoDir == "" {
		s.videoDir = filepath.Join(os.TempDir(), "morsel-videos")
	}
	if s.ch != nil {
		if s.pool == nil {
			panic("web: Deps.Pool is required with Deps.ClickHouse")
		}
		// One for the server's life: it keeps each organisation's rollups
		// in memory, current through the change log in Postgres.
		s.reports = reports.New(s.ch, s.pool, d.Store.Now)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.lessonLinks = newLessonLinks(d.Store, d.Ingester)
	doc, err := openAPIDocument(d.PublicURL)
	if err != nil {
		panic(err)
	}
	s.openAPI = doc
	for _, rt := range s.routes() {
		if _, isAPI := rt.Handler.(apiEndpoint); isAPI != rt.API {
			panic(fmt.Sprintf("web: route %s %s: API is %t but its handler is not the matching kind", rt.Method, rt.Pattern, rt.API))
		}
		pattern := rt.Pattern
		if rt.Method != "" {
			pattern = rt.Method + " " + rt.Pattern
		}
		s.mux.Handle(pattern, rt.Handler)
	}
	return s
}

// Handler returns the server's handler, which logs every request and turns a
// panic into a logged 500 "Internal error.".
func (s *Server) Handler() http.Handler {
	return s.logRequests(s.recoverPanics(s.securityHeaders(s.mux)))
}

// securityHeaders sends, on every answer, a Content-Security-Policy that lets
// a page run only the app's own scripts and styles (inline ones carry the
// request's nonce), be framed by the app alone, and post forms to it alone;
// with nosniff, a same-origin referrer and, behind HTTPS, HSTS.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hsts := strings.HasPrefix(s.publicURL, "https://")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 16)
		rand.Read(b)
		nonce := base64.RawURLEncoding.EncodeToString(b)
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self' 'nonce-"+nonce+"'; "+
			"img-src 'self' data:; media-src 'self' https:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; "+
			"form-action 'self'; object-src 'none'")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("X-Content-Type-Options", "nosniff")
		if h.Get("Referrer-Policy") == "" {
			h.Set("Referrer-Policy", "same-origin")
		}
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		inner := r.WithContext(templ.WithNonce(r.Context(), nonce))
		next.ServeHTTP(w, inner)
		r.Pattern = inner.Pattern // for the request log, which holds r
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// slowRequest is how long a request may take before it is logged as slow.
const slowRequest = time.Second

// logRequests logs each request: server errors at error level and slow
// requests at warn, always; the rest at debug, so that a flood of pings does
// not fill the disk. The route is logged, and the path only where it carries
// no secret: a lesson link's token is one.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.request(r.Pattern, rec.status, took)
		level, msg := slog.LevelDebug, "http request"
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case took >= slowRequest:
			level, msg = slog.LevelWarn, "slow http request"
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("route", r.Pattern)}
		if !strings.Contains(r.Pattern, "{token}") {
			attrs = append(attrs, slog.String("path", r.URL.Path))
		}
		attrs = append(attrs, slog.Int("status", rec.status), slog.Duration("duration", took), slog.Int64("bytes", rec.bytes))
		s.log.LogAttrs(r.Context(), level, msg, attrs...)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*statusRecorder)
		if !ok {
			rec = &statusRecorder{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic in handler",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if rec.status != 0 {
				return // too late to change the response
			}
			if isAPIPath(r.URL.Path) {
				writeJSON(rec, http.StatusInternalServerError, errorBody{Error: errorInfo{Code: "internal", Message: internalMessage}})
				return
			}
			http.Error(rec, internalMessage, http.StatusInternalServerError)
		}()
		next.ServeHTTP(rec, r)
	})
}

// isAPIPath reports whether path belongs to the JSON API, whose errors are JSON.
func isAPIPath(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// writeJSON writes v as the JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing more to do
}

// healthz says that the process is up.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyz runs every check at once, each with readyTimeout, and answers 503
// naming the failures if any fails.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	results := make([]error, len(s.checks))
	done := make(chan struct{})
	for i, c := range s.checks {
		go func() {
			defer func() { done <- struct{}{} }()
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			results[i] = c.Ping(ctx)
		}()
	}
	for range s.checks {
		<-done
	}
	body := readiness{Status: "ready", Checks: make(map[string]string, len(s.checks))}
	status := http.StatusOK
	for i, c := range s.checks {
		if err := results[i]; err != nil {
			s.log.WarnContext(r.Context(), "readiness check failed", slog.String("check", c.Name), slog.Any("error", err))
			body.Checks[c.Name] = "unavailable" // the detail is in the log, not for anyone who asks
			body.Status, status = "unavailable", http.StatusServiceUnavailable
			continue
		}
		body.Checks[c.Name] = "ok"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}
