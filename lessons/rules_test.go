package lessons

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/errs"
)

// rulesCourse is a course of three modules with remedial lessons for the first
// two quizzes.
var rulesCourse = []PathLesson{
	{Key: "1a", Kind: KindText},
	{Key: "1b", Kind: KindVideo, Optional: true},
	{Key: "quiz-1", Kind: KindQuiz},
	{Key: "1r", Kind: KindText, Remedial: true},
	{Key: "2a", Kind: KindText},
	{Key: "2b", Kind: KindText, Optional: true},
	{Key: "2r", Kind: KindVideo, Remedial: true},
	{Key: "2c", Kind: KindVideo, Optional: true},
	{Key: "quiz-2", Kind: KindQuiz},
	{Key: "3a", Kind: KindText, Optional: true},
	{Key: "quiz-3", Kind: KindQuiz, Optional: true},
	{Key: "3b", Kind: KindText},
	{Key: "quiz-4", Kind: KindQuiz},
	{Key: "4a", Kind: KindText},
}

func TestAdapt(t *testing.T) {
	t.Parallel()
	remedial := []RemedialRule{{Quiz: "quiz-1", Lessons: []string{"1r"}}, {Quiz: "quiz-2", Lessons: []string{"2r"}}}
	tests := []struct {
		name  string
		rules Rules
		res   QuizResult
		want  []PathChange
	}{
		{
			name:  "pass: nothing changes",
			rules: Rules{MasteryMark: 90, Remedial: remedial, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 4, Total: 5, Missed: []int{3}, PassMark: 70},
		},
		{
			name:  "pass exactly at the pass mark",
			rules: Rules{MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 7, Total: 10, Missed: []int{0, 1, 2}, PassMark: 70},
		},
		{
			name:  "fail with remedial lessons: remedial, then a retake of all questions",
			rules: Rules{Remedial: remedial, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 2, Total: 5, Missed: []int{0, 2, 4}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeRemedial, Lessons: []string{"1r"}, Reason: "remedial lesson 1r because quiz quiz-1 scored 40% < 70%"},
				{Kind: ChangeRetake, Questions: []int{0, 1, 2, 3, 4},
					Reason: "retake 1 of 2 allowed, asking all 5 questions, because quiz quiz-1 scored 40% < 70%"},
			},
		},
		{
			name:  "fail without remedial lessons, missed questions only",
			rules: Rules{Remedial: remedial, RetakeMissedOnly: true, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-3", Attempt: 2, Correct: 2, Total: 5, Missed: []int{4, 0, 2}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeRetake, Questions: []int{0, 2, 4},
					Reason: "retake 2 of 2 allowed, asking the 3 missed questions, because quiz quiz-3 scored 40% < 70%"},
			},
		},
		{
			name:  "fail, missed only but none listed: all questions",
			rules: Rules{RetakeMissedOnly: true, MaxRetakes: 1},
			res:   QuizResult{Quiz: "quiz-4", Attempt: 1, Correct: 0, Total: 1, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeRetake, Questions: []int{0},
					Reason: "retake 1 of 1 allowed, asking the question, because quiz quiz-4 scored 0% < 70%"},
			},
		},
		{
			name:  "remedial lessons of several rules for one quiz, each once",
			rules: Rules{Remedial: append(remedial, RemedialRule{Quiz: "quiz-1", Lessons: []string{"2r", "1r"}}), MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 2, Correct: 1, Total: 2, Missed: []int{1}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeRemedial, Lessons: []string{"1r", "2r"}, Reason: "remedial lessons 1r, 2r because quiz quiz-1 scored 50% < 70%"},
				{Kind: ChangeRetake, Questions: []int{0, 1},
					Reason: "retake 2 of 2 allowed, asking all 2 questions, because quiz quiz-1 scored 50% < 70%"},
			},
		},
		{
			name:  "score rounds down",
			rules: Rules{MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-4", Attempt: 1, Correct: 2, Total: 3, Missed: []int{1}, PassMark: 67},
			want: []PathChange{
				{Kind: ChangeRetake, Questions: []int{0, 1, 2},
					Reason: "retake 1 of 2 allowed, asking all 3 questions, because quiz quiz-4 scored 66% < 67%"},
			},
		},
		{
			name:  "fail past max retakes: the manager is flagged",
			rules: Rules{Remedial: remedial, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 3, Correct: 1, Total: 5, Missed: []int{0, 1, 2, 3}, PassMark: 70},
			want:  []PathChange{{Kind: ChangeFlagManager, Reason: "flagged for the manager: quiz-1 failed 3 times"}},
		},
		{
			name:  "no retakes allowed: flagged at once",
			rules: Rules{Remedial: remedial},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 0, Total: 2, Missed: []int{0, 1}, PassMark: 70},
			want:  []PathChange{{Kind: ChangeFlagManager, Reason: "flagged for the manager: quiz-1 failed 1 time"}},
		},
		{
			name:  "mastery: the optional lessons of the next module are skipped, remedial ones aside",
			rules: Rules{MasteryMark: 90, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 5, Total: 5, PassMark: 70},
			want: []PathChange{{Kind: ChangeSkipOptional, Lessons: []string{"2b", "2c"},
				Reason: "skipping optional lessons 2b, 2c because quiz quiz-1 scored 100% >= 90% mastery"}},
		},
		{
			name:  "mastery: the next module ends with an optional quiz",
			rules: Rules{MasteryMark: 90, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-2", Attempt: 1, Correct: 9, Total: 10, Missed: []int{7}, PassMark: 70},
			want: []PathChange{{Kind: ChangeSkipOptional, Lessons: []string{"3a", "quiz-3"},
				Reason: "skipping optional lessons 3a, quiz-3 because quiz quiz-2 scored 90% >= 90% mastery"}},
		},
		{
			name:  "mastery with nothing optional in the next module",
			rules: Rules{MasteryMark: 90, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-3", Attempt: 1, Correct: 5, Total: 5, PassMark: 70},
		},
		{
			name:  "mastery on the last quiz",
			rules: Rules{MasteryMark: 90, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-4", Attempt: 1, Correct: 5, Total: 5, PassMark: 70},
		},
		{
			name:  "mastery on a retake skips nothing",
			rules: Rules{MasteryMark: 90, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 2, Correct: 5, Total: 5, PassMark: 70},
		},
		{
			name:  "mastery mark off",
			rules: Rules{MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 5, Total: 5, PassMark: 70},
		},
		{
			name:  "mastery mark below the pass mark: a failure is still a failure",
			rules: Rules{MasteryMark: 50, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 3, Total: 5, Missed: []int{0, 1}, PassMark: 70},
			want: []PathChange{{Kind: ChangeRetake, Questions: []int{0, 1, 2, 3, 4},
				Reason: "retake 1 of 2 allowed, asking all 5 questions, because quiz quiz-1 scored 60% < 70%"}},
		},
		{
			name:  "review after a pass, one per day",
			rules: Rules{ReviewDays: []int{1, 3, 7}, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 4, Total: 5, Missed: []int{3}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeReview, Questions: []int{3}, ReviewAfterDays: 1, Reason: "review the missed question of quiz quiz-1 after 1 day"},
				{Kind: ChangeReview, Questions: []int{3}, ReviewAfterDays: 3, Reason: "review the missed question of quiz quiz-1 after 3 days"},
				{Kind: ChangeReview, Questions: []int{3}, ReviewAfterDays: 7, Reason: "review the missed question of quiz quiz-1 after 7 days"},
			},
		},
		{
			name:  "review after mastery, after the skip",
			rules: Rules{MasteryMark: 90, ReviewDays: []int{2}, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 9, Total: 10, Missed: []int{6}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeSkipOptional, Lessons: []string{"2b", "2c"},
					Reason: "skipping optional lessons 2b, 2c because quiz quiz-1 scored 90% >= 90% mastery"},
				{Kind: ChangeReview, Questions: []int{6}, ReviewAfterDays: 2, Reason: "review the missed question of quiz quiz-1 after 2 days"},
			},
		},
		{
			name:  "review after a failure; missed sorted, repeats and bad indexes dropped",
			rules: Rules{Remedial: remedial, ReviewDays: []int{3}, RetakeMissedOnly: true, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-2", Attempt: 1, Correct: 2, Total: 4, Missed: []int{3, 1, 3, 9, -1}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeRemedial, Lessons: []string{"2r"}, Reason: "remedial lesson 2r because quiz quiz-2 scored 50% < 70%"},
				{Kind: ChangeRetake, Questions: []int{1, 3},
					Reason: "retake 1 of 2 allowed, asking the 2 missed questions, because quiz quiz-2 scored 50% < 70%"},
				{Kind: ChangeReview, Questions: []int{1, 3}, ReviewAfterDays: 3, Reason: "review the 2 missed questions of quiz quiz-2 after 3 days"},
			},
		},
		{
			name:  "review after the manager is flagged",
			rules: Rules{ReviewDays: []int{1}, MaxRetakes: 1},
			res:   QuizResult{Quiz: "quiz-4", Attempt: 2, Correct: 0, Total: 2, Missed: []int{0, 1}, PassMark: 70},
			want: []PathChange{
				{Kind: ChangeFlagManager, Reason: "flagged for the manager: quiz-4 failed 2 times"},
				{Kind: ChangeReview, Questions: []int{0, 1}, ReviewAfterDays: 1, Reason: "review the 2 missed questions of quiz quiz-4 after 1 day"},
			},
		},
		{
			name:  "nothing missed: no review",
			rules: Rules{ReviewDays: []int{1, 3, 7}, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, Correct: 5, Total: 5, PassMark: 70},
		},
		{
			name:  "a quiz of no questions changes nothing",
			rules: Rules{MasteryMark: 90, ReviewDays: []int{1}, MaxRetakes: 2},
			res:   QuizResult{Quiz: "quiz-1", Attempt: 1, PassMark: 70},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Adapt(tc.rules, rulesCourse, tc.res)
			require.Equal(t, tc.want, got)
			require.Equal(t, got, Adapt(tc.rules, rulesCourse, tc.res), "not deterministic")
		})
	}
}

func TestRulesValidate(t *testing.T) {
	t.Parallel()
	valid := []RemedialRule{{Quiz: "quiz-1", Lessons: []string{"1r"}}, {Quiz: "quiz-2", Lessons: []string{"2r", "1r"}}}
	d := func(path, message string) errs.Detail { return errs.Detail{Path: path, Message: message} }
	tests := []struct {
		name  string
		rules Rules
		want  []errs.Detail
	}{
		{
			name:  "valid, every limit reached",
			rules: Rules{MasteryMark: 100, Remedial: valid, ReviewDays: []int{1, 2, 3, 30, 60}, RetakeMissedOnly: true, MaxRetakes: 5},
		},
		{
			name:  "valid, lowest limits",
			rules: Rules{Remedial: valid},
		},
		{
			name:  "remedial lessons no rule assigns",
			rules: DefaultRules(),
			want: []errs.Detail{
				d("lessons[3].remedial", `"1r" is marked remedial but no rule in rules.remedial assigns it`),
				d("lessons[6].remedial", `"2r" is marked remedial but no rule in rules.remedial assigns it`),
			},
		},
		{
			name: "remedial quizzes: unknown, not a quiz, blank, repeated",
			rules: Rules{Remedial: append([]RemedialRule{
				{Quiz: "q9", Lessons: []string{"1r"}},
				{Quiz: "1a", Lessons: []string{"1r"}},
				{Quiz: "", Lessons: []string{"1r"}},
				{Quiz: "quiz-2", Lessons: []string{"1r"}},
			}, valid...)},
			want: []errs.Detail{
				d("rules.remedial[0].quiz", `"q9" is not a quiz in this course`),
				d("rules.remedial[1].quiz", `"1a" is a text lesson, not a quiz`),
				d("rules.remedial[2].quiz", "is required"),
				d("rules.remedial[5].quiz", `"quiz-2" already has remedial lessons in rules.remedial[3]`),
			},
		},
		{
			name: "remedial lessons: unknown, not remedial, repeated, blank, none",
			rules: Rules{Remedial: []RemedialRule{
				{Quiz: "quiz-1", Lessons: []string{"1r", "4z", "1a", "1r", ""}},
				{Quiz: "quiz-2", Lessons: []string{"2r"}},
				{Quiz: "quiz-3"},
			}},
			want: []errs.Detail{
				d("rules.remedial[0].lessons[1]", `"4z" is not a lesson in this course`),
				d("rules.remedial[0].lessons[2]", `"1a" is not marked remedial`),
				d("rules.remedial[0].lessons[3]", `"1r" is already listed at rules.remedial[0].lessons[0]`),
				d("rules.remedial[0].lessons[4]", "must not be blank"),
				d("rules.remedial[2].lessons", "must have at least 1 lesson"),
			},
		},
		{
			name:  "limits above",
			rules: Rules{MasteryMark: 101, Remedial: valid, ReviewDays: []int{1, 2, 3, 4, 5, 61}, MaxRetakes: 6},
			want: []errs.Detail{
				d("rules.mastery_mark", "must be between 0 and 100, got 101"),
				d("rules.review_days", "must have at most 5 days, got 6"),
				d("rules.review_days[5]", "must be between 1 and 60, got 61"),
				d("rules.max_retakes", "must be between 0 and 5, got 6"),
			},
		},
		{
			name:  "limits below",
			rules: Rules{MasteryMark: -1, Remedial: valid, ReviewDays: []int{0}, MaxRetakes: -1},
			want: []errs.Detail{
				d("rules.mastery_mark", "must be between 0 and 100, got -1"),
				d("rules.review_days[0]", "must be between 1 and 60, got 0"),
				d("rules.max_retakes", "must be between 0 and 5, got -1"),
			},
		},
		{
			name:  "review days not ascending",
			rules: Rules{Remedial: valid, ReviewDays: []int{3, 3, 0, 1, 7}, MaxRetakes: 2},
			want: []errs.Detail{
				d("rules.review_days[1]", "3 must be greater than rules.review_days[0] (3)"),
				d("rules.review_days[2]", "must be between 1 and 60, got 0"),
				d("rules.review_days[3]", "1 must be greater than rules.review_days[1] (3)"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.rules.Validate(rulesCourse))
		})
	}
}

func TestRulesJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want Rules
	}{
		{name: "empty is the default", json: `{}`, want: DefaultRules()},
		{name: "no retakes", json: `{"max_retakes": 0}`, want: Rules{}},
		{
			name: "everything",
			json: `{"mastery_mark":90,"remedial":[{"quiz":"quiz-1","lessons":["1r"]}],"review_days":[1,3],"retake_missed_only":true,"max_retakes":1}`,
			want: Rules{MasteryMark: 90, Remedial: []RemedialRule{{Quiz: "quiz-1", Lessons: []string{"1r"}}},
				ReviewDays: []int{1, 3}, RetakeMissedOnly: true, MaxRetakes: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got Rules
			require.NoError(t, json.Unmarshal([]byte(tc.json), &got))
			require.Equal(t, tc.want, got)

			b, err := json.Marshal(got)
			require.NoError(t, err)
			var again Rules
			require.NoError(t, json.Unmarshal(b, &again))
			require.Equal(t, got, again)
		})
	}
}

func TestPathLessons(t *testing.T) {
	t.Parallel()
	got := PathLessons([]Lesson{
		{Key: "a", Kind: KindText, Optional: true},
		{Key: "b", Kind: KindQuiz},
		{Key: "c", Kind: KindVideo},
	}, map[string]bool{"c": true})
	require.Equal(t, []PathLesson{
		{Key: "a", Kind: KindText, Optional: true},
		{Key: "b", Kind: KindQuiz},
		{Key: "c", Kind: KindVideo, Remedial: true},
	}, got)
}
