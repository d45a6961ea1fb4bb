package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
	"github.com/morselhq/morsel/web"
)

// The goal of bench replies: feedback within a second at 200 replies a second.
const (
	// RepliesGoalRate is the rate bench replies posts at by default.
	RepliesGoalRate = 200
	repliesGoalP99  = time.Second
)

// RepliesOptions are the flags of bench replies.
type RepliesOptions struct {
	Reps    int           // reps with a quiz question open, who each answer once; 1 to 100,000
	Rate    int           // replies posted a second, 1 to 10,000
	Timeout time.Duration // how long a reply's feedback may take before it counts as lost
}

// RepliesFigures are the figures of bench replies, the JSON object --json prints: from the signed webhook
// posted until the provider accepted the feedback on the answer.
type RepliesFigures struct {
	Replies       int     `json:"replies"`
	RepliesPerSec float64 `json:"replies_per_sec"` // posted, as measured
	P50Ms         float64 `json:"p50_ms"`
	P90Ms         float64 `json:"p90_ms"`
	P99Ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	Lost          int     `json:"lost"`     // replies without feedback within the timeout
	Rejected      int     `json:"rejected"` // webhooks not answered 200
	GoalP99Ms     float64 `json:"goal_p99_ms"`
}

// Replies measures the answers to quiz questions: in an organisation of its
// own it sends o.Reps reps a quiz question through the River workers to a
// Twilio emulator, then posts each rep's reply to the webhook, signed as
// Twilio signs, o.Rate a second, and times each until the provider accepted
// the feedback on it. It refuses a database where other River work is pending.
//
// Once the replies are measured Replies returns its figures, with an error
// too when a reply got no feedback or a webhook was refused, or when the bench
// could not delete the jobs and events it leaves.
func Replies(ctx context.Context, e Env, o RepliesOptions) (_ *RepliesFigures, err error) {
	const name = "bench replies"
	db, err := openBenchDB(ctx, e, name, 0, nil)
	if err != nil {
		return nil, err
	}
	defer db.close()
	if err := checkQuietRiver(ctx, e, db.pool); err != nil {
		return nil, err
	}
	org, err := createBenchOrg(ctx, e, db.store, name)
	if err != nil {
		return nil, err
	}
	start := benchStart(time.Now())
	clock := scheduler.NewClock(start)
	queue, err := scheduler.NewQueue(db.pool, scheduler.QueueConfig{Now: clock.Now, Test: river.TestConfig{Time: clock}}, scheduler.WarningsOnly(e.Log))
	if err != nil {
		return nil, err
	}
	db.store = lessons.NewStore(db.pool, lessons.StoreConfig{PublicURL: "https://bench.morsel.test", Queue: queue, Now: clock.Now})

	emu := twilioemu.New(twilioemu.Options{DisableCallbacks: true, Now: time.Now})
	if err := emu.Start(); err != nil {
		return nil, err
	}
	defer emu.Close()
	tw, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: emu.AccountSID(), AuthToken: emu.AuthToken(), APIURL: emu.URL()})
	if err != nil {
		return nil, err
	}
	sender := &feedbackSender{next: tw, want: int64(o.Reps), allDone: make(chan struct{}), accepted: map[string]time.Time{}}
	sched, err := scheduler.New(db.pool, db.store, sender, scheduler.Config{NudgeAfter: benchNudgeAfter,
		Now: clock.Now, Test: river.TestConfig{Time: clock}}, scheduler.WarningsOnly(e.Log), true)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := cleanUpBench(context.WithoutCancel(ctx), db, org.ID); cerr != nil && err == nil {
			err = cerr
		}
	}()
	reps, err := prepareReplies(ctx, e, db.store, org, o.Reps)
	if err != nil {
		return nil, err
	}
	if err := sched.Start(ctx); err != nil {
		return nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		sched.Stop(stopCtx)
	}()

	// The question goes out at the first slot, Monday 09:00 in New York.
	ny, err := lessons.Location("America/New_York")
	if err != nil {
		return nil, err
	}
	clock.Set(time.Date(start.Year(), start.Month(), start.Day(), 9, 1, 0, 0, ny))
	if _, err := sched.ReleaseDue(ctx, clock.Now()); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = emu.WaitForMessages(wctx, len(reps))
	if err == nil {
		// The provider has them; a reply may only be read as an answer once
		// the send is recorded too.
		err = waitRecorded(wctx, db.store, org.ID)
	}
	cancel()
	if err != nil {
		return nil, fmt.Errorf("the %d questions were not all sent: %w", len(reps), err)
	}
	fmt.Fprintf(e.Stderr, "%s: %s questions sent; now %d signed replies a second through POST /webhooks/twilio/sms\n",
		name, thousands(int64(len(reps))), o.Rate)

	srv := httptest.NewServer(web.New(web.Deps{Store: db.store, Logger: scheduler.WarningsOnly(e.Log), PublicURL: db.store.PublicURL(),
		TwilioAuthToken: emu.AuthToken(), Inbox: sched}).Handler())
	defer srv.Close()
	fig, err := postReplies(ctx, e, emu, srv.URL, db.store.PublicURL(), org.SMSFrom, reps, sender, o)
	if err != nil {
		return nil, err
	}
	reportReplies(e.Stdout, fig, o)
	if fig.Lost+fig.Rejected > 0 {
		return &fig, fmt.Errorf("%d replies without feedback, %d webhooks refused", fig.Lost, fig.Rejected)
	}
	return &fig, nil
}

// waitRecorded waits until no message of the organisation is left scheduled.
func waitRecorded(ctx context.Context, store *lessons.Store, orgID int64) error {
	for {
		counts, err := store.SendCounts(ctx, orgID)
		if err != nil {
			return err
		}
		left := counts.Scheduled
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d sends not recorded: %w", left, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// prepareReplies stores a course of one quiz question and enrolls n reps in
// New York in it; it returns their phones.
func prepareReplies(ctx context.Context, e Env, store *lessons.Store, org lessons.Org, n int) ([]string, error) {
	spec := lessons.CourseSpec{Slug: "bench-replies", Title: "Bench", PassMark: 70, DueDays: 30,
		Cadence:    lessons.Cadence{Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow(),
		Lessons: []lessons.Lesson{{Key: "quiz", Kind: lessons.KindQuiz, Title: "Check", Questions: []lessons.Question{
			{Prompt: "Which discount needs approval?", Choices: []string{"5%", "10%", "20%"}, Correct: 2, Explanation: "Over 10% needs sign-off."},
		}}}}
	v, err := store.SaveCourse(ctx, org.ID, spec, true)
	if err != nil {
		return nil, fmt.Errorf("store the bench course: %w", err)
	}
	reps := lessons.GenerateReps(n, 2)
	phones := make([]string, n)
	for i := range reps {
		reps[i].TimeZone, reps[i].Team = "America/New_York", "Bench"
		phones[i] = reps[i].Phone
	}
	if _, err := store.ImportReps(ctx, org.ID, reps); err != nil {
		return nil, fmt.Errorf("store the bench reps: %w", err)
	}
	teams, err := store.Teams(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	if _, err := store.Enroll(ctx, org.ID, lessons.EnrollRequest{CourseID: v.CourseID, TeamIDs: []int64{teams[0].ID}}); err != nil {
		return nil, fmt.Errorf("enroll the bench reps: %w", err)
	}
	fmt.Fprintf(e.Stderr, "bench replies: %s reps enrolled in a one-question quiz\n", thousands(int64(n)))
	return phones, nil
}

// postReplies posts each rep's answer, signed as Twilio signs, at the rate,
// and waits for the feedback on each.
func postReplies(ctx context.Context, e Env, emu *twilioemu.Server, base, publicURL, to string, phones []string,
	sender *feedbackSender, o RepliesOptions) (RepliesFigures, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	posted := make([]time.Time, len(phones))
	var rejected atomic.Int64
	var wg sync.WaitGroup
	ticker := startCountTicker(e.Stderr, "bench replies", "replies answered", int64(len(phones)), &sender.count)
	interval := time.Second / time.Duration(o.Rate)
	begin := time.Now()
	for i, phone := range phones {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				ticker.Stop()
				return RepliesFigures{}, ctx.Err()
			case <-time.After(wait):
			}
		}
		raw := make([]byte, 16)
		rand.Read(raw)
		form := url.Values{"MessageSid": {"SM" + hex.EncodeToString(raw)}, "AccountSid": {emu.AccountSID()}, "From": {phone},
			"To": {to}, "Body": {"C"}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
		if err != nil {
			ticker.Stop()
			return RepliesFigures{}, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", emu.Sign(publicURL+"/webhooks/twilio/sms", form))
		posted[i] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Do(req)
			if err != nil {
				rejected.Add(1)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				rejected.Add(1)
			}
		}()
	}
	took := time.Since(begin)
	wg.Wait()
	select {
	case <-sender.allDone:
	case <-time.After(o.Timeout): // the rest count as lost
	case <-ctx.Done():
		ticker.Stop()
		return RepliesFigures{}, ctx.Err()
	}
	ticker.Stop()

	fig := RepliesFigures{Replies: len(phones), RepliesPerSec: round(float64(len(phones))/took.Seconds(), 1),
		Rejected: int(rejected.Load()), GoalP99Ms: ms(repliesGoalP99)}
	var lat []time.Duration
	for i, phone := range phones {
		at, ok := sender.at(phone)
		if !ok || at.Sub(posted[i]) > o.Timeout {
			fig.Lost++
			continue
		}
		lat = append(lat, at.Sub(posted[i]))
	}
	slices.Sort(lat)
	fig.P50Ms, fig.P90Ms, fig.P99Ms = ms(percentile(lat, .5)), ms(percentile(lat, .9)), ms(percentile(lat, .99))
	if len(lat) > 0 {
		fig.MaxMs = ms(lat[len(lat)-1])
	}
	return fig, nil
}

func reportReplies(w io.Writer, f RepliesFigures, o RepliesOptions) {
	fmt.Fprintf(w, "bench replies: %s signed replies posted at %.0f/s; feedback accepted by the provider p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		thousands(int64(f.Replies)), f.RepliesPerSec, f.P50Ms, f.P90Ms, f.P99Ms, f.MaxMs)
	fmt.Fprintf(w, "  %d without feedback within %s, %d webhooks refused\n", f.Lost, o.Timeout, f.Rejected)
	verdict := "met"
	if f.P99Ms >= f.GoalP99Ms || f.RepliesPerSec < RepliesGoalRate*0.95 || f.Lost > 0 {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "  goal (p99 under %.0f ms at %d replies/s): %s\n", f.GoalP99Ms, RepliesGoalRate, verdict)
}

// feedbackSender passes sends on to the provider and records when the first
// message to each phone after the questions (the feedback) was accepted.
type feedbackSender struct {
	next  scheduler.Sender
	count atomic.Int64 // feedback messages accepted

	want    int64         // feedback messages expected
	allDone chan struct{} // closed once want are accepted

	mu       sync.Mutex
	accepted map[string]time.Time
}

func (f *feedbackSender) Send(ctx context.Context, m scheduler.SMS) (scheduler.Accepted, error) {
	acc, err := f.next.Send(ctx, m)
	if err == nil && (strings.HasPrefix(m.Body, "Correct!") || strings.HasPrefix(m.Body, "Not quite")) {
		now := time.Now()
		f.mu.Lock()
		if _, ok := f.accepted[m.To]; !ok {
			f.accepted[m.To] = now
			if f.count.Add(1) == f.want {
				close(f.allDone)
			}
		}
		f.mu.Unlock()
	}
	return acc, err
}

func (f *feedbackSender) Find(ctx context.Context, m scheduler.SMS, since time.Time) ([]string, error) {
	return f.next.Find(ctx, m, since)
}

// at says when the feedback to the phone was accepted.
func (f *feedbackSender) at(phone string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.accepted[phone]
	return t, ok
}
