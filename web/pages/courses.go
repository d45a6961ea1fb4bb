package pages

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

// CoursesPage is /courses: the organisation's courses and the forms that
// make one, import one and set what a segment costs.
type CoursesPage struct {
	Dash
	Courses   []lessons.CourseSummary
	Price     lessons.Price
	CanPrice  bool       // admins set the price
	PriceForm *PriceForm // a price refused, as typed
	New       NewCourseForm
	Import    ImportResult
	Notice    string
}

// NewCourseForm is the new course form as typed, with its problems.
type NewCourseForm struct {
	Title, Slug string
	Problems    []errs.Detail
}

// ImportResult is a course file refused, with its problems by path.
type ImportResult struct {
	File     string
	Message  string
	Problems []errs.Detail
}

// PriceForm is the segment price form as typed, with its problems.
type PriceForm struct {
	Amount, Currency string
	Problems         []errs.Detail
}

// problemsAt returns the messages of the problems at field or inside it
// (field[2], field.x).
func problemsAt(ps []errs.Detail, field string) []string {
	var out []string
	for _, p := range ps {
		if p.Path == field || len(p.Path) > len(field) && p.Path[:len(field)] == field && (p.Path[len(field)] == '[' || p.Path[len(field)] == '.') {
			out = append(out, p.Message)
		}
	}
	return out
}

// otherProblems returns the problems at none of fields.
func otherProblems(ps []errs.Detail, fields ...string) []errs.Detail {
	var out []errs.Detail
next:
	for _, p := range ps {
		for _, f := range fields {
			if len(problemsAt([]errs.Detail{p}, f)) > 0 {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

func versionLabel(c lessons.CourseSummary) string {
	switch {
	case c.PublishedVersion == 0:
		return "draft, never published"
	case c.HasDraft:
		return "version " + strconv.Itoa(c.PublishedVersion) + " published, a draft open"
	default:
		return "version " + strconv.Itoa(c.PublishedVersion) + " published"
	}
}

// EditorPage is /courses/{id}: a course's draft (or its published content
// until the first change), its settings, lessons and messages.
type EditorPage struct {
	Dash
	Course    lessons.Course
	Version   lessons.CourseVersion
	Published *lessons.CourseVersion // nil: never published
	Diff      *lessons.CourseDiff    // the draft against Published; nil when there is no draft or nothing published
	Settings  SettingsForm
	Problems  []errs.Detail
	Messages  []Measured
	Price     lessons.Price
	Cohort    int
}

// SettingsForm is the settings form's values by field name (the course file
// path: "pass_mark", "cadence.times") and the cadence days ticked.
type SettingsForm struct {
	Values   map[string]string
	Days     []string
	Remedial map[string][]string // quiz key: its remedial lessons' keys
}

// HasRemedial says whether the quiz's rule sends the remedial lesson.
func (f SettingsForm) HasRemedial(quiz, lesson string) bool {
	return slices.Contains(f.Remedial[quiz], lesson)
}

// quizzesAndRemedial returns the course's quizzes and its remedial lessons.
func quizzesAndRemedial(ls []lessons.Lesson) (quizzes, remedial []lessons.Lesson) {
	for _, l := range ls {
		switch {
		case l.Remedial:
			remedial = append(remedial, l)
		case l.Kind == lessons.KindQuiz:
			quizzes = append(quizzes, l)
		}
	}
	return quizzes, remedial
}

// SettingsFields returns the settings form's fields but the cadence days, a
// fresh slice each call.
func SettingsFields() []string {
	return []string{"title", "description", "pass_mark", "due_days", "cadence_kind", "cadence.every_days",
		"cadence.times", "send_window.start", "send_window.end", "completion.text", "completion.video_percent",
		"rules.mastery_mark", "rules.max_retakes", "rules.retake", "rules.review_days"}
}

// Measured is one SMS as it will be sent, measured by the sender's counting.
type Measured struct {
	Key, Label, Text string
	Encoding         string
	Chars, Segments  int
	Remedial         bool   // sent only to reps who fail a quiz
	Char             string // the first character that forces UCS-2; "" when none
	At               int    // its index in Text, in characters
	Replacement      string // the GSM-7 stand-in for Char
	CanReplace       bool
}

// PerRep is the segments one rep on the normal path is sent, every answer
// right the first time (remedial lessons and retakes cost more).
func (p EditorPage) PerRep() int {
	n := 0
	for _, m := range p.Messages {
		if !m.Remedial {
			n += m.Segments
		}
	}
	return n
}

// Segments returns the segments of the lesson's messages.
func (p EditorPage) Segments(key string) (n int, ucs2 bool) {
	for _, m := range p.Messages {
		if m.Key == key {
			n += m.Segments
			ucs2 = ucs2 || m.Char != ""
		}
	}
	return n, ucs2
}

func (p EditorPage) base() string { return "/courses/" + strconv.FormatInt(p.Course.ID, 10) }

func (f SettingsForm) day(d string) bool {
	for _, x := range f.Days {
		if x == d {
			return true
		}
	}
	return false
}

// LessonForm is the lesson form's values by field name (the course file
// path inside the lesson: "title", "questions[0].choices[1]") and how many
// questions it has.
type LessonForm struct {
	Values    map[string]string
	Questions int
}

// LessonEditPage is /courses/{id}/lessons/{key} (or /new).
type LessonEditPage struct {
	Dash
	CourseID    int64
	CourseTitle string
	New         bool
	OldKey      string // the lesson's key as stored; "" for a new one
	Form        LessonForm
	Problems    []errs.Detail
	Messages    []Measured // the lesson's SMS as typed
}

// Action is where the form posts.
func (p LessonEditPage) Action() string {
	base := "/courses/" + strconv.FormatInt(p.CourseID, 10)
	if p.New {
		return base + "/lessons"
	}
	return base + "/lessons/" + url.PathEscape(p.OldKey)
}

func (p LessonEditPage) kind() string { return p.Form.Values["kind"] }

// questionField names field of question i: "questions[2].prompt".
func questionField(i int, field string) string { return "questions[" + strconv.Itoa(i) + "]." + field }

func choiceField(i, j int) string { return questionField(i, "choices["+strconv.Itoa(j)+"]") }

// lessonFields are the lesson form's fields, for the problems shown elsewhere.
func (p LessonEditPage) lessonFields() []string {
	fields := []string{"key", "kind", "title", "body", "video_url", "video_seconds", "optional", "remedial", "questions"}
	if p.kind() == "video" && !p.New {
		fields = append(fields, "video_file") // shown at the upload form
	}
	return fields
}

// PreviewPage is /courses/{id}/preview: a sample rep's schedule.
type PreviewPage struct {
	Dash
	CourseID    int64
	Zone, Start string
	Wrong       bool // each quiz's first try answered wrong
	Problem     string
	Messages    []PlannedMessage
}

// PlannedMessage is one SMS of the preview, at the rep's local time.
type PlannedMessage struct {
	At       time.Time
	Body     string
	Encoding string
	Segments int
	Reason   string // why a rule put its step in the path
}
