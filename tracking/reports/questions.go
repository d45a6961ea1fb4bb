package reports

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// The question report's thresholds.
const (
	// DiscriminationMinReps is how many reps must have answered a question
	// before its discrimination index is given.
	DiscriminationMinReps = 10
	// DiscriminationLow flags a question whose index is below it: it does
	// not separate the reps who do well from those who do not (Ebel's rule
	// of thumb for the upper-minus-lower index).
	DiscriminationLow = 0.2
	// MostMissPercent flags a question fewer than this share of reps answer
	// right at the first attempt.
	MostMissPercent = 50
	// upperLowerShare is the share of reps at each end of the ranking that
	// the upper-minus-lower index compares.
	upperLowerShare = 0.27
)

// QuestionStats is how a course's question fared at the reps' first
// attempts: what a trainer reads to fix a question.
type QuestionStats struct {
	LessonID int64
	Question int // its index in the lesson
	Reps     int // reps who answered it
	Correct  int // of them right at the first attempt
	// Wrong counts the wrong first answers by choice index.
	Wrong map[int]int
	// Discrimination is the upper-minus-lower index: the share right among
	// the 27 % of reps with the best first-attempt score on the course, less
	// the share among the 27 % with the worst (-1 to 1); valid only when
	// DiscriminationOK (at least DiscriminationMinReps reps answered).
	Discrimination   float64
	DiscriminationOK bool
}

// CorrectPercent is the share right at the first attempt; ok is false
// before any answer.
func (q QuestionStats) CorrectPercent() (int, bool) { return percent(q.Correct, q.Reps) }

// MostChosenWrong is the wrong choice chosen most at first attempts (the
// lowest index of a tie), with its share of the answers; ok is false when no
// one chose wrong.
func (q QuestionStats) MostChosenWrong() (choice, pct int, ok bool) {
	n := 0
	for c, k := range q.Wrong {
		if k > n || k == n && c < choice {
			choice, n = c, k
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return choice, n * 100 / q.Reps, true
}

// MostMiss says most reps answer it wrong at first.
func (q QuestionStats) MostMiss() bool {
	p, ok := q.CorrectPercent()
	return ok && p < MostMissPercent
}

// NotDiscriminating says it does not separate strong reps from weak ones.
func (q QuestionStats) NotDiscriminating() bool {
	return q.DiscriminationOK && q.Discrimination < DiscriminationLow
}

// attempt is a rep's first answer to a question.
type attempt struct {
	rep, lesson int64
	question    int
	choice      int
	correct     bool
}

// Questions reads the course's questions' statistics over the first
// attempts of the reps in the scope (a quiz question, not its later reviews;
// voided and corrected answers as they now stand), by lesson and question.
func (r *Reports) Questions(ctx context.Context, s Scope, courseID int64) ([]QuestionStats, error) {
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return nil, err
	}
	byRep, err := rowsByRep(ctx, r, &r.questions, sn, fmt.Sprint(s.OrgID, "/", courseID),
		func(ctx context.Context, reps []int64) ([]attempt, error) {
			return r.readAttempts(ctx, s.OrgID, courseID, reps)
		},
		func(a attempt) int64 { return a.rep })
	if err != nil {
		return nil, err
	}
	var attempts []attempt
	seen := map[int64]bool{} // a rep with two rows in the scope counts once
	sn.rows(s, 0, func(p *progressRow) {
		if !seen[p.RepID] {
			seen[p.RepID] = true
			attempts = append(attempts, byRep[p.RepID]...)
		}
	})
	return questionStats(attempts), nil
}

// readAttempts reads the first attempt of each rep at each question of the
// course from ClickHouse: of the reps given, or of all for nil.
func (r *Reports) readAttempts(ctx context.Context, orgID, courseID int64, reps []int64) ([]attempt, error) {
	rows, err := r.query(ctx, "question attempts", `
		SELECT rep_id, lesson_id, question, argMin(choice, occurred_at), argMin(value, occurred_at)
		FROM (
			SELECT rep_id, lesson_id, occurred_at, value,
				visitParamExtractInt(detail, 'question') AS question, visitParamExtractInt(detail, 'choice') AS choice
			FROM (
				SELECT rep_id, argMax(kind, version) AS kind, argMax(lesson_id, version) AS lesson_id,
					argMax(detail, version) AS detail, argMax(value, version) AS value,
					argMax(occurred_at, version) AS occurred_at, argMax(deleted, version) AS deleted
				FROM question_attempts WHERE org_id = @org AND course_id = @course`+byReps(reps)+`
				GROUP BY rep_id, event_key
			)
			WHERE deleted = 0 AND kind = 'graded' AND visitParamExtractString(detail, 'purpose') = 'question'
		)
		GROUP BY rep_id, lesson_id, question`,
		clickhouse.Named("org", uint64(orgID)), clickhouse.Named("course", uint64(courseID)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var attempts []attempt
	for rows.Next() {
		var rep, lesson uint64
		var question, choice int64
		var value float64
		if err := rows.Scan(&rep, &lesson, &question, &choice, &value); err != nil {
			return nil, fmt.Errorf("read question attempts: %w", err)
		}
		attempts = append(attempts, attempt{rep: int64(rep), lesson: int64(lesson), question: int(question), choice: int(choice), correct: value > 0})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read question attempts: %w", err)
	}
	return attempts, nil
}

// questionStats counts the first attempts by question, and ranks the reps by
// their share right over the course to give each question its
// upper-minus-lower discrimination index.
func questionStats(attempts []attempt) []QuestionStats {
	type qkey struct {
		lesson   int64
		question int
	}
	type score struct{ right, answered int }
	byQ := map[qkey]*QuestionStats{}
	scores := map[int64]*score{}
	for _, a := range attempts {
		k := qkey{a.lesson, a.question}
		q := byQ[k]
		if q == nil {
			q = &QuestionStats{LessonID: a.lesson, Question: a.question, Wrong: map[int]int{}}
			byQ[k] = q
		}
		q.Reps++
		sc := scores[a.rep]
		if sc == nil {
			sc = &score{}
			scores[a.rep] = sc
		}
		sc.answered++
		if a.correct {
			q.Correct++
			sc.right++
		} else {
			q.Wrong[a.choice]++
		}
	}
	// The reps from the best score to the worst (a share, as reps answered
	// different numbers of questions), ties by id.
	reps := make([]int64, 0, len(scores))
	for id := range scores {
		reps = append(reps, id)
	}
	slices.SortFunc(reps, func(a, b int64) int {
		sa, sb := scores[a], scores[b]
		return cmp.Or(cmp.Compare(sb.right*sa.answered, sa.right*sb.answered), cmp.Compare(a, b))
	})
	n := int(math.Round(upperLowerShare * float64(len(reps))))
	upper, lower := map[int64]bool{}, map[int64]bool{}
	for i := range n {
		upper[reps[i]], lower[reps[len(reps)-1-i]] = true, true
	}
	type tally struct{ right, answered int }
	ends := map[qkey]*[2]tally{} // upper, lower
	for _, a := range attempts {
		k := qkey{a.lesson, a.question}
		t := ends[k]
		if t == nil {
			t = &[2]tally{}
			ends[k] = t
		}
		for i, in := range []bool{upper[a.rep], lower[a.rep]} {
			if in {
				t[i].answered++
				if a.correct {
					t[i].right++
				}
			}
		}
	}
	out := make([]QuestionStats, 0, len(byQ))
	for k, q := range byQ {
		if t := ends[k]; q.Reps >= DiscriminationMinReps && t[0].answered > 0 && t[1].answered > 0 {
			q.Discrimination = float64(t[0].right)/float64(t[0].answered) - float64(t[1].right)/float64(t[1].answered)
			q.DiscriminationOK = true
		}
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b QuestionStats) int {
		return cmp.Or(cmp.Compare(a.LessonID, b.LessonID), cmp.Compare(a.Question, b.Question))
	})
	return out
}
