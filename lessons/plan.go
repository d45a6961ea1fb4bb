package lessons

import (
	"time"
)

// PlannedMessage is one SMS of a rep's schedule as the scheduler will send it.
type PlannedMessage struct {
	At        time.Time // UTC
	LessonKey string
	Body      string
}

// planMaxMessages bounds a plan: a course has at most 200 lessons of at most
// 20 questions.
const planMaxMessages = courseMaxLessons * lessonMaxQuestions

// PlanCourse returns the messages a rep in loc enrolled at enrolled gets on
// the course's normal path, answering every question right at once: each
// lesson at the next cadence slot after the one before, with the functions
// the scheduler uses (FirstStepTime, NextStepTime, LessonText, QuestionText).
// A quiz's questions go out one after another as each is answered; the
// lesson after a quiz goes at the next slot after its last answer. link
// stands in for each lesson's link.
func PlanCourse(spec CourseSpec, loc *time.Location, enrolled time.Time, link string) []PlannedMessage {
	steps := 0
	for _, l := range spec.Lessons {
		if !l.Remedial {
			steps++
		}
	}
	var out []PlannedMessage
	var prev time.Time
	step := 0
	for _, l := range spec.Lessons {
		if l.Remedial {
			continue
		}
		step++
		at := FirstStepTime(spec.Cadence, spec.SendWindow, loc, enrolled)
		if step > 1 {
			at = NextStepTime(spec.Cadence, spec.SendWindow, loc, enrolled, prev)
		}
		if l.Kind == KindQuiz {
			for i := range l.Questions {
				out = append(out, PlannedMessage{At: at, LessonKey: l.Key, Body: QuestionText(l, i)})
			}
		} else {
			out = append(out, PlannedMessage{At: at, LessonKey: l.Key, Body: LessonText(spec.Title, step, steps, l, link)})
		}
		prev = at
		if len(out) >= planMaxMessages {
			break
		}
	}
	return out
}
