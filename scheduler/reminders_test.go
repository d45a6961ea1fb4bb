package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// A New York rep who opens nothing: each lesson gets one nudge four hours
// later, the due date gets reminders three days and one day before, and the
// day after it the enrollment is flagged overdue. All inside the window.
func TestNudgesRemindersAndOverdue(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{}, func(c *scheduler.Config) { c.NudgeAfter = 4 * time.Hour })
	v := b.course(t, 2)
	reps := b.reps(t, nyPhone, "America/New_York")
	ctx := context.Background()
	res, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{reps[0].ID},
		DueOn: time.Date(2027, 3, 12, 0, 0, 0, 0, time.UTC)}) // Friday
	require.NoError(t, err)

	ny := mustLoc(t, "America/New_York")
	// Steps land a few minutes after what they wait for: a nudge is due four
	// hours after its lesson was accepted, which is when the clock got there.
	at := func(day, hour int) time.Time {
		if hour == 13 {
			return time.Date(2027, 3, day, hour, 30, 0, 0, ny)
		}
		return time.Date(2027, 3, day, hour, 5, 0, 0, ny)
	}
	steps := []struct {
		until time.Time
		want  []string // prefixes of the messages received by then, in order
	}{
		{at(8, 9), []string{"Basics 1/2"}},
		{at(8, 12), []string{"Basics 1/2"}},
		{at(8, 13), []string{"Basics 1/2", "A nudge"}},
		// Tuesday 09:00: lesson 2 and the three-day reminder, in either order.
		{at(9, 9), []string{"Basics 1/2", "A nudge", "*", "*"}},
		{at(9, 13), []string{"Basics 1/2", "A nudge", "*", "*", "A nudge"}},
		{at(11, 9), []string{"Basics 1/2", "A nudge", "*", "*", "A nudge", "Reminder: Basics is due tomorrow"}},
		{at(13, 1), []string{"Basics 1/2", "A nudge", "*", "*", "A nudge", "Reminder: Basics is due tomorrow"}},
	}
	for _, st := range steps {
		b.advance(t, st.until)
		got := received(b.emu)[nyPhone]
		require.Len(t, got, len(st.want), "by %s: %q", st.until, got)
		for i, w := range st.want {
			if w != "*" {
				require.True(t, strings.HasPrefix(got[i], w), "message %d by %s: %q, want %q...", i, st.until, got[i], w)
			}
		}
	}
	got := received(b.emu)[nyPhone]
	// In either order: each of the two is one of them.
	lesson, reminder := "Basics 2/2", "Reminder: Basics is due in 3 days"
	if strings.HasPrefix(got[2], reminder) {
		got[2], got[3] = got[3], got[2]
	}
	require.True(t, strings.HasPrefix(got[2], lesson) && strings.HasPrefix(got[3], reminder), "%q", got[2:4])

	var overdue bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT overdue_at IS NOT NULL FROM enrollments WHERE id = $1`, res.Enrollments[0].ID).Scan(&overdue))
	require.True(t, overdue, "flagged for the manager the day after the due date")

	// Every message went out at a time inside 08:00-20:00 New York time.
	for _, m := range b.emu.Messages() {
		local := m.DateCreated.In(ny)
		require.True(t, local.Hour() >= 8 && local.Hour() < 20, "%q at %s", m.Body, local)
	}
}
