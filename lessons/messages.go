package lessons

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/sms"
	"github.com/morselhq/morsel/tracking"
)

// MessagePurpose says why a message was sent or what a received one is.
type MessagePurpose string

// The purposes.
const (
	PurposeLesson       MessagePurpose = "lesson"       // a text or video lesson with its link
	PurposeQuestion     MessagePurpose = "question"     // one quiz question
	PurposeFeedback     MessagePurpose = "feedback"     // the grade of an answer
	PurposeHint         MessagePurpose = "hint"         // an answer we could not read: the question again
	PurposeReview       MessagePurpose = "review"       // a missed question asked again days later
	PurposeNudge        MessagePurpose = "nudge"        // a sent lesson not yet done
	PurposeReminder     MessagePurpose = "reminder"     // the due date is near
	PurposeHelp         MessagePurpose = "help"         // the answer to HELP
	PurposeConfirmation MessagePurpose = "confirmation" // the answer to STOP or START
	PurposeReply        MessagePurpose = "reply"        // a message the rep sent us
)

// MessageStatus is a message's fate. Outbound messages move forward only:
// scheduled, queued (accepted by the provider), sent, then delivered,
// undelivered or failed; or cancelled before sending.
type MessageStatus string

// The statuses.
const (
	MessageScheduled   MessageStatus = "scheduled"
	MessageQueued      MessageStatus = "queued"
	MessageSent        MessageStatus = "sent"
	MessageDelivered   MessageStatus = "delivered"
	MessageUndelivered MessageStatus = "undelivered"
	MessageFailed      MessageStatus = "failed"
	MessageCancelled   MessageStatus = "cancelled"
	MessageReceived    MessageStatus = "received"
)

// statusRank orders outbound statuses; a status never moves to a lower rank.
var statusRank = map[MessageStatus]int{
	MessageScheduled: 0, MessageQueued: 1, MessageSent: 2,
	MessageDelivered: 3, MessageUndelivered: 3, MessageFailed: 3, MessageCancelled: 3,
}

// Message is one SMS, in or out.
type Message struct {
	ID           int64
	OrgID        int64
	RepID        int64
	EnrollmentID int64 // 0 when not about an enrollment
	AssignmentID int64 // 0 when not about a lesson
	Question     int   // the question's index for PurposeQuestion
	Outbound     bool
	Purpose      MessagePurpose
	Body         string
	Encoding     sms.Encoding
	Segments     int
	Status       MessageStatus
	ProviderSID  string
	ErrorCode    int
	ErrorMessage string
	ScheduledAt  time.Time
	CreatedAt    time.Time
	SentAt       *time.Time
	DeliveredAt  *time.Time
}

// Step is a message scheduled to go out at a time: what the scheduler turns
// into a job.
type Step struct {
	MessageID int64
	At        time.Time
}

// Outbound is a message about to be sent, with what sending it needs to know.
type Outbound struct {
	Message
	To           string // the rep's phone
	TimeZone     string // the rep's
	RepActive    bool
	OptedOut     bool
	PhoneInvalid bool
	SMSFrom      string // the organisation's sender, if it has its own
	SMSService   string
	SMSMPS       float64 // -1 when the organisation sets none
	Window       SendWindow
	// EnrollmentStatus is the status of the message's enrollment, if it has one.
	EnrollmentStatus EnrollmentStatus
}

// Sendable says whether the rep may receive the message now, and if not, why.
func (o Outbound) Sendable() (bool, string) {
	switch {
	case !o.RepActive:
		return false, "the rep was removed"
	case o.OptedOut && o.Purpose != PurposeConfirmation: // the answer to STOP still goes out
		return false, "the rep opted out"
	case o.PhoneInvalid:
		return false, "the rep's phone number cannot receive SMS"
	case o.EnrollmentStatus == EnrollmentPaused:
		return false, "the enrollment was paused"
	case o.EnrollmentStatus == EnrollmentCancelled:
		return false, "the enrollment was cancelled"
	}
	return true, ""
}

// OutboundMessage loads a message to send, with its rep and sender.
func (s *Store) OutboundMessage(ctx context.Context, id int64) (Outbound, error) {
	found, err := s.OutboundMessages(ctx, []int64{id})
	if err != nil {
		return Outbound{}, err
	}
	o, ok := found[id]
	if !ok {
		return Outbound{}, errs.Errorf(errs.NotFound, "message %d not found", id)
	}
	return o, nil
}

// OutboundMessages loads many messages to send in one query, by id; the ids of
// no outbound message are missing from the map.
func (s *Store) OutboundMessages(ctx context.Context, ids []int64) (map[int64]Outbound, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m.id, m.org_id, m.rep_id, coalesce(m.enrollment_id, 0), coalesce(m.assignment_id, 0), coalesce(m.question, 0),
			m.purpose, m.body, m.encoding, m.segments, m.status, coalesce(m.provider_sid, ''), m.scheduled_at, m.created_at,
			r.phone, r.time_zone, r.status, r.opted_out_at IS NOT NULL, r.phone_invalid_at IS NOT NULL,
			coalesce(g.sms_from, ''), coalesce(g.sms_messaging_service_sid, ''), coalesce(g.sms_mps, -1)::float8,
			v.window_start, v.window_end, coalesce(e.status, '')
		FROM messages m
		JOIN reps r ON r.id = m.rep_id
		JOIN organisations g ON g.id = m.org_id
		LEFT JOIN enrollments e ON e.id = m.enrollment_id
		LEFT JOIN course_versions v ON v.id = e.course_version_id
		WHERE m.id = ANY($1) AND m.direction = 'outbound'`, ids)
	if err != nil {
		return nil, fmt.Errorf("read %d outbound messages: %w", len(ids), err)
	}
	defer rows.Close()
	found := make(map[int64]Outbound, len(ids))
	for rows.Next() {
		var o Outbound
		var start, end *int16
		var status RepStatus
		err := rows.Scan(&o.ID, &o.OrgID, &o.RepID, &o.EnrollmentID, &o.AssignmentID, &o.Question,
			&o.Purpose, &o.Body, &o.Encoding, &o.Segments, &o.Status, &o.ProviderSID, &o.ScheduledAt, &o.CreatedAt,
			&o.To, &o.TimeZone, &status, &o.OptedOut, &o.PhoneInvalid,
			&o.SMSFrom, &o.SMSService, &o.SMSMPS, &start, &end, &o.EnrollmentStatus)
		if err != nil {
			return nil, fmt.Errorf("read outbound messages: %w", err)
		}
		o.Outbound = true
		o.RepActive = status == RepActive
		o.Window = DefaultSendWindow
		if start != nil && end != nil {
			o.Window = SendWindow{Start: ClockTime(*start), End: ClockTime(*end)}
		}
		found[o.ID] = o
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbound messages: %w", err)
	}
	return found, nil
}

// ScheduleFirstSteps schedules the first lesson of each new enrollment at the
// course's first cadence slot in the rep's time zone, inside tx. It returns the
// steps to queue in the same transaction.
func (s *Store) ScheduleFirstSteps(ctx context.Context, tx pgx.Tx, enrollments []Enrollment) ([]Step, error) {
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

// MarkAccepted records, inside tx, that the provider accepted the message with
// the sid, applies any status callback that arrived before it, and schedules
// what follows it: after a lesson, the next lesson at the next cadence slot;
// after the feedback on an answer, the quiz's next question at once, or when
// the quiz is done, the next lesson. A question itself waits for its answer.
// It returns those steps, for the scheduler to queue in the same transaction.
func (s *Store) MarkAccepted(ctx context.Context, tx pgx.Tx, id int64, sid string) ([]Step, error) {
	steps, late, err := s.MarkAcceptedMany(ctx, tx, []Accepted{{ID: id, SID: sid}})
	if err != nil {
		return nil, err
	}
	if len(late) > 0 {
		return nil, errs.Errorf(errs.Conflict, "message %d was already sent or cancelled", id)
	}
	return steps, nil
}

// Accepted is a message the provider took, with the sid it gave it.
type Accepted struct {
	ID  int64
	SID string
}

// MarkAcceptedMany is MarkAccepted for many messages at once, in a few
// statements whatever their number: the send workers commit what they sent in
// groups. It returns the steps that follow, and the ids of the messages that
// were no longer scheduled (sent or cancelled meanwhile), which it leaves as
// they are.
func (s *Store) MarkAcceptedMany(ctx context.Context, tx pgx.Tx, accepted []Accepted) (steps []Step, late []int64, err error) {
	now := s.Now()
	ids, sids := make([]int64, len(accepted)), make([]string, len(accepted))
	for i, a := range accepted {
		ids[i], sids[i] = a.ID, a.SID
	}
	if err := lockSIDs(ctx, tx, sids...); err != nil {
		return nil, nil, err
	}
	rows, err := tx.Query(ctx, `
		UPDATE messages m SET status = 'queued', provider_sid = u.sid, sent_at = $3, updated_at = $3
		FROM unnest($1::bigint[], $2::text[]) AS u(id, sid)
		WHERE m.id = u.id AND m.status = 'scheduled'
		RETURNING m.id, m.purpose, m.enrollment_id, m.assignment_id, m.question, m.org_id, m.rep_id`, ids, sids, now)
	if err != nil {
		return nil, nil, fmt.Errorf("mark %d messages sent: %w", len(ids), err)
	}
	type sent struct {
		id, orgID, repID           int64
		purpose                    MessagePurpose
		enrollmentID, assignmentID *int64
		question                   *int
	}
	marked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sent, error) {
		var m sent
		return m, r.Scan(&m.id, &m.purpose, &m.enrollmentID, &m.assignmentID, &m.question, &m.orgID, &m.repID)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("mark %d messages sent: %w", len(ids), err)
	}
	if len(marked) < len(ids) {
		done := make(map[int64]bool, len(marked))
		for _, m := range marked {
			done[m.id] = true
		}
		for _, id := range ids {
			if !done[id] {
				late = append(late, id)
			}
		}
	}
	events := make([]tracking.Event, len(marked))
	var assignments, lessonEnrollments []int64
	for i, m := range marked {
		events[i] = messageEvent(tracking.KindMessageSent, m.id, m.orgID, m.repID, m.enrollmentID, m.assignmentID, now,
			tracking.MessageSentDetail{Purpose: string(m.purpose)}.String())
		if m.assignmentID == nil {
			continue
		}
		switch m.purpose {
		case PurposeLesson:
			lessonEnrollments = append(lessonEnrollments, *m.enrollmentID)
			assignments = append(assignments, *m.assignmentID)
		case PurposeQuestion:
			assignments = append(assignments, *m.assignmentID)
		}
	}
	if err := tracking.Append(ctx, tx, events...); err != nil {
		return nil, nil, err
	}
	if err := applyEarlyStatuses(ctx, tx, sids); err != nil {
		return nil, nil, err
	}
	if len(assignments) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE assignments SET status = 'sent', sent_at = coalesce(sent_at, $2)
			WHERE id = ANY($1) AND status = 'scheduled'`, assignments, now); err != nil {
			return nil, nil, fmt.Errorf("mark assignments sent: %w", err)
		}
	}
	if len(lessonEnrollments) > 0 {
		if steps, err = s.scheduleNext(ctx, tx, lessonEnrollments, &now, false); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range marked {
		if m.purpose != PurposeFeedback || m.assignmentID == nil {
			continue
		}
		next, err := s.afterFeedback(ctx, tx, *m.enrollmentID, *m.assignmentID, *m.question, now)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, next...)
	}
	return steps, late, nil
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

// Twilio error codes that change what we may send to a rep.
const (
	ErrorUnsubscribed    = 21610 // the rep texted STOP to the carrier
	ErrorInvalidNumber   = 21211 // not a phone number
	ErrorNotMobile       = 21614 // not a mobile number
	ErrorLandline        = 30006 // landline or unreachable carrier, at delivery
	ErrorOptedOutCarrier = 30004 // blocked by the carrier
)

// MarkFailed records that the provider refused the message for good, inside tx,
// and what that means for the rep: code 21610 opts them out; 21211, 21614 and
// 30006 mark their number unable to receive SMS.
func (s *Store) MarkFailed(ctx context.Context, tx pgx.Tx, id int64, code int, reason string) error {
	now := s.Now()
	var orgID, repID int64
	var enrollmentID, assignmentID *int64
	err := tx.QueryRow(ctx, `
		UPDATE messages SET status = 'failed', error_code = $2, error_message = $3, updated_at = $4
		WHERE id = $1 RETURNING org_id, rep_id, enrollment_id, assignment_id`, id, code, reason, now).
		Scan(&orgID, &repID, &enrollmentID, &assignmentID)
	if err != nil {
		return dbError(err, fmt.Sprintf("message %d", id))
	}
	detail := tracking.MessageStatusDetail{ErrorCode: code}.String()
	if err := tracking.Append(ctx, tx, messageEvent(tracking.KindMessageFailed, id, orgID, repID, enrollmentID, assignmentID, now, detail)); err != nil {
		return err
	}
	if unreachableCode(code) && enrollmentID != nil {
		// Held like a cancelled message: the step goes out again once the rep
		// opts back in or their number is corrected.
		if _, err := tx.Exec(ctx, `UPDATE messages SET held = true WHERE id = $1`, id); err != nil {
			return fmt.Errorf("hold message %d: %w", id, err)
		}
		if assignmentID != nil {
			_, err := tx.Exec(ctx, `UPDATE assignments SET status = 'pending', scheduled_at = NULL WHERE id = $1 AND status = 'scheduled'`, *assignmentID)
			if err != nil {
				return fmt.Errorf("put assignment %d back: %w", *assignmentID, err)
			}
		}
	}
	return repUnreachable(ctx, tx, repID, code, reason, now)
}

// unreachableCode says whether a provider's error code is about the rep's
// number (opted out at the carrier, not a mobile number) rather than the message.
func unreachableCode(code int) bool {
	switch code {
	case ErrorUnsubscribed, ErrorInvalidNumber, ErrorNotMobile, ErrorLandline:
		return true
	}
	return false
}

// repUnreachable records what a provider's error code says of the rep's
// number: opted out at the carrier, or unable to take SMS.
func repUnreachable(ctx context.Context, tx pgx.Tx, repID int64, code int, reason string, now time.Time) error {
	var err error
	switch code {
	case ErrorUnsubscribed:
		_, err = tx.Exec(ctx, `UPDATE reps SET opted_out_at = coalesce(opted_out_at, $2), updated_at = $2 WHERE id = $1`, repID, now)
	case ErrorInvalidNumber, ErrorNotMobile, ErrorLandline:
		_, err = tx.Exec(ctx, `UPDATE reps SET phone_invalid_at = coalesce(phone_invalid_at, $2), phone_invalid_reason = $3, updated_at = $2
			WHERE id = $1`, repID, now, fmt.Sprintf("%d: %s", code, reason))
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark rep %d unreachable: %w", repID, err)
	}
	return appendRepFacts(ctx, tx, now, repID)
}

// CancelMessage records that a scheduled message cannot be sent now, and why.
// It is held: when the enrollment continues (the rep opts back in, the pause
// ends), a lesson goes out again as its step goes back to pending, and a
// quiz's message is sent again.
func (s *Store) CancelMessage(ctx context.Context, tx pgx.Tx, id int64, reason string) error {
	now := s.Now()
	var assignmentID *int64
	err := tx.QueryRow(ctx, `
		UPDATE messages SET status = 'cancelled', error_message = $2, updated_at = $3, held = true
		WHERE id = $1 AND status = 'scheduled' RETURNING assignment_id`, id, reason, now).Scan(&assignmentID)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return dbError(err, fmt.Sprintf("message %d", id))
	}
	if assignmentID != nil {
		_, err = tx.Exec(ctx, `UPDATE assignments SET status = 'pending', scheduled_at = NULL WHERE id = $1 AND status = 'scheduled'`, *assignmentID)
	}
	return err
}

// RecordStatus applies a provider status callback. Callbacks arrive out of
// order: a status never replaces one that is further along. A callback for a
// sid not yet recorded (it can overtake the send's own commit) is kept and
// applied when the sid is (lockSIDs says why none is left behind). It
// reports whether the message changed.
func (s *Store) RecordStatus(ctx context.Context, sid string, status MessageStatus, code int, reason string) (bool, error) {
	rank, ok := statusRank[status]
	if !ok || status == MessageScheduled || status == MessageCancelled {
		return false, errs.Errorf(errs.Invalid, "%q is not a delivery status", status)
	}
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		if err := lockSIDs(ctx, tx, sid); err != nil {
			return err
		}
		var d delivery
		err := tx.QueryRow(ctx, `
			UPDATE messages SET status = $2, error_code = nullif($3, 0), error_message = $4, updated_at = $5,
				delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
			WHERE provider_sid = $1 AND `+rankSQL+` < $6
			RETURNING `+deliveryColumns, sid, status, code, reason, now, rank).Scan(d.dest()...)
		if err == pgx.ErrNoRows {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM messages WHERE provider_sid = $1)`, sid).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				_, err := tx.Exec(ctx, `
					INSERT INTO early_statuses (provider_sid, status, error_code, error_message, rank, received_at)
					VALUES ($1, $2, $3, $4, $5, $6)
					ON CONFLICT (provider_sid) DO UPDATE SET status = excluded.status, error_code = excluded.error_code,
						error_message = excluded.error_message, rank = excluded.rank
					WHERE early_statuses.rank < excluded.rank`, sid, status, code, reason, rank, now)
				return err
			}
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		return d.record(ctx, tx, status, code, reason, now)
	})
	if err != nil {
		return false, fmt.Errorf("record status of %s: %w", sid, err)
	}
	return changed, nil
}

// lockSIDs takes a transaction-long lock on each provider sid, in one order.
// The send that records a sid and a status callback for it take the same
// lock, so that the callback either commits first and is parked, where the
// send's next statement finds it, or waits for the send to commit and then
// finds the message. Without it a callback arriving between the two parks
// itself after the send looked and is never applied.
func lockSIDs(ctx context.Context, tx pgx.Tx, sids ...string) error {
	_, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(hashtextextended(s, 0)))
		FROM (SELECT DISTINCT s FROM unnest($1::text[]) s ORDER BY s) q`, sids)
	if err != nil {
		return fmt.Errorf("lock %d provider sids: %w", len(sids), err)
	}
	return nil
}

// rankSQL is statusRank in SQL.
const rankSQL = `(CASE status WHEN 'scheduled' THEN 0 WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 ELSE 3 END)`

// applyEarlyStatuses applies the status callbacks that arrived before their
// sids were stored.
func applyEarlyStatuses(ctx context.Context, tx pgx.Tx, sids []string) error {
	rows, err := tx.Query(ctx, `DELETE FROM early_statuses WHERE provider_sid = ANY($1)
		RETURNING provider_sid, status, error_code, error_message, received_at`, sids)
	if err != nil {
		return fmt.Errorf("read early statuses: %w", err)
	}
	type early struct {
		sid, reason string
		status      MessageStatus
		code        int
		at          time.Time
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (early, error) {
		var e early
		return e, r.Scan(&e.sid, &e.status, &e.code, &e.reason, &e.at)
	})
	if err != nil {
		return fmt.Errorf("read early statuses: %w", err)
	}
	for _, e := range found {
		var d delivery
		err = tx.QueryRow(ctx, `
			UPDATE messages SET status = $2, error_code = nullif($3, 0), error_message = $4, updated_at = $5,
				delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
			WHERE provider_sid = $1 RETURNING `+deliveryColumns, e.sid, e.status, e.code, e.reason, e.at).Scan(d.dest()...)
		if err != nil {
			return fmt.Errorf("apply early status of %s: %w", e.sid, err)
		}
		if err := d.record(ctx, tx, e.status, e.code, e.reason, e.at); err != nil {
			return err
		}
	}
	return nil
}

// delivery is a message whose delivery status changed.
type delivery struct {
	id, orgID, repID           int64
	enrollmentID, assignmentID *int64
}

const deliveryColumns = `id, org_id, rep_id, enrollment_id, assignment_id`

func (d *delivery) dest() []any {
	return []any{&d.id, &d.orgID, &d.repID, &d.enrollmentID, &d.assignmentID}
}

// record writes the event of a final delivery status and what it means for the rep.
func (d *delivery) record(ctx context.Context, tx pgx.Tx, status MessageStatus, code int, reason string, at time.Time) error {
	kind := tracking.KindMessageFailed
	switch status {
	case MessageDelivered:
		kind = tracking.KindMessageDelivered
	case MessageUndelivered, MessageFailed:
	default:
		return nil // not final yet
	}
	detail := tracking.MessageStatusDetail{Status: string(status), ErrorCode: code}.String()
	if err := tracking.Append(ctx, tx, messageEvent(kind, d.id, d.orgID, d.repID, d.enrollmentID, d.assignmentID, at, detail)); err != nil {
		return err
	}
	return repUnreachable(ctx, tx, d.repID, code, reason, at)
}

// messageEvent is the event of a message's fate, keyed by message and kind.
func messageEvent(kind string, id, orgID, repID int64, enrollmentID, assignmentID *int64, at time.Time, detail string) tracking.Event {
	e := tracking.Event{OrgID: orgID, RepID: repID, Key: tracking.MessageKey(id, kind), Kind: kind, OccurredAt: at, Detail: detail}
	if enrollmentID != nil {
		e.EnrollmentID = *enrollmentID
	}
	if assignmentID != nil {
		e.AssignmentID = *assignmentID
	}
	return e
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
