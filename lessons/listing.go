package lessons

import (
	"fmt"
	"strings"
)

// Page sizes of the listings (Reps, Enrollments, RepMessages).
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// pageLimit is the page size a listing asked for with limit: 0 or less means
// defaultPageLimit, more than maxPageLimit is cut to it.
func pageLimit(limit int) int {
	if limit <= 0 {
		return defaultPageLimit
	}
	return min(limit, maxPageLimit)
}

// conditions builds a listing's WHERE clause and its arguments, numbering
// each parameter as it is added, so that a value is never pasted into SQL.
type conditions struct {
	where []string
	args  []any
}

// and adds a condition on one argument; cond writes its parameter as $%d,
// e.g. "r.team_id = $%d".
func (c *conditions) and(cond string, arg any) {
	c.where = append(c.where, fmt.Sprintf(cond, c.param(arg)))
}

// param adds an argument and returns its parameter's number, for a clause
// other than a condition (LIMIT $%d).
func (c *conditions) param(arg any) int {
	c.args = append(c.args, arg)
	return len(c.args)
}

// sql is the conditions joined with AND.
func (c *conditions) sql() string { return strings.Join(c.where, " AND ") }
