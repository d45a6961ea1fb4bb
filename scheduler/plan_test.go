package scheduler_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// TestPlanMatchesSends: the schedule the editor previews for a rep is what
// the scheduler then sends them, the same times and the same texts.
func TestPlanMatchesSends(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 10, 17, 0, 0, 0, time.UTC) // a Wednesday, across the US change to summer time
	b := setup(t, start, twilioemu.Options{})
	v := b.course(t, 5)
	reps := b.reps(t, "+12125550101", "America/New_York", "+14155550101", "Asia/Tokyo")
	b.enroll(t, v.CourseID, reps)

	token := regexp.MustCompile(`/l/[A-Za-z0-9_-]{22}`)
	type due struct {
		phone string
		n     int // the message's place in the rep's schedule, from 1
		lessons.PlannedMessage
	}
	var dues []due
	for _, r := range reps {
		plan := lessons.PlanCourse(v.Spec, mustLoc(t, r.TimeZone), start, lessons.SampleLessonLink(b.store.PublicURL))
		require.Len(t, plan, 5)
		for i, p := range plan {
			dues = append(dues, due{r.Phone, i + 1, p})
		}
	}
	slices.SortStableFunc(dues, func(a, b due) int { return a.At.Compare(b.At) })
	require.NotEqual(t, dues[0].phone, dues[1].phone, "the two zones interleave")
	for _, d := range dues {
		b.advance(t, d.At.Add(-time.Second))
		require.Len(t, received(b.emu)[d.phone], d.n-1, "%s: message %d before %s", d.phone, d.n, d.At)
		b.advance(t, d.At)
		got := received(b.emu)[d.phone]
		require.Len(t, got, d.n, "%s: message %d at %s", d.phone, d.n, d.At)
		require.Equal(t, token.ReplaceAllString(d.Body, "/l/TOKEN"), token.ReplaceAllString(got[d.n-1], "/l/TOKEN"))
	}
}
