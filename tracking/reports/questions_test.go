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

// The question report against figures worked out by hand: twelve reps answer
// the two questions of a quiz lesson (first attempts only: a review and a
// second try do not count), then an answer is voided, one is moved to
// another course by a correction, and a manager sees their team's reps alone.
func TestQuestions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	r := reports.New(ch, pool, func() time.Time { return now })
	const course, lesson = 7, 50
	var events []tracking.Event
	for rep := int64(1); rep <= 12; rep++ {
		team := int64(5) // North: reps 1-6; South: 7-12
		if rep > 6 {
			team = 6
		}
		f := tracking.RepFacts{OrgID: org, RepID: rep, TeamID: team, Team: fmt.Sprint("Team ", team), Status: "active", Name: fmt.Sprint("Rep ", rep), TimeZone: "UTC"}
		e := tracking.EnrollmentFacts{OrgID: org, RepID: rep, EnrollmentID: rep * 10, CourseID: course, CourseVersionID: 70,
			CourseTitle: "Pricing", Status: "active", EnrolledAt: now.AddDate(0, 0, -5), DueOn: now.AddDate(0, 0, 5).Format(time.DateOnly), Lessons: 1}
		events = append(events, f.Event(now.AddDate(0, 0, -5)), e.Event(now.AddDate(0, 0, -5)))
	}
	grade := func(rep int64, question, choice int, right bool, purpose string, at time.Time) tracking.Event {
		v := 0.0
		if right {
			v = 1
		}
		return tracking.Event{OrgID: org, RepID: rep, Key: fmt.Sprintf("grade/%d/%d/%d", rep*100+lesson, question, at.Unix()), Kind: tracking.KindGraded,
			OccurredAt: at, CourseID: course, EnrollmentID: rep * 10, AssignmentID: rep*100 + lesson, LessonID: lesson, Value: v,
			Detail: fmt.Sprintf(`{"question":%d,"choice":%d,"purpose":%q}`, question, choice, purpose)}
	}
	first := now.Add(-48 * time.Hour)
	// Question 0 (right: choice 0): reps 1-9 right; 10 and 11 chose B, 12 C.
	// Question 1 (right: choice 2): reps 1-4 and 12 right; 5-10 chose A, 11 D.
	for rep := int64(1); rep <= 12; rep++ {
		c0 := map[int64]int{10: 1, 11: 1, 12: 2}[rep]
		c1 := map[bool]int{true: 2, false: 0}[rep <= 4 || rep == 12]
		if rep == 11 {
			c1 = 3
		}
		events = append(events, grade(rep, 0, c0, rep <= 9, "question", first), grade(rep, 1, c1, c1 == 2, "question", first.Add(time.Minute)))
	}
	events = append(events,
		grade(10, 0, 0, true, "review", now.Add(-time.Hour)),   // a review: not a first attempt
		grade(11, 0, 0, true, "question", now.Add(-time.Hour)), // a second try: the first stands
	)
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))

	stats, err := r.Questions(ctx, reports.Scope{OrgID: org, All: true}, course)
	require.NoError(t, err)
	require.Len(t, stats, 2)
	q0, q1 := stats[0], stats[1]
	// Scores (share right): reps 1-4 1.0; 5-9 and 12 0.5; 10 and 11 0. The 27 %
	// (3 of 12) at each end: reps 1, 2, 3 and reps 10, 11, 12.
	require.Equal(t, 12, q0.Reps)
	require.Equal(t, 9, q0.Correct)
	require.Equal(t, map[int]int{1: 2, 2: 1}, q0.Wrong)
	p, ok := q0.CorrectPercent()
	require.True(t, ok)
	require.Equal(t, 75, p)
	choice, share, ok := q0.MostChosenWrong()
	require.True(t, ok)
	require.Equal(t, []int{1, 16}, []int{choice, share})
	require.True(t, q0.DiscriminationOK)
	require.InDelta(t, 1.0, q0.Discrimination, 1e-9, "upper 3 of 3 right, lower 0 of 3")
	require.False(t, q0.MostMiss())

	require.Equal(t, 12, q1.Reps)
	require.Equal(t, 5, q1.Correct)
	choice, share, _ = q1.MostChosenWrong()
	require.Equal(t, []int{0, 50}, []int{choice, share})
	require.InDelta(t, 1.0-1.0/3, q1.Discrimination, 1e-9, "upper 3 of 3, lower 1 of 3 (rep 12)")
	require.True(t, q1.MostMiss(), "5 of 12 right")
	require.False(t, q1.NotDiscriminating())

	// A manager of North (reps 1-6): their reps' answers alone, too few for
	// a discrimination index.
	north, err := r.Questions(ctx, reports.Scope{OrgID: org, Teams: []int64{5}}, course)
	require.NoError(t, err)
	require.Equal(t, []int{6, 6}, []int{north[0].Reps, north[0].Correct})
	require.False(t, north[0].DiscriminationOK)

	// Rep 9's answer to question 0 is voided, and rep 8's is moved to another
	// course: neither counts here any more, at once.
	_, err = tracking.Void(ctx, pool, ch, time.Now(), org, grade(9, 0, 0, true, "question", first).Key, 9, "answered for someone else", "test")
	require.NoError(t, err)
	moved := grade(8, 0, 0, true, "question", first)
	moved.CourseID = 9
	_, err = tracking.Correct(ctx, pool, ch, time.Now(), org, moved)
	require.NoError(t, err)
	stats, err = r.Questions(ctx, reports.Scope{OrgID: org, All: true}, course)
	require.NoError(t, err)
	require.Equal(t, []int{10, 7}, []int{stats[0].Reps, stats[0].Correct})
	other, err := r.Questions(ctx, reports.Scope{OrgID: org, All: true}, 9)
	require.NoError(t, err)
	require.Len(t, other, 1)
	require.Equal(t, 1, other[0].Reps, "the moved answer counts in its new course")
}
