package reports

import (
	"context"
	"fmt"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/morselhq/morsel/tracking"
)

// VideoLesson is a video lesson the video report covers, as the course's
// version in Postgres describes it.
type VideoLesson struct {
	LessonID  int64
	Segments  int // its 15-second segments: tracking.SegmentCount of its duration
	Threshold int // the percent of its segments that completes it: the course version's VideoCompletePercent
}

// VideoFigures are one video lesson's figures over the reps in the scope
// who were sent it.
type VideoFigures struct {
	VideoLesson
	Sent int // reps sent the lesson
	// Watched holds, for each segment, how many of those reps watched it:
	// the drop-off curve.
	Watched []int
	// Median is the median of the share of the segments each rep sent the
	// lesson watched, in percent (a rep who watched none counts as 0).
	Median float64
	// Completed is how many of them watched at least Threshold percent of
	// the segments, counted as a lesson page counts it (tracking.WatchedPercent).
	Completed int
}

// Percent is n as a share of the reps sent the lesson, in percent.
func (f VideoFigures) Percent(n int) float64 {
	if f.Sent == 0 {
		return 0
	}
	return float64(n) * 100 / float64(f.Sent)
}

// MaxVideoLessons bounds the lessons one read of the video report covers.
const MaxVideoLessons = 200

// Videos reads the figures of each video lesson over the reps in the scope
// who were sent it, in the order given: from the rollup assignment_progress
// (one query: the newest version of each rep's assignments of the lessons,
// tombstones out, kept in memory until the next change of the
// organisation's rollups), which every write of events, voids and
// corrections included, recomputes at once. A rep is in the scope as the dashboard has
// them: by their team now, and not removed. Lessons beyond MaxVideoLessons
// are an error.
func (r *Reports) Videos(ctx context.Context, s Scope, lessons []VideoLesson) ([]VideoFigures, error) {
	if len(lessons) > MaxVideoLessons {
		return nil, fmt.Errorf("video report of %d lessons: at most %d at once", len(lessons), MaxVideoLessons)
	}
	out := make([]VideoFigures, len(lessons))
	index := make(map[int64]int, len(lessons))
	ids := make([]uint64, 0, len(lessons))
	for i, l := range lessons {
		out[i] = VideoFigures{VideoLesson: l, Watched: make([]int, max(0, l.Segments))}
		if _, ok := index[l.LessonID]; !ok {
			index[l.LessonID] = i
			ids = append(ids, uint64(l.LessonID))
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return nil, err
	}
	inScope := func(rep int64) bool {
		rr := sn.reps[rep]
		return rr != nil && rr.summary != nil && rr.summary.RepStatus != "removed" && s.inScope(rr.summary.TeamID, 0) &&
			(len(s.tags) == 0 || len(rr.rows) > 0 && hasAll(rr.rows[0].Tags, s.tags))
	}
	byRep, err := r.videoRows(ctx, sn, s.OrgID, ids)
	if err != nil {
		return nil, err
	}
	type repLesson struct{ rep, lesson int64 }
	watched := map[repLesson][]bool{} // a rep sent a lesson twice (two enrollments) counts once
	for rep, rows := range byRep {
		if !inScope(rep) {
			continue
		}
		for _, row := range rows {
			k := repLesson{row.rep, row.lesson}
			w, ok := watched[k]
			if !ok {
				w = make([]bool, len(out[index[k.lesson]].Watched))
				watched[k] = w
			}
			for _, seg := range row.segments {
				if int(seg) < len(w) { // a segment past the end: a video since shortened
					w[seg] = true
				}
			}
		}
	}
	shares := make(map[int64][]float64, len(ids))
	for k, w := range watched {
		f := &out[index[k.lesson]]
		f.Sent++
		n := 0
		for i, ok := range w {
			if ok {
				f.Watched[i]++
				n++
			}
		}
		if len(w) > 0 {
			shares[k.lesson] = append(shares[k.lesson], float64(n)*100/float64(len(w)))
		}
		if tracking.WatchedPercent(w) >= f.Threshold && len(w) > 0 {
			f.Completed++
		}
	}
	for i := range out {
		f := &out[i]
		if first := index[f.LessonID]; first != i { // the same lesson given twice
			*f = VideoFigures{VideoLesson: f.VideoLesson, Sent: out[first].Sent, Watched: out[first].Watched,
				Median: out[first].Median, Completed: out[first].Completed}
			continue
		}
		f.Median = median(shares[f.LessonID])
	}
	return out, nil
}

// videoRow is a rep's assignment of a video lesson, sent: the segments
// they watched of it.
type videoRow struct {
	lesson, rep int64
	segments    []uint16
}

// videoRows returns the lessons' rows by rep as they stand at sn.
func (r *Reports) videoRows(ctx context.Context, sn *snapshot, orgID int64, ids []uint64) (map[int64][]videoRow, error) {
	return rowsByRep(ctx, r, &r.videos, sn, fmt.Sprint(orgID, slices.Sorted(slices.Values(ids))),
		func(ctx context.Context, reps []int64) ([]videoRow, error) {
			return r.readVideoRows(ctx, orgID, ids, reps)
		},
		func(v videoRow) int64 { return v.rep })
}

// readVideoRows reads each rep's assignments of the lessons that were
// sent, of the reps given (nil: of all): the newest version of each row (an
// assignment left with no events a tombstone). The pairs are found by
// lesson first, and their rows read whole, so that a row whose newest
// version moved to another lesson (a correction) is not counted by an older
// one.
func (r *Reports) readVideoRows(ctx context.Context, orgID int64, ids []uint64, reps []int64) ([]videoRow, error) {
	rows, err := r.query(ctx, "read the video lessons' progress", `
		SELECT lesson, rep_id, segments
		FROM (
			SELECT rep_id, assignment_id, argMax(lesson_id, version) AS lesson, argMax(sent_at, version) AS sent,
				argMax(segments, version) AS segments, argMax(deleted, version) AS deleted
			FROM assignment_progress
			WHERE org_id = @org`+byReps(reps)+` AND (rep_id, assignment_id) IN (
				SELECT rep_id, assignment_id FROM assignment_progress WHERE org_id = @org`+byReps(reps)+` AND has(@lessons, lesson_id))
			GROUP BY rep_id, assignment_id
		)
		WHERE deleted = 0 AND has(@lessons, lesson) AND sent > toDateTime(0, 'UTC')`,
		clickhouse.Named("org", uint64(orgID)), clickhouse.Named("lessons", ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []videoRow
	for rows.Next() {
		var lesson, rep uint64
		var segments []uint16
		if err := rows.Scan(&lesson, &rep, &segments); err != nil {
			return nil, &Unavailable{fmt.Errorf("read the video lessons' progress: %w", err)}
		}
		out = append(out, videoRow{lesson: int64(lesson), rep: int64(rep), segments: segments})
	}
	if err := rows.Err(); err != nil {
		return nil, &Unavailable{fmt.Errorf("read the video lessons' progress: %w", err)}
	}
	return out, nil
}

// median is the middle value of xs, the mean of the two middle ones for an
// even count; 0 for none. It sorts xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
