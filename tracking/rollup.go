package tracking

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
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
}

// rollupReps is how many reps one recomputation reads: their ids are part of
// the query's text, which the server caps (256 KiB by default).
const rollupReps = 5000

// progressOf is the rollup of the raw events of one organisation's reps: the
// latest version of each key, tombstones left out, grouped by assignment.
// Its argument is the organisation; %s is the list of reps.
const progressOf = `
	SELECT rep_id, assignment_id, max(course_id), max(enrollment_id), max(lesson_id),
		minIf(occurred_at, kind = 'message_sent'), minIf(occurred_at, kind = 'lesson_opened'),
		minIf(occurred_at, kind = 'lesson_completed'),
		toUInt32(countIf(kind = 'graded')), toUInt32(countIf(kind = 'graded' AND value > 0)),
		toUInt32(countIf(kind = 'segment_watched'))
	FROM (
		SELECT rep_id, event_key,
			argMax(kind, version) AS kind, argMax(occurred_at, version) AS occurred_at,
			argMax(course_id, version) AS course_id, argMax(enrollment_id, version) AS enrollment_id,
			argMax(assignment_id, version) AS assignment_id, argMax(lesson_id, version) AS lesson_id,
			argMax(value, version) AS value, argMax(deleted, version) AS deleted
		FROM events
		WHERE org_id = ? AND rep_id IN (%s)
		GROUP BY rep_id, event_key
	)
	WHERE deleted = 0 AND assignment_id != 0
	GROUP BY rep_id, assignment_id`

const insertProgress = `INSERT INTO assignment_progress (org_id, rep_id, assignment_id, course_id, enrollment_id, lesson_id,
	sent_at, opened_at, completed_at, answers, correct, segments_watched, version, deleted)`

// RollUp recomputes assignment_progress for the reps that events are about,
// from all their raw events: the rows of their assignments, and a tombstone
// for an assignment that no longer has any event. WriteClickHouse calls it
// after every write.
func RollUp(ctx context.Context, ch driver.Conn, events []Event) error {
	reps := map[int64]map[int64]bool{} // by organisation
	for _, e := range events {
		if e.RepID == 0 {
			continue
		}
		if reps[e.OrgID] == nil {
			reps[e.OrgID] = map[int64]bool{}
		}
		reps[e.OrgID][e.RepID] = true
	}
	for _, org := range slices.Sorted(maps.Keys(reps)) {
		ids := slices.Sorted(maps.Keys(reps[org]))
		for chunk := range slices.Chunk(ids, rollupReps) {
			if err := rollUp(ctx, ch, org, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

func rollUp(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) error {
	version := uint64(time.Now().UnixNano()) // before reading: see the migration
	fresh, err := RecomputeProgress(ctx, ch, orgID, repIDs)
	if err != nil {
		return err
	}
	stored, err := StoredProgress(ctx, ch, orgID, repIDs)
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
			p.SentAt.UTC(), p.OpenedAt.UTC(), p.CompletedAt.UTC(), uint32(p.Answers), uint32(p.Correct), uint32(p.SegmentsWatched), version, deleted)
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

// RecomputeProgress rolls the reps' progress up from their raw events.
func RecomputeProgress(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) ([]Progress, error) {
	return queryProgress(ctx, ch, orgID, fmt.Sprintf(progressOf, idList(repIDs)), orgID)
}

// StoredProgress reads the reps' progress as assignment_progress holds it.
func StoredProgress(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) ([]Progress, error) {
	return queryProgress(ctx, ch, orgID, `
		SELECT rep_id, assignment_id, course_id, enrollment_id, lesson_id, sent_at, opened_at, completed_at,
			answers, correct, segments_watched
		FROM assignment_progress FINAL
		WHERE org_id = ? AND rep_id IN (`+idList(repIDs)+`) AND deleted = 0`, orgID)
}

func queryProgress(ctx context.Context, ch driver.Conn, orgID int64, query string, args ...any) ([]Progress, error) {
	if strings.Contains(query, "IN ()") {
		return nil, nil // no reps
	}
	rows, err := ch.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	defer rows.Close()
	var out []Progress
	for rows.Next() {
		var rep, assignment, course, enrollment, lesson uint64
		var sent, opened, completed time.Time
		var answers, correct, segments uint32
		if err := rows.Scan(&rep, &assignment, &course, &enrollment, &lesson, &sent, &opened, &completed, &answers, &correct, &segments); err != nil {
			return nil, fmt.Errorf("read progress: %w", err)
		}
		out = append(out, Progress{OrgID: orgID, RepID: int64(rep), AssignmentID: int64(assignment),
			CourseID: int64(course), EnrollmentID: int64(enrollment), LessonID: int64(lesson),
			SentAt: zeroTime(sent), OpenedAt: zeroTime(opened), CompletedAt: zeroTime(completed),
			Answers: int(answers), Correct: int(correct), SegmentsWatched: int(segments)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	slices.SortFunc(out, func(a, b Progress) int {
		return cmp.Or(cmp.Compare(a.RepID, b.RepID), cmp.Compare(a.AssignmentID, b.AssignmentID))
	})
	return out, nil
}

// zeroTime maps ClickHouse's "no time" (the epoch) to Go's zero time.
func zeroTime(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t.UTC()
}

// idList writes ids as a list for IN: the driver binds a slice as an array,
// which IN does not take on older servers.
func idList(ids []int64) string {
	b := make([]byte, 0, len(ids)*8)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}
