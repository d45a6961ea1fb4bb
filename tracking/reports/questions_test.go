package reports_test

import (
	"context"
	"fmt"
	"slices"
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

// The question report's flags against a cohort worked out by hand: ten reps
// (the fewest that get an index) answer four questions of one lesson, the
// right answer always choice 0. Which reps answer each question right:
//
//	rep       1  2  3  4  5  6  7  8  9  10
//	Q0        ✓  ✓  ✓  ✓  ✓  ✓  ✓  ·  ·  ·    7 of 10
//	Q1        ✓  ✓  ·  ✓  ·  ·  ·  ✓  ✓  ·    5 of 10
//	Q2        ✓  ✓  ·  ·  ✓  ·  ·  ·  ·  ·    3 of 10
//	Q3        ✓  ✓  ✓  ·  ·  ·  ·  ·  ·  ·    3 of 10
//	score     4  4  2  2  2  1  1  1  1  0    right of 4
//
// Ranked by score, ties by id: 1, 2, 3, 4, ... 10. The 27 % at each end is
// round(0.27 × 10) = 3 reps: upper {1, 2, 3}, lower {8, 9, 10}. So:
//
//	Q0: upper 3/3, lower 0/3: index 1 - 0 = 1.00; 70 % right.
//	Q1: upper 2/3 (3 missed), lower 2/3 (8 and 9 right): index 0.00,
//	    under 0.2: does not discriminate; 50 % right is not "most miss"
//	    (under 50 % is).
//	Q2: upper 2/3, lower 0/3: index 0.67; 30 % right: most miss. Of the
//	    seven wrong, reps 3, 4, 6 and 7 chose C (4 of 10, 40 %), 8, 9
//	    and 10 chose B.
//	Q3: upper 3/3, lower 0/3: index 1.00; 30 % right: most miss.
func TestQuestionFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	r := reports.New(ch, pool, func() time.Time { return now })
	const course, lesson = 7, 50
	type question struct {
		right       []int64       // reps right at their first attempt
		wrongChoice map[int64]int // the others' choice; 1 (B) unless said
		// what the hand computation above gives
		correct, percent   int
		mostChosen, share  int
		index              float64
		mostMiss, notDiscr bool
	}
	questions := []question{
		{right: []int64{1, 2, 3, 4, 5, 6, 7}, correct: 7, percent: 70, mostChosen: 1, share: 30, index: 1},
		{right: []int64{1, 2, 4, 8, 9}, correct: 5, percent: 50, mostChosen: 1, share: 50, index: 0, notDiscr: true},
		{right: []int64{1, 2, 5}, wrongChoice: map[int64]int{3: 2, 4: 2, 6: 2, 7: 2}, correct: 3, percent: 30, mostChosen: 2, share: 40,
			index: 2.0 / 3, mostMiss: true},
		{right: []int64{1, 2, 3}, correct: 3, percent: 30, mostChosen: 1, share: 70, index: 1, mostMiss: true},
	}
	var events []tracking.Event
	at := now.Add(-48 * time.Hour)
	for rep := int64(1); rep <= 10; rep++ {
		events = append(events,
			tracking.RepFacts{OrgID: org, RepID: rep, TeamID: 5, Team: "North", Status: "active", Name: fmt.Sprint("Rep ", rep), TimeZone: "UTC"}.Event(at),
			tracking.EnrollmentFacts{OrgID: org, RepID: rep, EnrollmentID: rep * 10, CourseID: course, CourseVersionID: 70, CourseTitle: "Pricing",
				Status: "active", EnrolledAt: at, DueOn: now.AddDate(0, 0, 5).Format(time.DateOnly), Lessons: 1}.Event(at))
		for i, q := range questions {
			choice, v := 1, 0.0
			if slices.Contains(q.right, rep) {
				choice, v = 0, 1
			} else if c, ok := q.wrongChoice[rep]; ok {
				choice = c
			}
			events = append(events, tracking.Event{OrgID: org, RepID: rep, Key: fmt.Sprintf("grade/%d/%d", rep*100+lesson, i),
				Kind: tracking.KindGraded, OccurredAt: at.Add(time.Duration(i) * time.Minute), CourseID: course, EnrollmentID: rep * 10,
				AssignmentID: rep*100 + lesson, LessonID: lesson, Value: v,
				Detail: fmt.Sprintf(`{"question":%d,"choice":%d,"purpose":"question"}`, i, choice)})
		}
	}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))

	stats, err := r.Questions(ctx, reports.Scope{OrgID: org, All: true}, course)
	require.NoError(t, err)
	require.Len(t, stats, len(questions))
	for i, want := range questions {
		got := stats[i]
		require.Equal(t, i, got.Question)
		require.Equal(t, []int{10, want.correct}, []int{got.Reps, got.Correct}, "Q%d answered, right", i)
		p, _ := got.CorrectPercent()
		require.Equal(t, want.percent, p, "Q%d", i)
		c, share, ok := got.MostChosenWrong()
		require.True(t, ok, "Q%d", i)
		require.Equal(t, []int{want.mostChosen, want.share}, []int{c, share}, "Q%d most chosen wrong", i)
		require.True(t, got.DiscriminationOK, "Q%d: ten reps answered", i)
		require.InDelta(t, want.index, got.Discrimination, 1e-9, "Q%d index", i)
		require.Equal(t, want.mostMiss, got.MostMiss(), "Q%d most miss", i)
		require.Equal(t, want.notDiscr, got.NotDiscriminating(), "Q%d does not discriminate", i)
	}
}
