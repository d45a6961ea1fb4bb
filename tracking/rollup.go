package tracking

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Progress is a rep's progress on one assignment, as assignment_progress
// holds it (see migrations/clickhouse/0002): rolled up from the raw events.
type Progress struct {
	OrgID, RepID, AssignmentID        int64
	CourseID, EnrollmentID, LessonID  int64
	SentAt, OpenedAt, CompletedAt     time.Time // zero: not yet
	Answers, Correct, SegmentsWatched int
	LastActivityAt                    time.Time // the rep's latest open, segment, answer or completion; zero: none
	// Segments are the video segments watched, ascending (nil: none): the
	// video report's drop-off curves count them.
	Segments []int
}

// activityKinds are the kinds of event that are the rep doing something on
// an assignment, for its last activity.
const activityKinds = `('lesson_opened', 'segment_watched', 'lesson_completed', 'graded')`

// rollupPairs is how many (rep, assignment) pairs one recomputation reads:
// their ids are part of the query's text, which the server caps (256 KiB by
// default).
const rollupPairs = 5000

// progressOf is the rollup of the raw events of one organisation's reps: the
// latest version of each key, tombstones left out, grouped by assignment.
// Its arguments are the organisation (twice when narrowed to assignments);
// the two %s narrow it (see RecomputeProgress).
const progressOf = `
	SELECT rep_id, assignment, max(course_id), max(enrollment_id), max(lesson_id),
		minIf(occurred_at, kind = 'message_sent'), minIf(occurred_at, kind = 'lesson_opened'),
		minIf(occurred_at, kind = 'lesson_completed'),
		toUInt32(countIf(kind = 'graded')), toUInt32(countIf(kind = 'graded' AND value > 0)),
		toUInt32(countIf(kind = 'segment_watched')), maxIf(occurred_at, kind IN ` + activityKinds + `),
		arraySort(groupUniqArrayIf(toUInt16(value), kind = 'segment_watched' AND value >= 0 AND value < 65536))
	FROM (
		SELECT rep_id, event_key,
			argMax(kind, version) AS kind, argMax(occurred_at, version) AS occurred_at,
			argMax(course_id, version) AS course_id, argMax(enrollment_id, version) AS enrollment_id,
			argMax(assignment_id, version) AS assignment, argMax(lesson_id, version) AS lesson_id,
			argMax(value, version) AS value, argMax(deleted, version) AS deleted
		FROM events
		WHERE org_id = ? %s
		GROUP BY rep_id, event_key
	)
	WHERE deleted = 0 AND assignment != 0 %s
	GROUP BY rep_id, assignment`

const insertProgress = `INSERT INTO assignment_progress (org_id, rep_id, assignment_id, course_id, enrollment_id, lesson_id,
	sent_at, opened_at, completed_at, answers, correct, segments_watched, last_activity_at, segments, version, deleted)`

// RollUp recomputes assignment_progress for the (rep, assignment) pairs that
// events are about, from all their raw events: the rows of the pairs, and a
// tombstone for a pair left with no event. WriteClickHouse calls it after
// every write. It reads the events of those assignments only: the sort key
// finds the reps, and the assignment filter keeps the work in proportion to
// what changed, not to the reps' whole history.
func RollUp(ctx context.Context, ch driver.Conn, events []Event) error {
	type pair struct{ org, rep, assignment int64 }
	seen := map[pair]bool{}
	var pairs []pair
	for _, e := range events {
		p := pair{e.OrgID, e.RepID, e.AssignmentID}
		if e.RepID == 0 || e.AssignmentID == 0 || seen[p] {
			continue
		}
		seen[p] = true
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.rep, b.rep), cmp.Compare(a.assignment, b.assignment))
	})
	for len(pairs) > 0 {
		// One organisation's pairs, up to rollupPairs.
		n := 1
		for n < len(pairs) && n < rollupPairs && pairs[n].org == pairs[0].org {
			n++
		}
		reps, assignments := map[int64]bool{}, map[int64]bool{}
		for _, p := range pairs[:n] {
			reps[p.rep], assignments[p.assignment] = true, true
		}
		err := rollUp(ctx, ch, pairs[0].org, slices.Sorted(maps.Keys(reps)), slices.Sorted(maps.Keys(assignments)))
		if err != nil {
			return err
		}
		pairs = pairs[n:]
	}
	return nil
}

// rollUp recomputes the reps' progress on the assignments (nil: all of them).
// Any pair of a rep and an assignment given is recomputed whole.
func rollUp(ctx context.Context, ch driver.Conn, orgID int64, repIDs, assignmentIDs []int64) error {
	ctx = withOp(ctx, "rollup")
	version := uint64(time.Now().UnixNano()) // before reading: see the migration
	fresh, err := RecomputeProgress(ctx, ch, orgID, repIDs, assignmentIDs)
	if err != nil {
		return err
	}
	stored, err := StoredProgress(ctx, ch, orgID, repIDs, assignmentIDs)
	if err != nil {
		return err
	}
	type key struct{ rep, assignment int64 }
	live := make(map[key]bool, len(fresh))
	for _, p := range fresh {
		live[key{p.RepID, p.AssignmentID}] = true
	}
	var gone []Progress
	for _, p := range stored {
		if !live[key{p.RepID, p.AssignmentID}] {
			gone = append(gone, p)
		}
	}
	if len(fresh)+len(gone) == 0 {
		return nil
	}
	batch, err := ch.PrepareBatch(ctx, insertProgress)
	if err != nil {
		return fmt.Errorf("roll up progress: %w", err)
	}
	for i, p := range slices.Concat(fresh, gone) {
		deleted := uint8(0)
		if i >= len(fresh) {
			deleted = 1
		}
		err := batch.Append(uint64(p.OrgID), uint64(p.RepID), uint64(p.AssignmentID), uint64(p.CourseID), uint64(p.EnrollmentID), uint64(p.LessonID),
			p.SentAt.UTC(), p.OpenedAt.UTC(), p.CompletedAt.UTC(), uint32(p.Answers), uint32(p.Correct), uint32(p.SegmentsWatched),
			p.LastActivityAt.UTC(), segmentsOf(p.Segments), version, deleted)
		if err != nil {
			batch.Abort()
			return fmt.Errorf("roll up progress: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("roll up the progress of %d reps: %w", len(repIDs), err)
	}
	return nil
}

// RecomputeProgress rolls the reps' progress on the assignments (nil: all
// of them) up from the raw events. Narrowed to assignments, it reads every
// version of each key that has a row in them, and keeps the keys whose latest
// version is still in them: a correction may move an event to another
// assignment, and a filter on the rows alone would count its old version.
func RecomputeProgress(ctx context.Context, ch driver.Conn, orgID int64, repIDs, assignmentIDs []int64) ([]Progress, error) {
	if len(repIDs) == 0 {
		return nil, nil
	}
	reps := "AND rep_id IN (" + IDList(repIDs) + ")"
	if assignmentIDs == nil {
		return queryProgress(ctx, ch, orgID, fmt.Sprintf(progressOf, reps, ""), orgID)
	}
	assignments := "(" + IDList(assignmentIDs) + ")"
	keys := reps + " AND event_key IN (SELECT event_key FROM events WHERE org_id = ? " + reps + " AND assignment_id IN " + assignments + ")"
	return queryProgress(ctx, ch, orgID, fmt.Sprintf(progressOf, keys, "AND assignment IN "+assignments), orgID, orgID)
}

// StoredProgress reads the reps' progress on the assignments (nil: all of
// them) as assignment_progress holds it.
func StoredProgress(ctx context.Context, ch driver.Conn, orgID int64, repIDs, assignmentIDs []int64) ([]Progress, error) {
	if len(repIDs) == 0 {
		return nil, nil
	}
	return queryProgress(ctx, ch, orgID, `
		SELECT rep_id, assignment_id, course_id, enrollment_id, lesson_id, sent_at, opened_at, completed_at,
			answers, correct, segments_watched, last_activity_at, segments
		FROM assignment_progress FINAL
		WHERE org_id = ? `+scope(repIDs, assignmentIDs)+` AND deleted = 0`, orgID)
}

// scope is the condition on reps and assignments (nil: any) of a progress
// query. The ids are written into the query: the driver binds a slice as an
// array, which IN does not take on older servers.
func scope(repIDs, assignmentIDs []int64) string {
	s := "AND rep_id IN (" + IDList(repIDs) + ")"
	if assignmentIDs != nil {
		s += " AND assignment_id IN (" + IDList(assignmentIDs) + ")"
	}
	return s
}

func queryProgress(ctx context.Context, ch driver.Conn, orgID int64, query string, args ...any) ([]Progress, error) {
	rows, err := ch.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	defer rows.Close()
	var out []Progress
	for rows.Next() {
		var rep, assignment, course, enrollment, lesson uint64
		var sent, opened, completed, active time.Time
		var answers, correct, segments uint32
		var watched []uint16
		if err := rows.Scan(&rep, &assignment, &course, &enrollment, &lesson, &sent, &opened, &completed, &answers, &correct, &segments, &active, &watched); err != nil {
			return nil, fmt.Errorf("read progress: %w", err)
		}
		out = append(out, Progress{OrgID: orgID, RepID: int64(rep), AssignmentID: int64(assignment),
			CourseID: int64(course), EnrollmentID: int64(enrollment), LessonID: int64(lesson),
			SentAt: zeroTime(sent), OpenedAt: zeroTime(opened), CompletedAt: zeroTime(completed),
			Answers: int(answers), Correct: int(correct), SegmentsWatched: int(segments), LastActivityAt: zeroTime(active),
			Segments: segmentList(watched)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	slices.SortFunc(out, func(a, b Progress) int {
		return cmp.Or(cmp.Compare(a.RepID, b.RepID), cmp.Compare(a.AssignmentID, b.AssignmentID))
	})
	return out, nil
}

// segmentsOf is a list of segments as the segments column holds it.
func segmentsOf(segments []int) []uint16 {
	out := make([]uint16, 0, len(segments))
	for _, s := range segments {
		if s >= 0 && s <= math.MaxUint16 {
			out = append(out, uint16(s))
		}
	}
	return out
}

// segmentList reads the segments column: nil for none.
func segmentList(segments []uint16) []int {
	if len(segments) == 0 {
		return nil
	}
	out := make([]int, len(segments))
	for i, s := range segments {
		out[i] = int(s)
	}
	return out
}

// zeroTime maps ClickHouse's "no time" (the epoch) to Go's zero time.
func zeroTime(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t.UTC()
}

// IDList writes ids as a list for a ClickHouse IN (...): numbers only, so
// safe to put in a query as text.
func IDList(ids []int64) string {
	b := make([]byte, 0, len(ids)*8)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}
