package lessons

import (
	"fmt"
	"strings"
)

// The texts Morsel sends are composed here, so that every channel (SMS, the
// simulator, the lesson page) says the same thing.

// LessonText is the SMS for a text or video lesson: the step, its title, the
// text, and the link to the lesson page.
func LessonText(course string, step, steps int, l Lesson, link string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d/%d: %s\n", course, step, steps, l.Title)
	switch l.Kind {
	case KindVideo:
		fmt.Fprintf(&b, "Watch (%s): %s", videoLength(l.VideoSeconds), link)
		if l.Body != "" {
			b.WriteString("\n" + l.Body)
		}
	default:
		fmt.Fprintf(&b, "%s\n%s", l.Body, link)
	}
	return b.String()
}

// QuestionText is the SMS for quiz question i (0-based) of a quiz lesson.
func QuestionText(l Lesson, i int) string {
	q := l.Questions[i]
	var b strings.Builder
	fmt.Fprintf(&b, "Q%d/%d: %s", i+1, len(l.Questions), q.Prompt)
	letters := make([]string, len(q.Choices))
	for j, c := range q.Choices {
		letters[j] = ChoiceLetter(j)
		fmt.Fprintf(&b, " %s) %s", letters[j], c)
	}
	fmt.Fprintf(&b, ". Reply %s or %s", strings.Join(letters[:len(letters)-1], ", "), letters[len(letters)-1])
	return b.String()
}

// FeedbackText is the SMS that grades an answer to the question.
func FeedbackText(q Question, correct bool) string {
	if correct {
		return strings.TrimSpace("Correct! " + q.Explanation)
	}
	return strings.TrimSpace(fmt.Sprintf("Not quite: the answer is %s) %s. %s", ChoiceLetter(q.Correct), q.Choices[q.Correct], q.Explanation))
}

func videoLength(seconds int) string {
	if seconds < 90 {
		return fmt.Sprintf("%d s", seconds)
	}
	return fmt.Sprintf("%d min", (seconds+30)/60)
}
