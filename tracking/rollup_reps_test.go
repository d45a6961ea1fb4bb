package tracking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// TestRollUpReps follows two reps through facts, live events, a team move,
// a correction, a void, a backfill, a path that grows and a deleted rep:
// after each, enrollment_progress and rep_summary (read before any merge)
// hold the hand-computed figures, and equal a recount from the raw events.
func TestRollUpReps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	for _, table := range []string{"assignment_progress", "enrollment_progress", "rep_summary", "reps", "enrollments"} {
		require.NoError(t, b.ch.Exec(ctx, `SYSTEM STOP MERGES `+table))
	}
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	version := uint64(t0.UnixNano())
	rep := func(id, team int64, teamName string, v uint64) tracking.Event {
		f := tracking.RepFacts{OrgID: 1, RepID: id, TeamID: team, Team: teamName, Status: "active", Name: fmt.Sprintf("Rep %d", id),
			Phone: fmt.Sprintf("+1555000000%d", id), Email: fmt.Sprintf("rep%d@acme.test", id), TimeZone: "America/New_York", Version: v}
		return f.Event(t0)
	}
	enrollment := func(repID, id int64, lessons, segments int, v uint64) tracking.Event {
		f := tracking.EnrollmentFacts{OrgID: 1, RepID: repID, EnrollmentID: id, CourseID: 7, CourseVersionID: 70, CourseTitle: "Compliance",
			Status: "active", EnrolledAt: t0, DueOn: "2026-03-16", Lessons: lessons, Segments: segments, Version: v}
		return f.Event(t0)
	}
	ev := func(repID, enrollmentID, assignment int64, kind, key string, at time.Time, value float64) tracking.Event {
		return tracking.Event{OrgID: 1, RepID: repID, Key: key, Kind: kind, OccurredAt: at, CourseID: 7, EnrollmentID: enrollmentID,
			AssignmentID: assignment, LessonID: assignment * 10, Value: value}
	}
	check := func(want []tracking.EnrollmentProgress, wantSummaries []tracking.RepSummary) {
		t.Helper()
		got, summaries, err := tracking.StoredRepProgress(ctx, b.ch, 1, nil)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, wantSummaries, summaries)
		recount, recountSummaries, err := tracking.RecountProgress(ctx, b.ch, 1)
		require.NoError(t, err)
		require.Equal(t, got, recount, "the rollup equals a recount from the raw events")
		require.Equal(t, summaries, recountSummaries)
	}

	// Rep 1 in team North with a 3-lesson enrollment (one 4-segment video);
	// rep 2 in no team with nothing yet. Another organisation's rep 1.
	other := rep(1, 10, "North", version)
	other.OrgID = 2
	b.live(t, rep(1, 10, "North", version), rep(2, 0, "", version), enrollment(1, 100, 3, 4, version), other)
	due := time.Date(2026, 3, 17, 4, 0, 0, 0, time.UTC) // midnight after the due date in New York (EDT from 8 March)
	p := tracking.EnrollmentProgress{OrgID: 1, TeamID: 10, RepID: 1, EnrollmentID: 100, CourseID: 7, CourseTitle: "Compliance",
		Team: "North", Name: "Rep 1", RepStatus: "active", Status: "active", EnrolledAt: t0, DueAt: due, Lessons: 3, Segments: 4}
	s1 := tracking.RepSummary{OrgID: 1, TeamID: 10, RepID: 1, Team: "North", Name: "Rep 1", Phone: "+15550000001",
		Email: "rep1@acme.test", RepStatus: "active", Enrollments: 1}
	s2 := tracking.RepSummary{OrgID: 1, RepID: 2, Name: "Rep 2", Phone: "+15550000002", Email: "rep2@acme.test", RepStatus: "active"}
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})

	// Lesson 1 sent, opened and done; the quiz (lesson 2) sent with two
	// questions, one answered right and one wrong; the video sent, 2 segments.
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	b.live(t,
		ev(1, 100, 11, tracking.KindMessageSent, "msg/1/message_sent", h(1), 0),
		ev(1, 100, 11, tracking.KindLessonOpened, "open/11", h(2), 0),
		ev(1, 100, 11, tracking.KindLessonCompleted, "done/11", h(3), 0),
		ev(1, 100, 12, tracking.KindMessageSent, "msg/2/message_sent", h(4), 0),
		ev(1, 100, 12, tracking.KindGraded, "grade/12/0/3", h(5), 1),
		ev(1, 100, 12, tracking.KindGraded, "grade/12/1/4", h(6), 0),
		ev(1, 100, 13, tracking.KindMessageSent, "msg/5/message_sent", h(7), 0),
		ev(1, 100, 13, tracking.KindSegmentWatched, "seg/13/0", h(8), 0),
		ev(1, 100, 13, tracking.KindSegmentWatched, "seg/13/1", h(9), 1),
	)
	p.Sent, p.Opened, p.Done, p.Answers, p.Correct, p.Watched = 3, 1, 1, 2, 1, 2
	p.LastActivityAt, p.OldestOpenSentAt = h(9), h(4)
	s1.LastActivityAt = h(9)
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})

	// Rep 1 moves to team South: the North row becomes a tombstone.
	b.live(t, rep(1, 20, "South", version+1))
	p.TeamID, p.Team, s1.TeamID, s1.Team = 20, "South", 20, "South"
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})
	var north uint64
	require.NoError(t, b.ch.QueryRow(ctx, `SELECT count() FROM enrollment_progress FINAL WHERE org_id = 1 AND team_id = 10 AND deleted = 0`).Scan(&north))
	require.Zero(t, north)

	// A correction: the wrong answer was right. A void: segment 1 did not count.
	_, err := tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, ev(1, 100, 12, tracking.KindGraded, "grade/12/1/4", h(6), 1))
	require.NoError(t, err)
	_, err = tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "seg/13/1", 1, "replayed ping", "test")
	require.NoError(t, err)
	p.Correct, p.Watched, p.LastActivityAt = 2, 1, h(8)
	s1.LastActivityAt = h(8)
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})

	// A backfill completes the quiz and the video: every step is done.
	_, err = tracking.Backfill(ctx, b.pool, b.ch, time.Now(), 1, []tracking.Event{
		ev(1, 100, 12, tracking.KindLessonCompleted, "done/12", h(10), 50),
		ev(1, 100, 13, tracking.KindLessonCompleted, "done/13", h(11), 0),
	})
	require.NoError(t, err)
	p.Opened, p.Done, p.CompletedAt, p.LastActivityAt, p.OldestOpenSentAt = 3, 3, h(11), h(11), time.Time{}
	s1.Done, s1.LastActivityAt = 1, h(11)
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})
	require.True(t, p.Finished())

	// A remedial lesson grows the path: not finished any more.
	b.live(t, enrollment(1, 100, 4, 4, version+2))
	p.Lessons, p.CompletedAt, s1.Done = 4, time.Time{}, 0
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})

	// Rep 1's events are deleted: their progress is gone, their facts stay.
	_, err = tracking.DeleteRep(ctx, b.pool, b.ch, time.Now(), 1, 1)
	require.NoError(t, err)
	p.Sent, p.Opened, p.Done, p.Answers, p.Correct, p.Watched = 0, 0, 0, 0, 0, 0
	p.LastActivityAt, p.OldestOpenSentAt, s1.LastActivityAt = time.Time{}, time.Time{}, time.Time{}
	check([]tracking.EnrollmentProgress{p}, []tracking.RepSummary{s1, s2})

	// The other organisation's rep 1 has a summary of their own.
	_, theirs, err := tracking.StoredRepProgress(ctx, b.ch, 2, nil)
	require.NoError(t, err)
	require.Len(t, theirs, 1)
	require.Equal(t, "North", theirs[0].Team)
}
