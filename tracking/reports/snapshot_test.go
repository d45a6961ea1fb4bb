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

// Reports that keep the rollups in memory show every kind of write on the
// next read: what they hold equals a recount from the raw events (Audit
// reads the same memory the pages do) and a fresh read of ClickHouse. The
// question and video reports, which keep their rows by rep and read again
// only the reps each write changed, equal a fresh read too.
func TestSnapshotsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	history(t, pool, ch, now)
	cached, fresh := reports.New(ch, pool, clock), reports.New(ch, nil, clock)
	all := reports.Scope{OrgID: org, All: true, Contacts: true}
	north := reports.Scope{OrgID: org, Teams: []int64{5}}

	check := func(step string) reports.Overview {
		t.Helper()
		res, err := cached.Audit(ctx, org)
		require.NoError(t, err, step)
		require.Empty(t, res.Differences, step)
		for _, s := range []reports.Scope{all, north} {
			want, err := fresh.Table(ctx, s, reports.TableQuery{Limit: reports.MaxPageSize})
			require.NoError(t, err, step)
			got, err := cached.Table(ctx, s, reports.TableQuery{Limit: reports.MaxPageSize})
			require.NoError(t, err, step)
			require.Equal(t, want, got, step)
			wantRep, err := fresh.Search(ctx, s, "rep")
			require.NoError(t, err, step)
			gotRep, err := cached.Search(ctx, s, "rep")
			require.NoError(t, err, step)
			require.Equal(t, wantRep, gotRep, step)
			for _, course := range []int64{7, 8} {
				wantQ, err := fresh.Questions(ctx, s, course)
				require.NoError(t, err, step)
				gotQ, err := cached.Questions(ctx, s, course)
				require.NoError(t, err, step)
				require.Equal(t, wantQ, gotQ, "%s: questions of course %d", step, course)
			}
			wantV, err := fresh.Videos(ctx, s, videoLessons)
			require.NoError(t, err, step)
			gotV, err := cached.Videos(ctx, s, videoLessons)
			require.NoError(t, err, step)
			require.Equal(t, wantV, gotV, step)
		}
		ov, err := cached.Overview(ctx, all, 0)
		require.NoError(t, err, step)
		return ov
	}
	completed := func(ov reports.Overview, course int64) int {
		for _, c := range ov.Courses {
			if c.CourseID == course {
				return c.Completed
			}
		}
		return -1
	}
	ev := func(rep, course, a int64, kind, key string, at time.Time, value float64) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Key: key, Kind: kind, OccurredAt: at, CourseID: course,
			EnrollmentID: rep*10 + course, AssignmentID: a, LessonID: a, Value: value}
	}
	ship := func(events ...tracking.Event) { t.Helper(); shipEvents(t, pool, ch, events...) }
	answer := func(rep, course, a int64, question, choice int, right bool, at time.Time) tracking.Event {
		e := ev(rep, course, a, tracking.KindGraded, fmt.Sprintf("answer/%d/%d", a, question), at, 0)
		if right {
			e.Value = 1
		}
		e.Detail = fmt.Sprintf(`{"question":%d,"choice":%d,"purpose":"question"}`, question, choice)
		return e
	}
	ov := check("the history")
	require.Equal(t, 1, completed(ov, 7))

	// Quiz answers and video segments, read by every report before the
	// next writes, so that those reports catch up by rep.
	ship(answer(1, 7, 2, 0, 1, false, now.Add(-2*time.Hour)), answer(2, 7, 3, 0, 0, true, now.Add(-2*time.Hour)),
		answer(3, 8, 4, 1, 2, false, now.Add(-2*time.Hour)), ev(1, 7, 3, tracking.KindMessageSent, "msg/1/3", now.Add(-2*time.Hour), 0),
		ev(1, 7, 3, tracking.KindSegmentWatched, "seg/1/3/1", now.Add(-2*time.Hour), 1))
	check("answered")
	ship(answer(3, 7, 3, 0, 2, false, now.Add(-90*time.Minute)), ev(2, 7, 3, tracking.KindSegmentWatched, "seg/3/1", now.Add(-90*time.Minute), 1),
		ev(3, 7, 5, tracking.KindSegmentWatched, "seg/5/0", now.Add(-90*time.Minute), 0))
	check("answered again")
	_, err := tracking.Void(ctx, pool, ch, time.Now(), org, "answer/2/0", 1, "answered for someone else", "test")
	require.NoError(t, err)
	check("an answer voided")

	// The live path: rep 2 finishes course 7 through the outbox.
	ship(ev(2, 7, 3, tracking.KindLessonCompleted, "done/3", now.Add(-time.Hour), 0),
		ev(2, 7, 6, tracking.KindMessageSent, "msg/6", now.Add(-time.Hour), 0),
		ev(2, 7, 6, tracking.KindLessonCompleted, "done/6", now.Add(-time.Minute), 0))
	require.Equal(t, 2, completed(check("shipped"), 7))

	// A void, a correction, a backfill.
	_, err = tracking.Void(ctx, pool, ch, time.Now(), org, "done/6", 2, "sent to the wrong rep", "test")
	require.NoError(t, err)
	require.Equal(t, 1, completed(check("voided"), 7))
	_, err = tracking.Correct(ctx, pool, ch, time.Now(), org, ev(1, 7, 2, tracking.KindGraded, "grade/2", now.Add(-3*24*time.Hour), 1))
	require.NoError(t, err)
	check("corrected")
	_, err = tracking.Backfill(ctx, pool, ch, time.Now(), org, []tracking.Event{ev(2, 7, 6, tracking.KindLessonCompleted, "done/6b", now.Add(-2*time.Minute), 0)})
	require.NoError(t, err)
	require.Equal(t, 2, completed(check("backfilled"), 7))

	// Rep 2 moves to another team: gone from North's table, in the org's.
	ship(tracking.RepFacts{OrgID: org, RepID: 2, TeamID: 6, Team: "South", Status: "active", Name: "Rep 2", TimeZone: "UTC"}.Event(now))
	check("moved")
	page, err := cached.Table(ctx, north, reports.TableQuery{})
	require.NoError(t, err)
	for _, r := range page.Rows {
		require.NotEqual(t, int64(2), r.RepID, "rep 2 left North")
	}

	// An enrollment cancelled, and a rep's events deleted.
	ship(tracking.EnrollmentFacts{OrgID: org, RepID: 1, EnrollmentID: 18, CourseID: 8, CourseVersionID: 8, CourseTitle: "Course 8",
		Status: "cancelled", EnrolledAt: now.Add(-10 * 24 * time.Hour), DueOn: now.Add(-24 * time.Hour).Format(time.DateOnly), Lessons: 2, Segments: 4}.Event(now))
	check("cancelled")
	n, err := tracking.DeleteRep(ctx, pool, ch, time.Now(), org, 1)
	require.NoError(t, err)
	require.Positive(t, n)
	require.Equal(t, 1, completed(check("deleted"), 7))

	// A bulk load rolls the organisation up and says everything changed.
	require.NoError(t, tracking.InsertEvents(ctx, ch, []tracking.Event{ev(1, 7, 1, tracking.KindLessonCompleted, "done/1", now.Add(-time.Hour), 0)}))
	require.NoError(t, tracking.RollUpOrg(ctx, pool, ch, org, []int64{1, 2, 3}, nil))
	require.Equal(t, 1, completed(check("rolled up whole"), 7))
}

// videoLessons are the history's lessons as videos of 4 segments, the
// second of which its reps watch.
var videoLessons = []reports.VideoLesson{{LessonID: 3, Segments: 4, Threshold: 50}, {LessonID: 5, Segments: 4, Threshold: 25}}
