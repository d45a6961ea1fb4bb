package lessons

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/tracking"
)

// reply is an inbound message with what answering it needs.
type reply struct {
	id, orgID, repID int64
	body             string
	repActive        bool
	optedOut         bool
	helpText         string
	advancedOptOut   bool
	orgName          string
}

// openQuestion is the question a reply may answer: the newest question (or
// review) sent to the rep, if it is not answered yet.
type openQuestion struct {
	messageID, assignmentID, enrollmentID int64
	question                              int
	purpose                               MessagePurpose
	versionID                             int64
	lessonID                              int64
}

// ProcessReply acts on an inbound message inside tx: STOP, START and HELP, or
// an answer to the open quiz question, which it grades. It returns the
// messages to send, for the scheduler to queue in the same transaction.
func (s *Store) ProcessReply(ctx context.Context, tx pgx.Tx, id int64) ([]Step, error) {
	var r reply
	var repStatus *RepStatus
	err := tx.QueryRow(ctx, `
		SELECT m.id, coalesce(m.org_id, 0), coalesce(m.rep_id, 0), m.body, r.status, r.opted_out_at IS NOT NULL,
			coalesce(o.help_text, ''), coalesce(o.twilio_advanced_opt_out, false), coalesce(o.name, '')
		FROM messages m LEFT JOIN reps r ON r.id = m.rep_id LEFT JOIN organisations o ON o.id = m.org_id
		WHERE m.id = $1 AND m.direction = 'inbound'`, id).
		Scan(&r.id, &r.orgID, &r.repID, &r.body, &repStatus, &r.optedOut, &r.helpText, &r.advancedOptOut, &r.orgName)
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("inbound message %d", id))
	}
	r.repActive = repStatus != nil && *repStatus == RepActive
	if !r.repActive {
		return nil, nil // unknown or removed: kept, not answered
	}
	now := s.Now()
	var batch messageBatch
	say := func(purpose MessagePurpose, body string) {
		batch.add(Message{OrgID: r.orgID, RepID: r.repID, Outbound: true, Purpose: purpose, Body: body,
			ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
	}
	switch ParseKeyword(r.body) {
	case KeywordStop:
		if err := s.optOut(ctx, tx, r.orgID, r.repID, now); err != nil {
			return nil, err
		}
		if !r.advancedOptOut {
			say(PurposeConfirmation, fmt.Sprintf("You're unsubscribed from %s training texts. Reply START to resume.", r.orgName))
		}
		return batch.insert(ctx, tx, now)
	case KeywordStart:
		if !r.optedOut {
			break // "Yes" from a rep who never left may answer a question
		}
		if _, err := tx.Exec(ctx, `UPDATE reps SET opted_out_at = NULL, updated_at = $2 WHERE id = $1`, r.repID, now); err != nil {
			return nil, fmt.Errorf("opt rep %d in: %w", r.repID, err)
		}
		if err := tracking.Append(ctx, tx, optEvent(tracking.KindOptedIn, r.orgID, r.repID, now)); err != nil {
			return nil, err
		}
		if err := appendRepFacts(ctx, tx, now, r.repID); err != nil {
			return nil, err
		}
		if !r.advancedOptOut {
			say(PurposeConfirmation, fmt.Sprintf("You're back on %s training texts. Reply STOP to opt out.", r.orgName))
		}
		steps, err := batch.insert(ctx, tx, now)
		if err != nil {
			return nil, err
		}
		resumed, err := s.resume(ctx, tx, r.repID, now)
		return append(steps, resumed...), err
	case KeywordHelp:
		if !r.advancedOptOut {
			say(PurposeHelp, r.helpText)
		}
		return batch.insert(ctx, tx, now)
	}
	if r.optedOut {
		return nil, nil // an opted-out rep's answers are kept, not graded
	}
	q, found, err := s.openQuestion(ctx, tx, r.repID)
	if err != nil {
		return nil, err
	}
	if !found {
		say(PurposeHelp, "There's no question open right now: your next lesson is on its way. Reply HELP for help, STOP to opt out.")
		return batch.insert(ctx, tx, now)
	}
	v, err := s.version(ctx, tx, q.versionID)
	if err != nil {
		return nil, err
	}
	l := v.lesson(q.lessonID)
	question := l.Questions[q.question]
	choice, ok := ParseAnswer(r.body, question.Choices)
	if !ok {
		letters := make([]string, len(question.Choices))
		for i := range letters {
			letters[i] = ChoiceLetter(i)
		}
		hint := fmt.Sprintf("Reply with just one letter, %s or %s. ", strings.Join(letters[:len(letters)-1], ", "), letters[len(letters)-1])
		batch.add(Message{OrgID: r.orgID, RepID: r.repID, EnrollmentID: q.enrollmentID, AssignmentID: q.assignmentID,
			Question: q.question, Outbound: true, Purpose: PurposeHint, Body: hint + QuestionText(*l, q.question),
			ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
		return batch.insert(ctx, tx, now)
	}
	correct := choice == question.Correct
	tag, err := tx.Exec(ctx, `
		INSERT INTO attempts (org_id, rep_id, assignment_id, question, asked_id, reply_id, choice, correct, answered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (asked_id) DO NOTHING`,
		r.orgID, r.repID, q.assignmentID, q.question, q.messageID, r.id, choice, correct, now)
	if err != nil {
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, nil // another reply answered it first
	}
	score := 0.0
	if correct {
		score = 1
	}
	err = tracking.Append(ctx, tx, tracking.Event{OrgID: r.orgID, RepID: r.repID,
		Key: fmt.Sprintf("grade/%d/%d/%d", q.assignmentID, q.question, q.messageID), Kind: tracking.KindGraded, OccurredAt: now,
		CourseID: v.CourseID, EnrollmentID: q.enrollmentID, AssignmentID: q.assignmentID, LessonID: q.lessonID, Value: score,
		Detail: fmt.Sprintf(`{"question":%d,"choice":%d,"purpose":%q}`, q.question, choice, q.purpose)})
	if err != nil {
		return nil, err
	}
	feedback := "Correct! " + question.Explanation
	if !correct {
		feedback = fmt.Sprintf("Not quite: the answer is %s) %s. %s", ChoiceLetter(question.Correct), question.Choices[question.Correct], question.Explanation)
	}
	batch.add(Message{OrgID: r.orgID, RepID: r.repID, EnrollmentID: q.enrollmentID, AssignmentID: q.assignmentID,
		Question: q.question, Outbound: true, Purpose: PurposeFeedback, Body: strings.TrimSpace(feedback),
		ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
	switch q.purpose {
	case PurposeQuestion:
		reviews, err := s.afterAnswer(ctx, tx, q, v)
		if err != nil {
			return nil, err
		}
		for _, m := range reviews {
			batch.add(m)
		}
	case PurposeReview:
		if correct { // asked again until answered correctly
			if err := s.cancelReviews(ctx, tx, q.assignmentID, q.question); err != nil {
				return nil, err
			}
		}
	}
	return batch.insert(ctx, tx, now)
}

// optOut records a STOP and cancels what was scheduled for the rep.
func (s *Store) optOut(ctx context.Context, tx pgx.Tx, orgID, repID int64, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE reps SET opted_out_at = coalesce(opted_out_at, $2), updated_at = $2 WHERE id = $1`, repID, now); err != nil {
		return fmt.Errorf("opt rep %d out: %w", repID, err)
	}
	if err := tracking.Append(ctx, tx, optEvent(tracking.KindOptedOut, orgID, repID, now)); err != nil {
		return err
	}
	if err := appendRepFacts(ctx, tx, now, repID); err != nil {
		return err
	}
	return s.holdScheduled(ctx, tx, "rep_id", repID, "the rep opted out")
}

// resume continues each active enrollment of the rep who opted back in.
func (s *Store) resume(ctx context.Context, tx pgx.Tx, repID int64, now time.Time) ([]Step, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM enrollments WHERE rep_id = $1 AND status = 'active'`, repID)
	if err != nil {
		return nil, fmt.Errorf("find enrollments to resume: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find enrollments to resume: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.continueEnrollments(ctx, tx, ids, now)
}

// openQuestion finds the question a reply from the rep answers.
func (s *Store) openQuestion(ctx context.Context, tx pgx.Tx, repID int64) (openQuestion, bool, error) {
	var q openQuestion
	var answered bool
	err := tx.QueryRow(ctx, `
		SELECT m.id, m.assignment_id, m.enrollment_id, m.question, m.purpose, e.course_version_id, a.lesson_id,
			EXISTS (SELECT FROM attempts t WHERE t.asked_id = m.id)
		FROM messages m
		JOIN assignments a ON a.id = m.assignment_id
		JOIN enrollments e ON e.id = m.enrollment_id
		WHERE m.rep_id = $1 AND m.direction = 'outbound' AND m.purpose IN ('question', 'review')
			AND m.status NOT IN ('scheduled', 'cancelled', 'failed')
		ORDER BY m.id DESC LIMIT 1`, repID).
		Scan(&q.messageID, &q.assignmentID, &q.enrollmentID, &q.question, &q.purpose, &q.versionID, &q.lessonID, &answered)
	if err == pgx.ErrNoRows || answered {
		return openQuestion{}, false, nil
	}
	if err != nil {
		return openQuestion{}, false, fmt.Errorf("find the open question: %w", err)
	}
	return q, true, nil
}

// afterAnswer completes the quiz when that was its last question: it scores
// it, adapts the rep's path by the course's rules, and completes the
// enrollment if nothing is left. MarkAccepted of the feedback then sends what
// comes next. It returns review questions to schedule.
func (s *Store) afterAnswer(ctx context.Context, tx pgx.Tx, q openQuestion, v *CourseVersion) ([]Message, error) {
	var subset []int32
	var attempt, position int
	err := tx.QueryRow(ctx, `SELECT questions, attempt, position FROM assignments WHERE id = $1`, q.assignmentID).
		Scan(&subset, &attempt, &position)
	if err != nil {
		return nil, fmt.Errorf("read assignment %d: %w", q.assignmentID, err)
	}
	l := v.lesson(q.lessonID)
	asked := quizQuestions(l, subset)
	if asked[len(asked)-1] != q.question {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT t.question, t.correct FROM attempts t JOIN messages m ON m.id = t.asked_id
		WHERE t.assignment_id = $1 AND m.purpose = 'question' ORDER BY t.question`, q.assignmentID)
	if err != nil {
		return nil, fmt.Errorf("score quiz: %w", err)
	}
	res := QuizResult{Quiz: l.Key, Attempt: attempt, Total: len(asked), PassMark: v.Spec.PassMark}
	for rows.Next() {
		var question int
		var correct bool
		if err := rows.Scan(&question, &correct); err != nil {
			rows.Close()
			return nil, fmt.Errorf("score quiz: %w", err)
		}
		if correct {
			res.Correct++
		} else {
			res.Missed = append(res.Missed, question)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("score quiz: %w", err)
	}
	now := s.Now()
	score := float64(res.Correct) * 100 / float64(res.Total)
	if _, err := tx.Exec(ctx, `UPDATE assignments SET status = 'completed', completed_at = $2, score = $3 WHERE id = $1`,
		q.assignmentID, now, score); err != nil {
		return nil, fmt.Errorf("complete quiz: %w", err)
	}
	var orgID, repID int64
	if err := tx.QueryRow(ctx, `SELECT org_id, rep_id FROM enrollments WHERE id = $1`, q.enrollmentID).Scan(&orgID, &repID); err != nil {
		return nil, fmt.Errorf("read enrollment %d: %w", q.enrollmentID, err)
	}
	err = tracking.Append(ctx, tx, tracking.Event{OrgID: orgID, RepID: repID, Key: fmt.Sprintf("done/%d", q.assignmentID),
		Kind: tracking.KindLessonCompleted, OccurredAt: now, CourseID: v.CourseID, EnrollmentID: q.enrollmentID,
		AssignmentID: q.assignmentID, LessonID: q.lessonID, Value: score})
	if err != nil {
		return nil, err
	}
	reviews, err := s.adapt(ctx, tx, q, v, position, Adapt(v.Spec.Rules, PathLessons(v.Spec.Lessons, nil), res))
	if err != nil {
		return nil, err
	}
	return reviews, s.completeEnrollmentIfDone(ctx, tx, q.enrollmentID)
}

// completeEnrollmentIfDone completes the enrollment when every step of its
// path is completed or skipped; its score is the mean of its quizzes' last scores.
func (s *Store) completeEnrollmentIfDone(ctx context.Context, tx pgx.Tx, enrollmentID int64) error {
	now := s.Now()
	var orgID, repID, courseID int64
	var score *float64
	err := tx.QueryRow(ctx, `
		UPDATE enrollments e SET status = 'completed', completed_at = $2,
			score = (SELECT avg(a.score) FROM assignments a WHERE a.enrollment_id = e.id AND a.score IS NOT NULL
				AND a.attempt = (SELECT max(b.attempt) FROM assignments b WHERE b.enrollment_id = e.id AND b.lesson_id = a.lesson_id))
		WHERE e.id = $1 AND e.status = 'active' AND NOT EXISTS (
			SELECT FROM assignments a WHERE a.enrollment_id = e.id AND a.status NOT IN ('completed', 'skipped'))
		RETURNING e.org_id, e.rep_id, (SELECT course_id FROM course_versions v WHERE v.id = e.course_version_id), e.score::float8`,
		enrollmentID, now).Scan(&orgID, &repID, &courseID, &score)
	if err == pgx.ErrNoRows {
		return nil // something is left
	}
	if err != nil {
		return fmt.Errorf("complete enrollment %d: %w", enrollmentID, err)
	}
	e := tracking.Event{OrgID: orgID, RepID: repID, Key: fmt.Sprintf("course/%d", enrollmentID), Kind: tracking.KindCourseCompleted,
		OccurredAt: now, CourseID: courseID, EnrollmentID: enrollmentID}
	if score != nil {
		e.Value = *score
	}
	if err := tracking.Append(ctx, tx, e); err != nil {
		return err
	}
	return appendEnrollmentFacts(ctx, tx, now, enrollmentID)
}

// optEvent is the event of an opt-out or opt-in.
func optEvent(kind string, orgID, repID int64, at time.Time) tracking.Event {
	return tracking.Event{OrgID: orgID, RepID: repID, Key: fmt.Sprintf("%s/%d/%d", kind, repID, at.UnixNano()), Kind: kind, OccurredAt: at}
}
