package tracking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// TestRollUp follows one organisation's progress through live events, a
// correction, a void and a deleted rep: after each, assignment_progress (read
// before any merge) holds what the raw events say.
func TestRollUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	require.NoError(t, b.ch.Exec(ctx, `SYSTEM STOP MERGES assignment_progress`))
	t0 := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	ev := func(org, rep, assignment int64, kind, key string, at time.Time, value float64) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Key: key, Kind: kind, OccurredAt: at,
			CourseID: 7, EnrollmentID: 70 + rep, AssignmentID: assignment, LessonID: assignment * 10, Value: value}
	}
	stored := func() []tracking.Progress {
		t.Helper()
		got, err := tracking.StoredProgress(ctx, b.ch, 1, []int64{5, 6}, nil)
		require.NoError(t, err)
		fresh, err := tracking.RecomputeProgress(ctx, b.ch, 1, []int64{5, 6}, nil)
		require.NoError(t, err)
		require.Equal(t, fresh, got, "the rollup agrees with the raw events")
		return got
	}

	// A quiz lesson: sent twice (lesson and question), opened, two answers, done.
	b.live(t,
		ev(1, 5, 55, tracking.KindMessageSent, "msg/1", t0.Add(time.Hour), 0),
		ev(1, 5, 55, tracking.KindMessageSent, "msg/2", t0, 0),
		ev(1, 5, 55, tracking.KindLessonOpened, "open/55", t0.Add(2*time.Hour), 0),
		ev(1, 5, 55, tracking.KindGraded, "grade/55/0", t0.Add(3*time.Hour), 1),
		ev(1, 5, 55, tracking.KindGraded, "grade/55/1", t0.Add(3*time.Hour), 0),
		ev(2, 5, 55, tracking.KindGraded, "grade/55/0", t0, 1), // another organisation's rep 5
		ev(1, 5, 0, tracking.KindOptedOut, "optout/5", t0, 0),  // about no assignment
	)
	// A video watched in two visits, one segment twice; and a second rep.
	var segs []tracking.Event
	for s := range 6 {
		segs = append(segs, ev(1, 5, 56, tracking.KindSegmentWatched, fmt.Sprintf("seg/56/%d", s), t0, float64(s)))
	}
	b.live(t, segs[:4]...)
	b.live(t, append(segs[3:], ev(1, 5, 55, tracking.KindLessonCompleted, "done/55", t0.Add(4*time.Hour), 0.5),
		ev(1, 6, 60, tracking.KindSegmentWatched, "seg/60/0", t0, 0))...)

	quiz := tracking.Progress{OrgID: 1, RepID: 5, AssignmentID: 55, CourseID: 7, EnrollmentID: 75, LessonID: 550,
		SentAt: t0, OpenedAt: t0.Add(2 * time.Hour), CompletedAt: t0.Add(4 * time.Hour), Answers: 2, Correct: 1,
		LastActivityAt: t0.Add(4 * time.Hour)}
	video := tracking.Progress{OrgID: 1, RepID: 5, AssignmentID: 56, CourseID: 7, EnrollmentID: 75, LessonID: 560, SentAt: time.Time{}, SegmentsWatched: 6,
		Segments:       []int{0, 1, 2, 3, 4, 5},
		LastActivityAt: t0}
	other := tracking.Progress{OrgID: 1, RepID: 6, AssignmentID: 60, CourseID: 7, EnrollmentID: 76, LessonID: 600, SegmentsWatched: 1, LastActivityAt: t0,
		Segments: []int{0}}
	require.Equal(t, []tracking.Progress{quiz, video, other}, stored())

	// A correction: the wrong answer was right after all.
	fixed := ev(1, 5, 55, tracking.KindGraded, "grade/55/1", t0.Add(3*time.Hour), 1)
	_, err := tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, fixed)
	require.NoError(t, err)
	quiz.Correct = 2
	require.Equal(t, []tracking.Progress{quiz, video, other}, stored())

	// A correction that moves an answer to another lesson changes both.
	moved := ev(1, 5, 57, tracking.KindGraded, "grade/55/1", t0.Add(3*time.Hour), 1)
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, moved)
	require.NoError(t, err)
	quiz.Answers, quiz.Correct = 1, 1
	elsewhere := tracking.Progress{OrgID: 1, RepID: 5, AssignmentID: 57, CourseID: 7, EnrollmentID: 75, LessonID: 570, Answers: 1, Correct: 1,
		LastActivityAt: t0.Add(3 * time.Hour)}
	require.Equal(t, []tracking.Progress{quiz, video, elsewhere, other}, stored())
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, fixed) // and back
	require.NoError(t, err)
	quiz.Answers, quiz.Correct = 2, 2
	require.Equal(t, []tracking.Progress{quiz, video, other}, stored(), "the emptied assignment's row is a tombstone")

	// A void: a replayed ping did not count.
	_, err = tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "seg/56/5", 5, "replayed ping", "test")
	require.NoError(t, err)
	video.SegmentsWatched, video.Segments = 5, []int{0, 1, 2, 3, 4}
	require.Equal(t, []tracking.Progress{quiz, video, other}, stored())

	// A deleted rep leaves no progress: their rows become tombstones.
	_, err = tracking.DeleteRep(ctx, b.pool, b.ch, time.Now(), 1, 6)
	require.NoError(t, err)
	require.Equal(t, []tracking.Progress{quiz, video}, stored())

	// The other organisation's rep 5 kept their own row.
	theirs, err := tracking.StoredProgress(ctx, b.ch, 2, []int64{5}, nil)
	require.NoError(t, err)
	require.Len(t, theirs, 1)
	require.Equal(t, 1, theirs[0].Correct)
}
