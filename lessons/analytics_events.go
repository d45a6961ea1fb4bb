package lessons

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/tracking"
)

// The events of the reports derived again from what Postgres holds, for
// `morsel rebuild-analytics` after ClickHouse was lost: the same keys,
// kinds and details as the live path writes (tracking's keys and details),
// so that a rebuild over events still stored collapses by key instead of
// counting twice. A derived event's version is its occurred_at in ns, as a
// backfill's (tracking/corrections.go): at most the live row's (appended at
// or after the time it occurred), so it never replaces a live row, a void or
// a correction; it only fills what is missing. The facts of reps and
// enrollments carry the database's clock at the read, as the live path's.
//
// What Postgres does not keep, and a rebuild therefore cannot restore:
//   - video_paused and video_ended (the player's pauses and ends, keyed by
//     page visit): never stored in Postgres;
//   - path_changed (a quiz result's change to the path): the steps it added
//     are stored, with their reason, but not which quiz answer and which
//     change of it made them, which its key names;
//   - opted_in, and every opted_out but the rep's current one: Postgres keeps
//     only whether the rep is opted out now, and since when;
//   - of segment_watched, when each segment was watched and the player's
//     position, rate and page visit (its detail): Postgres keeps which
//     segments were watched (video_progress) and when the assignment's
//     progress last changed, which every segment gets as its time, and its
//     detail names the segment's start as the position, with no rate or visit;
//   - a video's lesson_completed value is the share watched now, not when it
//     completed;
//   - lesson_opened of assignments opened before migration 0019 (which added
//     assignments.opened_at).
// Corrections (voids, corrections, backfills, a rep's events deleted) are
// kept in Postgres by tracking (event_corrections) and come back whole.

// AnalyticsRepIDs returns up to limit ids of the organisation's reps, removed
// ones included, above after, ascending: the order in which a rebuild goes.
func (s *Store) AnalyticsRepIDs(ctx context.Context, orgID, after int64, limit int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM reps WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list reps of organisation %d: %w", orgID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list reps of organisation %d: %w", orgID, err)
	}
	return ids, nil
}

// AnalyticsRepCount returns how many reps the organisation has above after,
// removed ones included.
func (s *Store) AnalyticsRepCount(ctx context.Context, orgID, after int64) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM reps WHERE org_id = $1 AND id > $2`, orgID, after).Scan(&n); err != nil {
		return 0, fmt.Errorf("count reps of organisation %d: %w", orgID, err)
	}
	return n, nil
}

// AnalyticsEvents returns every event of the organisation's reps that
// Postgres can derive (see above), then the rows corrections wrote for them
// (tracking.LoggedCorrections), oldest first: written to ClickHouse in this
// order and rolled up, they are the reports of those reps. One read-only
// snapshot.
func (s *Store) AnalyticsEvents(ctx context.Context, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	var events []tracking.Event
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		now := s.Now()
		for _, derive := range []func(context.Context, pgx.Tx, int64, []int64) ([]tracking.Event, error){
			messageEvents, replyEvents, gradedEvents, assignmentEvents, segmentEvents, enrollmentEvents, optEvents,
		} {
			got, err := derive(ctx, tx, orgID, repIDs)
			if err != nil {
				return err
			}
			for i := range got {
				got[i].OrgID = orgID
				got[i].Version = max(uint64(got[i].OccurredAt.UnixNano()), 1)
			}
			events = append(events, got...)
		}
		reps, err := repFactEvents(ctx, tx, now, repIDs)
		if err != nil {
			return err
		}
		enrollments, err := enrollmentFactEvents(ctx, tx, now, `e.rep_id = ANY($1)`, repIDs)
		if err != nil {
			return err
		}
		corrections, err := tracking.LoggedCorrections(ctx, tx, orgID, repIDs)
		if err != nil {
			return err
		}
		events = append(append(append(events, reps...), enrollments...), corrections...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("derive the events of %d reps: %w", len(repIDs), err)
	}
	return events, nil
}

// collectEvents reads rows into events with scan.
func collectEvents(ctx context.Context, tx pgx.Tx, what, sql string, scan func(pgx.CollectableRow) ([]tracking.Event, error), args ...any) ([]tracking.Event, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("derive %s: %w", what, err)
	}
	defer rows.Close()
	var out []tracking.Event
	for rows.Next() {
		got, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("derive %s: %w", what, err)
		}
		out = append(out, got...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("derive %s: %w", what, err)
	}
	return out, nil
}

// messageEvents: message_sent of every message the provider accepted, and
// message_delivered or message_failed of those with a final status (a
// message refused outright was never sent, and its failure has no status).
func messageEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "messages' events", `
		SELECT id, rep_id, enrollment_id, assignment_id, purpose, status, coalesce(error_code, 0), sent_at,
			coalesce(delivered_at, updated_at)
		FROM messages
		WHERE org_id = $1 AND rep_id = ANY($2) AND direction = 'outbound'
			AND (sent_at IS NOT NULL OR status = 'failed')`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var id, repID int64
			var enrollmentID, assignmentID *int64
			var purpose, status string
			var code int
			var sentAt *time.Time
			var finalAt time.Time
			if err := row.Scan(&id, &repID, &enrollmentID, &assignmentID, &purpose, &status, &code, &sentAt, &finalAt); err != nil {
				return nil, err
			}
			var out []tracking.Event
			if sentAt != nil {
				out = append(out, messageEvent(tracking.KindMessageSent, id, orgID, repID, enrollmentID, assignmentID, *sentAt,
					tracking.MessageSentDetail{Purpose: purpose}.String()))
			}
			switch {
			case status == string(MessageDelivered):
				out = append(out, messageEvent(tracking.KindMessageDelivered, id, orgID, repID, enrollmentID, assignmentID, finalAt,
					tracking.MessageStatusDetail{Status: status, ErrorCode: code}.String()))
			case (status == string(MessageUndelivered) || status == string(MessageFailed)) && sentAt != nil:
				out = append(out, messageEvent(tracking.KindMessageFailed, id, orgID, repID, enrollmentID, assignmentID, finalAt,
					tracking.MessageStatusDetail{Status: status, ErrorCode: code}.String()))
			case status == string(MessageFailed):
				out = append(out, messageEvent(tracking.KindMessageFailed, id, orgID, repID, enrollmentID, assignmentID, finalAt,
					tracking.MessageStatusDetail{ErrorCode: code}.String()))
			}
			return out, nil
		}, orgID, repIDs)
}

// replyEvents: a reply of every message a known rep sent.
func replyEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "replies", `
		SELECT id, rep_id, created_at FROM messages
		WHERE org_id = $1 AND rep_id = ANY($2) AND direction = 'inbound'`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var e tracking.Event
			var id int64
			if err := row.Scan(&id, &e.RepID, &e.OccurredAt); err != nil {
				return nil, err
			}
			e.Key, e.Kind, e.Detail = tracking.ReplyKey(id), tracking.KindReply, tracking.ReplyDetail{MessageID: id}.String()
			return []tracking.Event{e}, nil
		}, orgID, repIDs)
}

// gradedEvents: graded of every quiz answer (attempts).
func gradedEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "grades", `
		SELECT t.rep_id, t.assignment_id, t.question, t.asked_id, t.choice, t.correct, t.answered_at, q.purpose,
			v.course_id, e.id, a.lesson_id
		FROM attempts t
		JOIN assignments a ON a.id = t.assignment_id
		JOIN enrollments e ON e.id = a.enrollment_id
		JOIN course_versions v ON v.id = e.course_version_id
		JOIN messages q ON q.id = t.asked_id
		WHERE t.org_id = $1 AND t.rep_id = ANY($2)`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var e tracking.Event
			var question, choice int
			var asked int64
			var correct bool
			var purpose string
			if err := row.Scan(&e.RepID, &e.AssignmentID, &question, &asked, &choice, &correct, &e.OccurredAt, &purpose,
				&e.CourseID, &e.EnrollmentID, &e.LessonID); err != nil {
				return nil, err
			}
			e.Key, e.Kind = tracking.GradeKey(e.AssignmentID, question, asked), tracking.KindGraded
			if correct {
				e.Value = 1
			}
			e.Detail = tracking.GradedDetail{Question: question, Choice: choice, Purpose: purpose}.String()
			return []tracking.Event{e}, nil
		}, orgID, repIDs)
}

// assignmentEvents: lesson_opened and lesson_completed of every assignment
// opened or completed.
func assignmentEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "lessons opened and completed", `
		SELECT e.rep_id, a.id, a.lesson_id, e.id, v.course_id, l.kind, a.opened_at, a.completed_at, a.status,
			a.score::float8, coalesce(bit_count(p.watched) * 100 / nullif(length(p.watched), 0), 0)::float8
		FROM assignments a
		JOIN enrollments e ON e.id = a.enrollment_id
		JOIN course_versions v ON v.id = e.course_version_id
		JOIN course_lessons l ON l.id = a.lesson_id
		LEFT JOIN video_progress p ON p.assignment_id = a.id
		WHERE e.org_id = $1 AND e.rep_id = ANY($2) AND (a.opened_at IS NOT NULL OR a.completed_at IS NOT NULL)`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var e tracking.Event
			var kind, status string
			var openedAt, completedAt *time.Time
			var score *float64
			var watched float64
			if err := row.Scan(&e.RepID, &e.AssignmentID, &e.LessonID, &e.EnrollmentID, &e.CourseID, &kind, &openedAt,
				&completedAt, &status, &score, &watched); err != nil {
				return nil, err
			}
			var out []tracking.Event
			if openedAt != nil {
				o := e
				o.Key, o.Kind, o.OccurredAt = tracking.OpenKey(e.AssignmentID), tracking.KindLessonOpened, *openedAt
				o.Detail = tracking.LessonDetail{Kind: kind}.String()
				out = append(out, o)
			}
			if completedAt != nil && status == string(AssignmentCompleted) {
				d := e
				d.Key, d.Kind, d.OccurredAt = tracking.DoneKey(e.AssignmentID), tracking.KindLessonCompleted, *completedAt
				switch LessonKind(kind) {
				case KindQuiz:
					if score != nil {
						d.Value = *score
					}
				case KindVideo:
					d.Value = watched
					d.Detail = tracking.LessonDetail{Kind: kind}.String()
				default:
					d.Detail = tracking.LessonDetail{Kind: kind}.String()
				}
				out = append(out, d)
			}
			return out, nil
		}, orgID, repIDs)
}

// segmentEvents: segment_watched of every segment of a video lesson's
// progress, at the time the progress last changed.
func segmentEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "segments watched", `
		SELECT e.rep_id, a.id, a.lesson_id, e.id, v.course_id, p.watched::text, p.updated_at
		FROM video_progress p
		JOIN assignments a ON a.id = p.assignment_id
		JOIN enrollments e ON e.id = a.enrollment_id
		JOIN course_versions v ON v.id = e.course_version_id
		WHERE e.org_id = $1 AND e.rep_id = ANY($2) AND position('1' IN p.watched::text) > 0`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var e tracking.Event
			var bits string
			if err := row.Scan(&e.RepID, &e.AssignmentID, &e.LessonID, &e.EnrollmentID, &e.CourseID, &bits, &e.OccurredAt); err != nil {
				return nil, err
			}
			out := make([]tracking.Event, 0, strings.Count(bits, "1"))
			for i, b := range bits {
				if b != '1' {
					continue
				}
				s := e
				s.Key, s.Kind, s.Value = tracking.SegmentKey(e.AssignmentID, i), tracking.KindSegmentWatched, float64(i)
				s.Detail = tracking.VideoDetail{Position: float64(i * tracking.SegmentSeconds)}.String()
				out = append(out, s)
			}
			return out, nil
		}, orgID, repIDs)
}

// enrollmentEvents: course_completed of every enrollment completed.
func enrollmentEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "courses completed", `
		SELECT e.rep_id, e.id, v.course_id, e.completed_at, e.score::float8
		FROM enrollments e JOIN course_versions v ON v.id = e.course_version_id
		WHERE e.org_id = $1 AND e.rep_id = ANY($2) AND e.completed_at IS NOT NULL`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var e tracking.Event
			var score *float64
			if err := row.Scan(&e.RepID, &e.EnrollmentID, &e.CourseID, &e.OccurredAt, &score); err != nil {
				return nil, err
			}
			e.Key, e.Kind = tracking.CourseKey(e.EnrollmentID), tracking.KindCourseCompleted
			if score != nil {
				e.Value = *score
			}
			return []tracking.Event{e}, nil
		}, orgID, repIDs)
}

// optEvents: opted_out of every rep opted out now, at the time they did.
func optEvents(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]tracking.Event, error) {
	return collectEvents(ctx, tx, "opt-outs", `
		SELECT id, opted_out_at FROM reps WHERE org_id = $1 AND id = ANY($2) AND opted_out_at IS NOT NULL`,
		func(row pgx.CollectableRow) ([]tracking.Event, error) {
			var repID int64
			var at time.Time
			if err := row.Scan(&repID, &at); err != nil {
				return nil, err
			}
			return []tracking.Event{optEvent(tracking.KindOptedOut, orgID, repID, at)}, nil
		}, orgID, repIDs)
}

// AnalyticsOrgs returns every organisation's id and slug, by id: what a
// rebuild of every organisation goes through.
func (s *Store) AnalyticsOrgs(ctx context.Context) ([]Org, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, slug FROM organisations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	orgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Org, error) {
		var o Org
		return o, row.Scan(&o.ID, &o.Slug)
	})
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return orgs, nil
}
