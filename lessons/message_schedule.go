package lessons

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/sms"
)

// Step is a message scheduled to go out at a time: what the scheduler turns
// into a job.
type Step struct {
	MessageID int64
	At        time.Time
}

// scheduleFirstSteps schedules the first lesson of each new enrollment at the
// course's first cadence slot in the rep's time zone, inside tx. It returns the
// steps to queue in the same transaction.
func (s *Store) scheduleFirstSteps(ctx context.Context, tx pgx.Tx, enrollments []Enrollment) ([]Step, error) {
	var ids, now []int64
	for _, e := range enrollments {
		if e.StartNow {
			now = append(now, e.ID)
		} else {
			ids = append(ids, e.ID)
		}
	}
	steps, err := s.scheduleNext(ctx, tx, ids, nil, false)
	if err != nil || len(now) == 0 {
		return steps, err
	}
	started, err := s.scheduleNext(ctx, tx, now, nil, true)
	return append(steps, started...), err
}

// scheduleNext schedules the next pending lesson of each enrollment: at the
// first cadence slot after `after` (or after enrollment, when after is nil),
// or with immediate, now if the send window is open, else when it opens.
// Enrollments with nothing pending are left as they are.
func (s *Store) scheduleNext(ctx context.Context, tx pgx.Tx, enrollmentIDs []int64, after *time.Time, immediate bool) ([]Step, error) {
	if len(enrollmentIDs) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT e.id, e.org_id, e.rep_id, e.course_version_id, coalesce(e.starts_at, e.enrolled_at), r.time_zone,
			a.id, a.lesson_id, coalesce(a.questions[1], 0),
			(SELECT count(*) FROM assignments x WHERE x.enrollment_id = e.id AND x.status <> 'skipped' AND x.position <= a.position),
			(SELECT count(*) FROM assignments x WHERE x.enrollment_id = e.id AND x.status <> 'skipped')
		FROM enrollments e
		JOIN reps r ON r.id = e.rep_id
		JOIN LATERAL (
			SELECT id, lesson_id, position, questions FROM assignments
			WHERE enrollment_id = e.id AND status = 'pending' ORDER BY position LIMIT 1
		) a ON true
		WHERE e.id = ANY($1) AND e.status = 'active'`, enrollmentIDs)
	if err != nil {
		return nil, fmt.Errorf("find next lessons: %w", err)
	}
	type next struct {
		enrollmentID, orgID, repID, versionID int64
		enrolledAt                            time.Time // or when it starts, if later
		tz                                    string
		assignmentID, lessonID                int64
		firstQuestion, step, steps            int
	}
	nexts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (next, error) {
		var n next
		return n, r.Scan(&n.enrollmentID, &n.orgID, &n.repID, &n.versionID, &n.enrolledAt, &n.tz,
			&n.assignmentID, &n.lessonID, &n.firstQuestion, &n.step, &n.steps)
	})
	if err != nil {
		return nil, fmt.Errorf("find next lessons: %w", err)
	}
	now := s.Now()
	var batch messageBatch
	for _, n := range nexts {
		v, err := s.version(ctx, tx, n.versionID)
		if err != nil {
			return nil, err
		}
		loc, err := Location(n.tz)
		if err != nil {
			return nil, fmt.Errorf("rep %d time zone %q: %w", n.repID, n.tz, err)
		}
		// Interval cadences count their days from the enrollment.
		var at time.Time
		switch c, w := v.Spec.Cadence, v.Spec.SendWindow; {
		case immediate:
			at = InWindow(w, loc, now)
		case after != nil:
			at = NextStepTime(c, w, loc, n.enrolledAt, *after)
		case now.After(n.enrolledAt):
			at = NextStepTime(c, w, loc, n.enrolledAt, now.Add(-time.Nanosecond))
		default:
			at = FirstStepTime(c, w, loc, n.enrolledAt)
		}
		l := v.lesson(n.lessonID)
		m := Message{Question: n.firstQuestion, OrgID: n.orgID, RepID: n.repID, EnrollmentID: n.enrollmentID, AssignmentID: n.assignmentID,
			Outbound: true, ScheduledAt: at, CreatedAt: now, Status: MessageScheduled}
		if l.Kind == KindQuiz {
			m.Purpose, m.Body = PurposeQuestion, QuestionText(*l, n.firstQuestion)
		} else {
			token := newLinkToken()
			batch.links = append(batch.links, link{token: token, assignmentID: n.assignmentID, repID: n.repID})
			m.Purpose, m.Body = PurposeLesson, LessonText(v.Spec.Title, n.step, n.steps, *l, lessonLink(s.publicURL, token))
		}
		batch.add(m)
	}
	return batch.insert(ctx, tx, now)
}

// link is a lesson page token about to be stored.
type link struct {
	token        string
	assignmentID int64
	repID        int64
}

// messageBatch gathers new outbound messages to insert in one statement.
type messageBatch struct {
	msgs  []Message
	links []link
}

func (b *messageBatch) add(m Message) {
	m.Encoding, m.Segments = sms.Segments(m.Body)
	b.msgs = append(b.msgs, m)
}

// insert stores the messages (and links), marks their assignments scheduled,
// and returns them as steps.
func (b *messageBatch) insert(ctx context.Context, tx pgx.Tx, now time.Time) ([]Step, error) {
	if len(b.msgs) == 0 {
		return nil, nil
	}
	if len(b.links) > 0 {
		tokens, assignments, reps := make([]string, len(b.links)), make([]int64, len(b.links)), make([]int64, len(b.links))
		for i, l := range b.links {
			tokens[i], assignments[i], reps[i] = l.token, l.assignmentID, l.repID
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO lesson_links (token, assignment_id, rep_id, created_at)
			SELECT t, a, r, $4 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(t, a, r)
			ON CONFLICT (assignment_id) DO UPDATE SET token = excluded.token, created_at = excluded.created_at`,
			tokens, assignments, reps, now)
		if err != nil {
			return nil, fmt.Errorf("store lesson links: %w", err)
		}
	}
	n := len(b.msgs)
	orgs, reps, enrollments, assignments := make([]int64, n), make([]int64, n), make([]*int64, n), make([]*int64, n)
	questions, segments := make([]*int32, n), make([]int32, n)
	purposes, bodies, encodings := make([]string, n), make([]string, n), make([]string, n)
	at := make([]time.Time, n)
	for i, m := range b.msgs {
		orgs[i], reps[i], purposes[i], bodies[i], encodings[i] = m.OrgID, m.RepID, string(m.Purpose), m.Body, string(m.Encoding)
		segments[i], at[i] = int32(m.Segments), m.ScheduledAt
		if m.EnrollmentID != 0 {
			enrollments[i] = &b.msgs[i].EnrollmentID
		}
		if m.AssignmentID != 0 {
			assignments[i] = &b.msgs[i].AssignmentID
		}
		if m.Purpose == PurposeQuestion || m.Purpose == PurposeFeedback || m.Purpose == PurposeHint || m.Purpose == PurposeReview {
			q := int32(m.Question)
			questions[i] = &q
		}
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO messages (org_id, rep_id, enrollment_id, assignment_id, question, direction, purpose, body,
			encoding, segments, status, scheduled_at, created_at, updated_at)
		SELECT o, r, e, a, q, 'outbound', p, b, enc, seg, 'scheduled', at, $11, $11
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::text[],
			$8::text[], $9::int[], $10::timestamptz[]) WITH ORDINALITY AS u(o, r, e, a, q, p, b, enc, seg, at, i)
		ORDER BY i
		RETURNING id`,
		orgs, reps, enrollments, assignments, questions, purposes, bodies, encodings, segments, at, now)
	if err != nil {
		return nil, fmt.Errorf("store messages: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store messages: %w", err)
	}
	var scheduled []int64
	steps := make([]Step, n)
	for i, id := range ids {
		steps[i] = Step{MessageID: id, At: b.msgs[i].ScheduledAt}
		if b.msgs[i].AssignmentID != 0 {
			scheduled = append(scheduled, b.msgs[i].AssignmentID)
		}
	}
	if len(scheduled) > 0 {
		_, err = tx.Exec(ctx, `UPDATE assignments SET status = 'scheduled', scheduled_at = $2
			WHERE id = ANY($1) AND status = 'pending'`, scheduled, now)
		if err != nil {
			return nil, fmt.Errorf("mark assignments scheduled: %w", err)
		}
	}
	return steps, nil
}

// afterFeedback sends the quiz's next question, or when the quiz is complete,
// schedules the next lesson.
func (s *Store) afterFeedback(ctx context.Context, tx pgx.Tx, enrollmentID, assignmentID int64, answered int, now time.Time) ([]Step, error) {
	var status AssignmentStatus
	var versionID, lessonID, orgID, repID int64
	var subset []int32
	err := tx.QueryRow(ctx, `
		SELECT a.status, e.course_version_id, a.lesson_id, a.questions, e.org_id, e.rep_id
		FROM assignments a JOIN enrollments e ON e.id = a.enrollment_id WHERE a.id = $1`, assignmentID).
		Scan(&status, &versionID, &lessonID, &subset, &orgID, &repID)
	if err != nil {
		return nil, fmt.Errorf("read assignment %d: %w", assignmentID, err)
	}
	if status == AssignmentCompleted {
		return s.scheduleNext(ctx, tx, []int64{enrollmentID}, &now, false)
	}
	v, err := s.version(ctx, tx, versionID)
	if err != nil {
		return nil, err
	}
	l := v.lesson(lessonID)
	asked := quizQuestions(l, subset)
	for i, q := range asked {
		if q == answered && i+1 < len(asked) {
			var batch messageBatch
			batch.add(Message{OrgID: orgID, RepID: repID, EnrollmentID: enrollmentID, AssignmentID: assignmentID,
				Question: asked[i+1], Outbound: true, Purpose: PurposeQuestion, Body: QuestionText(*l, asked[i+1]),
				ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
			return batch.insert(ctx, tx, now)
		}
	}
	return nil, nil
}

// quizQuestions returns the indexes of the questions an assignment of the quiz
// asks, in order: all of them, or the subset of a retake.
func quizQuestions(l *Lesson, subset []int32) []int {
	if len(subset) > 0 {
		out := make([]int, len(subset))
		for i, q := range subset {
			out[i] = int(q)
		}
		return out
	}
	out := make([]int, len(l.Questions))
	for i := range out {
		out[i] = i
	}
	return out
}

// linkTokenLen is the length of a lesson link token: 16 bytes in base64.
const linkTokenLen = 22

// lessonLink is the link to a lesson page in a message.
func lessonLink(publicURL, token string) string { return publicURL + "/l/" + token }

// SampleLessonLink is a lesson link as long as the real ones, for measuring
// a message before it is sent.
func SampleLessonLink(publicURL string) string {
	return lessonLink(publicURL, strings.Repeat("A", linkTokenLen))
}

// newLinkToken returns an unguessable lesson link token: 128 random bits.
func newLinkToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
