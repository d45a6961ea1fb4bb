package scheduler_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler/twilioemu"
	"github.com/morselhq/morsel/web"
)

const quizCourse = `{
  "slug": "discounts", "title": "Discounts", "pass_mark": 70,
  "cadence": {"days": ["mon", "tue", "wed", "thu", "fri"], "times": ["09:00"]},
  "rules": {"remedial": [{"quiz": "quiz", "lessons": ["tiers-again"]}], "retake": "all", "max_retakes": 2},
  "lessons": [
    {"key": "intro", "kind": "text", "title": "Intro", "body": "Discounts cost margin."},
    {"key": "quiz", "kind": "quiz", "title": "Check", "questions": [
      {"prompt": "Which discount needs approval?", "choices": ["5%", "10%", "20%"], "correct": "C", "explanation": "Over 10% needs sign-off."},
      {"prompt": "Who approves 8%?", "choices": ["You", "Your lead"], "correct": "B", "explanation": "6-10% is your lead's."},
      {"prompt": "Trade a discount for?", "choices": ["Nothing", "A longer term"], "correct": "B", "explanation": "Always trade."},
      {"prompt": "Log discounts where?", "choices": ["Email", "CRM"], "correct": "B", "explanation": "The CRM."},
      {"prompt": "Your own limit?", "choices": ["5%", "15%"], "correct": "A", "explanation": "Up to 5%."}
    ]},
    {"key": "tiers-again", "kind": "text", "title": "The tiers, again", "remedial": true, "body": "5% you, 10% lead, more: manager."},
    {"key": "wrap", "kind": "text", "title": "Wrap-up", "body": "Well done."}
  ]
}`

// replyBundle is a scheduler setup with the web app taking Twilio's webhooks.
type replyBundle struct {
	testBundle
	web *httptest.Server
	rep lessons.Rep
}

func setupReplies(t *testing.T) replyBundle {
	t.Helper()
	b := setup(t, faultStart, twilioemu.Options{})
	spec, err := lessons.ParseCourseFile(strings.NewReader(quizCourse))
	require.NoError(t, err)
	v, err := b.store.SaveCourse(context.Background(), b.org.ID, spec, true)
	require.NoError(t, err)
	reps := b.reps(t, nyPhone, "America/New_York")
	b.enroll(t, v.CourseID, reps)
	srv := httptest.NewServer(web.New(web.Deps{Store: b.store, Logger: quiet, PublicURL: "https://morsel.test",
		TwilioAuthToken: b.emu.AuthToken(), Inbox: b.sched}).Handler())
	t.Cleanup(srv.Close)
	return replyBundle{testBundle: b, web: srv, rep: reps[0]}
}

// text posts a signed inbound SMS from the rep, as Twilio does, then lets the
// jobs it causes run. It returns the sid used.
func (b replyBundle) text(t *testing.T, body string, sid ...string) string {
	t.Helper()
	if len(sid) == 0 {
		raw := make([]byte, 16)
		rand.Read(raw)
		sid = []string{"SM" + hex.EncodeToString(raw)}
	}
	form := url.Values{"MessageSid": {sid[0]}, "SmsSid": {sid[0]}, "AccountSid": {b.emu.AccountSID()},
		"From": {nyPhone}, "To": {b.org.SMSFrom}, "Body": {body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}}
	req, err := http.NewRequest(http.MethodPost, b.web.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", b.emu.Sign("https://morsel.test/webhooks/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b.advance(t, b.clock.Now())
	return sid[0]
}

// last returns the rep's last n received messages.
func (b replyBundle) last(n int) []string {
	got := received(b.emu)[nyPhone]
	return got[max(len(got)-n, 0):]
}

func TestQuizByTextFailRemedialRetakePass(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	ny := mustLoc(t, "America/New_York")
	day := func(d int) time.Time { return time.Date(2027, 3, d, 9, 5, 0, 0, ny) }

	b.advance(t, day(8))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Discounts 1/3: Intro"), b.last(1))
	b.advance(t, day(9))
	require.Equal(t, "Q1/5: Which discount needs approval? A) 5% B) 10% C) 20%. Reply A, B or C", b.last(1)[0])

	// Unreadable: asked again with a hint, not graded.
	b.text(t, "A or B?")
	require.Equal(t, "Reply with just one letter, A, B or C. Q1/5: Which discount needs approval? A) 5% B) 10% C) 20%. Reply A, B or C", b.last(1)[0])

	// Two right, three wrong: 40% < 70%.
	sid := b.text(t, " c. ")
	require.Equal(t, []string{"Correct! Over 10% needs sign-off.", "Q2/5: Who approves 8%? A) You B) Your lead. Reply A or B"}, b.last(2))
	b.text(t, "c", sid) // Twilio retried the webhook: nothing changes
	require.Equal(t, "Q2/5: Who approves 8%? A) You B) Your lead. Reply A or B", b.last(1)[0])
	b.text(t, "I think B")
	b.text(t, "a")
	require.Equal(t, "Not quite: the answer is B) A longer term. Always trade.", b.last(2)[0])
	b.text(t, "email")
	b.text(t, "2")
	require.Equal(t, "Not quite: the answer is A) 5%. Up to 5%.", b.last(1)[0])

	// Wednesday: the remedial lesson; Thursday: the retake, all questions.
	b.advance(t, day(10))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Discounts 3/5: The tiers, again"), b.last(1))
	var reason string
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT reason FROM assignments a JOIN course_lessons l ON l.id = a.lesson_id WHERE l.key = 'tiers-again'`).Scan(&reason))
	require.Contains(t, reason, "40% < 70%")
	b.advance(t, day(11))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Q1/5: Which discount"), b.last(1))
	for _, answer := range []string{"C", "b", "B", "CRM", "a"} {
		b.text(t, answer)
	}
	require.Equal(t, "Correct! Up to 5%.", b.last(1)[0])

	// Passed: the course goes on to the wrap-up on Friday.
	b.advance(t, day(12))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Discounts 5/5: Wrap-up"), b.last(1))

	var quizScores []float64
	rows, err := b.pool.Query(context.Background(), `SELECT score::float8 FROM assignments WHERE score IS NOT NULL ORDER BY position`)
	require.NoError(t, err)
	for rows.Next() {
		var s float64
		require.NoError(t, rows.Scan(&s))
		quizScores = append(quizScores, s)
	}
	require.Equal(t, []float64{40, 100}, quizScores)
	var attempts int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM attempts`).Scan(&attempts))
	require.Equal(t, 10, attempts, "each question graded once per attempt")
}

func TestStopThenStart(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	ny := mustLoc(t, "America/New_York")
	b.advance(t, time.Date(2027, 3, 8, 9, 5, 0, 0, ny))
	require.Len(t, received(b.emu)[nyPhone], 1)

	b.text(t, " Stop ")
	require.Equal(t, "You're unsubscribed from Acme training texts. Reply START to resume.", b.last(1)[0])
	b.advance(t, time.Date(2027, 3, 10, 12, 0, 0, 0, ny))
	require.Len(t, received(b.emu)[nyPhone], 2, "nothing but the confirmation while opted out")
	b.text(t, "what is this") // kept, not answered
	require.Len(t, received(b.emu)[nyPhone], 2)

	b.text(t, "START")
	require.Equal(t, "You're back on Acme training texts. Reply STOP to opt out.", b.last(1)[0])
	b.advance(t, time.Date(2027, 3, 11, 9, 5, 0, 0, ny))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Q1/5:"), "the course resumes at the next slot: %q", b.last(1))

	b.text(t, "help")
	require.Equal(t, "Morsel training messages. Reply STOP to opt out.", b.last(1)[0])
}

// Two answers racing in for one question: the first graded counts, once.
func TestRacingRepliesGradedOnce(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	ny := mustLoc(t, "America/New_York")
	b.advance(t, time.Date(2027, 3, 8, 9, 5, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 9, 9, 5, 0, 0, ny))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Q1/5:"), b.last(1))

	// Two replies, processed in two transactions at once: the second waits
	// on the first's attempt and then grades nothing.
	ctx := context.Background()
	var ids []int64
	for _, body := range []string{"c", "a"} {
		tx, err := b.pool.Begin(ctx)
		require.NoError(t, err)
		id, _, err := b.store.RecordInbound(ctx, tx, lessons.InboundSMS{SID: "SM" + strings.Repeat(body, 32), From: nyPhone, To: b.org.SMSFrom, Body: body})
		require.NoError(t, err)
		require.NoError(t, tx.Commit(ctx))
		ids = append(ids, id)
	}
	tx1, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	steps1, err := b.store.ProcessReply(ctx, tx1, ids[0])
	require.NoError(t, err)
	require.NotEmpty(t, steps1, "the first is graded: feedback")
	second := make(chan error, 1)
	var steps2 []lessons.Step
	go func() {
		second <- pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			var err error
			steps2, err = b.store.ProcessReply(ctx, tx, ids[1])
			return err
		})
	}()
	// The second is waiting on a lock the first holds, as Postgres says.
	require.Eventually(t, func() bool {
		var waiting int
		err := b.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 5*time.Millisecond)
	select {
	case err := <-second:
		t.Fatalf("the second reply did not wait for the first: %v", err)
	default:
	}
	require.NoError(t, tx1.Commit(ctx))
	require.NoError(t, <-second)
	require.Empty(t, steps2, "the second grades nothing")

	var attempts int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM attempts`).Scan(&attempts))
	require.Equal(t, 1, attempts)
	var feedback int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE purpose = 'feedback'`).Scan(&feedback))
	require.Equal(t, 1, feedback)
}

// With Twilio Advanced Opt-Out on, STOP and HELP are acted on but not answered.
func TestAdvancedOptOutSendsNoSecondConfirmation(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	_, err := b.pool.Exec(context.Background(), `UPDATE organisations SET twilio_advanced_opt_out = true`)
	require.NoError(t, err)
	ny := mustLoc(t, "America/New_York")
	b.advance(t, time.Date(2027, 3, 8, 9, 5, 0, 0, ny))
	before := len(received(b.emu)[nyPhone])
	b.text(t, "HELP")
	b.text(t, "STOP")
	require.Len(t, received(b.emu)[nyPhone], before)
	var optedOut bool
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT opted_out_at IS NOT NULL FROM reps`).Scan(&optedOut))
	require.True(t, optedOut)
}
