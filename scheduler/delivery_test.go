package scheduler_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// Three reps in three zones get each lesson at 09:00 on weekdays in their own
// time, in order, across the weekend and the US daylight-saving change of
// 14 March 2027.
func TestLessonsArriveAtLocalTimes(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 8, 6, 0, 0, 0, time.UTC) // a Monday
	b := setup(t, start, twilioemu.Options{})
	v := b.course(t, 6)
	reps := b.reps(t, "+442079460001", "Europe/London", "+12125550101", "America/New_York", "+14155550101", "America/Los_Angeles")
	b.enroll(t, v.CourseID, reps)

	days := []int{8, 9, 10, 11, 12, 15} // Mon-Fri, then Monday after the change
	type due struct {
		at     time.Time
		phone  string
		lesson int
	}
	var dues []due
	for _, r := range reps {
		loc, err := time.LoadLocation(r.TimeZone)
		require.NoError(t, err)
		for i, d := range days {
			dues = append(dues, due{time.Date(2027, 3, d, 9, 0, 0, 0, loc), r.Phone, i + 1})
		}
	}
	sort.Slice(dues, func(i, j int) bool { return dues[i].at.Before(dues[j].at) })
	// The change shows in UTC: New York's 09:00 is 14:00 UTC before it, 13:00 after.
	require.Contains(t, dues, due{time.Date(2027, 3, 12, 14, 0, 0, 0, time.UTC).In(mustLoc(t, "America/New_York")), "+12125550101", 5})
	require.Contains(t, dues, due{time.Date(2027, 3, 15, 13, 0, 0, 0, time.UTC).In(mustLoc(t, "America/New_York")), "+12125550101", 6})

	for _, d := range dues {
		before := len(received(b.emu)[d.phone])
		b.advance(t, d.at.Add(-time.Minute))
		require.Len(t, received(b.emu)[d.phone], before, "%s got lesson %d before %s", d.phone, d.lesson, d.at)
		b.advance(t, d.at.Add(time.Second))
		got := lessonTitles(received(b.emu)[d.phone])
		require.Len(t, got, d.lesson, "%s at %s", d.phone, d.at)
		require.Equal(t, fmt.Sprintf("Lesson %d", d.lesson), got[d.lesson-1])
	}
	for _, r := range reps {
		got := lessonTitles(received(b.emu)[r.Phone])
		require.Equal(t, []string{"Lesson 1", "Lesson 2", "Lesson 3", "Lesson 4", "Lesson 5", "Lesson 6"}, got, r.Phone)
	}

	// Every message is recorded with its sid, scheduled time and encoding.
	var rows, withSID int
	require.NoError(t, b.pool.QueryRow(context.Background(), `
		SELECT count(*), count(provider_sid) FROM messages WHERE status = 'queued' AND encoding = 'GSM-7' AND segments = 1`).Scan(&rows, &withSID))
	require.Equal(t, 18, rows)
	require.Equal(t, 18, withSID)
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// What happens to messages reaches ClickHouse: the outbox is shipped every second.
func TestEventsReachClickHouse(t *testing.T) {
	t.Parallel()
	ch := dbtest.ClickHouse(t)
	b := setup(t, faultStart, twilioemu.Options{}, func(c *scheduler.Config) { c.ClickHouse = ch })
	v := b.course(t, 2)
	reps := b.reps(t, nyPhone, "America/New_York")
	b.enroll(t, v.CourseID, reps)
	b.advance(t, firstLesson.Add(time.Second))

	deadline := time.Now().Add(15 * time.Second)
	for {
		var sent uint64
		require.NoError(t, ch.QueryRow(context.Background(),
			`SELECT count() FROM events FINAL WHERE deleted = 0 AND kind = 'message_sent' AND rep_id = ?`, uint64(reps[0].ID)).Scan(&sent))
		if sent == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the sent message never reached ClickHouse")
		time.Sleep(100 * time.Millisecond)
	}
}
