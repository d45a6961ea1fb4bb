package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
	"github.com/morselhq/morsel/tracking"
)

// Segments played on the lesson page roll back into Postgres when the outbox
// is shipped: at 90% of a video's segments its lesson completes, and with it
// the course.
func TestWatchedVideoCompletesTheLesson(t *testing.T) {
	t.Parallel()
	ch := dbtest.ClickHouse(t)
	var store *lessons.Store
	b := setup(t, faultStart, twilioemu.Options{}, func(c *scheduler.Config) {
		c.ClickHouse = ch
		c.OnShipped = func(ctx context.Context, tx pgx.Tx, events []tracking.Event) error {
			return store.RecordWatched(ctx, tx, lessons.WatchedSegments(events))
		}
	})
	store = b.store
	ctx := context.Background()
	spec := lessons.CourseSpec{Slug: "video", Title: "Video", PassMark: 70, DueDays: 30,
		Cadence:    lessons.Cadence{EveryDays: 1, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow(),
		Lessons:    []lessons.Lesson{{Key: "watch", Kind: lessons.KindVideo, Title: "Watch", VideoURL: "/media/demo.mp4", VideoSeconds: 62}}}
	v, err := b.store.SaveCourse(ctx, b.org.ID, spec, true)
	require.NoError(t, err)
	reps := b.reps(t, nyPhone, "America/New_York")
	b.enroll(t, v.CourseID, reps)
	b.advance(t, firstLesson.Add(time.Second))
	require.Len(t, received(b.emu)[nyPhone], 1)

	var assignmentID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM assignments`).Scan(&assignmentID))
	in := tracking.NewIngester(b.pool, quiet, 2)
	defer in.Stop()
	ping := func(seg int) tracking.Event {
		return tracking.Event{OrgID: b.org.ID, RepID: reps[0].ID, Key: fmt.Sprintf("seg/%d/%d", assignmentID, seg),
			Kind: tracking.KindSegmentWatched, OccurredAt: b.clock.Now(), AssignmentID: assignmentID, Value: float64(seg),
			Detail: tracking.VideoDetail{Position: float64(seg*15 + 14), Rate: 1, Session: "sess-0001"}.String()}
	}
	status := func() (string, string) {
		var a, e string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT a.status, e.status FROM assignments a JOIN enrollments e ON e.id = a.enrollment_id`).Scan(&a, &e))
		return a, e
	}
	waitShipped := func() {
		deadline := time.Now().Add(15 * time.Second)
		for {
			n, _, err := tracking.Backlog(ctx, b.pool)
			require.NoError(t, err)
			if n == 0 {
				return
			}
			require.True(t, time.Now().Before(deadline), "the outbox was not shipped")
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Four of five segments (one of them twice) is 80%: not yet.
	require.NoError(t, in.Write(ctx, []tracking.Event{ping(0), ping(1), ping(1), ping(2), ping(4)}))
	waitShipped()
	a, e := status()
	require.Equal(t, "sent", a)
	require.Equal(t, "active", e)

	require.NoError(t, in.Write(ctx, []tracking.Event{ping(3)}))
	waitShipped()
	a, e = status()
	require.Equal(t, "completed", a)
	require.Equal(t, "completed", e)
	var watched uint64
	require.NoError(t, ch.QueryRow(ctx, `SELECT count() FROM events FINAL WHERE deleted = 0 AND kind = 'segment_watched' AND rep_id = ?`,
		uint64(reps[0].ID)).Scan(&watched))
	require.EqualValues(t, 5, watched, "six pings, five segments")
}
