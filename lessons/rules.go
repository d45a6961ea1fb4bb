package lessons

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/orderedjson"
)

// The limits of Rules; COURSE_FORMAT.md documents them.
const (
	DefaultMaxRetakes = 2 // retakes allowed when a course names none

	rulesMaxRetakes    = 5
	rulesMaxReviewDays = 5
	rulesMaxReviewDay  = 60
)

// Rules adapt a rep's path to how they do on quizzes; authored per course version.
// The zero Rules adapt nothing and allow no retakes; DefaultRules is what a course
// file without rules gets.
type Rules struct {
	MasteryMark      int            `json:"mastery_mark"`       // percent; 0 = off. At or above it on a quiz's first attempt, the optional lessons of the NEXT module are skipped.
	Remedial         []RemedialRule `json:"remedial"`           // per quiz
	ReviewDays       []int          `json:"review_days"`        // spaced review of missed questions, e.g. [1, 3, 7]; empty = off
	RetakeMissedOnly bool           `json:"retake_missed_only"` // a retake asks only the questions missed (else all)
	MaxRetakes       int            `json:"max_retakes"`        // after that many failed retakes the manager is flagged
}

// RemedialRule names the remedial lessons assigned when a quiz is failed.
type RemedialRule struct {
	Quiz    string   `json:"quiz"`    // the lesson key of a quiz
	Lessons []string `json:"lessons"` // the keys of remedial lessons, assigned in this order
}

// DefaultRules returns the rules of a course that names none: two retakes of all
// questions, nothing else.
func DefaultRules() Rules { return Rules{MaxRetakes: DefaultMaxRetakes} }

// UnmarshalJSON reads Rules stored as JSON; an absent max_retakes is
// DefaultMaxRetakes, so that "{}" means DefaultRules.
func (r *Rules) UnmarshalJSON(data []byte) error {
	type plain Rules // without this method
	var v struct {
		plain
		MaxRetakes *int `json:"max_retakes"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = Rules(v.plain)
	r.MaxRetakes = DefaultMaxRetakes
	if v.MaxRetakes != nil {
		r.MaxRetakes = *v.MaxRetakes
	}
	return nil
}

// PathLesson is what the rules need to know of a lesson of the course.
type PathLesson struct {
	Key      string
	Kind     LessonKind
	Optional bool // on the normal path, skipped after mastery
	Remedial bool // off the normal path, assigned only by a RemedialRule
}

// PathLessons returns the lessons of a course for Adapt and Validate; remedial
// holds the keys of its remedial lessons.
func PathLessons(lessons []Lesson, remedial map[string]bool) []PathLesson {
	out := make([]PathLesson, len(lessons))
	for i, l := range lessons {
		out[i] = PathLesson{Key: l.Key, Kind: l.Kind, Optional: l.Optional, Remedial: l.Remedial || remedial[l.Key]}
	}
	return out
}

// QuizResult is how a rep did on one attempt at a quiz.
type QuizResult struct {
	Quiz           string // the quiz's lesson key
	Attempt        int    // 1 = first try
	Correct, Total int    // questions answered correctly, of all asked
	Missed         []int  // indexes of the questions answered wrongly
	PassMark       int    // percent needed to pass
}

// ChangeKind is what a PathChange does to a rep's path.
type ChangeKind string

// The kinds of change. Adapt never returns ChangeNone, the zero ChangeKind.
const (
	ChangeNone         ChangeKind = ""
	ChangeRemedial     ChangeKind = "remedial"      // assign Lessons, before the retake that follows
	ChangeRetake       ChangeKind = "retake"        // take the quiz again, asking Questions
	ChangeFlagManager  ChangeKind = "flag_manager"  // out of retakes: the manager should step in
	ChangeSkipOptional ChangeKind = "skip_optional" // skip Lessons, the optional lessons of the next module
	ChangeReview       ChangeKind = "review"        // ask Questions again after ReviewAfterDays days
)

// PathChange is one change to a rep's path, with the reason shown to managers.
type PathChange struct {
	Kind            ChangeKind
	Lessons         []string // lesson keys: remedial lessons to assign, or optional ones to skip
	Questions       []int    // question indexes of the quiz, ascending: to retake or review
	ReviewAfterDays int
	Reason          string
}

// Adapt decides what a quiz result changes in the rep's path. lessons are the
// course's lessons in order. It assumes r is valid for them (see Validate) and
// returns nothing when the path stays as it is.
//
// The score is Correct*100/Total, rounded down. Below res.PassMark, while
// res.Attempt <= r.MaxRetakes, the rep gets the quiz's remedial lessons (if any)
// and then a retake; after that the manager is flagged instead. At or above the
// pass mark and r.MasteryMark (when set) on the first attempt, the optional
// lessons of the next module are skipped: the lessons after the quiz up to and
// including the next quiz, remedial ones aside. Last, missed questions are
// reviewed once after each of r.ReviewDays, whatever the score. The same inputs
// always give the same changes in the same order.
func Adapt(r Rules, lessons []PathLesson, res QuizResult) []PathChange {
	if res.Total <= 0 {
		return nil
	}
	score := min(max(res.Correct, 0), res.Total) * 100 / res.Total
	attempt := max(res.Attempt, 1)
	missed := missedQuestions(res.Missed, res.Total)

	var changes []PathChange
	switch {
	case score < res.PassMark && attempt > r.MaxRetakes:
		changes = append(changes, PathChange{
			Kind:   ChangeFlagManager,
			Reason: fmt.Sprintf("flagged for the manager: %s failed %s", res.Quiz, plural(attempt, "time", "times")),
		})
	case score < res.PassMark:
		failed := fmt.Sprintf("quiz %s scored %d%% < %d%%", res.Quiz, score, res.PassMark)
		if remedial := r.remedialLessons(res.Quiz); len(remedial) > 0 {
			changes = append(changes, PathChange{
				Kind:    ChangeRemedial,
				Lessons: remedial,
				Reason:  fmt.Sprintf("%s %s because %s", pluralWord(len(remedial), "remedial lesson"), strings.Join(remedial, ", "), failed),
			})
		}
		questions, which := allQuestions(res.Total), fmt.Sprintf("all %d questions", res.Total)
		switch {
		case r.RetakeMissedOnly && len(missed) > 0:
			questions, which = missed, missedWhich(len(missed))
		case res.Total == 1:
			which = "the question"
		}
		changes = append(changes, PathChange{
			Kind:      ChangeRetake,
			Questions: questions,
			Reason:    fmt.Sprintf("retake %d of %d allowed, asking %s, because %s", attempt, r.MaxRetakes, which, failed),
		})
	case r.MasteryMark > 0 && score >= r.MasteryMark && attempt == 1:
		if skip := nextModuleOptional(lessons, res.Quiz); len(skip) > 0 {
			changes = append(changes, PathChange{
				Kind:    ChangeSkipOptional,
				Lessons: skip,
				Reason: fmt.Sprintf("skipping %s %s because quiz %s scored %d%% >= %d%% mastery",
					pluralWord(len(skip), "optional lesson"), strings.Join(skip, ", "), res.Quiz, score, r.MasteryMark),
			})
		}
	}

	for _, days := range r.ReviewDays {
		if len(missed) == 0 {
			break
		}
		changes = append(changes, PathChange{
			Kind:            ChangeReview,
			Questions:       missed,
			ReviewAfterDays: days,
			Reason: fmt.Sprintf("review %s of quiz %s after %s",
				missedWhich(len(missed)), res.Quiz, plural(days, "day", "days")),
		})
	}
	return changes
}

// remedialLessons returns the remedial lessons of a quiz across all its rules,
// in order, each once.
func (r Rules) remedialLessons(quiz string) []string {
	var keys []string
	for _, rule := range r.Remedial {
		if rule.Quiz != quiz {
			continue
		}
		for _, k := range rule.Lessons {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// nextModuleOptional returns the optional lessons of the module after quiz: the
// lessons of the normal path after it up to and including the next quiz.
func nextModuleOptional(lessons []PathLesson, quiz string) []string {
	var keys []string
	found := false
	for _, l := range lessons {
		switch {
		case l.Remedial:
			continue
		case !found:
			found = l.Key == quiz && l.Kind == KindQuiz
			continue
		}
		if l.Optional {
			keys = append(keys, l.Key)
		}
		if l.Kind == KindQuiz {
			break
		}
	}
	return keys
}

// missedQuestions returns the valid indexes of missed, ascending, each once.
func missedQuestions(missed []int, total int) []int {
	var out []int
	for _, q := range missed {
		if q >= 0 && q < total && !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out
}

// allQuestions returns 0, 1, ... n-1.
func allQuestions(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// missedWhich names n missed questions: "the missed question", "the 3 missed questions".
func missedWhich(n int) string {
	if n == 1 {
		return "the missed question"
	}
	return fmt.Sprintf("the %d missed questions", n)
}

// plural writes n with its noun: "1 day", "3 days".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// pluralWord adds an s to word unless n is 1: "remedial lesson", "remedial lessons".
func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Validate lists every problem of r for a course with the given lessons, in
// order: the rules' own limits (mastery_mark 0-100, at most 5 review_days, each
// 1-60 and later than the one before, max_retakes 0-5), then what they refer
// to (each remedial quiz a quiz of the course with one rule, each remedial lesson
// a lesson marked remedial and listed once per rule, each lesson marked remedial
// assigned by some rule). Paths are those of the course file, such as
// "rules.remedial[0].quiz".
func (r Rules) Validate(lessons []PathLesson) []errs.Detail {
	return r.validate(lessons, true)
}

// validate checks r's limits and, with refs, what r refers to in lessons.
func (r Rules) validate(lessons []PathLesson, refs bool) []errs.Detail {
	var c cfChecker
	if r.MasteryMark < 0 || r.MasteryMark > 100 {
		c.add("rules.mastery_mark", "must be between 0 and 100, got %d", r.MasteryMark)
	}
	if refs {
		r.validateRemedial(&c, lessons)
	}
	if n := len(r.ReviewDays); n > rulesMaxReviewDays {
		c.add("rules.review_days", "must have at most %d days, got %d", rulesMaxReviewDays, n)
	}
	prev := -1 // the index of the last day in range
	for i, d := range r.ReviewDays {
		p := cfIndex("rules.review_days", i)
		if d < 1 || d > rulesMaxReviewDay {
			c.add(p, "must be between 1 and %d, got %d", rulesMaxReviewDay, d)
			continue
		}
		if prev >= 0 && d <= r.ReviewDays[prev] {
			c.add(p, "%d must be greater than %s (%d)", d, cfIndex("rules.review_days", prev), r.ReviewDays[prev])
		}
		prev = i
	}
	if r.MaxRetakes < 0 || r.MaxRetakes > rulesMaxRetakes {
		c.add("rules.max_retakes", "must be between 0 and %d, got %d", rulesMaxRetakes, r.MaxRetakes)
	}
	if refs {
		assigned := make(map[string]bool)
		for _, rule := range r.Remedial {
			for _, k := range rule.Lessons {
				assigned[k] = true
			}
		}
		for i, l := range lessons {
			if l.Remedial && l.Key != "" && !assigned[l.Key] {
				c.add(cfIndex("lessons", i)+".remedial", "%q is marked remedial but no rule in rules.remedial assigns it", l.Key)
			}
		}
	}
	return c.details
}

// validateRemedial checks what the remedial rules refer to.
func (r Rules) validateRemedial(c *cfChecker, lessons []PathLesson) {
	byKey := make(map[string]PathLesson, len(lessons))
	for _, l := range lessons {
		if l.Key != "" {
			byKey[l.Key] = l
		}
	}
	ruleOf := make(map[string]int) // quiz key to the index of its first rule
	for i, rule := range r.Remedial {
		p := cfIndex("rules.remedial", i)
		quiz, known := byKey[rule.Quiz]
		first, dup := ruleOf[rule.Quiz]
		switch {
		case rule.Quiz == "":
			c.add(p+".quiz", "is required")
		case !known:
			c.add(p+".quiz", "%q is not a quiz in this course", orderedjson.Shorten(rule.Quiz))
		case quiz.Kind != KindQuiz:
			c.add(p+".quiz", "%q is a %s lesson, not a quiz", rule.Quiz, quiz.Kind)
		case dup:
			c.add(p+".quiz", "%q already has remedial lessons in %s", rule.Quiz, cfIndex("rules.remedial", first))
		default:
			ruleOf[rule.Quiz] = i
		}

		if len(rule.Lessons) == 0 {
			c.add(p+".lessons", "must have at least 1 lesson")
		}
		listed := make(map[string]int)
		for j, k := range rule.Lessons {
			lp := cfIndex(p+".lessons", j)
			l, known := byKey[k]
			at, dup := listed[k]
			switch {
			case k == "":
				c.add(lp, "must not be blank")
			case !known:
				c.add(lp, "%q is not a lesson in this course", orderedjson.Shorten(k))
			case !l.Remedial:
				c.add(lp, "%q is not marked remedial", k)
			case dup:
				c.add(lp, "%q is already listed at %s", k, cfIndex(p+".lessons", at))
			default:
				listed[k] = j
			}
		}
	}
}
