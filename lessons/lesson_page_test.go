package lessons_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// pageBundle is a rep enrolled in testSpec (text, 95-second video, quiz) with
// a lesson link to each of the three lessons.
type pageBundle struct {
	testBundle
	repID        int64
	enrollmentID int64
	courseID     int64
	assignments  map[string]int64 // by lesson key
	tokens       map[string]string
}

func newLinkToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setupPage enrolls a rep the way the scheduler does (the first lesson gets its
// link from enrolling) and links the other lessons too.
func setupPage(t *testing.T, spec lessons.CourseSpec, phone string) pageBundle {
	t.Helper()
	ctx := context.Background()
	b := pageBundle{testBundle: setup(t), assignments: map[string]int64{}, tokens: map[string]string{}}
	b.repID = b.addRep(t, "Ana Rep", phone)
	v, err := b.store.SaveCourse(ctx, b.org.ID, spec, true)
	require.NoError(t, err)
	b.courseID = v.CourseID
	b.enrollmentID = b.enroll(t, b.repID)
	var first int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT assignment_id FROM lesson_links WHERE rep_id = $1`, b.repID).Scan(&first))
	for _, key := range lessonKeys(spec) {
		id := b.assignment(t, b.enrollmentID, key)
		b.assignments[key] = id
		if id == first {
			var token string
			require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT token FROM lesson_links WHERE assignment_id = $1`, id).Scan(&token))
			b.tokens[key] = token
			continue
		}
		b.tokens[key] = b.link(t, id, b.repID)
	}
	return b
}

func lessonKeys(spec lessons.CourseSpec) []string {
	var keys []string
	for _, l := range spec.Lessons {
		keys = append(keys, l.Key)
	}
	return keys
}

func (b pageBundle) addRep(t *testing.T, name, phone string) int64 {
	t.Helper()
	ctx := context.Background()
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{{Name: name, Phone: phone, TimeZone: "America/Chicago"}})
	require.NoError(t, err)
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT id FROM reps WHERE phone = $1`, phone).Scan(&id))
	return id
}

// enroll enrolls the rep in the course, scheduling the first lesson as a
// store with the scheduler's queue does.
func (b pageBundle) enroll(t *testing.T, repID int64) int64 {
	t.Helper()
	res, err := b.queued(&testQueue{}).Enroll(context.Background(), b.org.ID, lessons.EnrollRequest{CourseID: b.courseID, RepIDs: []int64{repID}})
	require.NoError(t, err)
	require.Len(t, res.Enrollments, 1)
	return res.Enrollments[0].ID
}

func (b pageBundle) assignment(t *testing.T, enrollmentID int64, key string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `
		SELECT a.id FROM assignments a JOIN course_lessons l ON l.id = a.lesson_id
		WHERE a.enrollment_id = $1 AND l.key = $2`, enrollmentID, key).Scan(&id))
	return id
}

func (b pageBundle) link(t *testing.T, assignmentID, repID int64) string {
	t.Helper()
	token := newLinkToken(t)
	_, err := b.store.Pool().Exec(context.Background(), `INSERT INTO lesson_links (token, assignment_id, rep_id, created_at)
		VALUES ($1, $2, $3, now())`, token, assignmentID, repID)
	require.NoError(t, err)
	return token
}

func (b pageBundle) status(t *testing.T, assignmentID int64) (lessons.AssignmentStatus, *time.Time) {
	t.Helper()
	var status lessons.AssignmentStatus
	var at *time.Time
	require.NoError(t, b.store.Pool().QueryRow(context.Background(),
		`SELECT status, completed_at FROM assignments WHERE id = $1`, assignmentID).Scan(&status, &at))
	return status, at
}

func (b pageBundle) enrollmentStatus(t *testing.T, id int64) lessons.EnrollmentStatus {
	t.Helper()
	var status lessons.EnrollmentStatus
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT status FROM enrollments WHERE id = $1`, id).Scan(&status))
	return status
}

// events lists the outbox's events about the assignment as "kind key".
func (b pageBundle) events(t *testing.T, assignmentID int64) []string {
	t.Helper()
	rows, err := b.store.Pool().Query(context.Background(),
		`SELECT kind || ' ' || event_key FROM event_outbox WHERE assignment_id = $1 ORDER BY id`, assignmentID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// watched reads an assignment's video progress: a flag per segment, from the
// bit string as Postgres spells it ("0110"), and the position.
func (b pageBundle) watched(t *testing.T, assignmentID int64) ([]bool, float64) {
	t.Helper()
	var bits string
	var pos float64
	err := b.store.Pool().QueryRow(context.Background(),
		`SELECT watched::text, position FROM video_progress WHERE assignment_id = $1`, assignmentID).Scan(&bits, &pos)
	if err == pgx.ErrNoRows {
		return nil, 0
	}
	require.NoError(t, err)
	w := make([]bool, len(bits))
	for i, c := range bits {
		w[i] = c == '1'
	}
	return w, pos
}

func (b pageBundle) recordWatched(t *testing.T, segs ...lessons.WatchedSegment) {
	t.Helper()
	require.NoError(t, pgx.BeginFunc(context.Background(), b.store.Pool(), func(tx pgx.Tx) error {
		return b.store.RecordWatched(context.Background(), tx, segs)
	}))
}

func segs(assignmentID int64, from, to int) []lessons.WatchedSegment {
	var out []lessons.WatchedSegment
	for i := from; i <= to; i++ {
		out = append(out, lessons.WatchedSegment{AssignmentID: assignmentID, Segment: i, Position: float64((i + 1) * 15)})
	}
	return out
}

func TestValidLinkToken(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "abcdefghijklmnopqrstu-", "0123456789_ABCDEFGHIJK", newLinkToken(t)} {
		require.True(t, lessons.ValidLinkToken(ok), ok)
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAA+", "AAAAAAAAAAAAAAAAAAAAA/", "AAAAAAAAAAAAAAAAAAAA é", "AAAAAAAAAAAAAAAAAAAA\x00A", "../../../../etc/passwd"} {
		require.False(t, lessons.ValidLinkToken(bad), bad)
	}
}

func TestLessonByToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupPage(t, testSpec("discounts"), "+13125550140")

	text, err := b.store.LessonByToken(ctx, b.tokens["intro"])
	require.NoError(t, err)
	require.Equal(t, b.tokens["intro"], text.Token)
	require.Equal(t, b.assignments["intro"], text.AssignmentID)
	require.Equal(t, b.repID, text.RepID)
	require.Equal(t, b.org.ID, text.OrgID)
	require.Equal(t, b.enrollmentID, text.EnrollmentID)
	require.Equal(t, b.courseID, text.CourseID)
	require.NotZero(t, text.LessonID)
	require.Equal(t, "Ana Rep", text.RepName)
	require.Equal(t, "Discount policy", text.CourseTitle)
	require.Equal(t, lessons.KindText, text.Lesson.Kind)
	require.Equal(t, "Discounts protect margin.", text.Lesson.Body)
	require.Equal(t, [2]int{1, 3}, [2]int{text.Step, text.Steps})
	require.Equal(t, lessons.AssignmentScheduled, text.Status, "enrolling scheduled the first lesson")
	require.Nil(t, text.Watched)
	require.Nil(t, text.Questions)

	video, err := b.store.LessonByToken(ctx, b.tokens["video"])
	require.NoError(t, err)
	require.Equal(t, lessons.KindVideo, video.Lesson.Kind)
	require.Equal(t, 95, video.Lesson.VideoSeconds)
	require.Equal(t, [2]int{2, 3}, [2]int{video.Step, video.Steps})
	require.Equal(t, lessons.AssignmentPending, video.Status)
	require.Equal(t, make([]bool, 7), video.Watched, "95 s: 7 segments, none watched")
	require.Equal(t, 90, video.CompletePercent)
	require.Zero(t, video.ResumeAt())
	require.Zero(t, video.WatchedPercent())

	quiz, err := b.store.LessonByToken(ctx, b.tokens["quiz"])
	require.NoError(t, err)
	require.Equal(t, lessons.KindQuiz, quiz.Lesson.Kind)
	require.Equal(t, []lessons.QuizStep{{Index: 0, Current: true}, {Index: 1}}, quiz.Questions)
	require.Len(t, quiz.Lesson.Questions, 2)
	require.Equal(t, [2]int{3, 3}, [2]int{quiz.Step, quiz.Steps})

	// Reading changes nothing.
	require.Empty(t, b.events(t, b.assignments["intro"]))
	status, _ := b.status(t, b.assignments["intro"])
	require.Equal(t, lessons.AssignmentScheduled, status)

	// Junk and unknown tokens are not found; so are links of removed reps and
	// cancelled enrollments.
	for _, bad := range []string{"", "nope", b.tokens["intro"] + "x", "../" + b.tokens["intro"][3:], newLinkToken(t)} {
		_, err := b.store.LessonByToken(ctx, bad)
		requireCode(t, err, errs.NotFound)
		_, err = b.store.OpenLesson(ctx, bad)
		requireCode(t, err, errs.NotFound)
	}

	other := b.addRep(t, "Ben Rep", "+13125550141")
	otherEnrollment := b.enroll(t, other)
	otherToken := b.link(t, b.assignment(t, otherEnrollment, "video"), other)
	_, err = b.store.LessonByToken(ctx, otherToken)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(ctx, `UPDATE enrollments SET status = 'cancelled' WHERE id = $1`, otherEnrollment)
	require.NoError(t, err)
	_, err = b.store.LessonByToken(ctx, otherToken)
	requireCode(t, err, errs.NotFound)
	_, err = b.store.OpenLesson(ctx, otherToken)
	requireCode(t, err, errs.NotFound)

	_, err = b.store.RemoveRep(ctx, b.org.ID, b.repID)
	require.NoError(t, err)
	for _, token := range b.tokens {
		_, err := b.store.LessonByToken(ctx, token)
		requireCode(t, err, errs.NotFound)
		_, err = b.store.OpenLesson(ctx, token)
		requireCode(t, err, errs.NotFound)
	}
	require.Empty(t, b.events(t, b.assignments["video"]))
}

func TestOpenLesson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupPage(t, testSpec("discounts"), "+13125550150")
	text, video, quiz := b.assignments["intro"], b.assignments["video"], b.assignments["quiz"]

	// A text lesson is done once opened, even when it is opened in two tabs
	// at once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			v, err := b.store.OpenLesson(ctx, b.tokens["intro"])
			require.NoError(t, err)
			require.Equal(t, lessons.AssignmentCompleted, v.Status)
			require.True(t, v.Done())
		})
	}
	wg.Wait()
	status, at := b.status(t, text)
	require.Equal(t, lessons.AssignmentCompleted, status)
	require.NotNil(t, at)
	require.True(t, at.Equal(b.now))
	want := []string{fmt.Sprintf("lesson_opened open/%d", text), fmt.Sprintf("lesson_completed done/%d", text)}
	require.Equal(t, want, b.events(t, text))
	var detail string
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT detail FROM event_outbox WHERE event_key = $1`, fmt.Sprintf("done/%d", text)).Scan(&detail))
	require.JSONEq(t, `{"kind":"text"}`, detail)

	// Opening again records nothing more.
	v, err := b.store.OpenLesson(ctx, b.tokens["intro"])
	require.NoError(t, err)
	require.Equal(t, lessons.AssignmentCompleted, v.Status)
	require.Equal(t, want, b.events(t, text))

	// A video lesson starts its progress on the first opening only.
	for range 3 {
		wg.Go(func() {
			v, err := b.store.OpenLesson(ctx, b.tokens["video"])
			require.NoError(t, err)
			require.Equal(t, lessons.AssignmentPending, v.Status, "a video completes by watching")
		})
	}
	wg.Wait()
	require.Equal(t, []string{fmt.Sprintf("lesson_opened open/%d", video)}, b.events(t, video))
	w, pos := b.watched(t, video)
	require.Equal(t, make([]bool, 7), w)
	require.Zero(t, pos)

	// A quiz page shows the question to answer by SMS.
	v, err = b.store.OpenLesson(ctx, b.tokens["quiz"])
	require.NoError(t, err)
	require.Equal(t, lessons.AssignmentPending, v.Status)
	require.Equal(t, []string{fmt.Sprintf("lesson_opened open/%d", quiz)}, b.events(t, quiz))
	require.False(t, v.AwaitingAnswer, "no question is sent yet")
	require.Equal(t, lessons.EnrollmentActive, b.enrollmentStatus(t, b.enrollmentID))

	// Only a text lesson has a Done button.
	_, err = b.store.CompleteTextLesson(ctx, b.tokens["video"])
	requireCode(t, err, errs.Invalid)
	require.Equal(t, []string{fmt.Sprintf("lesson_opened open/%d", video)}, b.events(t, video))
}

func TestCompleteTextLesson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spec := testSpec("reading")
	spec.TextCompletion = lessons.TextCompleteOnDone
	spec.Lessons = []lessons.Lesson{
		{Key: "one", Kind: lessons.KindText, Title: "One", Body: "First."},
		{Key: "two", Kind: lessons.KindText, Title: "Two", Body: "Second."},
	}
	b := setupPage(t, spec, "+13125550170")
	one := b.assignments["one"]

	// Opening records lesson_opened, under one key however often, and leaves
	// the lesson open.
	for range 2 {
		v, err := b.store.OpenLesson(ctx, b.tokens["one"])
		require.NoError(t, err)
		require.Equal(t, lessons.TextCompleteOnDone, v.TextCompletion)
		require.False(t, v.Done())
	}
	opened := fmt.Sprintf("lesson_opened open/%d", one)
	require.Equal(t, []string{opened, opened}, b.events(t, one))
	status, _ := b.status(t, one)
	require.NotEqual(t, lessons.AssignmentCompleted, status)

	// The Done button completes it, once, even pressed in two tabs at once.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			v, err := b.store.CompleteTextLesson(ctx, b.tokens["one"])
			require.NoError(t, err)
			require.True(t, v.Done())
		})
	}
	wg.Wait()
	status, at := b.status(t, one)
	require.Equal(t, lessons.AssignmentCompleted, status)
	require.True(t, at.Equal(b.now))
	require.Equal(t, []string{opened, opened, fmt.Sprintf("lesson_completed done/%d", one)}, b.events(t, one))
	var detail string
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT detail FROM event_outbox WHERE event_key = $1`, fmt.Sprintf("done/%d", one)).Scan(&detail))
	require.JSONEq(t, `{"kind":"text"}`, detail)
	require.Equal(t, lessons.EnrollmentActive, b.enrollmentStatus(t, b.enrollmentID))

	// Done without opening first completes it too, and the enrollment with it.
	_, err := b.store.CompleteTextLesson(ctx, b.tokens["two"])
	require.NoError(t, err)
	require.Equal(t, lessons.EnrollmentCompleted, b.enrollmentStatus(t, b.enrollmentID))

	// Unknown links are not found.
	_, err = b.store.CompleteTextLesson(ctx, newLinkToken(t))
	requireCode(t, err, errs.NotFound)
	_, err = b.store.CompleteTextLesson(ctx, "nope")
	requireCode(t, err, errs.NotFound)
}

func TestOpenLessonCompletesTheEnrollment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spec := testSpec("reading")
	spec.Lessons = []lessons.Lesson{
		{Key: "one", Kind: lessons.KindText, Title: "One", Body: "First."},
		{Key: "two", Kind: lessons.KindText, Title: "Two", Body: "Second."},
	}
	b := setupPage(t, spec, "+13125550160")
	_, err := b.store.OpenLesson(ctx, b.tokens["two"])
	require.NoError(t, err)
	require.Equal(t, lessons.EnrollmentActive, b.enrollmentStatus(t, b.enrollmentID))
	_, err = b.store.OpenLesson(ctx, b.tokens["one"])
	require.NoError(t, err)
	require.Equal(t, lessons.EnrollmentCompleted, b.enrollmentStatus(t, b.enrollmentID))
}

func TestRecordWatched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spec := testSpec("watching")
	spec.Lessons = spec.Lessons[:2] // text, then the 95-second video: 7 segments
	b := setupPage(t, spec, "+13125550170")
	video, text := b.assignments["video"], b.assignments["intro"]
	other := b.addRep(t, "Ben Rep", "+13125550171")
	otherEnrollment := b.enroll(t, other)
	otherVideo := b.assignment(t, otherEnrollment, "video")

	// One batch for two reps, with repeats, segments outside the video and a
	// text lesson, which are ignored.
	batch := []lessons.WatchedSegment{
		{AssignmentID: video, Segment: 0, Position: 15},
		{AssignmentID: otherVideo, Segment: 3, Position: 60},
		{AssignmentID: video, Segment: 2, Position: 45},
		{AssignmentID: video, Segment: 0, Position: 15},
		{AssignmentID: video, Segment: 7, Position: 95},
		{AssignmentID: video, Segment: -1, Position: 0},
		{AssignmentID: text, Segment: 0, Position: 15},
		{AssignmentID: 999999, Segment: 0, Position: 15},
		{AssignmentID: video, Segment: 1, Position: 30.5},
	}
	b.recordWatched(t, batch...)
	w, pos := b.watched(t, video)
	require.Equal(t, []bool{true, true, true, false, false, false, false}, w)
	require.Equal(t, 30.5, pos, "the last position given")
	w, pos = b.watched(t, otherVideo)
	require.Equal(t, []bool{false, false, false, true, false, false, false}, w)
	require.Equal(t, 60.0, pos)
	w, _ = b.watched(t, text)
	require.Nil(t, w, "a text lesson has no video progress")

	// Later batches OR in; 6 of 7 segments (85%) is under 90%.
	b.recordWatched(t, segs(video, 4, 6)...)
	w, pos = b.watched(t, video)
	require.Equal(t, []bool{true, true, true, false, true, true, true}, w)
	require.Equal(t, 105.0, pos)
	status, _ := b.status(t, video)
	require.Equal(t, lessons.AssignmentPending, status)
	require.Empty(t, b.events(t, video))

	// The lesson page agrees: it resumes at the gap.
	v, err := b.store.LessonByToken(ctx, b.tokens["video"])
	require.NoError(t, err)
	require.Equal(t, 45, v.ResumeAt())
	require.Equal(t, 85, v.WatchedPercent())

	// The last one completes the lesson, once; the text lesson is still open,
	// so the enrollment is not complete yet.
	played := b.now.Add(-time.Hour)
	b.recordWatched(t, lessons.WatchedSegment{AssignmentID: video, Segment: 3, Position: 60, At: played})
	status, at := b.status(t, video)
	require.Equal(t, lessons.AssignmentCompleted, status)
	require.True(t, at.Equal(b.now))
	require.Equal(t, []string{fmt.Sprintf("lesson_completed done/%d", video)}, b.events(t, video))
	var value float64
	var occurred time.Time
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT value, occurred_at FROM event_outbox WHERE assignment_id = $1`, video).Scan(&value, &occurred))
	require.Equal(t, 100.0, value)
	require.True(t, occurred.Equal(played), "the completion is dated when the segment was played")
	require.Equal(t, lessons.EnrollmentActive, b.enrollmentStatus(t, b.enrollmentID))
	v, err = b.store.LessonByToken(ctx, b.tokens["video"])
	require.NoError(t, err)
	require.Zero(t, v.ResumeAt(), "watched to the end: start again from the beginning")

	b.recordWatched(t, segs(video, 0, 6)...)
	require.Len(t, b.events(t, video), 1, "completed once")

	// Opening the text lesson finishes the course.
	_, err = b.store.OpenLesson(ctx, b.tokens["intro"])
	require.NoError(t, err)
	require.Equal(t, lessons.EnrollmentCompleted, b.enrollmentStatus(t, b.enrollmentID))

	// Segments after the enrollment was cancelled are kept but complete nothing.
	_, err = b.store.Pool().Exec(ctx, `UPDATE enrollments SET status = 'cancelled' WHERE id = $1`, otherEnrollment)
	require.NoError(t, err)
	b.recordWatched(t, segs(otherVideo, 0, 6)...)
	w, _ = b.watched(t, otherVideo)
	require.Equal(t, 100, tracking.WatchedPercent(w))
	status, _ = b.status(t, otherVideo)
	require.Equal(t, lessons.AssignmentPending, status)

	require.NoError(t, b.store.RecordWatched(ctx, nil, nil), "nothing to do needs no transaction")
}

// TestRecordWatchedConcurrently completes a lesson once when two shipping
// transactions bring its last segments at the same time.
func TestRecordWatchedConcurrently(t *testing.T) {
	t.Parallel()
	spec := testSpec("racing")
	spec.Lessons = spec.Lessons[1:2]
	b := setupPage(t, spec, "+13125550180")
	video := b.assignments["video"]
	b.recordWatched(t, segs(video, 0, 4)...)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { b.recordWatched(t, segs(video, 5+i, 5+i)...) })
	}
	wg.Wait()
	w, _ := b.watched(t, video)
	require.Equal(t, 100, tracking.WatchedPercent(w))
	require.Equal(t, []string{fmt.Sprintf("lesson_completed done/%d", video)}, b.events(t, video))
	require.Equal(t, lessons.EnrollmentCompleted, b.enrollmentStatus(t, b.enrollmentID))
}

// TestRecordWatchedBatch records a shipper's batch: thousands of segments of
// many reps in one call.
func TestRecordWatchedBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spec := testSpec("bulk")
	spec.Lessons = spec.Lessons[1:2]
	spec.Lessons[0].VideoSeconds = 3600 // 240 segments
	b := setupPage(t, spec, "+13125550190")
	videos := []int64{b.assignments["video"]}
	for i := range 19 {
		rep := b.addRep(t, fmt.Sprintf("Rep %d", i), fmt.Sprintf("+1312555%04d", 300+i))
		videos = append(videos, b.assignment(t, b.enroll(t, rep), "video"))
	}
	var batch []lessons.WatchedSegment
	for seg := range 240 {
		for i, id := range videos {
			if i%2 == 0 || seg%2 == 0 { // odd reps watch every other segment
				batch = append(batch, lessons.WatchedSegment{AssignmentID: id, Segment: seg, Position: float64(seg * 15)})
			}
		}
	}
	require.Greater(t, len(batch), 3000)
	start := time.Now()
	b.recordWatched(t, batch...)
	t.Logf("%d segments of %d videos in %v", len(batch), len(videos), time.Since(start))
	for i, id := range videos {
		w, pos := b.watched(t, id)
		require.Len(t, w, 240)
		if i%2 == 0 {
			require.Equal(t, 100, tracking.WatchedPercent(w))
			require.Equal(t, 239.0*15, pos)
		} else {
			require.Equal(t, 50, tracking.WatchedPercent(w))
			require.Equal(t, 238.0*15, pos)
		}
	}
	var completed int
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM event_outbox WHERE kind = 'lesson_completed'`).Scan(&completed))
	require.Equal(t, 10, completed)
}

func TestWatchedSegments(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	events := []tracking.Event{
		{Kind: tracking.KindSegmentWatched, AssignmentID: 7, Value: 3, OccurredAt: at, Detail: `{"position":59.5,"rate":2,"session":"abcdefgh"}`},
		{Kind: tracking.KindLessonOpened, AssignmentID: 7},
		{Kind: tracking.KindSegmentWatched, AssignmentID: 7, Value: 4, OccurredAt: at, Detail: `garbled`},
		{Kind: tracking.KindSegmentWatched, AssignmentID: 7, Value: 5, Deleted: true},
		{Kind: tracking.KindSegmentWatched, Value: 1},
	}
	require.Equal(t, []lessons.WatchedSegment{
		{AssignmentID: 7, Segment: 3, Position: 59.5, At: at},
		{AssignmentID: 7, Segment: 4, Position: 75, At: at},
	}, lessons.WatchedSegments(events))
}

// videoCourse stores a course of one video lesson of seconds that completes
// at percent, enrolls a new rep in it and returns the rep's assignment.
func (b pageBundle) videoCourse(t *testing.T, slug string, seconds, percent int, phone string) int64 {
	t.Helper()
	spec := testSpec(slug)
	spec.Lessons = []lessons.Lesson{{Key: "video", Kind: lessons.KindVideo, Title: "Watch", VideoURL: "/media/demo.mp4", VideoSeconds: seconds}}
	spec.VideoCompletePercent = percent
	v, err := b.store.SaveCourse(context.Background(), b.org.ID, spec, true)
	require.NoError(t, err)
	b.courseID = v.CourseID
	return b.assignment(t, b.enroll(t, b.addRep(t, "Rep "+slug, phone)), "video")
}

// TestRecordWatchedThreshold completes a video lesson when its watched share,
// rounded down, reaches the course's percent, and not a segment before.
func TestRecordWatchedThreshold(t *testing.T) {
	t.Parallel()
	spec := testSpec("threshold")
	spec.Lessons = spec.Lessons[1:2]
	b := setupPage(t, spec, "+13125550200")
	tests := []struct {
		seconds, percent int
		watched          int // the first segments
		completes        bool
	}{
		{95, 90, 6, false}, // 7 segments: 6 is 85%
		{95, 90, 7, true},
		{150, 90, 8, false}, // 10 segments
		{150, 90, 9, true},  // exactly 90%
		{150, 100, 9, false},
		{150, 100, 10, true},
		{15, 1, 0, false}, // one segment
		{15, 1, 1, true},
		{3600, 50, 119, false}, // 240 segments
		{3600, 50, 120, true},
		{3599, 50, 120, true}, // the last segment shorter: still 240
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%ds_%dpct_%d", tt.seconds, tt.percent, tt.watched), func(t *testing.T) {
			a := b.videoCourse(t, fmt.Sprintf("threshold-%d", i), tt.seconds, tt.percent, fmt.Sprintf("+1312555%04d", 2100+i))
			if tt.watched > 0 {
				b.recordWatched(t, segs(a, 0, tt.watched-1)...)
			} else {
				b.recordWatched(t, lessons.WatchedSegment{AssignmentID: a, Segment: 1, Position: 15}) // past the end
			}
			w, _ := b.watched(t, a)
			require.Len(t, w, tracking.SegmentCount(tt.seconds))
			require.Equal(t, tt.watched, countTrue(w))
			status, _ := b.status(t, a)
			if tt.completes {
				require.Equal(t, lessons.AssignmentCompleted, status)
				require.Equal(t, []string{fmt.Sprintf("lesson_completed done/%d", a)}, b.events(t, a))
			} else {
				require.NotEqual(t, lessons.AssignmentCompleted, status)
				require.Empty(t, b.events(t, a))
			}
		})
	}
}

func countTrue(w []bool) int {
	n := 0
	for _, x := range w {
		if x {
			n++
		}
	}
	return n
}

// TestRecordWatchedBatchAsOneByOne records the same segments for two reps, in
// one batch for the one and a call a segment for the other: the progress, the
// resume point and the completion come out the same. (The completion's value
// and time are those of its batch: the share and the latest segment.)
func TestRecordWatchedBatchAsOneByOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spec := testSpec("one-by-one")
	spec.Lessons = spec.Lessons[1:2]
	b := setupPage(t, spec, "+13125550220")
	streams := []struct {
		name string
		segs []int
	}{
		{"in order", []int{0, 1, 2, 3, 4, 5, 6}},
		{"backwards with repeats", []int{6, 6, 5, 4, 4, 3, 2, 1}},
		{"gaps and junk", []int{0, 9, -1, 2, 4, 2, 100000, 6}},
		{"completes and goes on", []int{0, 1, 2, 3, 4, 5, 6, 0, 3}},
		{"one segment", []int{3}},
	}
	for i, st := range streams {
		t.Run(st.name, func(t *testing.T) {
			batched := b.videoCourse(t, fmt.Sprintf("batched-%d", i), 95, 90, fmt.Sprintf("+1312555%04d", 2200+i))
			single := b.videoCourse(t, fmt.Sprintf("single-%d", i), 95, 90, fmt.Sprintf("+1312555%04d", 2300+i))
			var batch []lessons.WatchedSegment
			for j, s := range st.segs {
				g := lessons.WatchedSegment{Segment: s, Position: float64(j) + 0.5, At: b.now.Add(time.Duration(j) * time.Second)}
				g.AssignmentID = batched
				batch = append(batch, g)
				g.AssignmentID = single
				b.recordWatched(t, g)
			}
			b.recordWatched(t, batch...)

			wb, pb := b.watched(t, batched)
			ws, ps := b.watched(t, single)
			require.Equal(t, ws, wb)
			require.Equal(t, ps, pb, "the last position given")
			sb, _ := b.status(t, batched)
			ss, _ := b.status(t, single)
			require.Equal(t, ss, sb)
			require.Len(t, b.events(t, batched), len(b.events(t, single)), "completed once, or not")
			var resumeB, resumeS int
			for _, pair := range []struct {
				a   int64
				out *int
			}{{batched, &resumeB}, {single, &resumeS}} {
				var token string
				require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT token FROM lesson_links WHERE assignment_id = $1`, pair.a).Scan(&token))
				v, err := b.store.LessonByToken(ctx, token)
				require.NoError(t, err)
				*pair.out = v.ResumeAt()
			}
			require.Equal(t, resumeS, resumeB)
		})
	}
}
