package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// enrollmentOf returns the rep's one enrollment.
func enrollmentOf(t *testing.T, b testBundle, repID int64) lessons.Enrollment {
	t.Helper()
	es, err := b.store.Enrollments(context.Background(), b.org.ID, lessons.EnrollmentFilter{RepID: repID})
	require.NoError(t, err)
	require.Len(t, es, 1)
	return es[0]
}

// A pause in the middle of a quiz holds everything, the feedback on an answer
// given while paused too; resuming sends what was held, once, and the course
// goes on at its cadence.
func TestPauseMidQuizThenResume(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	ctx := context.Background()
	ny := mustLoc(t, "America/New_York")
	day := func(d, h int) time.Time { return time.Date(2027, 3, d, h, 5, 0, 0, ny) }
	e := enrollmentOf(t, b.testBundle, b.rep.ID)

	b.advance(t, day(8, 9))
	b.advance(t, day(9, 9))
	b.text(t, "C")
	require.Equal(t, []string{"Correct! Over 10% needs sign-off.", "Q2/5: Who approves 8%? A) You B) Your lead. Reply A or B"}, b.last(2))

	paused, err := b.store.PauseEnrollment(ctx, b.org.ID, e.ID, lessons.TeamLimit{})
	require.NoError(t, err)
	require.Equal(t, lessons.EnrollmentPaused, paused.Status)
	_, err = b.store.PauseEnrollment(ctx, b.org.ID, e.ID, lessons.TeamLimit{})
	require.Equal(t, errs.Conflict, errs.CodeOf(err), "pausing twice: %v", err)

	before := len(received(b.emu)[nyPhone])
	b.text(t, "B") // graded, but the feedback waits
	b.advance(t, day(10, 9))
	b.advance(t, day(12, 9))
	require.Len(t, received(b.emu)[nyPhone], before, "a paused rep gets nothing")

	_, err = b.store.ResumeEnrollment(ctx, b.org.ID, e.ID, lessons.TeamLimit{})
	require.NoError(t, err)
	b.advance(t, day(12, 10))
	require.Equal(t, []string{"Correct! 6-10% is your lead's.", "Q3/5: Trade a discount for? A) Nothing B) A longer term. Reply A or B"},
		received(b.emu)[nyPhone][before:], "the held feedback, then the next question, once each")
	for _, answer := range []string{"B", "B", "A"} {
		b.text(t, answer)
	}
	require.Equal(t, "Correct! Up to 5%.", b.last(1)[0])
	b.advance(t, day(15, 9))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Discounts 3/3: Wrap-up"), b.last(1))
	require.Len(t, received(b.emu)[nyPhone], before+2+5+1, "nothing sent twice")
	var attempts int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM attempts`).Scan(&attempts))
	require.Equal(t, 5, attempts)
}

// A lesson scheduled when the enrollment is paused goes out at the first slot
// after the resume; an enrollment cancelled gets nothing more.
func TestPauseBeforeALessonThenResumeOrUnenroll(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{})
	ctx := context.Background()
	ny := mustLoc(t, "America/New_York")
	v := b.course(t, 3)
	reps := b.reps(t, nyPhone, "America/New_York", "+12125550102", "America/New_York")
	b.enroll(t, v.CourseID, reps)
	first, second := enrollmentOf(t, b, reps[0].ID), enrollmentOf(t, b, reps[1].ID)

	_, err := b.store.PauseEnrollment(ctx, b.org.ID, first.ID, lessons.TeamLimit{})
	require.NoError(t, err)
	_, err = b.store.Unenroll(ctx, b.org.ID, second.ID, lessons.TeamLimit{})
	require.NoError(t, err)
	_, err = b.store.ResumeEnrollment(ctx, b.org.ID, second.ID, lessons.TeamLimit{})
	require.Equal(t, errs.Conflict, errs.CodeOf(err), "a cancelled enrollment cannot be resumed: %v", err)

	b.advance(t, time.Date(2027, 3, 9, 12, 0, 0, 0, ny))
	require.Empty(t, received(b.emu))

	_, err = b.store.ResumeEnrollment(ctx, b.org.ID, first.ID, lessons.TeamLimit{})
	require.NoError(t, err)
	b.advance(t, time.Date(2027, 3, 9, 13, 0, 0, 0, ny))
	require.Empty(t, received(b.emu), "not before the next slot")
	b.advance(t, time.Date(2027, 3, 10, 9, 1, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 11, 9, 1, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 12, 9, 1, 0, 0, ny))
	require.Equal(t, []string{"Lesson 1", "Lesson 2", "Lesson 3"}, lessonTitles(received(b.emu)[nyPhone]))
	require.Empty(t, received(b.emu)["+12125550102"])
}

// A manager pauses only the enrollments of reps in their teams.
func TestPauseWithinTeams(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{})
	ctx := context.Background()
	v := b.course(t, 2)
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{
		{Name: "East rep", Phone: nyPhone, TimeZone: "America/New_York", Team: "East"},
		{Name: "West rep", Phone: "+12125550102", TimeZone: "America/New_York", Team: "West"},
	})
	require.NoError(t, err)
	reps, err := b.store.Reps(ctx, b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	b.enroll(t, v.CourseID, reps)
	east := lessons.TeamLimit{Limited: true, Teams: []int64{reps[0].TeamID}}

	_, err = b.store.PauseEnrollment(ctx, b.org.ID, enrollmentOf(t, b, reps[1].ID).ID, east)
	require.Equal(t, errs.Forbidden, errs.CodeOf(err), "%v", err)
	_, err = b.store.PauseEnrollment(ctx, b.org.ID, enrollmentOf(t, b, reps[0].ID).ID, east)
	require.NoError(t, err)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex"})
	require.NoError(t, err)
	_, err = b.store.PauseEnrollment(ctx, other.ID, enrollmentOf(t, b, reps[1].ID).ID, lessons.TeamLimit{})
	require.Equal(t, errs.NotFound, errs.CodeOf(err), "another organisation's enrollment: %v", err)
}

// An enrollment that starts on a later date sends its first lesson at the
// first slot of that day in the rep's zone; its due date counts from then.
func TestEnrollmentStartsOnALaterDate(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{})
	ctx := context.Background()
	ny := mustLoc(t, "America/New_York")
	v := b.course(t, 2)
	reps := b.reps(t, nyPhone, "America/New_York")
	res, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{reps[0].ID},
		StartOn: time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, "2027-04-09", res.Enrollments[0].DueOn.Format(time.DateOnly), "30 days from the start")

	b.advance(t, time.Date(2027, 3, 9, 23, 0, 0, 0, ny))
	require.Empty(t, received(b.emu))
	b.advance(t, time.Date(2027, 3, 10, 9, 1, 0, 0, ny))
	require.Equal(t, []string{"Lesson 1"}, lessonTitles(received(b.emu)[nyPhone]))

	tests := []struct {
		name       string
		start, due time.Time
		path       string
	}{
		{"start in the past", time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}, "start_on"},
		{"due before start", time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 19, 0, 0, 0, 0, time.UTC), "due_on"},
	}
	for _, tt := range tests {
		_, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{reps[0].ID}, StartOn: tt.start, DueOn: tt.due})
		var e *errs.Error
		require.ErrorAs(t, err, &e, tt.name)
		require.Equal(t, errs.Invalid, e.Code, tt.name)
		require.Equal(t, tt.path, e.Details[0].Path, tt.name)
	}
}

// A lesson the carrier refused with 21610 goes out when the rep texts START,
// once, and the course goes on.
func TestCarrierOptOutThenStartResumes(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	ny := mustLoc(t, "America/New_York")
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultUnsubscribed, To: nyPhone})
	b.advance(t, time.Date(2027, 3, 8, 9, 5, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 9, 9, 5, 0, 0, ny))
	require.Empty(t, received(b.emu)[nyPhone], "refused by the carrier: nothing more")

	b.text(t, "START")
	require.Equal(t, "You're back on Acme training texts. Reply STOP to opt out.", b.last(1)[0])
	b.advance(t, time.Date(2027, 3, 10, 9, 5, 0, 0, ny))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Discounts 1/3: Intro"), "the refused lesson at the next slot: %q", b.last(1))
	b.advance(t, time.Date(2027, 3, 11, 9, 5, 0, 0, ny))
	require.True(t, strings.HasPrefix(b.last(1)[0], "Q1/5:"), b.last(1))
	require.Len(t, received(b.emu)[nyPhone], 3, "each once")
}

// A lesson refused because the number is not a mobile one goes out, once, at
// the next slot after an import corrects the number (matched by email).
func TestCorrectedNumberResumes(t *testing.T) {
	t.Parallel()
	b := setup(t, faultStart, twilioemu.Options{})
	ctx := context.Background()
	ny := mustLoc(t, "America/New_York")
	v := b.course(t, 3)
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{{Name: "Pat", Phone: nyPhone, Email: "pat@acme.test", TimeZone: "America/New_York"}})
	require.NoError(t, err)
	reps, err := b.store.Reps(ctx, b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	b.enroll(t, v.CourseID, reps)
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultNotMobile, To: nyPhone})
	b.advance(t, time.Date(2027, 3, 8, 9, 5, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 9, 9, 5, 0, 0, ny))
	require.Empty(t, received(b.emu))

	const mobile = "+12125550199"
	res, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{{Name: "Pat", Phone: mobile, Email: "pat@acme.test", TimeZone: "America/New_York"}})
	require.NoError(t, err)
	require.Equal(t, lessons.ImportResult{Updated: 1}, res, "the same rep, with the corrected number")
	b.advance(t, time.Date(2027, 3, 10, 9, 5, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 11, 9, 5, 0, 0, ny))
	b.advance(t, time.Date(2027, 3, 12, 9, 5, 0, 0, ny))
	require.Equal(t, []string{"Lesson 1", "Lesson 2", "Lesson 3"}, lessonTitles(received(b.emu)[mobile]), "from the refused lesson on, each once")
	require.Empty(t, received(b.emu)[nyPhone])
}

// Enrolled to start now, a rep gets the first lesson at once when their send
// window is open, else when it opens; the rest follow the cadence.
func TestStartNow(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name      string
		enrollAt  time.Time
		firstAt   time.Time // when lesson 1 is due
		secondAt  time.Time // and lesson 2
		notBefore time.Time // nothing is sent before this
	}{
		{"window open", time.Date(2027, 3, 9, 10, 5, 0, 0, ny), time.Date(2027, 3, 9, 10, 5, 0, 0, ny), time.Date(2027, 3, 10, 9, 0, 0, 0, ny), time.Time{}},
		{"window closed", time.Date(2027, 3, 9, 22, 30, 0, 0, ny), time.Date(2027, 3, 10, 8, 0, 0, 0, ny), time.Date(2027, 3, 10, 9, 0, 0, 0, ny),
			time.Date(2027, 3, 10, 7, 59, 0, 0, ny)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.enrollAt.UTC(), twilioemu.Options{})
			ctx := context.Background()
			v := b.course(t, 3)
			reps := b.reps(t, nyPhone, "America/New_York")
			_, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{reps[0].ID}, StartNow: true})
			require.NoError(t, err)
			if !tt.notBefore.IsZero() {
				b.advance(t, tt.notBefore)
				require.Empty(t, received(b.emu), "not while the window is closed")
			}
			b.advance(t, tt.firstAt)
			require.Equal(t, []string{"Lesson 1"}, lessonTitles(received(b.emu)[nyPhone]))
			b.advance(t, tt.secondAt.Add(-time.Minute))
			require.Len(t, received(b.emu)[nyPhone], 1, "the rest at the cadence")
			b.advance(t, tt.secondAt)
			require.Equal(t, []string{"Lesson 1", "Lesson 2"}, lessonTitles(received(b.emu)[nyPhone]))
		})
	}
	b := setup(t, faultStart, twilioemu.Options{})
	v := b.course(t, 1)
	reps := b.reps(t, nyPhone, "America/New_York")
	_, err := b.store.Enroll(context.Background(), b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{reps[0].ID},
		StartNow: true, StartOn: faultStart.AddDate(0, 0, 3)})
	require.Equal(t, errs.Invalid, errs.CodeOf(err), "now and later at once: %v", err)
}
