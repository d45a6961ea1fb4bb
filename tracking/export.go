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

// windowSQL counts the raw rows (every version, every kind) of the
// organisation's reps from a rep on, a rep a row: reading the rep_id column
// alone, it is what bounds a page's FINAL to the few reps it needs.
const windowSQL = `
	SELECT rep_id, count() FROM events
	WHERE org_id = @org AND rep_id >= @rep
	GROUP BY rep_id ORDER BY rep_id LIMIT @limit`

// currentEventsSQL reads the organisation's events as the reports count them,
// in the order of the sorting key after a cursor, up to a rep. FINAL
// collapses each key to its newest version (a correction wins, a void is a
// tombstone left out by deleted = 0), and a removed rep's events go with the
// rep: the reps dimension's newest row says so.
const currentEventsSQL = `
	SELECT rep_id, event_key, kind, occurred_at, course_id, enrollment_id, assignment_id, lesson_id, value, detail, version
	FROM events FINAL
	WHERE org_id = @org AND rep_id >= @rep AND rep_id <= @upto AND deleted = 0 AND has(@kinds, kind)
		AND toUInt32(occurred_at) >= @since AND (rep_id > @rep OR event_key > @key)
		AND rep_id NOT IN (SELECT rep_id FROM reps FINAL WHERE org_id = @org AND (deleted = 1 OR status = 'removed'))
	ORDER BY rep_id, event_key
	LIMIT @limit`

// CurrentEvents returns up to limit of the organisation's events of the kinds
// given as the reports now count them: the newest version of each key
// (corrections applied), voided and deleted events left out, and nothing of a
// rep removed; only events that occurred at or after since (zero: all), in
// the order of rep and key, after the cursor. It returns the cursor of the
// next call too, the zero cursor once every event is read; a call may return
// fewer than limit events (none, even) and still a cursor.
//
// FINAL on ClickHouse 18.16 reads and sorts every row in its range, so each
// call first counts the raw rows of the reps from the cursor on (the rep_id
// column alone) and bounds its FINAL to the reps that hold limit rows: a
// call reads the few reps it returns, not the rest of the organisation.
func CurrentEvents(ctx context.Context, ch driver.Conn, orgID int64, kinds []string, since time.Time, after EventCursor, limit int) ([]Event, EventCursor, error) {
	if limit <= 0 {
		return nil, EventCursor{}, nil
	}
	from := max(after.RepID, 1) // a cursor with no key: from the rep's first event
	upto, more, err := eventWindow(ctx, ch, orgID, from, limit)
	if err != nil || upto == 0 {
		return nil, EventCursor{}, err
	}
	sinceSecs := uint32(0)
	if s := since.Unix(); !since.IsZero() && s > 0 {
		sinceSecs = uint32(min(s, int64(^uint32(0))))
	}
	key := after.Key
	if after.RepID < 1 {
		key = ""
	}
	rows, err := ch.Query(ctx, currentEventsSQL,
		clickhouse.Named("org", uint64(orgID)), clickhouse.Named("kinds", kinds), clickhouse.Named("since", sinceSecs),
		clickhouse.Named("rep", uint64(from)), clickhouse.Named("key", key), clickhouse.Named("upto", uint64(upto)),
		clickhouse.Named("limit", limit))
	if err != nil {
		return nil, EventCursor{}, fmt.Errorf("read the events of organisation %d: %w", orgID, err)
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
			return nil, EventCursor{}, fmt.Errorf("read the events of organisation %d: %w", orgID, err)
		}
		e.OrgID, e.RepID = orgID, int64(rep)
		e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID = int64(course), int64(enrollment), int64(assignment), int64(less)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, EventCursor{}, fmt.Errorf("read the events of organisation %d: %w", orgID, err)
	}
	switch {
	case len(out) == limit:
		last := out[len(out)-1]
		return out, EventCursor{RepID: last.RepID, Key: last.Key}, nil
	case more:
		return out, EventCursor{RepID: upto + 1}, nil // the next rep's first event
	}
	return out, EventCursor{}, nil
}

// eventWindow returns the last rep of the window a call from rep from reads:
// the reps from it on whose raw rows reach limit, or every rep left; more
// says whether reps remain after it. 0: no rep is left.
func eventWindow(ctx context.Context, ch driver.Conn, orgID, from int64, limit int) (upto int64, more bool, err error) {
	rows, err := ch.Query(ctx, windowSQL, clickhouse.Named("org", uint64(orgID)), clickhouse.Named("rep", uint64(from)),
		clickhouse.Named("limit", limit))
	if err != nil {
		return 0, false, fmt.Errorf("count the events of organisation %d: %w", orgID, err)
	}
	defer rows.Close()
	var total, reps uint64
	for rows.Next() {
		var rep, n uint64
		if err := rows.Scan(&rep, &n); err != nil {
			return 0, false, fmt.Errorf("count the events of organisation %d: %w", orgID, err)
		}
		reps++
		if total < uint64(limit) {
			upto = int64(rep)
			total += n
		} else {
			more = true
		}
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("count the events of organisation %d: %w", orgID, err)
	}
	if reps == uint64(limit) && !more {
		more = true // the count stopped at limit reps: there may be others
	}
	return upto, more, nil
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
