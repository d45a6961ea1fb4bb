package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The corrections' log: every row Void, Correct, Backfill and DeleteRep
// write to ClickHouse is also kept in Postgres (event_corrections), written
// first, so that a rebuild of ClickHouse from Postgres (LoggedCorrections,
// `morsel rebuild-analytics`) writes them again, with their versions, after
// the events it derives: a void or a correction outlives a lost ClickHouse.
// A row logged whose ClickHouse write then failed is one the caller asked
// for and is told failed; a rebuild applies it, as a retry would.

const insertCorrectionsSQL = `INSERT INTO event_corrections (org_id, rep_id, event_key, kind, occurred_at, course_id,
	enrollment_id, assignment_id, lesson_id, value, detail, version, deleted)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[],
		$7::bigint[], $8::bigint[], $9::bigint[], $10::float8[], $11::text[], $12::bigint[], $13::boolean[])`

// logCorrections keeps rows about to be written to ClickHouse by a
// correction in Postgres, in one statement.
func logCorrections(ctx context.Context, pool *pgxpool.Pool, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	orgs, reps, courses, enrollments := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	assignments, lessons, versions := make([]int64, n), make([]int64, n), make([]int64, n)
	keys, kinds, details := make([]string, n), make([]string, n), make([]string, n)
	at, values, deleted := make([]time.Time, n), make([]float64, n), make([]bool, n)
	for i, e := range events {
		orgs[i], reps[i], keys[i], kinds[i], at[i] = e.OrgID, e.RepID, e.Key, e.Kind, e.OccurredAt
		courses[i], enrollments[i], assignments[i], lessons[i] = e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID
		values[i], details[i], versions[i], deleted[i] = e.Value, e.Detail, int64(e.Version), e.Deleted
	}
	if _, err := pool.Exec(ctx, insertCorrectionsSQL, orgs, reps, keys, kinds, at, courses, enrollments, assignments,
		lessons, values, details, versions, deleted); err != nil {
		return fmt.Errorf("log %d corrections: %w", n, err)
	}
	return nil
}

// LoggedCorrections returns the rows corrections wrote for the
// organisation's reps, oldest first, as they were written to ClickHouse:
// what a rebuild writes after the events it derives. It joins tx, the
// rebuild's (lessons' analytics events), so that the corrections are read
// from the same snapshot as the events they follow.
func LoggedCorrections(ctx context.Context, tx pgx.Tx, orgID int64, repIDs []int64) ([]Event, error) {
	rows, err := tx.Query(ctx, `SELECT id, org_id, rep_id, event_key, kind, occurred_at, course_id, enrollment_id,
		assignment_id, lesson_id, value, detail, version, deleted
		FROM event_corrections WHERE org_id = $1 AND rep_id = ANY($2) ORDER BY id`, orgID, repIDs)
	if err != nil {
		return nil, fmt.Errorf("read logged corrections: %w", err)
	}
	_, events, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("logged corrections: %w", err)
	}
	return events, nil
}
