package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type runResult struct {
	code           int
	stdout, stderr string
}

// morsel runs the morsel command in-process with the environment given.
func morsel(ctx context.Context, environ map[string]string, args ...string) runResult {
	var out, errOut syncBuffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return environ[k] },
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	code := run(ctx, e, args)
	return runResult{code, out.String(), errOut.String()}
}

// A fresh database: migrate twice, load the demo twice, serve, answer, stop.
func TestMigrateDemoServe(t *testing.T) {
	t.Parallel()
	environ := map[string]string{
		"DATABASE_URL":   dbtest.EmptyPostgresURL(t),
		"CLICKHOUSE_URL": dbtest.ClickHouseURL(t),
	}
	ctx := context.Background()

	res := morsel(ctx, environ, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "applied")
	res = morsel(ctx, environ, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "the schema is up to date")

	res = morsel(ctx, environ, "demo")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "admin@demo.morsel.test")
	require.Regexp(t, `\(\d{3} newly enrolled, with 16 days of history\)`, res.stdout)
	require.Contains(t, res.stderr, "demo history: 16 of 16 days")
	require.Contains(t, res.stdout, "Logins (http://localhost:8080/signin)")
	// Weeks of history, through the live path: every kind of rep the
	// dashboard shows, and figures that agree with the raw events.
	check := morsel(ctx, environ, "check-analytics", "--org", "demo")
	require.Equal(t, 0, check.code, check.stdout+check.stderr)
	require.Regexp(t, `every figure matches the raw events \(200 reps, \d{3} enrollments, 2 courses checked\)`, check.stdout)
	ch, err := tracking.OpenClickHouse(ctx, environ["CLICKHOUSE_URL"])
	require.NoError(t, err)
	defer ch.Close()
	var finished, overdue, optedOut, invalid, partVideo, wrong uint64
	require.NoError(t, ch.QueryRow(ctx, `
		SELECT countIf(lessons_total > 0 AND lessons_done >= lessons_total),
			countIf(lessons_done < lessons_total AND toUInt32(due_at) BETWEEN 1 AND toUInt32(now())),
			countIf(opted_out = 1), countIf(phone_invalid = 1),
			countIf(segments_watched > 0 AND segments_watched < segments_total), countIf(correct < answers)
		FROM enrollment_progress FINAL WHERE deleted = 0`).Scan(&finished, &overdue, &optedOut, &invalid, &partVideo, &wrong))
	for name, n := range map[string]uint64{"done": finished, "overdue": overdue, "opted out": optedOut, "invalid phone": invalid,
		"video partly watched": partVideo, "a wrong answer": wrong} {
		require.NotZero(t, n, "some enrollments are %s", name)
	}

	public := maps.Clone(environ)
	public["PUBLIC_URL"] = "https://morsel.example/"
	res = morsel(ctx, public, "demo")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "0 newly enrolled", "running the demo again changes nothing")
	require.Contains(t, res.stdout, "Logins (https://morsel.example/signin)")
	demoOut := res.stdout
	key := regexp.MustCompile(`API key: (mk_[a-z0-9]+)`).FindStringSubmatch(res.stdout)
	require.NotNil(t, key, res.stdout)

	pool, err := pgxpool.New(ctx, environ["DATABASE_URL"])
	require.NoError(t, err)
	defer pool.Close()
	var before int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&before))
	res = morsel(ctx, public, "enroll", "--org", "demo", "--course", "pricing-basics", "--team", "North,West")
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `enrolled \d+ reps in pricing-basics \(\d+ were enrolled already\)`, res.stdout)
	var links, others int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE body LIKE '%https://morsel.example/l/%'),
		count(*) FILTER (WHERE body LIKE '%/l/%' AND body NOT LIKE '%https://morsel.example/l/%')
		FROM messages WHERE id > $1`, before).Scan(&links, &others))
	require.NotZero(t, links, "enroll's lesson links use PUBLIC_URL")
	require.Zero(t, others)
	var unqueued int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM messages m WHERE m.id > $1 AND NOT EXISTS (
		SELECT 1 FROM river_job j WHERE j.kind = 'send_sms' AND (j.args->>'message_id')::bigint = m.id)`, before).Scan(&unqueued))
	require.Zero(t, unqueued, "enroll queues each first lesson's send, without a scheduler")
	res = morsel(ctx, environ, "enroll", "--org", "demo", "--course", "pricing-basics", "--team", "North")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "enrolled 0 reps")
	res = morsel(ctx, environ, "enroll", "--org", "demo", "--course", "nope", "--team", "North")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, `no course "nope" in this organisation`)

	// serve on a free port until cancelled.
	serveCtx, stop := context.WithCancel(ctx)
	addrc, metricsc := make(chan string, 1), make(chan string, 1)
	done := make(chan runResult, 1)
	go func() {
		var out, errOut syncBuffer
		operated := maps.Clone(environ)
		operated["OPERATOR_ORG"] = "demo" // the demo's admins run Morsel here
		e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return operated[k] },
			log: slog.New(slog.NewTextHandler(&errOut, nil)), listening: func(a string) { addrc <- a },
			metricsListening: func(a string) { metricsc <- a }}
		code := run(serveCtx, e, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"})
		done <- runResult{code, out.String(), errOut.String()}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case res := <-done:
		t.Fatalf("serve exited: %d %s", res.code, res.stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	base := "http://" + addr
	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp.Body.Close()

	req, _ := http.NewRequest("GET", base+"/api/v1/courses", nil)
	req.Header.Set("Authorization", "Bearer "+key[1])
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var courses struct {
		Data []struct {
			Slug string `json:"slug"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&courses))
	resp.Body.Close()
	require.Len(t, courses.Data, 2)

	// The metrics, apart from the app: the requests just made, the queues
	// and the outbox read at the scrape, and the jobs and ClickHouse's work
	// once the shipper (started with the workers) has run.
	metricsBase := "http://" + <-metricsc
	scrape := func() string {
		resp, err := http.Get(metricsBase + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	scraped := scrape()
	require.Contains(t, scraped, `morsel_http_request_duration_seconds_count{code="200",route="GET /readyz"} 1`)
	require.Contains(t, scraped, `morsel_http_request_duration_seconds_count{code="200",route="GET /api/v1/courses"} 1`)
	require.Regexp(t, `morsel_river_queue_jobs\{queue="sms",state="scheduled"\} [1-9]`, scraped, "the demo's lessons wait in the sms queue")
	require.Contains(t, scraped, "morsel_outbox_events ")
	require.Regexp(t, `\ngo_gc_heap_live_bytes [1-9]`, scraped, "the heap the last GC found live")
	require.Eventually(t, func() bool {
		scraped = scrape()
		return strings.Contains(scraped, `morsel_river_jobs_worked_total{kind="ship_events",outcome="completed"}`) &&
			strings.Contains(scraped, `morsel_clickhouse_query_duration_seconds_count{op="batch"}`)
	}, 20*time.Second, 100*time.Millisecond, "the shipper's jobs and ClickHouse batches are counted: %s", scraped)
	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "the app's port does not serve the metrics")

	// The trainer signs in with the login the demo printed and opens the
	// phone simulator; after a reset only the new one-time password works.
	login := regexp.MustCompile(`(trainer@demo\.morsel\.test) +password (\S+)`).FindStringSubmatch(demoOut)
	require.NotNil(t, login, demoOut)
	require.Equal(t, "/simulator", signIn(t, base, login[1], login[2], "/simulator"))
	reset := morsel(ctx, environ, "user", "reset-password", "--org", "demo", "--email", login[1])
	require.Equal(t, 0, reset.code, reset.stderr)
	oneTime := regexp.MustCompile(`one-time password for \S+: (\S+)`).FindStringSubmatch(reset.stdout)
	require.NotNil(t, oneTime, reset.stdout)
	require.Equal(t, "", signIn(t, base, login[1], login[2], "/simulator"), "the old password no longer works")
	require.Equal(t, "/password?next=%2Fsimulator", signIn(t, base, login[1], oneTime[1], "/simulator"))
	reset = morsel(ctx, environ, "user", "reset-password", "--org", "demo", "--email", "nobody@demo.morsel.test")
	require.Equal(t, 1, reset.code)
	require.Contains(t, reset.stderr, `no user "nobody@demo.morsel.test" in this organisation`)

	// The operator organisation's admin sees River's UI and its API.
	admin := regexp.MustCompile(`(admin@demo\.morsel\.test) +password (\S+)`).FindStringSubmatch(demoOut)
	require.NotNil(t, admin, demoOut)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	resp, err = client.PostForm(base+"/signin", url.Values{"email": {admin[1]}, "password": {admin[2]}, "next": {"/admin/jobs/"}})
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), "<title>River</title>", "River's UI after signing in")
	resp, err = client.Get(base + "/admin/jobs/api/jobs?state=scheduled&limit=5")
	require.NoError(t, err)
	var jobs struct {
		Data []struct {
			Kind string `json:"kind"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&jobs))
	resp.Body.Close()
	require.NotEmpty(t, jobs.Data, "the demo's scheduled sends are listed")

	stop() // SIGTERM
	select {
	case res := <-done:
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stderr, "stopped")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestStartupErrorsAreOneClearLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		want    string
		code    int
	}{
		{"no database", map[string]string{}, []string{"migrate"}, "DATABASE_URL is not set", 1},
		{"unreachable database", map[string]string{"DATABASE_URL": "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2", "CLICKHOUSE_URL": "clickhouse://127.0.0.1:1/x"},
			[]string{"migrate"}, "cannot reach Postgres at DATABASE_URL postgres://u:xxxxx@127.0.0.1:1/x", 1},
		{"no clickhouse", map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/x"}, []string{"serve"}, "CLICKHOUSE_URL is not set", 1},
		{"half of twilio", map[string]string{"DATABASE_URL": "postgres://x", "CLICKHOUSE_URL": "clickhouse://x", "TWILIO_ACCOUNT_SID": "AC1"}, []string{"serve"}, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together", 1},
		{"bad mps", map[string]string{"SMS_MPS": "fast"}, []string{"serve"}, `SMS_MPS "fast" is not a number`, 1},
		{"bad breaker ratio", map[string]string{"SMS_BREAKER_FAILURE_RATIO": "50%"}, []string{"serve"}, `SMS_BREAKER_FAILURE_RATIO "50%" is not a share between 0 and 1`, 1},
		{"bad probe interval", map[string]string{"SMS_BREAKER_PROBE_INTERVAL": "5"}, []string{"serve"}, `SMS_BREAKER_PROBE_INTERVAL "5" is not a duration`, 1},
		{"bad alert webhook", map[string]string{"DATABASE_URL": "postgres://x", "CLICKHOUSE_URL": "clickhouse://x", "ALERT_WEBHOOK_URL": "hooks.slack.com/secret"}, []string{"serve"}, "ALERT_WEBHOOK_URL is not an http(s) URL", 1},
		{"bad trust proxy", map[string]string{"TRUST_PROXY": "yes"}, []string{"serve"}, `TRUST_PROXY "yes" is not 1 or 0`, 1},
		{"unknown command", map[string]string{}, []string{"frobnicate"}, `unknown command "frobnicate"`, 2},
		{"bad flag", map[string]string{}, []string{"migrate", "--nope"}, "flag provided but not defined: -nope", 2},
		{"missing file", map[string]string{}, []string{"import", "course", "--org", "x"}, "name one course file", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := morsel(context.Background(), tt.environ, tt.args...)
			require.Equal(t, tt.code, res.code, res.stderr)
			require.Contains(t, res.stderr, tt.want)
			require.NotContains(t, res.stderr, "secret", "passwords are redacted")
			if tt.code == 1 {
				require.Equal(t, 1, strings.Count(strings.TrimSpace(res.stderr), "\n")+1, "one line: %q", res.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	res := morsel(context.Background(), nil, "help")
	require.Equal(t, 0, res.code)
	for _, c := range commands {
		require.Contains(t, res.stdout, c.name)
	}
	res = morsel(context.Background(), nil, "import", "reps", "-h")
	require.Equal(t, 0, res.code)
	require.Contains(t, res.stderr, "usage: morsel import reps [flags] FILE.csv")
	require.Contains(t, res.stderr, "-region")

	// No command's -h shows a password, even one read from a file.
	pwFile := filepath.Join(t.TempDir(), "db")
	require.NoError(t, os.WriteFile(pwFile, []byte("postgres://morsel:s3cret@db:5432/morsel\n"), 0o600))
	environ := map[string]string{"DATABASE_URL_FILE": pwFile, "CLICKHOUSE_URL": "clickhouse://default:chpw@ch:9000/default?password=chpw"}
	for _, c := range commands {
		res := morsel(context.Background(), environ, c.name, "-h")
		require.NotContains(t, res.stdout+res.stderr, "s3cret", c.name)
		require.NotContains(t, res.stdout+res.stderr, "chpw", c.name)
	}
	res = morsel(context.Background(), environ, "serve", "-h")
	require.Contains(t, res.stderr, "postgres://morsel:xxxxx@db:5432/morsel", "the address is still shown")
}

// signIn posts the sign-in form to the server at base and returns where it
// sends the browser, or "" when it refuses.
func signIn(t *testing.T, base, email, password, next string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/signin", url.Values{"email": {email}, "password": {password}, "next": {next}})
	require.NoError(t, err)
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return ""
	}
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Set-Cookie"))
	return resp.Header.Get("Location")
}

// API keys are listed with their last use and revoked at once.
func TestAPIKeyListAndRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t)} // migrated
	res := morsel(ctx, environ, "org", "create", "--slug", "acme", "--name", "Acme")
	require.Equal(t, 0, res.code, res.stderr)
	res = morsel(ctx, environ, "apikey", "create", "--org", "acme", "--name", "hr-sync")
	require.Equal(t, 0, res.code, res.stderr)
	secret := strings.TrimSpace(res.stdout[strings.LastIndex(strings.TrimSpace(res.stdout), "\n")+1:])
	require.True(t, strings.HasPrefix(secret, "mk_"), res.stdout)

	pool, err := pgxpool.New(ctx, environ["DATABASE_URL"])
	require.NoError(t, err)
	defer pool.Close()
	store := lessons.NewStore(pool, lessons.StoreConfig{})
	_, err = store.OrgForAPIKey(ctx, secret)
	require.NoError(t, err)

	res = morsel(ctx, environ, "apikey", "list", "--org", "acme")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "hr-sync")
	require.NotContains(t, res.stdout, "never", "the key was used")
	require.Regexp(t, `(?m)^1\s+hr-sync\s+mk_\S+…\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+-$`, res.stdout)

	res = morsel(ctx, environ, "apikey", "revoke", "--org", "acme", "--id", "1")
	require.Equal(t, 0, res.code, res.stderr)
	_, err = store.OrgForAPIKey(ctx, secret)
	require.Equal(t, errs.Unauthorized, errs.CodeOf(err), "refused at once")
	res = morsel(ctx, environ, "apikey", "revoke", "--org", "acme", "--id", "99")
	require.NotEqual(t, 0, res.code)
	require.Contains(t, res.stderr, "API key 99 not found")
	res = morsel(ctx, environ, "apikey", "revoke", "--org", "acme")
	require.Equal(t, 2, res.code, "usage")
}
