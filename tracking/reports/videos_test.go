package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

// The video report against figures worked out by hand. Lesson 900 is a
// 60-second video (4 segments) completed at 75%, sent to reps 1 to 4:
//
//	rep 1 (North) watched 0 1 2 3, then 3 is voided: 3 of 4, 75%: complete
//	rep 2 (North) watched 0 1:                        2 of 4, 50%
//	rep 3 (North) watched nothing:                    0 of 4,  0%
//	rep 4 (South) watched 0 1 2 3:                    4 of 4, 100%: complete
//
// Rep 5 (North) watched segment 0 without being sent it, and rep 6 (North)
// was sent it in two enrollments and watched 0 in one, 1 and 2 in the other:
// rep 5 is not counted, rep 6 once, as 3 of 4 (but only in the second step
// below). Lesson 901 is 30 seconds (2 segments), sent to rep 2, who watched
// both.
func TestVideosByHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	rep := reports.New(ch, pool, func() time.Time { return now })
	write := func(events ...tracking.Event) {
		t.Helper()
		require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))
	}
	var facts []tracking.Event
	for id := int64(1); id <= 6; id++ {
		team, name := int64(5), "North"
		if id == 4 {
			team, name = 6, "South"
		}
		f := tracking.RepFacts{OrgID: org, RepID: id, TeamID: team, Team: name, Status: "active", Name: fmt.Sprint("Rep ", id), TimeZone: "UTC"}
		e := tracking.EnrollmentFacts{OrgID: org, RepID: id, EnrollmentID: id * 100, CourseID: 7, CourseVersionID: 70,
			CourseTitle: "Pricing", Status: "active", EnrolledAt: now, DueOn: now.Format(time.DateOnly), Lessons: 2, Segments: 6}
		facts = append(facts, f.Event(now), e.Event(now))
	}
	write(facts...)
	// assignment rep*10 is the rep's of lesson 900, rep*10+1 of lesson 901.
	ev := func(rep, assignment, lesson int64, kind, key string, value float64) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Key: key, Kind: kind, OccurredAt: now.Add(-time.Hour), CourseID: 7,
			EnrollmentID: rep * 100, AssignmentID: assignment, LessonID: lesson, Value: value}
	}
	sent := func(rep, assignment, lesson int64) tracking.Event {
		return ev(rep, assignment, lesson, tracking.KindMessageSent, fmt.Sprintf("msg/%d/message_sent", assignment), 0)
	}
	seg := func(rep, assignment, lesson int64, segments ...int) []tracking.Event {
		var out []tracking.Event
		for _, s := range segments {
			out = append(out, ev(rep, assignment, lesson, tracking.KindSegmentWatched, fmt.Sprintf("seg/%d/%d", assignment, s), float64(s)))
		}
		return out
	}
	events := []tracking.Event{sent(1, 10, 900), sent(2, 20, 900), sent(3, 30, 900), sent(4, 40, 900), sent(2, 21, 901)}
	events = append(events, seg(1, 10, 900, 0, 1, 2, 3)...)
	events = append(events, seg(2, 20, 900, 0, 1)...)
	events = append(events, seg(4, 40, 900, 0, 1, 2, 3)...)
	events = append(events, seg(5, 50, 900, 0)...)
	events = append(events, seg(2, 21, 901, 0, 1)...)
	write(events...)

	lessons := []reports.VideoLesson{{LessonID: 900, Segments: 4, Threshold: 75}, {LessonID: 901, Segments: 2, Threshold: 90}}
	all := reports.Scope{OrgID: org, All: true, Teams: []int64{5, 6}}
	north := reports.Scope{OrgID: org, Teams: []int64{5}}
	south := reports.Scope{OrgID: org, Teams: []int64{6}}
	read := func(s reports.Scope) []reports.VideoFigures {
		t.Helper()
		got, err := rep.Videos(ctx, s, lessons)
		require.NoError(t, err)
		return got
	}
	figures := func(l reports.VideoLesson, sent int, watched []int, median float64, completed int) reports.VideoFigures {
		return reports.VideoFigures{VideoLesson: l, Sent: sent, Watched: watched, Median: median, Completed: completed}
	}
	lesson901 := figures(lessons[1], 1, []int{1, 1}, 100, 1)

	// Before the void: shares 100, 50, 0, 100.
	require.Equal(t, []reports.VideoFigures{figures(lessons[0], 4, []int{3, 3, 2, 2}, 75, 2), lesson901}, read(all))

	// The void, and rep 6's two enrollments.
	_, err := tracking.Void(ctx, pool, ch, time.Now(), org, "seg/10/3", 1, "replayed ping", "test")
	require.NoError(t, err)
	write(append(append([]tracking.Event{sent(6, 60, 900), sent(6, 62, 900)}, seg(6, 60, 900, 0)...), seg(6, 62, 900, 1, 2)...)...)
	// Shares 75, 50, 0, 100, 75: median 75; complete: reps 1, 4 and 6.
	require.Equal(t, []reports.VideoFigures{figures(lessons[0], 5, []int{4, 4, 3, 1}, 75, 3), lesson901}, read(all))
	// A manager of North: reps 1, 2, 3 and 6; shares 75, 50, 0, 75: median 62.5.
	require.Equal(t, []reports.VideoFigures{figures(lessons[0], 4, []int{3, 3, 2, 0}, 62.5, 2), lesson901}, read(north))
	// Of South: rep 4 alone; nobody there was sent lesson 901.
	require.Equal(t, []reports.VideoFigures{figures(lessons[0], 1, []int{1, 1, 1, 1}, 100, 1), figures(lessons[1], 0, []int{0, 0}, 0, 0)},
		read(south))

	// Read again: the same from memory (nothing changed) as from ClickHouse.
	fresh, err := reports.New(ch, nil, func() time.Time { return now }).Videos(ctx, north, lessons)
	require.NoError(t, err)
	require.Equal(t, fresh, read(north))

	// Rep 4 removed: out of every figure.
	removed := tracking.RepFacts{OrgID: org, RepID: 4, TeamID: 6, Team: "South", Status: "removed", Name: "Rep 4", TimeZone: "UTC",
		Version: uint64(time.Now().UnixNano())}
	write(removed.Event(now))
	require.Equal(t, figures(lessons[0], 4, []int{3, 3, 2, 0}, 62.5, 2), read(all)[0])

	// Another organisation's lessons are not this one's.
	other, err := rep.Videos(ctx, reports.Scope{OrgID: org + 1, All: true}, lessons)
	require.NoError(t, err)
	require.Zero(t, other[0].Sent)
	require.Equal(t, 0.0, other[0].Percent(0))
	require.Equal(t, 75.0, read(all)[0].Percent(3))
}
