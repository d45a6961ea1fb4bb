package pages

import (
	"strconv"

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
