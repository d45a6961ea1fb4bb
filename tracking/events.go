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
	// KindRepChanged carries a rep's team (Value) and status (Detail) to the
	// ClickHouse reps dimension when it is shipped.
	KindRepChanged = "rep_changed"
)

// RepChanged is the event that keeps the reps dimension in step with a rep's
// committed team and status.
func RepChanged(orgID, repID, teamID int64, status string, at time.Time) Event {
	return Event{OrgID: orgID, RepID: repID, Key: fmt.Sprintf("rep/%d", repID), Kind: KindRepChanged,
		OccurredAt: at, Value: float64(teamID), Detail: status, Version: uint64(at.UnixNano())}
}

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

// outboxColumns are the outbox's columns in Event order.
var outboxColumns = []string{"org_id", "rep_id", "event_key", "kind", "occurred_at", "course_id", "enrollment_id",
	"assignment_id", "lesson_id", "value", "detail", "version", "deleted"}

// Append writes events to the Postgres outbox inside tx, the transaction of
// the change that causes them; the shipper takes them to ClickHouse.
func Append(ctx context.Context, tx pgx.Tx, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	now := uint64(time.Now().UnixNano())
	rows := make([][]any, len(events))
	for i, e := range events {
		if e.Version == 0 {
			e.Version = now
		}
		rows[i] = []any{e.OrgID, e.RepID, e.Key, e.Kind, e.OccurredAt, e.CourseID, e.EnrollmentID,
			e.AssignmentID, e.LessonID, e.Value, e.Detail, int64(e.Version), e.Deleted}
	}
	if len(rows) < 8 {
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO event_outbox (org_id, rep_id, event_key, kind, occurred_at, course_id,
				enrollment_id, assignment_id, lesson_id, value, detail, version, deleted)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, r...); err != nil {
				return fmt.Errorf("append event: %w", err)
			}
		}
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"event_outbox"}, outboxColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("append %d events: %w", len(rows), err)
	}
	return nil
}
