package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/scheduler/twilioemu"
	"github.com/morselhq/morsel/tracking"
)

// The scale-out test's size: reps, each enrolled in a quiz of scaleQuestions
// questions answered by SMS and in a one-video course whose page they ping.
const (
	scaleReps      = 500
	scaleQuestions = 2
	scaleFrom      = "+15005550006"
	// A rep gets the video lesson, then each question and its feedback.
	scaleMessages = scaleReps * (1 + 2*scaleQuestions)
	scaleKillAt   = scaleReps / 2 // messages accepted before a worker is killed: amid the first lessons'
	scaleHeld     = 20            // reps whose first message the provider takes but does not answer
)

// Two `morsel serve --worker-only` and one `--web-only`, processes of their
// own (this test binary as morsel) on one Postgres and ClickHouse, send to
// the Twilio emulator through twilio-go while the test answers every quiz
// question by a signed webhook to the web process and pings every rep's
// video there. Worker 1 starts alone and is in the middle of sending (the
// provider holds the answers to scaleHeld messages it took) when worker 2
// starts; then worker 1 is killed with SIGKILL. River rescues its jobs
// (JOB_RESCUE_AFTER is short here) and worker 2 sends them, looking first
// for those the provider may have taken.
// Every message reaches the provider exactly once, each rep's in order, and
// every acknowledged ping is in video_progress and in ClickHouse.
//
// Not parallel: it runs three servers, and the other tests of the package
// would slow it past its time.
func TestScaleOut(t *testing.T) {
	// It takes some 70 s, most of it River's: a killed worker's jobs are
	// rescued by the leader (worker 1 was, and its lease lasts 15 s), whose
	// rescuer looks every 30 s.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	began := time.Now()
	dbURL, chURL := dbtest.PostgresURL(t), dbtest.ClickHouseURL(t)
	emu := twilioemu.New(twilioemu.Options{DisableCallbacks: true})
	require.NoError(t, emu.Start())
	defer emu.Close()

	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	setup := lessons.NewStore(pool, lessons.StoreConfig{})
	org, err := setup.CreateOrg(ctx, lessons.Org{Slug: "scale", Name: "Scale", SMSFrom: scaleFrom})
	require.NoError(t, err)
	zone := noonZone(time.Now())
	everyDay := lessons.Cadence{Weekdays: []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday,
		time.Thursday, time.Friday, time.Saturday}, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}}
	quiz := lessons.CourseSpec{Slug: "quiz", Title: "Quiz", PassMark: 50, DueDays: 30, Cadence: everyDay,
		SendWindow: lessons.DefaultSendWindow(), Lessons: []lessons.Lesson{{Key: "q", Kind: lessons.KindQuiz, Title: "Check"}}}
	for i := range scaleQuestions {
		quiz.Lessons[0].Questions = append(quiz.Lessons[0].Questions, lessons.Question{
			Prompt: fmt.Sprintf("Question %d?", i+1), Choices: []string{"yes", "no"}, Correct: 0,
			Explanation: fmt.Sprintf("Explained %d.", i+1)})
	}
	video := lessons.CourseSpec{Slug: "video", Title: "Video", PassMark: 50, DueDays: 30, Cadence: everyDay,
		SendWindow: lessons.DefaultSendWindow(), Lessons: []lessons.Lesson{{Key: "v", Kind: lessons.KindVideo,
			Title: "Watch", VideoURL: "/media/scale.mp4", VideoSeconds: 300}}}
	for _, c := range []lessons.CourseSpec{quiz, video} {
		_, err := setup.SaveCourse(ctx, org.ID, c, true)
		require.NoError(t, err)
	}
	reps := lessons.GenerateReps(scaleReps, 7)
	for i := range reps {
		reps[i].TimeZone, reps[i].Team = zone, "Scale"
	}
	_, err = setup.ImportReps(ctx, org.ID, reps)
	require.NoError(t, err)

	webAddr := freeAddr(t)
	environ := map[string]string{
		"DATABASE_URL": dbURL, "CLICKHOUSE_URL": chURL,
		"HTTP_ADDR": webAddr, "PUBLIC_URL": "http://" + webAddr,
		"TWILIO_ACCOUNT_SID": emu.AccountSID(), "TWILIO_AUTH_TOKEN": emu.AuthToken(),
		"TWILIO_API_URL": emu.URL(), "TWILIO_FROM": scaleFrom,
		"SMS_MPS": "10000", "JOB_RESCUE_AFTER": "2s",
	}
	t.Logf("%.1f s: set up; starting the processes", time.Since(began).Seconds())
	web := startMorsel(t, environ, "web", "serve", "--web-only")
	require.NoError(t, waitHTTPReady(ctx, webAddr, web.exited))
	// The provider takes the first message to scaleHeld reps but answers
	// none until twilio-go gives up: worker 1, alone at first, is in the
	// middle of sending them when it is killed.
	held := map[string]bool{}
	for _, r := range reps[:scaleHeld] {
		emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultTimeout, To: r.Phone})
		held[r.Phone] = true
	}
	workers := []*morselProcess{startMorsel(t, environ, "worker1", "serve", "--worker-only")}

	for _, course := range []string{"video", "quiz"} {
		res := morsel(ctx, environ, "enroll", "--org", "scale", "--course", course, "--team", "Scale", "--start-now")
		require.Equal(t, 0, res.code, res.stderr)
	}

	// The reps: they answer each question once its send is recorded, and
	// watch their video's first two segments.
	var wg sync.WaitGroup
	repliesDone := make(chan struct{})
	var replyErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		replyErr = answerQuestions(ctx, pool, emu, webAddr, org.ID, repliesDone)
	}()
	var pings []scalePing
	var pingErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		pings, pingErr = pingVideos(ctx, pool, webAddr, org.ID)
	}()

	// Once worker 1 is sending the held messages and more, worker 2 starts;
	// once it works too, worker 1 is killed.
	require.NoError(t, emu.WaitForMessages(ctx, scaleKillAt))
	require.NoError(t, waitHeld(ctx, emu, held))
	workers = append(workers, startMorsel(t, environ, "worker2", "serve", "--worker-only"))
	require.NoError(t, workers[1].waitLog(ctx, "workers started"))
	killed := emu.MessageCount()
	require.Less(t, killed, scaleMessages, "the kill comes mid-run")
	workers[0].kill(t)
	t.Logf("%.1f s: killed worker 1 (SIGKILL) after %d of %d messages", time.Since(began).Seconds(), killed, scaleMessages)

	require.NoError(t, emu.WaitForMessages(ctx, scaleMessages), "jobs: %s; workers' logs:\n%s\n%s",
		jobStates(pool), workers[0].tail(), workers[1].tail())
	t.Logf("%.1f s: all %d messages accepted", time.Since(began).Seconds(), scaleMessages)
	require.NoError(t, waitQuiet(ctx, pool, org.ID), "worker 2's log:\n%s", workers[1].tail())
	close(repliesDone)
	wg.Wait()
	require.NoError(t, replyErr)
	require.NoError(t, pingErr)

	var rescued int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job
		WHERE errors::text LIKE '%Stuck job rescued%'`).Scan(&rescued))
	require.GreaterOrEqual(t, rescued, scaleHeld, "the kill interrupted jobs (the held sends at least), which River rescued")
	var firstRescue, lastDone time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT min((e->>'at')::timestamptz), max(finalized_at) FROM river_job, unnest(errors) e
		WHERE e->>'error' LIKE 'Stuck job rescued%'`).Scan(&firstRescue, &lastDone))
	t.Logf("rescued at %.1f s; the last of them done at %.1f s", firstRescue.Sub(began).Seconds(), lastDone.Sub(began).Seconds())
	t.Logf("%d jobs of the killed worker rescued", rescued)

	checkScaleMessages(t, emu.Messages(), reps, quiz.Lessons[0])
	var sent int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM messages
		WHERE org_id = $1 AND direction = 'outbound' AND status <> 'scheduled'`, org.ID).Scan(&sent))
	require.Equal(t, scaleMessages, sent, "every message the provider took is recorded")

	require.NoError(t, waitOutboxEmpty(ctx, pool, org.ID))
	t.Logf("%.1f s: the outbox is shipped", time.Since(began).Seconds())
	checkScalePings(ctx, t, pool, chURL, pings)
	web.stop(t)
	workers[1].stop(t)
}

// jobStates tells how many jobs of each kind are in each state, for a
// failure's message.
func jobStates(pool *pgxpool.Pool) string {
	rows, err := pool.Query(context.Background(), `SELECT kind, state::text, count(*), max(attempt),
		count(*) FILTER (WHERE errors::text LIKE '%Stuck job rescued%') FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var kind, state string
		var n, attempt, rescued int
		if err := rows.Scan(&kind, &state, &n, &attempt, &rescued); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "%s %s: %d (attempts up to %d, %d rescued); ", kind, state, n, attempt, rescued)
	}
	var leader string
	pool.QueryRow(context.Background(), `SELECT leader_id || ' until ' || expires_at::text FROM river_leader`).Scan(&leader)
	return b.String() + "leader " + leader
}

// noonZone returns a fixed time zone in which it is about noon at now, so the
// send window is open wherever the test runs.
func noonZone(now time.Time) string {
	off := 12 - now.UTC().Hour()
	switch {
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off) // Etc's signs are POSIX's: GMT-5 is UTC+5
	case off < 0:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
	return "UTC"
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// morselProcess is this test binary run as `morsel` (asMainEnv).
type morselProcess struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

func startMorsel(t *testing.T, environ map[string]string, name string, args ...string) *morselProcess {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	p := &morselProcess{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), exited: make(chan struct{})}
	log, err := os.Create(p.logPath)
	require.NoError(t, err)
	p.cmd = exec.Command(exe, args...)
	p.cmd.Env = []string{asMainEnv + "=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range environ {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	require.NoError(t, p.cmd.Start())
	go func() {
		p.cmd.Wait()
		log.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitLog waits until the process has logged a line containing s.
func (p *morselProcess) waitLog(ctx context.Context, s string) error {
	for {
		if b, _ := os.ReadFile(p.logPath); strings.Contains(string(b), s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s has not logged %q: %w", p.name, s, ctx.Err())
		case <-p.exited:
			return fmt.Errorf("%s exited:\n%s", p.name, p.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitHeld waits until the provider has taken a message to each held phone.
func waitHeld(ctx context.Context, emu *twilioemu.Server, held map[string]bool) error {
	for {
		n := 0
		for _, m := range emu.Messages() {
			if held[m.To] {
				n++
			}
		}
		if n >= len(held) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d held messages taken: %w", n, len(held), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *morselProcess) kill(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
}

// stop stops the process with SIGTERM, as a deployment does, and checks it
// stopped cleanly.
func (p *morselProcess) stop(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30 s of SIGTERM", p.name)
	}
	require.True(t, p.cmd.ProcessState.Success(), "%s exited with %s:\n%s", p.name, p.cmd.ProcessState, p.tail())
}

func (p *morselProcess) tail() string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return p.name + ":\n" + strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// waitHTTPReady waits until the server at addr answers /readyz with 200.
func waitHTTPReady(ctx context.Context, addr string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	for {
		if res, err := client.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server at %s is not ready: %w", addr, ctx.Err())
		case <-exited:
			return fmt.Errorf("the server at %s exited", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// answerQuestions answers every quiz question whose send is recorded (a rep
// reads it once it arrived) with a signed webhook to the web process, until
// done is closed.
func answerQuestions(ctx context.Context, pool *pgxpool.Pool, emu *twilioemu.Server, addr string, orgID int64, done <-chan struct{}) error {
	client := &http.Client{Timeout: 10 * time.Second}
	publicURL := "http://" + addr
	var last int64
	for {
		rows, err := pool.Query(ctx, `
			SELECT m.id, r.phone FROM messages m JOIN reps r ON r.id = m.rep_id
			WHERE m.org_id = $1 AND m.purpose = 'question' AND m.provider_sid IS NOT NULL AND m.id > $2
				-- a question recorded before an earlier one waits for it: ids grow
				AND m.id < coalesce((SELECT min(id) FROM messages WHERE org_id = $1 AND purpose = 'question'
					AND provider_sid IS NULL AND status = 'scheduled'), 9223372036854775807)
			ORDER BY m.id`, orgID, last)
		if err != nil {
			return fmt.Errorf("find the questions sent: %w", err)
		}
		type question struct {
			id    int64
			phone string
		}
		var qs []question
		for rows.Next() {
			var q question
			if err := rows.Scan(&q.id, &q.phone); err != nil {
				rows.Close()
				return err
			}
			qs = append(qs, q)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var sem = make(chan struct{}, 8)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var postErr error
		for _, q := range qs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := postReply(ctx, client, emu, publicURL, q.phone, "A"); err != nil {
					mu.Lock()
					postErr = err
					mu.Unlock()
				}
			}()
			last = q.id
		}
		wg.Wait()
		if postErr != nil {
			return postErr
		}
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// postReply posts an SMS from the phone to the organisation's number, signed
// as Twilio signs it.
func postReply(ctx context.Context, client *http.Client, emu *twilioemu.Server, publicURL, phone, body string) error {
	raw := make([]byte, 16)
	rand.Read(raw)
	form := url.Values{"MessageSid": {"SM" + hex.EncodeToString(raw)}, "AccountSid": {emu.AccountSID()}, "From": {phone},
		"To": {scaleFrom}, "Body": {body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, publicURL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", emu.Sign(publicURL+"/webhooks/twilio/sms", form))
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("reply from %s: %w", phone, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("reply from %s: %s", phone, res.Status)
	}
	return nil
}

// scalePing is a ping the web process acknowledged.
type scalePing struct {
	assignmentID int64
	segment      int
}

// pingVideos opens each rep's video lesson page and pings its first two
// segments, as the player does; it returns the pings acknowledged (204).
func pingVideos(ctx context.Context, pool *pgxpool.Pool, addr string, orgID int64) ([]scalePing, error) {
	rows, err := pool.Query(ctx, `
		SELECT k.token, k.assignment_id FROM lesson_links k
		JOIN assignments a ON a.id = k.assignment_id JOIN enrollments e ON e.id = a.enrollment_id
		WHERE e.org_id = $1 ORDER BY k.assignment_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("read the lesson links: %w", err)
	}
	type link struct {
		token        string
		assignmentID int64
	}
	var links []link
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.token, &l.assignmentID); err != nil {
			rows.Close()
			return nil, err
		}
		links = append(links, l)
	}
	rows.Close()
	if len(links) != scaleReps {
		return nil, fmt.Errorf("%d video links for %d reps", len(links), scaleReps)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var mu sync.Mutex
	var acked []scalePing
	var firstErr error
	next := make(chan link)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range next {
				if err := pingVideo(ctx, client, "http://"+addr, l.token, func(seg int) {
					mu.Lock()
					acked = append(acked, scalePing{l.assignmentID, seg})
					mu.Unlock()
				}); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, l := range links {
		next <- l
	}
	close(next)
	wg.Wait()
	return acked, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// pingVideo opens the lesson page and posts segments 0 and 1, each again
// after a 429 (the web process limits lookups of links per client).
func pingVideo(ctx context.Context, client *http.Client, base, token string, acked func(segment int)) error {
	do := func(req *http.Request) (int, error) {
		for {
			res, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusTooManyRequests {
				return res.StatusCode, nil
			}
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			if req.GetBody != nil {
				req.Body, _ = req.GetBody()
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/l/"+token, nil)
	if err != nil {
		return err
	}
	if status, err := do(req); err != nil || status != http.StatusOK {
		return fmt.Errorf("open lesson page: %d %v", status, err)
	}
	for seg := range 2 {
		body := fmt.Sprintf(`{"token":%q,"segment":%d,"position":%d.5,"rate":1,"session":"scale-out-test","event":"segment"}`,
			token, seg, seg*tracking.SegmentSeconds+14)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/t/pings", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		status, err := do(req)
		if err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		if status != http.StatusNoContent {
			return fmt.Errorf("ping of segment %d answered %d", seg, status)
		}
		acked(seg)
	}
	return nil
}

// waitQuiet waits until no message of the organisation is scheduled and no
// job is waiting or running: nothing more is to be sent.
func waitQuiet(ctx context.Context, pool *pgxpool.Pool, orgID int64) error {
	for {
		var scheduled, jobs int
		err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM messages WHERE org_id = $1 AND status = 'scheduled' AND scheduled_at < now() + interval '1 hour'),
			(SELECT count(*) FROM river_job WHERE kind IN ('send_sms', 'process_reply') AND state IN ('available', 'running', 'retryable', 'pending'))`,
			orgID).Scan(&scheduled, &jobs)
		if err != nil {
			return err
		}
		if scheduled == 0 && jobs == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d messages still scheduled, %d jobs to do: %w", scheduled, jobs, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitOutboxEmpty(ctx context.Context, pool *pgxpool.Pool, orgID int64) error {
	for {
		pending, err := tracking.Pending(ctx, pool, orgID)
		if err != nil {
			return err
		}
		backlog, _, err := tracking.Backlog(ctx, pool)
		if err != nil {
			return err
		}
		if len(pending) == 0 && backlog == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d events still in the outbox: %w", backlog, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkScaleMessages checks what the provider accepted: each expected
// message exactly once, and each rep's quiz messages in order.
func checkScaleMessages(t *testing.T, msgs []twilioemu.Message, reps []lessons.RepInput, quiz lessons.Lesson) {
	t.Helper()
	var quizBodies []string // in the order a rep gets them
	for i, q := range quiz.Questions {
		quizBodies = append(quizBodies, lessons.QuestionText(quiz, i), lessons.FeedbackText(q, true))
	}
	type key struct{ to, body string }
	count := map[key]int{}
	byRep := map[string][]string{}
	for _, m := range msgs {
		count[key{m.To, m.Body}]++
		byRep[m.To] = append(byRep[m.To], m.Body)
	}
	var duplicated, lost, outOfOrder, other int
	for _, n := range count {
		if n > 1 {
			duplicated += n - 1
		}
	}
	for _, r := range reps {
		got := byRep[r.Phone]
		var quizGot []string
		videos := 0
		for _, b := range got {
			switch {
			case strings.HasPrefix(b, "Video 1/1: Watch"):
				videos++
			case contains(quizBodies, b):
				quizGot = append(quizGot, b)
			default:
				other++
				t.Logf("unexpected message to %s: %q", r.Phone, b)
			}
		}
		if videos == 0 {
			lost++
		}
		for _, b := range quizBodies {
			if !contains(quizGot, b) {
				lost++
			}
		}
		for i := 1; i < len(quizGot); i++ {
			if indexOf(quizBodies, quizGot[i]) < indexOf(quizBodies, quizGot[i-1]) {
				outOfOrder++
				t.Logf("out of order to %s: %q", r.Phone, quizGot)
				break
			}
		}
	}
	require.Equal(t, [4]int{}, [4]int{duplicated, lost, outOfOrder, other},
		"duplicated, lost, reps out of order, unexpected messages (of %d accepted)", len(msgs))
	require.Len(t, msgs, scaleMessages)
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// checkScalePings checks that every acknowledged ping is in the rep's
// video_progress and in ClickHouse's events.
func checkScalePings(ctx context.Context, t *testing.T, pool *pgxpool.Pool, chURL string, pings []scalePing) {
	t.Helper()
	require.NotEmpty(t, pings)
	var missingPG int
	for _, p := range pings {
		var watched bool
		err := pool.QueryRow(ctx, `SELECT coalesce(substring(watched from $2 for 1) = B'1', false)
			FROM video_progress WHERE assignment_id = $1`, p.assignmentID, p.segment+1).Scan(&watched)
		if err != nil || !watched {
			missingPG++
		}
	}
	ch, err := tracking.OpenClickHouse(ctx, chURL)
	require.NoError(t, err)
	defer ch.Close()
	rows, err := ch.Query(ctx, `SELECT assignment_id, value FROM events FINAL WHERE kind = 'segment_watched' AND deleted = 0`)
	require.NoError(t, err)
	stored := map[scalePing]bool{}
	for rows.Next() {
		var a uint64
		var v float64
		require.NoError(t, rows.Scan(&a, &v))
		stored[scalePing{int64(a), int(v)}] = true
	}
	require.NoError(t, rows.Err())
	rows.Close()
	var missingCH int
	for _, p := range pings {
		if !stored[p] {
			missingCH++
		}
	}
	require.Equal(t, [2]int{}, [2]int{missingPG, missingCH},
		"acknowledged pings missing from video_progress, from ClickHouse (of %d)", len(pings))
	t.Logf("%d pings acknowledged, all in video_progress and ClickHouse", len(pings))
}
