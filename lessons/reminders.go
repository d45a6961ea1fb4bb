package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reminder is a nudge or due-date reminder to send at a time, or the overdue
// flag to raise: what the scheduler turns into jobs.
type Reminder struct {
	EnrollmentID int64
	DaysBefore   int // 3 or 1 for reminders; 0 for the overdue flag
	At           time.Time
}

// dueReminderDays are the days before the due date a rep with training left
// is reminded.
var dueReminderDays = [...]int{3, 1}

// dueReminders returns, for new enrollments, when to remind each rep before
// the due date (at the first cadence time of that day, inside the send window,
// in the rep's zone) and when to flag them overdue (the start of the day after
// the due date). Times already past are left out. It reads inside tx, the
// enrolling job's, which queues the reminders with the enrollments.
func (s *Store) dueReminders(ctx context.Context, tx pgx.Tx, enrollments []Enrollment) ([]Reminder, error) {
	ids := make([]int64, len(enrollments))
	for i, e := range enrollments {
		ids[i] = e.ID
	}
	rows, err := tx.Query(ctx, `
		SELECT e.id, e.due_on, r.time_zone, e.course_version_id
		FROM enrollments e JOIN reps r ON r.id = e.rep_id WHERE e.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read due dates: %w", err)
	}
	type due struct {
		id        int64
		on        time.Time
		tz        string
		versionID int64
	}
	dues, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		return d, r.Scan(&d.id, &d.on, &d.tz, &d.versionID)
	})
	if err != nil {
		return nil, fmt.Errorf("read due dates: %w", err)
	}
	now := s.Now()
	var out []Reminder
	for _, d := range dues {
		v, err := s.version(ctx, tx, d.versionID)
		if err != nil {
			return nil, err
		}
		loc, err := Location(d.tz)
		if err != nil {
			return nil, fmt.Errorf("enrollment %d time zone %q: %w", d.id, d.tz, err)
		}
		first := v.Spec.Cadence.Times[0]
		for _, days := range dueReminderDays {
			day := d.on.AddDate(0, 0, -days)
			at := InWindow(v.Spec.SendWindow, loc, time.Date(day.Year(), day.Month(), day.Day(), first.Hour(), first.Minute(), 0, 0, loc))
			if at.After(now) {
				out = append(out, Reminder{EnrollmentID: d.id, DaysBefore: days, At: at})
			}
		}
		after := d.on.AddDate(0, 0, 1)
		out = append(out, Reminder{EnrollmentID: d.id, At: time.Date(after.Year(), after.Month(), after.Day(), 0, 0, 0, 0, loc).UTC()})
	}
	return out, nil
}

// RemindDue sends the due-date reminder for an enrollment that is still under
// way, or on the day after the due date flags it overdue for the manager. It
// returns the message to queue, if any. It joins tx, the reminder job's
// (scheduler's remindWorker), which queues that message and completes the job
// in it: a reminder is sent once, if and only if its job completes.
func (s *Store) RemindDue(ctx context.Context, tx pgx.Tx, r Reminder) ([]Step, error) {
	now := s.Now()
	if r.DaysBefore == 0 {
		_, err := tx.Exec(ctx, `UPDATE enrollments SET overdue_at = $2 WHERE id = $1 AND status IN ('active', 'paused') AND overdue_at IS NULL`, r.EnrollmentID, now)
		if err != nil {
			return nil, fmt.Errorf("flag enrollment %d overdue: %w", r.EnrollmentID, err)
		}
		return nil, nil
	}
	var orgID, repID int64
	var title string
	var dueOn time.Time
	err := tx.QueryRow(ctx, `
		SELECT e.org_id, e.rep_id, v.title, e.due_on FROM enrollments e
		JOIN course_versions v ON v.id = e.course_version_id
		JOIN reps r ON r.id = e.rep_id
		WHERE e.id = $1 AND e.status = 'active' AND r.status = 'active'`, r.EnrollmentID).Scan(&orgID, &repID, &title, &dueOn)
	if noRows(err) {
		return nil, nil // completed, cancelled or the rep removed: nothing to remind
	}
	if err != nil {
		return nil, fmt.Errorf("read enrollment %d: %w", r.EnrollmentID, err)
	}
	when := "tomorrow"
	if r.DaysBefore != 1 {
		when = fmt.Sprintf("in %d days", r.DaysBefore)
	}
	var batch messageBatch
	batch.add(Message{OrgID: orgID, RepID: repID, EnrollmentID: r.EnrollmentID, Outbound: true, Purpose: PurposeReminder,
		Body:        fmt.Sprintf("Reminder: %s is due %s (%s). Finish the lessons you have left to stay on track.", title, when, dueOn.Format("Mon 2 Jan")),
		ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
	return batch.insert(ctx, tx, now)
}

// Nudge reminds a rep of a sent lesson they have not completed, once. It
// returns the message to queue, if any. It joins tx, the nudge job's
// (scheduler's nudgeWorker), which queues that message and completes the job
// in it: a nudge is sent once, if and only if its job completes.
func (s *Store) Nudge(ctx context.Context, tx pgx.Tx, assignmentID int64) ([]Step, error) {
	var orgID, repID, enrollmentID int64
	var title, token string
	var kind LessonKind
	err := tx.QueryRow(ctx, `
		SELECT e.org_id, e.rep_id, e.id, l.title, l.kind, coalesce(k.token, '')
		FROM assignments a
		JOIN enrollments e ON e.id = a.enrollment_id
		JOIN course_lessons l ON l.id = a.lesson_id
		JOIN reps r ON r.id = e.rep_id
		LEFT JOIN lesson_links k ON k.assignment_id = a.id
		WHERE a.id = $1 AND a.status = 'sent' AND e.status = 'active' AND r.status = 'active'
			AND NOT EXISTS (SELECT FROM messages m WHERE m.assignment_id = a.id AND m.purpose = 'nudge')`, assignmentID).
		Scan(&orgID, &repID, &enrollmentID, &title, &kind, &token)
	if noRows(err) {
		return nil, nil // done, nudged already, or nobody to nudge
	}
	if err != nil {
		return nil, fmt.Errorf("read assignment %d: %w", assignmentID, err)
	}
	body := fmt.Sprintf("A nudge: %q is waiting for you: %s/l/%s", title, s.publicURL, token)
	if kind == KindQuiz {
		body = fmt.Sprintf("A nudge: your quiz %q is waiting for your answer. Reply with a letter.", title)
	}
	now := s.Now()
	var batch messageBatch
	batch.add(Message{OrgID: orgID, RepID: repID, EnrollmentID: enrollmentID, AssignmentID: assignmentID, Outbound: true,
		Purpose: PurposeNudge, Body: body, ScheduledAt: now, CreatedAt: now, Status: MessageScheduled})
	return batch.insert(ctx, tx, now)
}
