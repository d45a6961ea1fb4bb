package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

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
		o.Window = DefaultSendWindow()
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

// Accepted is a message the provider took, with the sid it gave it.
type Accepted struct {
	ID  int64
	SID string
}

// MarkAcceptedMany records that the provider accepted the messages with their
// sids, applies any status callback that arrived before them, and schedules
// what follows each: after a lesson, the next lesson at the next cadence slot;
// after the feedback on an answer, the quiz's next question at once, or when
// the quiz is done, the next lesson. A question itself waits for its answer.
// It takes a few statements whatever their number: the send workers commit
// what they sent in groups. It returns the steps that follow, and the ids of
// the messages that were no longer scheduled (sent or cancelled meanwhile),
// which it leaves as they are.
//
// It joins tx, the send workers' group commit (scheduler's recordAccepted),
// because the scheduler queues the returned steps and the messages' nudges
// with River's InsertTx in it: what follows a message is queued if and only
// if its sending is recorded.
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

// Twilio error codes that change what we may send to a rep.
const (
	ErrorUnsubscribed    = 21610 // the rep texted STOP to the carrier
	ErrorInvalidNumber   = 21211 // not a phone number
	ErrorNotMobile       = 21614 // not a mobile number
	ErrorLandline        = 30006 // landline or unreachable carrier, at delivery
	ErrorOptedOutCarrier = 30004 // blocked by the carrier
)

// MarkFailed records that the provider refused the message for good, and
// what that means for the rep: code 21610 opts them out; 21211, 21614 and
// 30006 mark their number unable to receive SMS. It runs in a transaction of
// its own: the send worker queues nothing with it.
func (s *Store) MarkFailed(ctx context.Context, id int64, code int, reason string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return s.markFailed(ctx, tx, id, code, reason) })
}

func (s *Store) markFailed(ctx context.Context, tx pgx.Tx, id int64, code int, reason string) error {
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

// CancelMessage records that a scheduled message cannot be sent now, and why,
// in a transaction of its own (the send worker queues nothing with it).
// It is held: when the enrollment continues (the rep opts back in, the pause
// ends), a lesson goes out again as its step goes back to pending, and a
// quiz's message is sent again.
func (s *Store) CancelMessage(ctx context.Context, id int64, reason string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return s.cancelMessage(ctx, tx, id, reason) })
}

func (s *Store) cancelMessage(ctx context.Context, tx pgx.Tx, id int64, reason string) error {
	now := s.Now()
	var assignmentID *int64
	err := tx.QueryRow(ctx, `
		UPDATE messages SET status = 'cancelled', error_message = $2, updated_at = $3, held = true
		WHERE id = $1 AND status = 'scheduled' RETURNING assignment_id`, id, reason, now).Scan(&assignmentID)
	if noRows(err) {
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

// UnrecordedSID returns the first of the provider's sids that no message
// has: of the sends the provider took that look like a message's (the same
// text to the same number), the one that is not another message's. "" when
// every one is.
func (s *Store) UnrecordedSID(ctx context.Context, sids []string) (string, error) {
	if len(sids) == 0 {
		return "", nil
	}
	var sid string
	err := s.pool.QueryRow(ctx, `
		SELECT x.sid FROM unnest($1::text[]) WITH ORDINALITY AS x(sid, i)
		WHERE NOT EXISTS (SELECT FROM messages m WHERE m.provider_sid = x.sid)
		ORDER BY x.i LIMIT 1`, sids).Scan(&sid)
	if noRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("match the provider's sids to the messages: %w", err)
	}
	return sid, nil
}
