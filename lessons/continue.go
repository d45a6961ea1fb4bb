package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
)

// TeamLimit limits an action to the reps of some teams, as a manager's
// actions are limited to the teams they manage. The zero value limits nothing.
type TeamLimit struct {
	Limited bool
	Teams   []int64 // with Limited, the teams allowed (none: no rep)
}

// Allows says whether a rep of the team (0: in no team) is within the limit.
func (l TeamLimit) Allows(teamID int64) bool {
	if !l.Limited {
		return true
	}
	for _, t := range l.Teams {
		if t == teamID && t != 0 {
			return true
		}
	}
	return false
}

// PauseEnrollment pauses an active enrollment: what was scheduled for it is
// held, and the rep gets nothing of the course until ResumeEnrollment. A
// message already handed to the provider still arrives.
func (s *Store) PauseEnrollment(ctx context.Context, orgID, id int64, limit TeamLimit) (Enrollment, error) {
	return s.changeEnrollment(ctx, orgID, id, limit, func(tx pgx.Tx, e *Enrollment, now time.Time) error {
		if e.Status != EnrollmentActive {
			return errs.Errorf(errs.Conflict, "Enrollment %d is %s: only an active enrollment can be paused.", id, e.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE enrollments SET status = 'paused', paused_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("pause enrollment %d: %w", id, err)
		}
		e.Status = EnrollmentPaused
		return s.holdScheduled(ctx, tx, "enrollment_id", id, "the enrollment was paused")
	})
}

// ResumeEnrollment resumes a paused enrollment where it stopped: what the
// pause held is sent again (a quiz's next question at once), else the next
// lesson at the next cadence slot. The steps are queued on the store's Queue
// in the same transaction.
func (s *Store) ResumeEnrollment(ctx context.Context, orgID, id int64, limit TeamLimit) (Enrollment, error) {
	return s.changeEnrollment(ctx, orgID, id, limit, func(tx pgx.Tx, e *Enrollment, now time.Time) error {
		if e.Status != EnrollmentPaused {
			return errs.Errorf(errs.Conflict, "Enrollment %d is %s: only a paused enrollment can be resumed.", id, e.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE enrollments SET status = 'active', paused_at = NULL WHERE id = $1`, id); err != nil {
			return fmt.Errorf("resume enrollment %d: %w", id, err)
		}
		e.Status = EnrollmentActive
		steps, err := s.continueEnrollments(ctx, tx, []int64{id}, now)
		if err != nil {
			return err
		}
		return s.queueSteps(ctx, tx, steps)
	})
}

// Unenroll cancels an active or paused enrollment: nothing more is sent for
// it, its lesson links stop working, and the reports no longer count it. Its
// history stays.
func (s *Store) Unenroll(ctx context.Context, orgID, id int64, limit TeamLimit) (Enrollment, error) {
	return s.changeEnrollment(ctx, orgID, id, limit, func(tx pgx.Tx, e *Enrollment, now time.Time) error {
		if e.Status != EnrollmentActive && e.Status != EnrollmentPaused {
			return errs.Errorf(errs.Conflict, "Enrollment %d is %s already.", id, e.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE enrollments SET status = 'cancelled', paused_at = NULL WHERE id = $1`, id); err != nil {
			return fmt.Errorf("cancel enrollment %d: %w", id, err)
		}
		e.Status = EnrollmentCancelled
		_, err := tx.Exec(ctx, `UPDATE messages SET status = 'cancelled', error_message = 'the enrollment was cancelled', updated_at = $2
			WHERE enrollment_id = $1 AND status = 'scheduled'`, id, now)
		if err != nil {
			return fmt.Errorf("cancel the messages of enrollment %d: %w", id, err)
		}
		return nil
	})
}

// changeEnrollment locks one of the organisation's enrollments within the
// limit, lets change act on it, and writes its facts, in one transaction.
func (s *Store) changeEnrollment(ctx context.Context, orgID, id int64, limit TeamLimit,
	change func(tx pgx.Tx, e *Enrollment, now time.Time) error) (Enrollment, error) {
	var e Enrollment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var teamID int64
		err := tx.QueryRow(ctx, `
			SELECT e.id, e.org_id, e.rep_id, v.course_id, e.course_version_id, e.status, e.enrolled_at, e.due_on,
				e.completed_at, e.score::float8, coalesce(r.team_id, 0)
			FROM enrollments e JOIN course_versions v ON v.id = e.course_version_id JOIN reps r ON r.id = e.rep_id
			WHERE e.org_id = $1 AND e.id = $2 FOR UPDATE OF e`, orgID, id).
			Scan(&e.ID, &e.OrgID, &e.RepID, &e.CourseID, &e.CourseVersionID, &e.Status, &e.EnrolledAt, &e.DueOn,
				&e.CompletedAt, &e.Score, &teamID)
		if err != nil {
			return dbError(err, fmt.Sprintf("enrollment %d", id))
		}
		if !limit.Allows(teamID) {
			return errs.Errorf(errs.Forbidden, "Enrollment %d is of a rep outside your teams.", id)
		}
		if err := change(tx, &e, now); err != nil {
			return err
		}
		return appendEnrollmentFacts(ctx, tx, now, id)
	})
	if err != nil {
		return Enrollment{}, err
	}
	return e, nil
}

// holdScheduled cancels the scheduled outbound messages of a rep or of an
// enrollment (column names which), holding them to be sent again when the
// enrollment continues.
func (s *Store) holdScheduled(ctx context.Context, tx pgx.Tx, column string, id int64, reason string) error {
	// As CancelMessage does for one message, for all of them in one statement:
	// each lesson whose message is held goes back to pending.
	_, err := tx.Exec(ctx, `
		WITH held AS (
			UPDATE messages SET status = 'cancelled', error_message = $2, updated_at = $3, held = true
			WHERE `+column+` = $1 AND direction = 'outbound' AND status = 'scheduled'
			RETURNING assignment_id)
		UPDATE assignments SET status = 'pending', scheduled_at = NULL
		WHERE id IN (SELECT assignment_id FROM held) AND status = 'scheduled'`, id, reason, s.Now())
	if err != nil {
		return fmt.Errorf("hold the scheduled messages of %s %d: %w", column, id, err)
	}
	return nil
}

// continueEnrollments carries on the active enrollments from the step that
// did not go out: the held messages of a quiz under way (its next question,
// the feedback on an answer, a review) are sent again once, at their time or
// now if that has passed; an enrollment with nothing under way then gets its
// next pending lesson at the next cadence slot.
func (s *Store) continueEnrollments(ctx context.Context, tx pgx.Tx, enrollmentIDs []int64, now time.Time) ([]Step, error) {
	rows, err := tx.Query(ctx, `
		SELECT m.id, m.org_id, m.rep_id, m.enrollment_id, m.assignment_id, coalesce(m.question, 0), m.purpose, m.body, m.scheduled_at
		FROM messages m
		JOIN enrollments e ON e.id = m.enrollment_id
		JOIN assignments a ON a.id = m.assignment_id
		WHERE m.enrollment_id = ANY($1) AND m.held AND e.status = 'active'
			AND m.purpose IN ('question', 'feedback', 'hint', 'review') AND a.status IN ('sent', 'completed')
		ORDER BY m.id
		FOR UPDATE OF m`, enrollmentIDs)
	if err != nil {
		return nil, fmt.Errorf("find held messages: %w", err)
	}
	held, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
		var m Message
		return m, r.Scan(&m.ID, &m.OrgID, &m.RepID, &m.EnrollmentID, &m.AssignmentID, &m.Question, &m.Purpose, &m.Body, &m.ScheduledAt)
	})
	if err != nil {
		return nil, fmt.Errorf("find held messages: %w", err)
	}
	var batch messageBatch
	for _, m := range held {
		m.Outbound, m.Status, m.CreatedAt, m.ScheduledAt = true, MessageScheduled, now, later(m.ScheduledAt, now)
		batch.add(m)
	}
	steps, err := batch.insert(ctx, tx, now)
	if err != nil {
		return nil, err
	}
	if len(held) > 0 {
		old, reissued := make([]int64, len(held)), make([]int64, len(held))
		for i, m := range held {
			old[i], reissued[i] = m.ID, steps[i].MessageID
		}
		_, err := tx.Exec(ctx, `UPDATE messages m SET held = false, reissued_as = u.new
			FROM unnest($1::bigint[], $2::bigint[]) u(old, new) WHERE m.id = u.old`, old, reissued)
		if err != nil {
			return nil, fmt.Errorf("mark held messages sent again: %w", err)
		}
	}
	// Messages held that are not sent again (a lesson, whose step went back
	// to pending; a nudge or a reminder, stale now) stay cancelled.
	if _, err := tx.Exec(ctx, `UPDATE messages SET held = false WHERE enrollment_id = ANY($1) AND held`, enrollmentIDs); err != nil {
		return nil, fmt.Errorf("release held messages: %w", err)
	}
	rows, err = tx.Query(ctx, `
		SELECT e.id FROM enrollments e
		WHERE e.id = ANY($1) AND e.status = 'active'
			AND NOT EXISTS (SELECT FROM messages m WHERE m.enrollment_id = e.id AND m.direction = 'outbound' AND m.status = 'scheduled'
				AND m.purpose IN ('lesson', 'question', 'feedback', 'hint'))
			AND NOT EXISTS (SELECT FROM assignments a JOIN course_lessons l ON l.id = a.lesson_id
				WHERE a.enrollment_id = e.id AND (a.status = 'scheduled' OR (a.status = 'sent' AND l.kind = 'quiz')))`, enrollmentIDs)
	if err != nil {
		return nil, fmt.Errorf("find enrollments to continue: %w", err)
	}
	idle, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find enrollments to continue: %w", err)
	}
	if len(idle) == 0 {
		return steps, nil
	}
	next, err := s.scheduleNext(ctx, tx, idle, nil, false)
	return append(steps, next...), err
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
