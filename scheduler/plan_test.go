package scheduler_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
		plan := lessons.PlanCourse(v.Spec, mustLoc(t, r.TimeZone), start, lessons.SampleLessonLink(b.store.PublicURL()), lessons.PlanAllRight)
		require.Len(t, plan, 5)
		for i, p := range plan {
			dues = append(dues, due{r.Phone, i + 1, p})
		}
	}
	slices.SortStableFunc(dues, func(a, b due) int { return a.At.Compare(b.At) })
	require.NotEqual(t, dues[0].phone, dues[1].phone, "the two zones interleave")
	for _, d := range dues {
		// A minute before: the test clock runs on while advance waits for
		// the jobs, which on a loaded machine can take more than a second.
		b.advance(t, d.At.Add(-time.Minute))
		require.Len(t, received(b.emu)[d.phone], d.n-1, "%s: message %d before %s", d.phone, d.n, d.At)
		b.advance(t, d.At)
		got := received(b.emu)[d.phone]
		require.Len(t, got, d.n, "%s: message %d at %s", d.phone, d.n, d.At)
		require.Equal(t, token.ReplaceAllString(d.Body, "/l/TOKEN"), token.ReplaceAllString(got[d.n-1], "/l/TOKEN"))
	}
}

// On the remedial path too the preview is what the scheduler sends: a rep
// who answers each quiz wrong on the first try (right on the retake and in
// the review) gets the planned messages, in order, at the planned times.
func TestPlanMatchesSendsOnTheRemedialPath(t *testing.T) {
	t.Parallel()
	b := setupReplies(t)
	ctx := context.Background()
	var spec lessons.CourseSpec
	es, err := b.store.Enrollments(ctx, b.org.ID, lessons.EnrollmentFilter{RepID: b.rep.ID})
	require.NoError(t, err)
	v, err := b.store.CourseVersion(ctx, b.org.ID, es[0].CourseVersionID)
	require.NoError(t, err)
	spec = v.Spec
	enrolled := es[0].EnrolledAt
	plan := lessons.PlanCourse(spec, mustLoc(t, b.rep.TimeZone), enrolled, lessons.SampleLessonLink(b.store.PublicURL()), lessons.PlanFirstTryWrong)
	require.Greater(t, len(plan), 20, "lessons, two attempts of five questions with feedback, the remedial lesson")

	token := regexp.MustCompile(`/l/[A-Za-z0-9_-]{22}`)
	question := regexp.MustCompile(`^(?:Review: )?Q(\d+)/`)
	quiz := spec.Lessons[1]
	var prev time.Time
	for n, d := range plan {
		feedback := strings.HasPrefix(d.Body, "Correct!") || strings.HasPrefix(d.Body, "Not quite")
		if !feedback && !d.At.Equal(prev) {
			b.advance(t, d.At.Add(-time.Second))
			require.Len(t, received(b.emu)[nyPhone], n, "message %d (%q) not before %s", n+1, d.Body, d.At)
			b.advance(t, d.At)
		}
		prev = d.At
		got := received(b.emu)[nyPhone]
		require.Greater(t, len(got), n, "message %d (%q) at %s", n+1, d.Body, d.At) // a feedback comes with the next question
		require.Equal(t, token.ReplaceAllString(d.Body, "/l/TOKEN"), token.ReplaceAllString(got[n], "/l/TOKEN"), "message %d", n+1)
		if m := question.FindStringSubmatch(d.Body); m != nil {
			q := quiz.Questions[atoi(t, m[1])-1]
			answer := q.Correct
			if d.Attempt == 1 && !strings.HasPrefix(d.Body, "Review: ") {
				answer = (q.Correct + 1) % len(q.Choices)
			}
			b.text(t, lessons.ChoiceLetter(answer))
		}
	}
	b.advance(t, plan[len(plan)-1].At.AddDate(0, 0, 14))
	rest := slices.DeleteFunc(received(b.emu)[nyPhone][len(plan):], func(body string) bool { return strings.HasPrefix(body, "Reminder: ") })
	require.Empty(t, rest, "nothing the plan does not show but the due-date reminders")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
