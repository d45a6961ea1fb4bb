package lessons

import (
	"context"
	"fmt"

	"github.com/morselhq/morsel/lessons/errs"
)

// EventRefs are the ids an event written from outside (a backfill, a
// correction) names; 0 names nothing.
type EventRefs struct {
	RepID, CourseID, EnrollmentID, AssignmentID, LessonID int64
}

// eventRefsMaxProblems bounds the problems EventRefProblems lists.
const eventRefsMaxProblems = 100

// EventRefProblems names, for each event, the ids that are not the
// organisation's: a rep it does not have; a course, an enrollment or an
// assignment of another organisation (an enrollment or an assignment of
// another of its reps), a lesson of another organisation's course. An id
// stored nowhere may be history from before Morsel, and passes. path(i) is
// where event i is, e.g. "events[3]."; the problems' paths add the field. One
// query, whatever the number of events.
func (s *Store) EventRefProblems(ctx context.Context, orgID int64, refs []EventRefs, path func(int) string) ([]errs.Detail, error) {
	n := len(refs)
	reps, courses, enrollments, assignments, lessons := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, r := range refs {
		reps[i], courses[i], enrollments[i], assignments[i], lessons[i] = r.RepID, r.CourseID, r.EnrollmentID, r.AssignmentID, r.LessonID
	}
	rows, err := s.pool.Query(ctx, `
		SELECT i::int - 1,
			EXISTS (SELECT FROM reps WHERE id = u.r AND org_id = $1),
			NOT EXISTS (SELECT FROM courses WHERE id = u.c AND org_id <> $1),
			NOT EXISTS (SELECT FROM enrollments WHERE id = u.e AND (org_id <> $1 OR rep_id <> u.r)),
			NOT EXISTS (SELECT FROM assignments x JOIN enrollments y ON y.id = x.enrollment_id
				WHERE x.id = u.a AND (y.org_id <> $1 OR y.rep_id <> u.r)),
			NOT EXISTS (SELECT FROM course_lessons l JOIN course_versions v ON v.id = l.course_version_id
				WHERE l.id = u.l AND v.org_id <> $1)
		FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS u(r, c, e, a, l, i)
		ORDER BY i`, orgID, reps, courses, enrollments, assignments, lessons)
	if err != nil {
		return nil, fmt.Errorf("check the events' ids: %w", err)
	}
	defer rows.Close()
	var details []errs.Detail
	named := map[int64]bool{} // a rep not found is named at its first event
	for rows.Next() {
		var i int
		var rep, course, enrollment, assignment, lesson bool
		if err := rows.Scan(&i, &rep, &course, &enrollment, &assignment, &lesson); err != nil {
			return nil, fmt.Errorf("check the events' ids: %w", err)
		}
		r := refs[i]
		if !rep {
			rep, named[r.RepID] = named[r.RepID], true
		}
		for _, c := range []struct {
			ok    bool
			field string
			id    int64
			what  string
		}{
			{rep, "rep_id", r.RepID, "rep %d not found"},
			{course, "course_id", r.CourseID, "course %d not found"},
			{enrollment, "enrollment_id", r.EnrollmentID, "enrollment %d not found (it is not this rep's)"},
			{assignment, "assignment_id", r.AssignmentID, "assignment %d not found (it is not this rep's)"},
			{lesson, "lesson_id", r.LessonID, "lesson %d not found"},
		} {
			if !c.ok && len(details) < eventRefsMaxProblems {
				details = append(details, errs.Detail{Path: path(i) + c.field, Message: fmt.Sprintf(c.what, c.id)})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check the events' ids: %w", err)
	}
	return details, nil
}
