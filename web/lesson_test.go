package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

// lessonBundle is a server with a real database and events ingester, and a
// rep enrolled in a course of a text, a video (the demo video, 62 s: five
// segments) and a quiz, with a lesson link to each.
type lessonBundle struct {
	pool         *pgxpool.Pool
	store        *lessons.Store
	url          string
	orgID        int64
	repID        int64
	enrollmentID int64
	assignments  map[string]int64  // by lesson key
	tokens       map[string]string // by lesson key
	clock        *shiftedClock     // the store's, and so the pings'
}

// shiftedClock is the time now plus a shift a test moves on, safe to read
// from the server's goroutines.
type shiftedClock struct{ shift atomic.Int64 }

func (c *shiftedClock) now() time.Time { return time.Now().Add(time.Duration(c.shift.Load())) }

// advance moves the clock d on.
func (c *shiftedClock) advance(d time.Duration) { c.shift.Add(int64(d)) }

// lessonCourse has a text, the demo video and a quiz.
func lessonCourse() lessons.CourseSpec {
	return lessons.CourseSpec{
		Slug: "discounts", Title: "Discount policy", PassMark: 70, DueDays: 14,
		Cadence:    lessons.Cadence{Weekdays: []time.Weekday{time.Monday, time.Wednesday}, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow(),
		Lessons: []lessons.Lesson{
			{Key: "intro", Kind: lessons.KindText, Title: "Why discounts cost", Body: "Every 1% of discount is 10% of margin.\n\nAsk before you give."},
			{Key: "video", Kind: lessons.KindVideo, Title: "Holding the price", Body: "Two minutes on anchoring.", VideoURL: "/media/demo.mp4", VideoSeconds: 62},
			{Key: "quiz", Kind: lessons.KindQuiz, Title: "Check", Questions: []lessons.Question{
				{Prompt: "Which discount needs approval?", Choices: []string{"5%", "10%", "20%"}, Correct: 2, Explanation: "Over 10% needs sign-off."},
				{Prompt: "Who approves?", Choices: []string{"You", "Your manager"}, Correct: 1},
			}},
		},
	}
}

func setupLessons(t *testing.T) lessonBundle {
	t.Helper()
	return setupLessonsWith(t, lessonCourse(), nil)
}

// setupLessonsWith is setupLessons with another spec of the same three
// lessons, and inbox as the server's Inbox (nil: none).
func setupLessonsWith(t *testing.T, spec lessons.CourseSpec, inbox web.Inbox) lessonBundle {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	clock := &shiftedClock{}
	cfg := lessons.StoreConfig{PasswordCost: bcrypt.MinCost, PublicURL: "https://morsel.test", Now: clock.now}
	store := lessons.NewStore(pool, cfg)
	ingester := tracking.NewIngester(pool, quiet, 2)
	t.Cleanup(ingester.Stop)
	srv := httptest.NewServer(web.New(web.Deps{Store: store, Logger: quiet, Ingester: ingester, Inbox: inbox}).Handler())
	t.Cleanup(srv.Close)
	b := lessonBundle{pool: pool, store: store, url: srv.URL, assignments: map[string]int64{}, tokens: map[string]string{}, clock: clock}

	org, err := store.CreateOrg(ctx, lessons.Org{Slug: "acme", Name: "Acme Sales"})
	require.NoError(t, err)
	b.orgID = org.ID
	_, err = store.ImportReps(ctx, org.ID, []lessons.RepInput{{Name: "Ava Jones", Phone: "+12025550140", TimeZone: "America/New_York"}})
	require.NoError(t, err)
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM reps WHERE org_id = $1`, org.ID).Scan(&b.repID))
	v, err := store.SaveCourse(ctx, org.ID, spec, true)
	require.NoError(t, err)
	// The first lesson's link is made as a store with the scheduler's queue
	// makes it; the server's store queues nothing.
	cfg.Queue = discardQueue{}
	res, err := lessons.NewStore(pool, cfg).Enroll(ctx, org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{b.repID}})
	require.NoError(t, err)
	b.enrollmentID = res.Enrollments[0].ID
	rows, err := pool.Query(ctx, `
		SELECT l.key, a.id, coalesce(k.token, '') FROM assignments a
		JOIN course_lessons l ON l.id = a.lesson_id LEFT JOIN lesson_links k ON k.assignment_id = a.id
		WHERE a.enrollment_id = $1`, b.enrollmentID)
	require.NoError(t, err)
	for rows.Next() {
		var key, token string
		var id int64
		require.NoError(t, rows.Scan(&key, &id, &token))
		b.assignments[key], b.tokens[key] = id, token
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, b.tokens["intro"], "enrolling links the first lesson")
	for _, key := range []string{"video", "quiz"} {
		b.tokens[key] = b.link(t, b.assignments[key])
	}
	return b
}

// discardQueue takes what a store queues and drops it: the first lesson is
// scheduled, and no job is inserted.
type discardQueue struct{}

func (discardQueue) QueueSteps(context.Context, pgx.Tx, []lessons.Step) error         { return nil }
func (discardQueue) QueueReminders(context.Context, pgx.Tx, []lessons.Reminder) error { return nil }

func randomToken(t testing.TB) string {
	t.Helper()
	buf := make([]byte, 16)
	_, err := rand.Read(buf)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// link makes a lesson link to the assignment, as enrolling does for the first.
func (b lessonBundle) link(t *testing.T, assignmentID int64) string {
	t.Helper()
	token := randomToken(t)
	_, err := b.pool.Exec(context.Background(), `INSERT INTO lesson_links (token, assignment_id, rep_id, created_at)
		SELECT $1, a.id, e.rep_id, now() FROM assignments a JOIN enrollments e ON e.id = a.enrollment_id WHERE a.id = $2`,
		token, assignmentID)
	require.NoError(t, err)
	return token
}

// otherVideo enrolls a second rep and returns the link to their video lesson.
func (b lessonBundle) otherVideo(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	_, err := b.store.ImportReps(ctx, b.orgID, []lessons.RepInput{{Name: "Ben Other", Phone: "+12025550141", TimeZone: "UTC"}})
	require.NoError(t, err)
	var repID, courseID, assignmentID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM reps WHERE phone = '+12025550141'`).Scan(&repID))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM courses WHERE org_id = $1`, b.orgID).Scan(&courseID))
	res, err := b.store.Enroll(ctx, b.orgID, lessons.EnrollRequest{CourseID: courseID, RepIDs: []int64{repID}})
	require.NoError(t, err)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT a.id FROM assignments a JOIN course_lessons l ON l.id = a.lesson_id
		WHERE a.enrollment_id = $1 AND l.kind = 'video'`, res.Enrollments[0].ID).Scan(&assignmentID))
	return b.link(t, assignmentID)
}

// get fetches a path with the user agent.
func (b lessonBundle) get(t *testing.T, path, userAgent string) response {
	t.Helper()
	req, err := http.NewRequest("GET", b.url+path, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", userAgent)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	return response{status: res.StatusCode, header: res.Header, body: readAll(t, res)}
}

func (b lessonBundle) postPings(t *testing.T, body string) response {
	t.Helper()
	res, err := http.Post(b.url+"/t/pings", "text/plain;charset=UTF-8", strings.NewReader(body)) // as sendBeacon sends it
	require.NoError(t, err)
	defer res.Body.Close()
	return response{status: res.StatusCode, header: res.Header, body: readAll(t, res)}
}

func (b lessonBundle) status(t *testing.T, key string) lessons.AssignmentStatus {
	t.Helper()
	var status lessons.AssignmentStatus
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status FROM assignments WHERE id = $1`, b.assignments[key]).Scan(&status))
	return status
}

// pending lists the organisation's events of a kind that wait to be shipped
// (in the outbox or, pings, in its batches), in order.
func (b lessonBundle) pending(t testing.TB, kind string) []tracking.Event {
	t.Helper()
	events, err := tracking.Pending(context.Background(), b.pool, b.orgID)
	require.NoError(t, err)
	var out []tracking.Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// outbox lists the pending events of a kind as key → detail.
func (b lessonBundle) outbox(t testing.TB, kind string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range b.pending(t, kind) {
		out[e.Key] = e.Detail
	}
	return out
}

const (
	phoneUA   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
	previewUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0" // iMessage's link preview
	maxPage   = 30 << 10
	maxScript = 4 << 10
)

func lessonDoc(t *testing.T, res response) *goquery.Document {
	t.Helper()
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.Less(t, len(res.body), maxPage, "the whole page, HTML, CSS and script, is under 30 KB")
	require.Equal(t, "no-store", res.header.Get("Cache-Control"))
	require.Equal(t, "no-referrer", res.header.Get("Referrer-Policy"))
	doc := document(t, res)
	viewport, _ := doc.Find(`meta[name="viewport"]`).Attr("content")
	require.Contains(t, viewport, "width=device-width")
	return doc
}

func TestLessonPageText(t *testing.T) {
	t.Parallel()
	b := setupLessons(t)
	path := "/l/" + b.tokens["intro"]

	// A link preview reads the page without completing the lesson.
	doc := lessonDoc(t, b.get(t, path, previewUA))
	require.Zero(t, doc.Find(`[data-testid="lesson-done"]`).Length())
	require.Equal(t, lessons.AssignmentScheduled, b.status(t, "intro"))
	require.Empty(t, b.outbox(t, tracking.KindLessonOpened))

	// The rep opening it completes it: no script, no button.
	doc = lessonDoc(t, b.get(t, path, phoneUA))
	kind, _ := doc.Find(`[data-testid="lesson"]`).Attr("data-kind")
	require.Equal(t, "text", kind)
	require.Equal(t, "Why discounts cost", doc.Find(`[data-testid="lesson-title"]`).Text())
	require.Equal(t, "Discount policy · step 1 of 3", doc.Find(`[data-testid="lesson-step"]`).Text())
	require.Equal(t, []string{"Every 1% of discount is 10% of margin.", "Ask before you give."}, texts(doc.Find(`[data-testid="lesson-body"]`)))
	require.Contains(t, doc.Find(`[data-testid="lesson-done"]`).Text(), "Done, Ava")
	require.Zero(t, doc.Find("script, form, button, video").Length(), "a text lesson needs no JavaScript")
	require.Equal(t, lessons.AssignmentCompleted, b.status(t, "intro"))
	key := fmt.Sprintf("open/%d", b.assignments["intro"])
	require.Contains(t, b.outbox(t, tracking.KindLessonOpened), key)
	require.Len(t, b.outbox(t, tracking.KindLessonCompleted), 1)

	// Again: the same page, nothing recorded twice.
	doc = lessonDoc(t, b.get(t, path, phoneUA))
	require.Equal(t, 1, doc.Find(`[data-testid="lesson-done"]`).Length())
	require.Len(t, b.outbox(t, tracking.KindLessonCompleted), 1)
}

func TestLessonPageVideo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupLessons(t)
	path := "/l/" + b.tokens["video"]

	res := b.get(t, path, phoneUA)
	doc := lessonDoc(t, res)
	t.Logf("video page: %d bytes", len(res.body))
	video := doc.Find(`video[data-testid="video"]`)
	require.Equal(t, 1, video.Length())
	for attr, want := range map[string]string{"src": "/media/demo.mp4", "data-token": b.tokens["video"], "data-duration": "62", "data-start": "0"} {
		got, _ := video.Attr(attr)
		require.Equal(t, want, got, attr)
	}
	_, controls := video.Attr("controls")
	_, inline := video.Attr("playsinline")
	require.True(t, controls && inline)
	require.Equal(t, []string{"false", "false", "false", "false", "false"}, watchedAttrs(doc), "62 s: five segments")
	require.Equal(t, "0%", doc.Find(`[data-testid="watched-percent"]`).Text())
	script := doc.Find("script")
	require.Equal(t, 1, script.Length())
	require.Less(t, len(script.Text()), maxScript, "the tracking script is under 4 KB")
	require.Contains(t, script.Text(), "sendBeacon")
	require.Equal(t, lessons.AssignmentPending, b.status(t, "video"), "a video completes by watching")
	require.Contains(t, b.outbox(t, tracking.KindLessonOpened), fmt.Sprintf("open/%d", b.assignments["video"]))

	// With the first two segments and the fourth watched, the page resumes at
	// the first gap: 30 s.
	_, err := b.pool.Exec(ctx, `UPDATE video_progress SET watched = B'11010', position = 50 WHERE assignment_id = $1`, b.assignments["video"])
	require.NoError(t, err)
	doc = lessonDoc(t, b.get(t, path, phoneUA))
	start, _ := doc.Find(`video`).Attr("data-start")
	require.Equal(t, "30", start)
	require.Equal(t, []string{"true", "true", "false", "true", "false"}, watchedAttrs(doc))
	require.Equal(t, "60%", doc.Find(`[data-testid="watched-percent"]`).Text())
}

func watchedAttrs(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid="segments"] > *`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("data-watched")
		out = append(out, v)
	})
	return out
}

func TestLessonPageQuiz(t *testing.T) {
	t.Parallel()
	b := setupLessons(t)
	// The question is not sent yet: it is shown, without a form.
	doc := lessonDoc(t, b.get(t, "/l/"+b.tokens["quiz"], phoneUA))
	require.Equal(t, "Which discount needs approval?", doc.Find(`[data-testid="question-prompt"]`).Text())
	require.Equal(t, []string{"A) 5%", "B) 10%", "C) 20%"}, texts(doc.Find(`[data-testid="question-choice"]`)))
	require.Contains(t, doc.Find(`[data-testid="no-open-question"]`).Text(), "arrives by text")
	require.Zero(t, doc.Find("script, form").Length())

	// Once it is sent, the page answers it: a form of radio buttons, no script.
	b.askQuestion(t, 0)
	res := b.get(t, "/l/"+b.tokens["quiz"], phoneUA)
	doc = lessonDoc(t, res)
	t.Logf("quiz page: %d bytes", len(res.body))
	form := doc.Find(`form[data-testid="answer-form"]`)
	require.Equal(t, 1, form.Length())
	action, _ := form.Attr("action")
	require.Equal(t, "/l/"+b.tokens["quiz"]+"/answer", action)
	method, _ := form.Attr("method")
	require.Equal(t, "post", method)
	var values []string
	form.Find(`input[type="radio"][name="choice"]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		values = append(values, v)
	})
	require.Equal(t, []string{"0", "1", "2"}, values)
	require.Equal(t, []string{"A) 5%", "B) 10%", "C) 20%"}, texts(doc.Find(`[data-testid="question-choice"]`)))
	require.Equal(t, "Or reply to the text with A, B or C.", doc.Find(`[data-testid="reply-hint"]`).Text())
	require.Zero(t, doc.Find("script, [data-testid=no-open-question]").Length())
}

// askQuestion records that the quiz's question (an index) was texted to the rep.
func (b lessonBundle) askQuestion(t *testing.T, question int) {
	t.Helper()
	_, err := b.pool.Exec(context.Background(), `
		INSERT INTO messages (org_id, rep_id, enrollment_id, assignment_id, question, direction, purpose, body, encoding,
			segments, status, scheduled_at, created_at, sent_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 'outbound', 'question', 'Q', 'GSM-7', 1, 'delivered', now(), now(), now(), now())`,
		b.orgID, b.repID, b.enrollmentID, b.assignments["quiz"], question)
	require.NoError(t, err)
}

// postLesson posts form to path without following a redirect.
func (b lessonBundle) postLesson(t *testing.T, path string, form url.Values) response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(b.url+path, form)
	require.NoError(t, err)
	defer res.Body.Close()
	return response{status: res.StatusCode, header: res.Header, body: readAll(t, res)}
}

func TestLessonPageDoneButton(t *testing.T) {
	t.Parallel()
	spec := lessonCourse()
	spec.TextCompletion = lessons.TextCompleteOnDone
	b := setupLessonsWith(t, spec, nil)
	path := "/l/" + b.tokens["intro"]

	// Opening records lesson_opened and shows a plain form: no script.
	doc := lessonDoc(t, b.get(t, path, phoneUA))
	require.Zero(t, doc.Find(`[data-testid="lesson-done"]`).Length())
	form := doc.Find(`form[data-testid="done-form"]`)
	require.Equal(t, 1, form.Length())
	action, _ := form.Attr("action")
	require.Equal(t, path+"/done", action)
	require.Equal(t, "Done", form.Find(`button[data-testid="done-button"]`).Text())
	require.Zero(t, doc.Find("script").Length())
	require.NotEqual(t, lessons.AssignmentCompleted, b.status(t, "intro"))
	require.Contains(t, b.outbox(t, tracking.KindLessonOpened), fmt.Sprintf("open/%d", b.assignments["intro"]))
	require.Empty(t, b.outbox(t, tracking.KindLessonCompleted))

	// Pressing it completes the lesson and goes back to the page; again changes nothing.
	for range 2 {
		res := b.postLesson(t, path+"/done", nil)
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, path, res.header.Get("Location"))
		require.Equal(t, lessons.AssignmentCompleted, b.status(t, "intro"))
		require.Len(t, b.outbox(t, tracking.KindLessonCompleted), 1)
	}
	doc = lessonDoc(t, b.get(t, path, phoneUA))
	require.Contains(t, doc.Find(`[data-testid="lesson-done"]`).Text(), "Done, Ava")
	require.Zero(t, doc.Find("form").Length())

	// Unknown links get the friendly 404; other kinds of lesson have no Done button.
	res := b.postLesson(t, "/l/"+randomToken(t)+"/done", nil)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, 1, document(t, res).Find(`[data-testid="lesson-gone"]`).Length())
	require.Equal(t, http.StatusBadRequest, b.postLesson(t, "/l/"+b.tokens["video"]+"/done", nil).status)
	require.Equal(t, lessons.AssignmentPending, b.status(t, "video"))
}

func TestLessonAnswer(t *testing.T) {
	t.Parallel()
	inbox := &recordingInbox{}
	b := setupLessonsWith(t, lessonCourse(), inbox)
	quiz := "/l/" + b.tokens["quiz"]

	// Nothing open yet: 409, on the page.
	res := b.postLesson(t, quiz+"/answer", url.Values{"choice": {"0"}})
	require.Equal(t, http.StatusConflict, res.status)
	require.Contains(t, document(t, res).Find(`[data-testid="lesson-error"]`).Text(), "no question open")

	b.askQuestion(t, 0)
	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"missing", nil},
		{"not a number", url.Values{"choice": {"C"}}},
		{"too high", url.Values{"choice": {"3"}}},
		{"negative", url.Values{"choice": {"-1"}}},
	} {
		res := b.postLesson(t, quiz+"/answer", tt.form)
		require.Equal(t, http.StatusBadRequest, res.status, tt.name)
		doc := document(t, res)
		require.True(t, strings.HasPrefix(doc.Find(`[data-testid="lesson-error"]`).Text(), "choice: must be one of 0-2"), tt.name)
		require.Equal(t, 1, doc.Find(`[data-testid="answer-form"]`).Length(), tt.name)
	}
	res = b.postLesson(t, "/l/"+randomToken(t)+"/answer", url.Values{"choice": {"0"}})
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, http.StatusConflict, b.postLesson(t, "/l/"+b.tokens["intro"]+"/answer", url.Values{"choice": {"0"}}).status)
	require.Empty(t, inbox.received())

	// A good answer goes to the Inbox as the rep's SMS reply of its letter.
	res = b.postLesson(t, quiz+"/answer", url.Values{"choice": {"2"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, quiz+"?answered=1", res.header.Get("Location"))
	got := inbox.received()
	require.Len(t, got, 1)
	require.Regexp(t, `^WEB[0-9a-f]{32}$`, got[0].SID)
	require.Equal(t, lessons.InboundSMS{SID: got[0].SID, From: "+12025550140", To: "+15005550006", Body: "C", OrgID: b.orgID, RepID: b.repID}, got[0])

	doc := lessonDoc(t, b.get(t, res.header.Get("Location"), phoneUA))
	require.Equal(t, "Answer received: your feedback arrives by text.", doc.Find(`[data-testid="answer-received"]`).Text())
	require.Zero(t, doc.Find("form").Length())
}

// replyInbox grades a reply at once, as the reply job would: the real path
// of an answer, without the queue.
type replyInbox struct{ store *lessons.Store }

func (i replyInbox) Receive(ctx context.Context, in lessons.InboundSMS) error {
	return i.store.InTx(ctx, func(tx pgx.Tx) error {
		id, isNew, err := i.store.RecordInbound(ctx, tx, in)
		if err != nil || !isNew {
			return err
		}
		_, err = i.store.ProcessReply(ctx, tx, id)
		return err
	})
}

func TestLessonAnswerGraded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inbox := &replyInbox{}
	b := setupLessonsWith(t, lessonCourse(), inbox)
	inbox.store = b.store
	_, err := b.pool.Exec(ctx, `UPDATE organisations SET sms_from = '+15005550009' WHERE id = $1`, b.orgID)
	require.NoError(t, err)
	b.askQuestion(t, 0)
	quiz := "/l/" + b.tokens["quiz"]

	res := b.postLesson(t, quiz+"/answer", url.Values{"choice": {"2"}})
	require.Equal(t, http.StatusSeeOther, res.status, "body: %s", res.body)
	var choice int
	var correct bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT choice, correct FROM attempts WHERE assignment_id = $1`, b.assignments["quiz"]).Scan(&choice, &correct))
	require.Equal(t, 2, choice)
	require.True(t, correct)
	var feedback string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT body FROM messages WHERE rep_id = $1 AND purpose = 'feedback'`, b.repID).Scan(&feedback))
	require.Equal(t, "Correct! Over 10% needs sign-off.", feedback)
	require.Len(t, b.outbox(t, tracking.KindGraded), 1)

	// The page now shows the next question, not yet sent: no form.
	doc := lessonDoc(t, b.get(t, quiz, phoneUA))
	require.Equal(t, "Who approves?", doc.Find(`[data-testid="question-prompt"]`).Text())
	require.Equal(t, 1, doc.Find(`[data-testid="no-open-question"]`).Length())
	require.Zero(t, doc.Find("form").Length())
	// Posting the same answer again finds nothing open.
	require.Equal(t, http.StatusConflict, b.postLesson(t, quiz+"/answer", url.Values{"choice": {"2"}}).status)
}

func TestLessonPageNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupLessons(t)
	for _, path := range []string{"/l/nope", "/l/" + randomToken(t), "/l/" + b.tokens["intro"] + "x", "/l/%00%00"} {
		res := b.get(t, path, phoneUA)
		require.Equal(t, http.StatusNotFound, res.status, path)
		doc := document(t, res)
		require.Equal(t, 1, doc.Find(`[data-testid="lesson-gone"]`).Length(), path)
	}
	// A removed rep's links lead nowhere, as do a cancelled enrollment's.
	_, err := b.pool.Exec(ctx, `UPDATE enrollments SET status = 'cancelled' WHERE id = $1`, b.enrollmentID)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, b.get(t, "/l/"+b.tokens["video"], phoneUA).status)
	_, err = b.pool.Exec(ctx, `UPDATE enrollments SET status = 'active' WHERE id = $1`, b.enrollmentID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, b.get(t, "/l/"+b.tokens["video"], phoneUA).status)
	_, err = b.store.RemoveRep(ctx, b.orgID, b.repID)
	require.NoError(t, err)
	res := b.get(t, "/l/"+b.tokens["quiz"], phoneUA)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, 1, document(t, res).Find(`[data-testid="lesson-gone"]`).Length())

	// A lesson page only answers GET.
	post, err := http.Post(b.url+"/l/"+b.tokens["intro"], "text/plain", nil)
	require.NoError(t, err)
	post.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}

func pingBody(token string, segment int, position, rate float64, session, event string) map[string]any {
	return map[string]any{"token": token, "segment": segment, "position": position, "rate": rate, "session": session, "event": event}
}

func TestPings(t *testing.T) {
	t.Parallel()
	b := setupLessons(t)
	video := b.tokens["video"]
	a := b.assignments["video"]
	const session = "0123456789abcdef01234567"

	// One ping on its own, as the page's script sends it.
	res := b.postPings(t, mustJSON(t, pingBody(video, 0, 15.25, 2, session, "segment")))
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	segs := b.outbox(t, tracking.KindSegmentWatched)
	require.Len(t, segs, 1)
	require.JSONEq(t, `{"position":15.25,"rate":2,"session":"`+session+`"}`, segs[fmt.Sprintf("seg/%d/0", a)])
	first := b.pending(t, tracking.KindSegmentWatched)[0]
	require.Equal(t, fmt.Sprintf("seg/%d/0", a), first.Key)
	require.Zero(t, first.Value)
	require.Equal(t, b.repID, first.RepID)
	require.NotZero(t, first.LessonID)

	// A batch: segments (one twice), a pause and the end, a minute on.
	b.clock.advance(time.Minute)
	batch := []map[string]any{
		pingBody(video, 1, 30, 1, session, "segment"),
		pingBody(video, 2, 45, 1, session, "segment"),
		pingBody(video, 2, 45.5, 1, session, "segment"),
		pingBody(video, 3, 50, 1, session, "pause"),
		pingBody(video, 3, 52, 1, session, "pause"),
		pingBody(video, 4, 62, 4, session, "ended"),
		pingBody(video, 4, 63, 0.5, "another-visit", "segment"), // a second over the end is allowed
	}
	res = b.postPings(t, mustJSON(t, map[string]any{"pings": batch}))
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	segs = b.outbox(t, tracking.KindSegmentWatched)
	require.Len(t, segs, 4, "segments 0, 1, 2 and 4")
	require.JSONEq(t, `{"position":45.5,"rate":1,"session":"`+session+`"}`, segs[fmt.Sprintf("seg/%d/2", a)], "one event per key, the last")
	paused := b.outbox(t, tracking.KindVideoPaused)
	require.Equal(t, map[string]string{fmt.Sprintf("video_paused/%d/%s", a, session): `{"position":52,"rate":1,"session":"` + session + `","segment":3}`}, paused)
	require.Contains(t, b.outbox(t, tracking.KindVideoEnded), fmt.Sprintf("video_ended/%d/%s", a, session))
	require.Len(t, b.pending(t, tracking.KindSegmentWatched), 4, "the repeated segment of the batch is one event")

	// Bad pings: 400, naming each problem; nothing of the request is stored.
	good := pingBody(video, 1, 30, 1, session, "segment")
	with := func(field string, v any) map[string]any {
		p := map[string]any{}
		for k, x := range good {
			p[k] = x
		}
		if v == nil {
			delete(p, field)
		} else {
			p[field] = v
		}
		return p
	}
	tests := []struct {
		name  string
		body  string
		paths []string
	}{
		{"not json", `{"token":`, []string{"body"}},
		{"not an object", `[1, 2]`, []string{"body"}},
		{"trailing data", mustJSON(t, good) + `{}`, []string{"body"}},
		{"empty", ``, []string{"body"}},
		{"no pings", `{"pings": []}`, []string{"pings"}},
		{"too many", mustJSON(t, map[string]any{"pings": repeat(good, 101)}), []string{"pings"}},
		{"both forms", `{"pings": [], "token": "x"}`, []string{"pings"}},
		{"missing token", mustJSON(t, with("token", nil)), []string{"token"}},
		{"junk token", mustJSON(t, with("token", "../../etc/passwd")), []string{"token"}},
		{"unknown token", mustJSON(t, with("token", randomToken(t))), []string{"token"}},
		{"text lesson", mustJSON(t, with("token", b.tokens["intro"])), []string{"token"}},
		{"segment past the end", mustJSON(t, with("segment", 5)), []string{"segment"}},
		{"negative segment", mustJSON(t, with("segment", -1)), []string{"segment"}},
		{"fractional segment", mustJSON(t, with("segment", 1.5)), []string{"segment"}},
		{"segment as text", mustJSON(t, with("segment", "1")), []string{"body"}},
		{"position past the end", mustJSON(t, with("position", 63.5)), []string{"position"}},
		{"negative position", mustJSON(t, with("position", -1)), []string{"position"}},
		{"rate 0", mustJSON(t, with("rate", 0)), []string{"rate"}},
		{"rate 8", mustJSON(t, with("rate", 8)), []string{"rate"}},
		{"short session", mustJSON(t, with("session", "abc")), []string{"session"}},
		{"session with a slash", mustJSON(t, with("session", "abcdefgh/ij")), []string{"session"}},
		{"unknown event", mustJSON(t, with("event", "play")), []string{"event"}},
		{"several", mustJSON(t, map[string]any{"pings": []any{good, good, good, with("segment", 1.5), with("rate", -1), good, 7}}),
			[]string{"pings[3].segment", "pings[4].rate", "pings[6]"}},
		{"one of a batch past the end", mustJSON(t, map[string]any{"pings": []any{good, good, good, with("segment", 9), with("position", 99)}}),
			[]string{"pings[3].segment", "pings[4].position"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := b.postPings(t, tt.body)
			require.Equal(t, http.StatusBadRequest, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, "invalid", e.Error.Code)
			require.ElementsMatch(t, tt.paths, e.detailPaths(), "body: %s", res.body)
		})
	}
	require.Len(t, b.pending(t, tracking.KindSegmentWatched), 4, "no bad request stored anything")

	// A body over 64 KB is refused as such.
	res = b.postPings(t, `{"pings": [`+strings.Repeat(" ", 64<<10)+`]}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.status)
}

func repeat(v map[string]any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestPingsRateLimit lets one link send a full request at once and then 20
// pings a second; other links are not affected.
func TestPingsRateLimit(t *testing.T) {
	t.Parallel()
	b := setupLessons(t)
	session := "ratelimit-session"
	full := func(token string) string {
		var ps []any
		for i := range 100 {
			ps = append(ps, pingBody(token, i%5, float64(i%5*15), 1, session, "segment"))
		}
		return mustJSON(t, map[string]any{"pings": ps})
	}
	// The links have played long enough for their five segments.
	other := b.otherVideo(t)
	for _, token := range []string{b.tokens["video"], other} {
		res := b.postPings(t, mustJSON(t, pingBody(token, 0, 15, 1, session, "pause")))
		require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	}
	b.clock.advance(time.Minute)
	res := b.postPings(t, full(b.tokens["video"]))
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	res = b.postPings(t, full(b.tokens["video"]))
	require.Equal(t, http.StatusTooManyRequests, res.status, "body: %s", res.body)
	require.Equal(t, "1", res.header.Get("Retry-After"))
	require.Equal(t, "too_many_requests", res.apiError(t).Error.Code)

	// Another rep's link has its own allowance.
	res = b.postPings(t, full(other))
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)

	// A second later the first link may send 20 more.
	b.clock.advance(1100 * time.Millisecond)
	twenty := make([]any, 20)
	for i := range twenty {
		twenty[i] = pingBody(b.tokens["video"], i%5, 0, 1, session, "segment")
	}
	res = b.postPings(t, mustJSON(t, map[string]any{"pings": twenty}))
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
}

// TestPingsWithoutIngester answers 503 when the server has no events writer.
func TestPingsWithoutIngester(t *testing.T) {
	t.Parallel()
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/t/pings", bytes.NewReader([]byte(`{}`))))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	var e errorBody
	require.NoError(t, json.NewDecoder(rec.Body).Decode(&e))
	require.Equal(t, "unavailable", e.Error.Code)
}
