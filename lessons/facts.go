package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/tracking"
)

// The reports' facts of reps and enrollments (tracking.RepFacts,
// tracking.EnrollmentFacts) are written to the outbox by the transaction that
// changes them, read back from the rows as that transaction left them. The
// rows are locked first, so that of two transactions changing the same rep,
// the one that commits last reads last, and its facts carry the higher
// version: the database's clock at the read, in ns.

// factVersion is the version of facts read now: the database's clock, which
// moves on while a transaction waits for a lock (now() does not).
const factVersion = `(extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000`

// appendRepFacts writes the reps' facts to the outbox inside tx.
func appendRepFacts(ctx context.Context, tx pgx.Tx, now time.Time, repIDs ...int64) error {
	if len(repIDs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT FROM reps WHERE id = ANY($1) ORDER BY id FOR UPDATE`, repIDs); err != nil {
		return fmt.Errorf("lock reps: %w", err)
	}
	events, err := repFactEvents(ctx, tx, now, repIDs)
	if err != nil {
		return err
	}
	return tracking.Append(ctx, tx, events...)
}

// repFactEvents reads the reps' facts inside tx as the events that carry them.
func repFactEvents(ctx context.Context, tx pgx.Tx, now time.Time, repIDs []int64) ([]tracking.Event, error) {
	rows, err := tx.Query(ctx, `
		SELECT r.id, r.org_id, coalesce(r.team_id, 0), coalesce(t.name, ''), r.status, r.name, r.phone, r.email, r.time_zone,
			r.opted_out_at IS NOT NULL, r.phone_invalid_at IS NOT NULL,
			ARRAY(SELECT DISTINCT t FROM notes n, unnest(n.tags) t WHERE n.rep_id = r.id AND n.deleted_at IS NULL ORDER BY t),
			`+factVersion+`
		FROM reps r LEFT JOIN teams t ON t.id = r.team_id
		WHERE r.id = ANY($1) ORDER BY r.id`, repIDs)
	if err != nil {
		return nil, fmt.Errorf("read rep facts: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.Event, error) {
		var f tracking.RepFacts
		var version int64
		err := row.Scan(&f.RepID, &f.OrgID, &f.TeamID, &f.Team, &f.Status, &f.Name, &f.Phone, &f.Email, &f.TimeZone,
			&f.OptedOut, &f.PhoneInvalid, &f.Tags, &version)
		f.Version = uint64(version)
		return f.Event(now), err
	})
	if err != nil {
		return nil, fmt.Errorf("read rep facts: %w", err)
	}
	return events, nil
}

// appendEnrollmentFacts writes the enrollments' facts to the outbox inside tx.
func appendEnrollmentFacts(ctx context.Context, tx pgx.Tx, now time.Time, enrollmentIDs ...int64) error {
	if len(enrollmentIDs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT FROM enrollments WHERE id = ANY($1) ORDER BY id FOR UPDATE`, enrollmentIDs); err != nil {
		return fmt.Errorf("lock enrollments: %w", err)
	}
	events, err := enrollmentFactEvents(ctx, tx, now, `e.id = ANY($1)`, enrollmentIDs)
	if err != nil {
		return err
	}
	return tracking.Append(ctx, tx, events...)
}

// enrollmentFactEvents reads the facts of the enrollments that where (on e,
// with $1 as arg) selects inside tx, as the events that carry them.
func enrollmentFactEvents(ctx context.Context, tx pgx.Tx, now time.Time, where string, arg any) ([]tracking.Event, error) {
	rows, err := tx.Query(ctx, `
		SELECT e.id, e.org_id, e.rep_id, v.course_id, e.course_version_id, v.title, e.status, e.enrolled_at,
			to_char(e.due_on, 'YYYY-MM-DD'), count(a.id),
			coalesce(sum(ceil(l.video_seconds / $2::numeric)) FILTER (WHERE l.kind = 'video'), 0)::int, `+factVersion+`
		FROM enrollments e
		JOIN course_versions v ON v.id = e.course_version_id
		LEFT JOIN assignments a ON a.enrollment_id = e.id AND a.status <> 'skipped'
		LEFT JOIN course_lessons l ON l.id = a.lesson_id
		WHERE `+where+`
		GROUP BY e.id, v.id ORDER BY e.id`, arg, tracking.SegmentSeconds)
	if err != nil {
		return nil, fmt.Errorf("read enrollment facts: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.Event, error) {
		var f tracking.EnrollmentFacts
		var version int64
		err := row.Scan(&f.EnrollmentID, &f.OrgID, &f.RepID, &f.CourseID, &f.CourseVersionID, &f.CourseTitle, &f.Status,
			&f.EnrolledAt, &f.DueOn, &f.Lessons, &f.Segments, &version)
		f.Version = uint64(version)
		return f.Event(now), err
	})
	if err != nil {
		return nil, fmt.Errorf("read enrollment facts: %w", err)
	}
	return events, nil
}
