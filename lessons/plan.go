package lessons

import (
	"slices"
	"time"
)

// PlannedMessage is one SMS of a rep's schedule as the scheduler will send it.
type PlannedMessage struct {
	At        time.Time // UTC
	LessonKey string
	Body      string
	Attempt   int    // of the lesson: 1, or more for a retake
	Reason    string // why a rule put the step in the path, as managers see it
}

// PlanAnswers is how the sample rep of a plan answers.
type PlanAnswers int

// The ways a sample rep answers.
const (
	// PlanAllRight answers every question right at once.
	PlanAllRight PlanAnswers = iota
	// PlanFirstTryWrong answers every question of a quiz's first attempt
	// wrong and every later one right: the remedial path.
	PlanFirstTryWrong
)

// planMaxMessages bounds a plan: a course has at most 200 lessons of at most
// 20 questions, and a remedial path repeats some.
const planMaxMessages = 4 * courseMaxLessons * lessonMaxQuestions

// planStep is a step of the sample rep's path.
type planStep struct {
	lesson    *Lesson
	questions []int32 // a retake's subset
	attempt   int
	reason    string
	skipped   bool
}

// PlanCourse returns the messages a rep in loc enrolled at enrolled gets,
// answering as answers says, each answer given as soon as its question
// arrives. It walks the path as the scheduler does, with its functions: each
// step at the next cadence slot after the one before (FirstStepTime,
// NextStepTime), texts by LessonText, QuestionText and FeedbackText, and on a
// quiz's result the changes Adapt decides (remedial lessons and a retake
// after the quiz, optional lessons skipped, reviews of missed questions,
// answered right). link stands in for each lesson's link.
//
// Reviews are shown one after another, each answered as it arrives; the
// scheduler sends a day's reviews of several questions at once (and at the
// slot of a retake, if one falls there), so their order may differ.
func PlanCourse(spec CourseSpec, loc *time.Location, enrolled time.Time, link string, answers PlanAnswers) []PlannedMessage {
	keys := make(map[string]*Lesson, len(spec.Lessons))
	var path []*planStep
	for i := range spec.Lessons {
		l := &spec.Lessons[i]
		keys[l.Key] = l
		if !l.Remedial {
			path = append(path, &planStep{lesson: l, attempt: 1})
		}
	}
	pathLessons := PathLessons(spec.Lessons, nil)
	var out []PlannedMessage
	var prev time.Time
	step := 0
	for i := 0; i < len(path) && len(out) < planMaxMessages; i++ {
		s := path[i]
		if s.skipped {
			continue
		}
		step++
		at := FirstStepTime(spec.Cadence, spec.SendWindow, loc, enrolled)
		if step > 1 {
			at = NextStepTime(spec.Cadence, spec.SendWindow, loc, enrolled, prev)
		}
		prev = at
		say := func(body string) {
			out = append(out, PlannedMessage{At: at, LessonKey: s.lesson.Key, Body: body, Attempt: s.attempt, Reason: s.reason})
		}
		if s.lesson.Kind != KindQuiz {
			say(LessonText(spec.Title, step, planSteps(path), *s.lesson, link))
			continue
		}
		asked := quizQuestions(s.lesson, s.questions)
		right := answers == PlanAllRight || s.attempt > 1
		res := QuizResult{Quiz: s.lesson.Key, Attempt: s.attempt, Total: len(asked), PassMark: spec.PassMark}
		for _, q := range asked {
			say(QuestionText(*s.lesson, q))
			say(FeedbackText(s.lesson.Questions[q], right))
			if right {
				res.Correct++
			} else {
				res.Missed = append(res.Missed, q)
			}
		}
		slices.Sort(res.Missed)
		next := i + 1 // where inserted steps go, in order
		for _, c := range Adapt(spec.Rules, pathLessons, res) {
			switch c.Kind {
			case ChangeRemedial:
				for _, key := range c.Lessons {
					path = slices.Insert(path, next, &planStep{lesson: keys[key], attempt: attemptsOf(path, key) + 1, reason: c.Reason})
					next++
				}
			case ChangeRetake:
				subset := make([]int32, len(c.Questions))
				for j, n := range c.Questions {
					subset[j] = int32(n)
				}
				path = slices.Insert(path, next, &planStep{lesson: s.lesson, questions: subset, attempt: s.attempt + 1, reason: c.Reason})
				next++
			case ChangeSkipOptional:
				for _, p := range path[i+1:] {
					if slices.Contains(c.Lessons, p.lesson.Key) && p.attempt == 1 {
						p.skipped = true
					}
				}
			case ChangeReview:
				// The first review of each question is answered right, and
				// that cancels the later ones.
				if c.ReviewAfterDays != slices.Min(spec.Rules.ReviewDays) {
					continue
				}
				when := NextStepTime(spec.Cadence, spec.SendWindow, loc, enrolled, at.AddDate(0, 0, c.ReviewAfterDays).Add(-time.Minute))
				for _, q := range c.Questions {
					body := "Review: " + QuestionText(*s.lesson, q)
					out = append(out,
						PlannedMessage{At: when, LessonKey: s.lesson.Key, Body: body, Attempt: s.attempt, Reason: c.Reason},
						PlannedMessage{At: when, LessonKey: s.lesson.Key, Body: FeedbackText(s.lesson.Questions[q], true), Attempt: s.attempt, Reason: c.Reason})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b PlannedMessage) int { return a.At.Compare(b.At) })
	return out
}

// planSteps counts the steps of the path not skipped, as the step count in a
// lesson's text does.
func planSteps(path []*planStep) int {
	n := 0
	for _, s := range path {
		if !s.skipped {
			n++
		}
	}
	return n
}

// attemptsOf counts the steps of the lesson in the path.
func attemptsOf(path []*planStep, key string) int {
	n := 0
	for _, s := range path {
		if s.lesson.Key == key {
			n++
		}
	}
	return n
}
