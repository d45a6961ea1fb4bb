package pages

import (
	"slices"
	"strconv"
	"strings"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

// enrollFields are the enrollment form's fields, as problems name them.
var enrollFields = []string{"course_id", "from", "team_ids", "file", "region", "start_on", "due_on"}

// EnrollPage is /enroll: a course, the reps (teams or a CSV of new hires),
// a start and a due date.
type EnrollPage struct {
	Dash
	Courses  []lessons.CourseSummary // published, not archived
	Teams    []lessons.Team          // those the user may enroll
	Limited  bool                    // a manager: their teams only
	Form     EnrollForm
	Message  string         // what went wrong, over Problems
	File     string         // the CSV file's name, with its problems
	Problems []errs.Detail  // by field or by CSV line
	Done     *EnrollOutcome // what the last submission did
	Filter   *EnrollFilter  // reps picked by a filter of the dashboard's rep table
}

// EnrollFilter is the reps a filter of the rep table keeps.
type EnrollFilter struct {
	Query string // the rep table's filter, as its URL has it
	Reps  int
	Table string // the rep table with the filter
}

// EnrollForm is the enrollment form as submitted.
type EnrollForm struct {
	CourseID       int64
	TeamIDs        []int64
	StartOn, DueOn string // YYYY-MM-DD or empty
	StartNow       bool
	Region         string
}

// HasTeam says whether the team was picked.
func (f EnrollForm) HasTeam(id int64) bool { return slices.Contains(f.TeamIDs, id) }

// EnrollOutcome is what an enrollment did.
type EnrollOutcome struct {
	CourseID         int64
	Course           string
	Enrolled         int
	AlreadyEnrolled  int
	Created, Updated int // reps from a CSV
	DueOn            string
}

// linesOf returns the problems that name a line of a CSV file.
func linesOf(ps []errs.Detail) []errs.Detail {
	return slices.DeleteFunc(slices.Clone(ps), func(d errs.Detail) bool { return !strings.HasPrefix(d.Path, "line ") })
}

// notLines returns the other problems.
func notLines(ps []errs.Detail) []errs.Detail {
	return slices.DeleteFunc(slices.Clone(ps), func(d errs.Detail) bool { return strings.HasPrefix(d.Path, "line ") })
}

// howMany says "1 rep" or "3 reps".
func howMany(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
