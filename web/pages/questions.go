package pages

import (
	"fmt"
	"strconv"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking/reports"
)

// QuestionsPage is /reports/questions: a course's questions at the reps'
// first attempts.
type QuestionsPage struct {
	Dash
	Courses  []Option
	CourseID int64
	Items    []QuestionItem
}

// QuestionItem is one question with its figures.
type QuestionItem struct {
	Version int    // the course version its lesson is in; 0: unknown
	Lesson  string // the lesson's title
	Number  int    // from 1
	Prompt  string
	Choices []string
	Correct int // the right choice's index; -1: unknown
	Stats   reports.QuestionStats
}

// ChoiceText is the question's choice i as the rep saw it: "B) 20%".
func (q QuestionItem) ChoiceText(i int) string {
	if i < 0 || i >= len(q.Choices) {
		return lessons.ChoiceLetter(i)
	}
	return lessons.ChoiceLetter(i) + ") " + q.Choices[i]
}

// wrongText is the most chosen wrong answer and its share, or "—".
func (q QuestionItem) wrongText() string {
	c, pct, ok := q.Stats.MostChosenWrong()
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%s (%d%%)", q.ChoiceText(c), pct)
}

// discriminationText is the index to two places, or why there is none.
func (q QuestionItem) discriminationText() string {
	if !q.Stats.DiscriminationOK {
		return "too few answers (" + strconv.Itoa(reports.DiscriminationMinReps) + " needed)"
	}
	return strconv.FormatFloat(q.Stats.Discrimination, 'f', 2, 64)
}
