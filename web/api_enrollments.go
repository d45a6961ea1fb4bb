package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

type enrollmentJSON struct {
	ID              int64      `json:"id"`
	RepID           int64      `json:"rep_id"`
	CourseID        int64      `json:"course_id"`
	CourseVersionID int64      `json:"course_version_id"`
	Status          string     `json:"status"`
	EnrolledAt      timestamp  `json:"enrolled_at"`
	DueOn           date       `json:"due_on"`
	CompletedAt     *timestamp `json:"completed_at"`
	Score           *float64   `json:"score"`
}

func newEnrollmentJSON(e lessons.Enrollment) enrollmentJSON {
	return enrollmentJSON{
		ID: e.ID, RepID: e.RepID, CourseID: e.CourseID, CourseVersionID: e.CourseVersionID, Status: string(e.Status),
		EnrolledAt: timestamp(e.EnrolledAt), DueOn: date(e.DueOn), CompletedAt: optionalTime(e.CompletedAt), Score: e.Score,
	}
}

type assignmentJSON struct {
	ID           int64      `json:"id"`
	EnrollmentID int64      `json:"enrollment_id"`
	LessonID     int64      `json:"lesson_id"`
	Position     int        `json:"position"`
	Status       string     `json:"status"`
	ScheduledAt  *timestamp `json:"scheduled_at"`
	SentAt       *timestamp `json:"sent_at"`
	CompletedAt  *timestamp `json:"completed_at"`
	Score        *float64   `json:"score"`
	Attempt      int        `json:"attempt"`
	Reason       string     `json:"reason"`
}

// listEnrollments answers GET /api/v1/enrollments, a page of enrollments by id.
func (s *Server) listEnrollments(w http.ResponseWriter, r *http.Request, orgID int64) error {
	q := newQuery(r)
	f := lessons.EnrollmentFilter{
		RepID:    q.id("rep_id"),
		CourseID: q.id("course_id"),
		AfterID:  q.id("after"),
		Limit:    q.limit(defaultLimit, maxLimit),
	}
	if err := q.err(); err != nil {
		return err
	}
	list, err := s.store.Enrollments(r.Context(), orgID, f)
	if err != nil {
		return err
	}
	out := make([]enrollmentJSON, len(list))
	for i, e := range list {
		out[i] = newEnrollmentJSON(e)
	}
	writeJSON(w, http.StatusOK, page(out, f.Limit, func(e enrollmentJSON) int64 { return e.ID }))
	return nil
}

type enrollRequest struct {
	CourseID int64   `json:"course_id"`
	RepIDs   []int64 `json:"rep_ids"`
	TeamIDs  []int64 `json:"team_ids"`
	DueOn    string  `json:"due_on"`   // YYYY-MM-DD; empty: the course's due_days from the start
	StartOn  string  `json:"start_on"` // YYYY-MM-DD; empty: now
	StartNow bool    `json:"start_now"`
}

type enrollResultJSON struct {
	Enrollments     []enrollmentJSON `json:"enrollments"`
	AlreadyEnrolled int              `json:"already_enrolled"`
}

// enroll answers POST /api/v1/enrollments: 201 with the new enrollments, or
// 200 when every rep named was enrolled already.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request, orgID int64) error {
	var req enrollRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in := lessons.EnrollRequest{CourseID: req.CourseID, RepIDs: req.RepIDs, TeamIDs: req.TeamIDs, StartNow: req.StartNow}
	var details []errs.Detail
	if req.CourseID <= 0 {
		details = append(details, errs.Detail{Path: "course_id", Message: "is required: a positive course id"})
	}
	for _, list := range []struct {
		field string
		ids   []int64
	}{{"rep_ids", req.RepIDs}, {"team_ids", req.TeamIDs}} {
		for i, id := range list.ids {
			if id <= 0 {
				details = append(details, errs.Detail{Path: fmt.Sprintf("%s[%d]", list.field, i), Message: fmt.Sprintf("must be a positive id, got %d", id)})
			}
		}
	}
	for _, f := range []struct {
		path, value string
		into        *time.Time
	}{{"due_on", req.DueOn, &in.DueOn}, {"start_on", req.StartOn, &in.StartOn}} {
		if f.value == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, f.value)
		if err != nil {
			details = append(details, errs.Detail{Path: f.path, Message: fmt.Sprintf("must be a date as YYYY-MM-DD, got %q", f.value)})
		}
		*f.into = d
	}
	if details != nil {
		return errs.InvalidInput("The enrollment request is not valid.", details)
	}
	res, err := s.store.Enroll(r.Context(), orgID, in)
	if err != nil {
		return err
	}
	out := enrollResultJSON{Enrollments: make([]enrollmentJSON, len(res.Enrollments)), AlreadyEnrolled: res.AlreadyEnrolled}
	for i, e := range res.Enrollments {
		out.Enrollments[i] = newEnrollmentJSON(e)
	}
	status := http.StatusCreated
	if len(res.Enrollments) == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
	return nil
}

// listAssignments answers GET /api/v1/enrollments/{id}/assignments: the
// enrollment's lessons in path order, in one page.
func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request, orgID int64) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// The store lists no assignments, rather than failing, for an enrollment
	// the organisation does not have; look the enrollment up first.
	found, err := s.store.Enrollments(r.Context(), orgID, lessons.EnrollmentFilter{AfterID: id - 1, Limit: 1})
	if err != nil {
		return err
	}
	if len(found) == 0 || found[0].ID != id {
		return errs.Errorf(errs.NotFound, "enrollment %d not found", id)
	}
	list, err := s.store.Assignments(r.Context(), orgID, id)
	if err != nil {
		return err
	}
	out := make([]assignmentJSON, len(list))
	for i, a := range list {
		out[i] = assignmentJSON{
			ID: a.ID, EnrollmentID: a.EnrollmentID, LessonID: a.LessonID, Position: a.Position, Status: string(a.Status),
			ScheduledAt: optionalTime(a.ScheduledAt), SentAt: optionalTime(a.SentAt), CompletedAt: optionalTime(a.CompletedAt), Score: a.Score,
			Attempt: a.Attempt, Reason: a.Reason,
		}
	}
	writeJSON(w, http.StatusOK, page(out, 0, nil))
	return nil
}
