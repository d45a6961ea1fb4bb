package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/web/pages"
)

// enrollRoles may enroll, pause and cancel: admins anyone, managers the reps
// of their own teams.
var enrollRoles = []lessons.Role{lessons.RoleAdmin, lessons.RoleManager}

// enrollUploadMax bounds the enrollment form with its CSV file: a rep import's
// bound and room for the other fields.
const enrollUploadMax = maxImportBody + 64<<10

// limitOf is whom the user may enroll and pause: a manager, their teams' reps.
func limitOf(u lessons.User) lessons.TeamLimit {
	if u.Role == lessons.RoleManager {
		return lessons.TeamLimit{Limited: true, Teams: u.TeamIDs}
	}
	return lessons.TeamLimit{}
}

// enrollPage answers GET /enroll: the enrollment form, for ?course= if given.
func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request, u lessons.User) {
	f := pages.EnrollForm{Region: "US"}
	f.CourseID, _ = strconv.ParseInt(r.URL.Query().Get("course"), 10, 64)
	p := pages.EnrollPage{Form: f}
	if from := r.URL.Query().Get("from"); from != "" {
		ids, err := s.filteredReps(r.Context(), u, from)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		p.Filter = enrollFilter(from, ids)
	}
	s.renderEnroll(w, r, u, http.StatusOK, p)
}

// enrollFilter is the form's part for the reps a rep-table filter shows.
func enrollFilter(from string, ids []int64) *pages.EnrollFilter {
	return &pages.EnrollFilter{Query: from, Reps: len(ids), Table: "/dashboard/reps?" + from}
}

// filteredReps returns the reps a filter of the rep table keeps for the user,
// as the table reads them now; from is the table's query.
func (s *Server) filteredReps(ctx context.Context, u lessons.User, from string) ([]int64, error) {
	bad := errs.InvalidInput("The dashboard filter is not valid.", []errs.Detail{{Path: "from", Message: "open the form again from the rep table"}})
	q, err := url.ParseQuery(from)
	if err != nil || len(from) > 512 {
		return nil, bad
	}
	rep := s.reports
	if rep == nil {
		return nil, errNoReports
	}
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	v, err := s.viewerOf(ctx, u)
	if err != nil {
		return nil, err
	}
	_, tq, err := s.repsStateOf(ctx, q, v)
	if err != nil {
		return nil, bad
	}
	return rep.RepIDs(ctx, v.scope, tq.Filter)
}

// renderEnroll fills p with the courses that take enrollments and the teams
// the user may enroll, and shows it.
func (s *Server) renderEnroll(w http.ResponseWriter, r *http.Request, u lessons.User, status int, p pages.EnrollPage) {
	courses, err := s.store.Courses(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	teams, err := s.store.Teams(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	limit := limitOf(u)
	for _, c := range courses {
		if p.Done != nil && c.ID == p.Done.CourseID {
			p.Done.Course = c.Title
		}
	}
	p.Courses = slices.DeleteFunc(courses, func(c lessons.CourseSummary) bool { return c.PublishedVersion == 0 || c.ArchivedAt != nil })
	p.Teams = slices.DeleteFunc(teams, func(t lessons.Team) bool { return !limit.Allows(t.ID) })
	p.Limited = limit.Limited
	p.Dash = pages.Dash{Account: account(u), Title: "Enroll reps", Nav: "enroll", Script: htmxAsset.url,
		Simulator: s.simulator, Now: s.store.Now()}
	s.render(w, r, status, pages.Enroll(p))
}

// importAndEnroll checks a rep CSV of new hires (a manager's may name only
// their teams) and imports and enrolls them in one transaction, in one of the
// organisation's import slots.
func (s *Server) importAndEnroll(ctx context.Context, u lessons.User, file io.Reader, region string, req lessons.EnrollRequest) (lessons.ImportResult, lessons.EnrollResult, error) {
	release, err := s.imports.take(u.OrgID)
	if err != nil {
		return lessons.ImportResult{}, lessons.EnrollResult{}, err
	}
	defer release()
	reps, lines, err := lessons.ParseRepsCSVLines(file, region, nil)
	if err == nil && req.Limit.Limited {
		err = checkManagerTeams(reps, lines, u.Teams)
	}
	if err != nil {
		return lessons.ImportResult{}, lessons.EnrollResult{}, err
	}
	return s.store.ImportAndEnroll(ctx, u.OrgID, reps, req)
}

// enrollReps answers POST /enroll: the teams picked and the reps of a CSV
// file (imported first, in the same transaction) enrolled in the course.
// Every problem is shown with the form, by field or by line of the file, and
// then nothing is saved.
func (s *Server) enrollReps(w http.ResponseWriter, r *http.Request, u lessons.User) {
	s.allowUpload(w)
	r.Body = http.MaxBytesReader(w, r.Body, enrollUploadMax)
	p := pages.EnrollPage{}
	if err := r.ParseMultipartForm(4 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		msg := "The form could not be read: " + err.Error()
		if errors.As(err, &tooBig) {
			msg = fmt.Sprintf("The upload is larger than %d MiB, the most a rep file may be: split it and upload the parts one by one.", maxImportBody>>20)
		}
		p.Problems = []errs.Detail{{Path: "file", Message: msg}}
		s.renderEnroll(w, r, u, http.StatusRequestEntityTooLarge, p)
		return
	}
	req, form, details := enrollRequestOf(r)
	req.Limit = limitOf(u)
	p.Form = form
	if from := r.FormValue("from"); from != "" {
		ids, err := s.filteredReps(r.Context(), u, from)
		if err != nil && errs.CodeOf(err) != errs.Invalid {
			s.pageError(w, r, err)
			return
		}
		if err != nil {
			details = append(details, errs.As(err).Details...)
		}
		req.RepIDs = ids
		p.Filter = enrollFilter(from, ids)
	}
	file, header, err := r.FormFile("file")
	switch {
	case err == nil:
		defer file.Close()
		p.File = header.Filename
	case !errors.Is(err, http.ErrMissingFile):
		details = append(details, errs.Detail{Path: "file", Message: "could not be read: " + err.Error()})
	case len(req.TeamIDs) == 0 && len(req.RepIDs) == 0 && p.Filter == nil:
		details = append(details, errs.Detail{Path: "team_ids", Message: "Pick a team, or choose a CSV file of new hires."})
	case len(req.TeamIDs) == 0 && len(req.RepIDs) == 0:
		details = append(details, errs.Detail{Path: "from", Message: "The dashboard filter shows no rep now: pick a team or a file."})
	}
	if len(details) > 0 {
		p.Message, p.Problems = "", details
		s.renderEnroll(w, r, u, http.StatusUnprocessableEntity, p)
		return
	}

	var imported lessons.ImportResult
	var res lessons.EnrollResult
	if file != nil {
		imported, res, err = s.importAndEnroll(r.Context(), u, file, form.Region, req)
	} else {
		res, err = s.store.Enroll(r.Context(), u.OrgID, req)
	}
	if e := errs.As(err); e != nil && e.Code != errs.Internal && e.Code != errs.Unavailable {
		p.Message, p.Problems = e.Message, e.Details
		if len(e.Details) == 0 {
			p.Problems = []errs.Detail{{Message: e.Message}}
		}
		status := http.StatusUnprocessableEntity
		if e.Code == codeTooMany {
			status = http.StatusTooManyRequests
		}
		s.renderEnroll(w, r, u, status, p)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p.Done = &pages.EnrollOutcome{CourseID: req.CourseID, Enrolled: len(res.Enrollments), AlreadyEnrolled: res.AlreadyEnrolled,
		Created: imported.Created, Updated: imported.Updated}
	if len(res.Enrollments) > 0 {
		p.Done.DueOn = res.Enrollments[0].DueOn.Format("Mon 2 Jan 2006")
	}
	p.Form = pages.EnrollForm{CourseID: req.CourseID, Region: form.Region}
	s.renderEnroll(w, r, u, http.StatusOK, p)
}

// enrollRequestOf reads the enrollment form's fields, and what is wrong with them.
func enrollRequestOf(r *http.Request) (lessons.EnrollRequest, pages.EnrollForm, []errs.Detail) {
	var req lessons.EnrollRequest
	var details []errs.Detail
	form := pages.EnrollForm{Region: strings.TrimSpace(r.FormValue("region")),
		StartOn: strings.TrimSpace(r.FormValue("start_on")), DueOn: strings.TrimSpace(r.FormValue("due_on"))}
	if form.Region == "" {
		form.Region = "US"
	}
	id, err := strconv.ParseInt(r.FormValue("course_id"), 10, 64)
	if err != nil || id <= 0 {
		details = append(details, errs.Detail{Path: "course_id", Message: "Choose a course."})
	}
	req.CourseID, form.CourseID = id, id
	for _, v := range r.Form["team_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			details = append(details, errs.Detail{Path: "team_ids", Message: fmt.Sprintf("%q is not a team", v)})
			continue
		}
		req.TeamIDs = append(req.TeamIDs, id)
	}
	form.TeamIDs = req.TeamIDs
	req.StartNow = r.FormValue("start_now") != ""
	form.StartNow = req.StartNow
	for _, f := range []struct {
		path, value string
		into        *time.Time
	}{{"start_on", form.StartOn, &req.StartOn}, {"due_on", form.DueOn, &req.DueOn}} {
		if f.value == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, f.value)
		if err != nil {
			details = append(details, errs.Detail{Path: f.path, Message: fmt.Sprintf("%q is not a date as YYYY-MM-DD", f.value)})
		}
		*f.into = d
	}
	return req, form, details
}

// checkManagerTeams refuses, by line, the reps of a manager's file that are
// not in one of the manager's teams.
func checkManagerTeams(reps []lessons.RepInput, lines []int, teams []string) error {
	var details []errs.Detail
	for i, rep := range reps {
		if slices.Contains(teams, rep.Team) {
			continue
		}
		msg := fmt.Sprintf("%q is not one of your teams (%s)", rep.Team, strings.Join(teams, ", "))
		if rep.Team == "" {
			msg = fmt.Sprintf("is required: one of your teams (%s)", strings.Join(teams, ", "))
		}
		details = append(details, errs.Detail{Path: fmt.Sprintf("line %d, column team", lines[i]), Message: msg})
	}
	if len(details) > 0 {
		return &errs.Error{Code: errs.Forbidden, Message: "Some reps are not in your teams; nothing was saved.", Details: details}
	}
	return nil
}

// changeEnrollment answers POST /enrollments/{id}/pause, /resume and /cancel,
// then goes back to the rep's page.
func (s *Server) changeEnrollment(change func(ctx context.Context, orgID, id int64, l lessons.TeamLimit) (lessons.Enrollment, error), done string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, u lessons.User) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			s.pageError(w, r, errs.Errorf(errs.NotFound, "no enrollment %q", r.PathValue("id")))
			return
		}
		e, err := change(r.Context(), u.OrgID, id, limitOf(u))
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/dashboard/reps/%d?notice=%s", e.RepID, done), http.StatusSeeOther)
	}
}
