package lessons

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/tracking"
)

// reply is an inbound message from one rep with what answering it needs.
type reply struct {
	id, orgID, repID int64
	body             string
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

// ProcessReply acts on an inbound message: STOP, START and HELP, or an answer
// to the open quiz question, which it grades. It returns the messages to
// send. It joins tx, the reply job's (scheduler's replyWorker), which queues
// those messages and completes the job in it: a reply is acted on once, and
// its feedback sent if and only if its grade is recorded.
//
// Organisations without a sender of their own share the default one, and a
// phone may be a rep of several of them. A carrier blocks a sender, not an
// organisation, so STOP, START and HELP apply to each of them. An answer goes
// to the one organisation with a question open, or, with several, to the one
// whose name starts the reply; else the rep is asked which. A reply given on
// a page that knew the rep (known_sender) answers that rep's question only.
func (s *Store) ProcessReply(ctx context.Context, tx pgx.Tx, id int64) ([]Step, error) {
	var body string
	var known bool
	err := tx.QueryRow(ctx, `SELECT body, known_sender FROM messages WHERE id = $1 AND direction = 'inbound'`, id).Scan(&body, &known)
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("inbound message %d", id))
	}
	rs, err := recipients(ctx, tx, id)
	if err != nil || len(rs) == 0 {
		return nil, err // unknown or removed: kept, not answered
	}
	now := s.Now()
	switch kw := ParseKeyword(body); kw {
	case KeywordStop, KeywordHelp:
		return s.keyword(ctx, tx, kw, rs, now)
	case KeywordStart:
		if slices.ContainsFunc(rs, func(r reply) bool { return r.optedOut }) {
			return s.keyword(ctx, tx, kw, rs, now)
		} // else "Yes" from a rep who never left may answer a question
	}
	if known {
		rs = rs[:1]
	}
	r, q, found, open, err := s.addressee(ctx, tx, rs, &body)
	if err != nil {
		return nil, err
	}
	if r.repID == 0 { // questions open in several organisations, none named
		slices.SortFunc(open, func(a, b reply) int { return cmp.Compare(a.orgID, b.orgID) })
		names := make([]string, len(open))
		for i, r := range open {
			names[i] = r.orgName
		}
		var batch messageBatch
		batch.add(Message{OrgID: open[0].orgID, RepID: open[0].repID, Outbound: true, Purpose: PurposeHelp, ScheduledAt: now, CreatedAt: now,
			Status: MessageScheduled, Body: fmt.Sprintf("You have quiz questions open from %s. Reply with the name first, e.g. %q.",
				strings.Join(names, " and "), open[0].orgName+" B")})
		return batch.insert(ctx, tx, now)
	}
	if r.repID != rs[0].repID {
		if _, err := tx.Exec(ctx, `UPDATE messages SET org_id = $2, rep_id = $3 WHERE id = $1`, id, r.orgID, r.repID); err != nil {
			return nil, fmt.Errorf("attribute reply %d: %w", id, err)
		}
	}
	r.id, r.body = id, body
	return s.answer(ctx, tx, r, q, found, now)
}

// recipients returns the reps an inbound message is from: the one it was
// recorded for first, then, where that rep's organisation uses the shared
// sender, the active reps with that phone in the other organisations that do.
func recipients(ctx context.Context, tx pgx.Tx, id int64) ([]reply, error) {
	rows, err := tx.Query(ctx, `
		SELECT r.id, r.org_id, r.opted_out_at IS NOT NULL, coalesce(o.help_text, ''), coalesce(o.twilio_advanced_opt_out, false), o.name
		FROM messages m
		JOIN reps first ON first.id = m.rep_id
		JOIN organisations fo ON fo.id = first.org_id
		JOIN reps r ON r.id = first.id OR (fo.sms_from IS NULL AND fo.sms_messaging_service_sid IS NULL AND r.phone = first.phone)
		JOIN organisations o ON o.id = r.org_id
		WHERE m.id = $1 AND r.status = 'active'
			AND (r.id = first.id OR (o.sms_from IS NULL AND o.sms_messaging_service_sid IS NULL))
		ORDER BY r.id = first.id DESC, r.org_id`, id)
	if err != nil {
		return nil, fmt.Errorf("find who sent reply %d: %w", id, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (reply, error) {
		var r reply
		return r, row.Scan(&r.repID, &r.orgID, &r.optedOut, &r.helpText, &r.advancedOptOut, &r.orgName)
	})
}

// keyword applies STOP, START or HELP for each of the reps, each
// organisation answering for itself.
func (s *Store) keyword(ctx context.Context, tx pgx.Tx, kw Keyword, rs []reply, now time.Time) ([]Step, error) {
	var steps []Step
	for _, r := range rs {
		var batch messageBatch
		say := func(purpose MessagePurpose, body string) {
			if !r.advancedOptOut { // Twilio answers for itself
				batch.add(Message{OrgID: r.orgID, RepID: r.repID, Outbound: true, Purpose: purpose, Body: body,
					ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
			}
		}
		switch kw {
		case KeywordStop:
			if err := s.optOut(ctx, tx, r.orgID, r.repID, now); err != nil {
				return nil, err
			}
			say(PurposeConfirmation, fmt.Sprintf("You're unsubscribed from %s training texts. Reply START to resume.", r.orgName))
		case KeywordStart:
			if !r.optedOut {
				continue
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
			say(PurposeConfirmation, fmt.Sprintf("You're back on %s training texts. Reply STOP to opt out.", r.orgName))
		case KeywordHelp:
			say(PurposeHelp, r.helpText)
		}
		sent, err := batch.insert(ctx, tx, now)
		if err != nil {
			return nil, err
		}
		steps = append(steps, sent...)
		if kw == KeywordStart {
			resumed, err := s.resume(ctx, tx, r.repID, now)
			if err != nil {
				return nil, err
			}
			steps = append(steps, resumed...)
		}
	}
	return steps, nil
}

// addressee picks which rep a reply answers, and their open question if
// found: the one rep whose organisation has a question open, or of several,
// the one whose name starts the body (then cut from it); with none, the first.
// When several have one open and none is named it returns a zero reply and
// the reps with one open.
func (s *Store) addressee(ctx context.Context, tx pgx.Tx, rs []reply, body *string) (reply, openQuestion, bool, []reply, error) {
	var open []reply
	var questions []openQuestion
	for _, r := range rs {
		if r.optedOut {
			continue
		}
		q, found, err := s.openQuestion(ctx, tx, r.repID)
		if err != nil {
			return reply{}, openQuestion{}, false, nil, err
		}
		if found {
			open, questions = append(open, r), append(questions, q)
		}
	}
	switch len(open) {
	case 0:
		return rs[0], openQuestion{}, false, nil, nil
	case 1:
		return open[0], questions[0], true, nil, nil
	}
	text := strings.TrimSpace(*body)
	for i, r := range open {
		if n := len(r.orgName); len(text) > n && strings.EqualFold(text[:n], r.orgName) {
			*body = strings.TrimLeft(text[n:], " :,-")
			return r, questions[i], true, nil, nil
		}
	}
	return reply{}, openQuestion{}, false, open, nil
}

// answer grades a reply to the rep's open question, if there is one.
func (s *Store) answer(ctx context.Context, tx pgx.Tx, r reply, q openQuestion, found bool, now time.Time) ([]Step, error) {
	var batch messageBatch
	say := func(purpose MessagePurpose, body string) {
		batch.add(Message{OrgID: r.orgID, RepID: r.repID, Outbound: true, Purpose: purpose, Body: body,
			ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
	}
	if r.optedOut {
		return nil, nil // an opted-out rep's answers are kept, not graded
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
		Key: tracking.GradeKey(q.assignmentID, q.question, q.messageID), Kind: tracking.KindGraded, OccurredAt: now,
		CourseID: v.CourseID, EnrollmentID: q.enrollmentID, AssignmentID: q.assignmentID, LessonID: q.lessonID, Value: score,
		Detail: tracking.GradedDetail{Question: q.question, Choice: choice, Purpose: string(q.purpose)}.String()})
	if err != nil {
		return nil, err
	}
	batch.add(Message{OrgID: r.orgID, RepID: r.repID, EnrollmentID: q.enrollmentID, AssignmentID: q.assignmentID,
		Question: q.question, Outbound: true, Purpose: PurposeFeedback, Body: FeedbackText(question, correct),
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
	if noRows(err) || answered {
		return openQuestion{}, false, nil
	}
	if err != nil {
		return openQuestion{}, false, fmt.Errorf("find the open question: %w", err)
	}
	return q, true, nil
}

// afterAnswer completes the quiz when that was its last question: it scores
// it, adapts the rep's path by the course's rules, and completes the
// enrollment if nothing is left. MarkAcceptedMany of the feedback then sends what
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
	err = tracking.Append(ctx, tx, tracking.Event{OrgID: orgID, RepID: repID, Key: tracking.DoneKey(q.assignmentID),
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
	if noRows(err) {
		return nil // something is left
	}
	if err != nil {
		return fmt.Errorf("complete enrollment %d: %w", enrollmentID, err)
	}
	e := tracking.Event{OrgID: orgID, RepID: repID, Key: tracking.CourseKey(enrollmentID), Kind: tracking.KindCourseCompleted,
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
	return tracking.Event{OrgID: orgID, RepID: repID, Key: tracking.OptKey(kind, repID, at), Kind: kind, OccurredAt: at}
}
