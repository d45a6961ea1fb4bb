package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The kinds of event.
const (
	KindMessageSent      = "message_sent"
	KindMessageDelivered = "message_delivered"
	KindMessageFailed    = "message_failed"
	KindReply            = "reply"
	KindGraded           = "graded"
	KindLessonOpened     = "lesson_opened"
	KindSegmentWatched   = "segment_watched"
	KindLessonCompleted  = "lesson_completed"
	KindCourseCompleted  = "course_completed"
	KindOptedOut         = "opted_out"
	KindOptedIn          = "opted_in"
	KindPathChanged      = "path_changed"
	// KindRepChanged carries a rep's facts (RepFacts) to the reports.
	KindRepChanged = "rep_changed"
	// KindEnrollmentChanged carries an enrollment's facts (EnrollmentFacts).
	KindEnrollmentChanged = "enrollment_changed"
)

// Event is one fact for the reports. Its Key is deterministic: the same fact
// always has the same key (a segment watched twice is one row), and a
// correction is the same key with a higher Version.
type Event struct {
	OrgID        int64
	RepID        int64
	Key          string // e.g. "seg/123/4": assignment 123, segment 4
	Kind         string
	OccurredAt   time.Time
	CourseID     int64
	EnrollmentID int64
	AssignmentID int64
	LessonID     int64
	Value        float64 // a score, a segment index...
	Detail       string  // JSON, for what has no column
	Version      uint64  // 0: the time of writing, in ns
	Deleted      bool    // a tombstone: reports stop counting the key
}

// insertOutboxSQL inserts a batch of events given as one array per column.
const insertOutboxSQL = `INSERT INTO event_outbox (org_id, rep_id, event_key, kind, occurred_at, course_id,
	enrollment_id, assignment_id, lesson_id, value, detail, version, deleted)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[],
		$7::bigint[], $8::bigint[], $9::bigint[], $10::float8[], $11::text[], $12::bigint[], $13::boolean[])`

// Append writes events to the Postgres outbox in one statement; the shipper
// takes them to ClickHouse. It joins tx, the transaction of the change that
// causes them (lessons' writes), so that the events exist if and only if the
// change commits. Events without a Version get the time of writing.
func Append(ctx context.Context, tx pgx.Tx, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	now := time.Now().UnixNano()
	orgs, reps, courses, enrollments := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	assignments, lessons, versions := make([]int64, n), make([]int64, n), make([]int64, n)
	keys, kinds, details := make([]string, n), make([]string, n), make([]string, n)
	at, values, deleted := make([]time.Time, n), make([]float64, n), make([]bool, n)
	for i, e := range events {
		orgs[i], reps[i], keys[i], kinds[i], at[i] = e.OrgID, e.RepID, e.Key, e.Kind, e.OccurredAt
		courses[i], enrollments[i], assignments[i], lessons[i] = e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID
		values[i], details[i], versions[i], deleted[i] = e.Value, e.Detail, int64(e.Version), e.Deleted
		if e.Version == 0 {
			versions[i] = now
		}
	}
	if _, err := tx.Exec(ctx, insertOutboxSQL, orgs, reps, keys, kinds, at, courses, enrollments, assignments, lessons,
		values, details, versions, deleted); err != nil {
		return fmt.Errorf("append %d events: %w", n, err)
	}
	return nil
}
