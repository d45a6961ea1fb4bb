package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// EventCursor is where a reading of an organisation's current events
// stopped: the rep and key of the last event read. The zero cursor is the
// start.
type EventCursor struct {
	RepID int64
	Key   string
}

// currentEventsSQL reads the organisation's events as the reports count them,
// in the order of the sorting key after a cursor. FINAL collapses each key to
// its newest version (a correction wins, a void is a tombstone left out by
// deleted = 0), and a removed rep's events go with the rep: the reps
// dimension's newest row says so.
const currentEventsSQL = `
	SELECT rep_id, event_key, kind, occurred_at, course_id, enrollment_id, assignment_id, lesson_id, value, detail, version
	FROM events FINAL
	WHERE org_id = @org AND rep_id > 0 AND deleted = 0 AND has(@kinds, kind) AND toUInt32(occurred_at) >= @since
		AND (rep_id > @rep OR (rep_id = @rep AND event_key > @key))
		AND rep_id NOT IN (SELECT rep_id FROM reps FINAL WHERE org_id = @org AND (deleted = 1 OR status = 'removed'))
	ORDER BY rep_id, event_key
	LIMIT @limit`

// CurrentEvents returns up to limit of the organisation's events of the kinds
// given as the reports now count them: the newest version of each key
// (corrections applied), voided and deleted events left out, and nothing of a
// rep removed. Only events that occurred at or after since (zero: all), in
// the order of rep and key, after the cursor. Each call reads events FINAL
// within the organisation's part of the sorting key, from the cursor on, so
// paging through an organisation costs one pass over its events.
func CurrentEvents(ctx context.Context, ch driver.Conn, orgID int64, kinds []string, since time.Time, after EventCursor, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	sinceSecs := uint32(0)
	if s := since.Unix(); !since.IsZero() && s > 0 {
		sinceSecs = uint32(min(s, int64(^uint32(0))))
	}
	rows, err := ch.Query(ctx, currentEventsSQL,
		clickhouse.Named("org", uint64(orgID)), clickhouse.Named("kinds", kinds), clickhouse.Named("since", sinceSecs),
		clickhouse.Named("rep", uint64(max(after.RepID, 0))), clickhouse.Named("key", after.Key), clickhouse.Named("limit", limit))
	if err != nil {
		return nil, fmt.Errorf("read the events of organisation %d: %w", orgID, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e                                         Event
			rep, course, enrollment, assignment, less uint64
		)
		if err := rows.Scan(&rep, &e.Key, &e.Kind, &e.OccurredAt, &course, &enrollment, &assignment, &less, &e.Value,
			&e.Detail, &e.Version); err != nil {
			return nil, fmt.Errorf("read the events of organisation %d: %w", orgID, err)
		}
		e.OrgID, e.RepID = orgID, int64(rep)
		e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID = int64(course), int64(enrollment), int64(assignment), int64(less)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the events of organisation %d: %w", orgID, err)
	}
	return out, nil
}

// SegmentWatch is a video segment a rep watched of an assignment, and when.
type SegmentWatch struct {
	RepID        int64
	AssignmentID int64
	Segment      int
	At           time.Time
}

// SegmentsWatched returns the segments watched (current segment_watched
// events, voids left out) of the given assignments by the organisation's reps
// from firstRep to lastRep, in no particular order.
func SegmentsWatched(ctx context.Context, ch driver.Conn, orgID, firstRep, lastRep int64, assignments []int64) ([]SegmentWatch, error) {
	if len(assignments) == 0 || lastRep < firstRep {
		return nil, nil
	}
	ids := make([]uint64, len(assignments))
	for i, a := range assignments {
		ids[i] = uint64(a)
	}
	rows, err := ch.Query(ctx, `
		SELECT rep_id, assignment_id, value, occurred_at
		FROM events FINAL
		WHERE org_id = @org AND rep_id >= @first AND rep_id <= @last AND deleted = 0 AND kind = 'segment_watched'
			AND has(@assignments, assignment_id)`,
		clickhouse.Named("org", uint64(orgID)), clickhouse.Named("first", uint64(max(firstRep, 0))),
		clickhouse.Named("last", uint64(max(lastRep, 0))), clickhouse.Named("assignments", ids))
	if err != nil {
		return nil, fmt.Errorf("read the segments watched: %w", err)
	}
	defer rows.Close()
	var out []SegmentWatch
	for rows.Next() {
		var rep, assignment uint64
		var w SegmentWatch
		var value float64
		if err := rows.Scan(&rep, &assignment, &value, &w.At); err != nil {
			return nil, fmt.Errorf("read the segments watched: %w", err)
		}
		w.RepID, w.AssignmentID, w.Segment = int64(rep), int64(assignment), int(value)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the segments watched: %w", err)
	}
	return out, nil
}
