package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/tracking"
)

// adapt applies the path changes of a quiz result to the enrollment: remedial
// lessons and a retake right after the quiz, optional lessons skipped, the
// manager flagged. Each new step carries its reason, so the rep's path can be
// explained. It returns the review questions to schedule.
func (s *Store) adapt(ctx context.Context, tx pgx.Tx, q openQuestion, v *CourseVersion, position int, changes []PathChange) ([]Message, error) {
	now := s.Now()
	keys := make(map[string]int64, len(v.Spec.Lessons))
	for _, l := range v.Spec.Lessons {
		keys[l.Key] = l.ID
	}
	var orgID, repID int64
	var enrolledAt time.Time
	var tz string
	err := tx.QueryRow(ctx, `SELECT e.org_id, e.rep_id, e.enrolled_at, r.time_zone FROM enrollments e JOIN reps r ON r.id = e.rep_id
		WHERE e.id = $1`, q.enrollmentID).Scan(&orgID, &repID, &enrolledAt, &tz)
	if err != nil {
		return nil, fmt.Errorf("read enrollment %d: %w", q.enrollmentID, err)
	}
	var reviews []Message
	next := position + 1 // where inserted steps go, in order
	for i, c := range changes {
		err := tracking.Append(ctx, tx, tracking.Event{OrgID: orgID, RepID: repID, Key: tracking.PathKey(q.assignmentID, i),
			Kind: tracking.KindPathChanged, OccurredAt: now, CourseID: v.CourseID, EnrollmentID: q.enrollmentID,
			AssignmentID: q.assignmentID, LessonID: q.lessonID, Detail: tracking.PathChangedDetail{Change: string(c.Kind), Reason: c.Reason}.String()})
		if err != nil {
			return nil, err
		}
		switch c.Kind {
		case ChangeRemedial:
			for _, key := range c.Lessons {
				if err := s.insertStep(ctx, tx, q.enrollmentID, keys[key], next, nil, c.Reason); err != nil {
					return nil, err
				}
				next++
			}
		case ChangeRetake:
			subset := make([]int32, len(c.Questions))
			for i, n := range c.Questions {
				subset[i] = int32(n)
			}
			if err := s.insertStep(ctx, tx, q.enrollmentID, q.lessonID, next, subset, c.Reason); err != nil {
				return nil, err
			}
			next++
		case ChangeSkipOptional:
			for _, key := range c.Lessons {
				_, err := tx.Exec(ctx, `UPDATE assignments SET status = 'skipped', reason = $3
					WHERE enrollment_id = $1 AND lesson_id = $2 AND status = 'pending'`, q.enrollmentID, keys[key], c.Reason)
				if err != nil {
					return nil, fmt.Errorf("skip lesson %s: %w", key, err)
				}
			}
		case ChangeFlagManager:
			_, err := tx.Exec(ctx, `UPDATE enrollments SET flagged_at = coalesce(flagged_at, $2), flag_reason = $3 WHERE id = $1`,
				q.enrollmentID, now, c.Reason)
			if err != nil {
				return nil, fmt.Errorf("flag enrollment: %w", err)
			}
		case ChangeReview:
			loc, err := Location(tz)
			if err != nil {
				return nil, fmt.Errorf("rep %d time zone %q: %w", repID, tz, err)
			}
			// The first cadence slot on or after the day: reviews keep to the
			// course's rhythm and its send window.
			at := NextStepTime(v.Spec.Cadence, v.Spec.SendWindow, loc, enrolledAt, now.AddDate(0, 0, c.ReviewAfterDays).Add(-time.Minute))
			l := v.lesson(q.lessonID)
			for _, n := range c.Questions {
				reviews = append(reviews, Message{OrgID: orgID, RepID: repID, EnrollmentID: q.enrollmentID, AssignmentID: q.assignmentID,
					Question: n, Outbound: true, Purpose: PurposeReview, Body: "Review: " + QuestionText(*l, n),
					ScheduledAt: at, CreatedAt: now, Status: MessageScheduled})
			}
		}
	}
	if len(changes) > 0 {
		if err := appendEnrollmentFacts(ctx, tx, now, q.enrollmentID); err != nil {
			return nil, err
		}
	}
	return reviews, nil
}

// insertStep puts a lesson into the enrollment's path at position, moving the
// steps from there on back by one, as the next attempt at that lesson.
func (s *Store) insertStep(ctx context.Context, tx pgx.Tx, enrollmentID, lessonID int64, position int, questions []int32, reason string) error {
	if _, err := tx.Exec(ctx, `UPDATE assignments SET position = position + 1 WHERE enrollment_id = $1 AND position >= $2`,
		enrollmentID, position); err != nil {
		return fmt.Errorf("make room in the path: %w", err)
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO assignments (enrollment_id, lesson_id, position, attempt, questions, reason)
		SELECT $1, $2, $3, coalesce(max(attempt), 0) + 1, $4, $5 FROM assignments WHERE enrollment_id = $1 AND lesson_id = $2`,
		enrollmentID, lessonID, position, questions, reason)
	if err != nil {
		return fmt.Errorf("add a step to the path: %w", err)
	}
	return nil
}

// cancelReviews cancels the reviews of a question still to come: it was
// answered correctly.
func (s *Store) cancelReviews(ctx context.Context, tx pgx.Tx, assignmentID int64, question int) error {
	_, err := tx.Exec(ctx, `UPDATE messages SET status = 'cancelled', error_message = 'answered correctly', updated_at = $3
		WHERE assignment_id = $1 AND question = $2 AND purpose = 'review' AND status = 'scheduled'`, assignmentID, question, s.Now())
	if err != nil {
		return fmt.Errorf("cancel reviews: %w", err)
	}
	return nil
}
