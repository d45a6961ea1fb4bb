package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// The manager dashboard: /dashboard and below. Every figure comes from
// ClickHouse through tracking/reports, bounded by the user's scope, which
// is decided here from the session alone: an admin sees the organisation, a
// manager the teams they manage, a trainer the organisation without phone
// numbers or email addresses. A rep outside the scope is a 404.

// reportTimeout bounds the ClickHouse reads of one dashboard request: when
// ClickHouse is slow or gone the page says so quickly.
const reportTimeout = 3 * time.Second

var dashboardRoles = []lessons.Role{lessons.RoleAdmin, lessons.RoleManager, lessons.RoleTrainer}

// viewer is the user of a dashboard request with what they may see: the
// scope, and the teams they may pick (those a manager manages, else the
// organisation's, read from Postgres once per request).
type viewer struct {
	user     lessons.User
	scope    reports.Scope
	teams    []pages.Option
	mentions int // notes mentioning them, unseen
}

// tagged narrows v's scope to the reps with the request's ?tag= (every
// one): each report counts those reps alone.
func (v *viewer) tagged(r *http.Request) error {
	tags, err := tagsParam(r.URL.Query())
	if err == nil && len(tags) > 0 {
		v.scope = v.scope.Tagged(tags...)
	}
	return err
}

// tagScope offers the organisation's most used tags to narrow a report page
// at path to.
func (s *Server) tagScope(ctx context.Context, d *pages.Dash, orgID int64, r *http.Request) error {
	tags, err := s.store.Tags(ctx, orgID, "", filterTags)
	if err != nil {
		return err
	}
	ts := &pages.TagScope{Action: r.URL.Path, Keep: r.URL.Query()}
	for _, t := range tags {
		ts.Options = append(ts.Options, t.Tag)
	}
	d.TagScope = ts
	return nil
}

func (s *Server) viewerOf(ctx context.Context, u lessons.User) (viewer, error) {
	v := viewer{user: u, scope: reports.Scope{OrgID: u.OrgID, Contacts: u.Role != lessons.RoleTrainer}}
	var err error
	if v.mentions, err = s.store.UnseenMentions(ctx, u); err != nil {
		return v, err
	}
	if u.Role == lessons.RoleManager {
		v.scope.Teams = u.TeamIDs
		for i, id := range u.TeamIDs {
			v.teams = append(v.teams, pages.Option{ID: id, Name: u.Teams[i]})
		}
		return v, nil
	}
	v.scope.All = true
	teams, err := s.store.Teams(ctx, u.OrgID)
	if err != nil {
		return v, err
	}
	for _, t := range teams {
		v.scope.Teams = append(v.scope.Teams, t.ID)
		v.teams = append(v.teams, pages.Option{ID: t.ID, Name: t.Name})
	}
	return v, nil
}

// dash is the frame of a dashboard page for v.
func (s *Server) dash(v viewer, title, nav string) pages.Dash {
	return pages.Dash{Account: account(v.user), Title: title, Nav: nav, Script: htmxAsset.url, Simulator: s.simulator,
		Now: s.store.Now(), Teams: v.teams, Mentions: v.mentions, Tagged: v.scope.Tags()}
}

// dashboardError answers a failed dashboard request: 404 for what is not
// in scope, 503 when the reports cannot be read, 400 for a bad parameter.
func (s *Server) dashboardError(w http.ResponseWriter, r *http.Request, u lessons.User, err error) {
	var unavailable *reports.Unavailable
	var bad badParam
	switch {
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		s.pageError(w, r, err) // the client went away: not the reports' failure
	case errors.Is(err, reports.ErrNotFound):
		s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
	case errors.As(err, &bad):
		s.render(w, r, http.StatusBadRequest, pages.Problem(bad.Error()))
	case errors.As(err, &unavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, errNoReports):
		s.log.WarnContext(r.Context(), "reports unavailable", "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "30")
		s.render(w, r, http.StatusServiceUnavailable, pages.Unavailable(account(u)))
	default:
		s.pageError(w, r, err)
	}
}

var errNoReports = errors.New("ClickHouse is not configured")

// badParam is a query parameter that cannot be read.
type badParam struct{ name, value, want string }

func (b badParam) Error() string {
	return fmt.Sprintf("The parameter %q is %q; it must be %s.", b.name, b.value, b.want)
}

// dashboardPage serves a dashboard page: the viewer and a bounded context
// for fn, its errors answered as dashboardError says.
func (s *Server) dashboardPage(fn func(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error) http.Handler {
	return s.page(func(w http.ResponseWriter, r *http.Request, u lessons.User) {
		rep := s.reports
		if rep == nil {
			s.dashboardError(w, r, u, errNoReports)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), reportTimeout)
		defer cancel()
		v, err := s.viewerOf(ctx, u)
		if err == nil {
			err = v.tagged(r)
		}
		if err == nil {
			err = fn(ctx, w, r, v, rep)
		}
		if err != nil {
			s.dashboardError(w, r, u, err)
		}
	}, dashboardRoles...)
}

// teamParam reads ?team=: 0 for none; NotFound for a team outside scope.
func teamParam(q url.Values, scope reports.Scope) (int64, error) {
	v := q.Get("team")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badParam{"team", v, "a team's id"}
	}
	if !scope.HasTeam(id) {
		return 0, reports.ErrNotFound
	}
	return id, nil
}

// overview answers GET /dashboard.
func (s *Server) overview(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	team, err := teamParam(r.URL.Query(), v.scope)
	if err != nil {
		return err
	}
	o, err := rep.Overview(ctx, v.scope, team)
	if err != nil {
		return err
	}
	d := s.dash(v, "Training overview", "overview")
	d.Team = team
	s.render(w, r, http.StatusOK, pages.Overview(pages.OverviewPage{Dash: d, Overview: o}))
	return nil
}

// filterTags is how many of the organisation's most used tags the rep
// table's filters offer.
const filterTags = 20

// repsState reads the rep table's state from the URL.
func repsState(q url.Values, scope reports.Scope) (pages.RepsState, reports.TableQuery, error) {
	var st pages.RepsState
	var tq reports.TableQuery
	var err error
	if st.Team, err = teamParam(q, scope); err != nil {
		return st, tq, err
	}
	if v := q.Get("course"); v != "" {
		if st.Course, err = strconv.ParseInt(v, 10, 64); err != nil || st.Course <= 0 {
			return st, tq, badParam{"course", v, "a course's id"}
		}
	}
	if v := q.Get("status"); v != "" {
		status, ok := reports.ParseStatus(v)
		if !ok {
			return st, tq, badParam{"status", v, "one of done, on_track, behind, overdue, opted_out, undeliverable"}
		}
		st.Status, tq.Status = v, &status
	}
	if v := q.Get("due"); v != "" {
		if st.Due, err = strconv.Atoi(v); err != nil || st.Due < 1 || st.Due > reports.MaxDueWithin {
			return st, tq, badParam{"due", v, fmt.Sprintf("a number of days from 1 to %d", reports.MaxDueWithin)}
		}
	}
	if st.Tags, err = tagsParam(q); err != nil {
		return st, tq, err
	}
	switch v := q.Get("untagged"); {
	case v == "":
	case v != "true":
		return st, tq, badParam{"untagged", v, "true, or left out"}
	case len(st.Tags) > 0:
		return st, tq, badParam{"untagged", v, "left out when a tag is given: a rep without tags has none of them"}
	default:
		st.Untagged = true
	}
	if v := q.Get("sort"); v != "" {
		if _, ok := reports.ParseColumn(v); !ok {
			return st, tq, badParam{"sort", v, "one of name, team, course, progress, quiz, video, activity, due, status"}
		}
		st.Sort = v
	}
	switch v := q.Get("dir"); v {
	case "", "asc":
	case "desc":
		st.Desc = true
	default:
		return st, tq, badParam{"dir", v, "asc or desc"}
	}
	for _, p := range []struct {
		name string
		dst  **reports.Cursor
		raw  *string
	}{{"after", &tq.After, &st.After}, {"before", &tq.Before, &st.Before}} {
		if v := q.Get(p.name); v != "" {
			c, ok := reports.ParseCursor(v)
			if !ok {
				return st, tq, badParam{p.name, v, "a page cursor from a link of this page"}
			}
			*p.dst, *p.raw = &c, v
		}
	}
	tq.Team, tq.Course, tq.DueWithin, tq.Sort, tq.Desc = st.Team, st.Course, st.Due, reports.Column(st.Sort), st.Desc
	tq.Tags, tq.Untagged = st.Tags, st.Untagged
	return st, tq, nil
}

// repsStateOf is repsState with the filters that need the store: ?manager=
// (the manager's teams in scope; NotFound for a manager outside it; "none":
// the teams without a manager) and ?cohort= with ?period= (the period that
// starts that day, in the organisation's time zone).
func (s *Server) repsStateOf(ctx context.Context, q url.Values, v viewer) (pages.RepsState, reports.TableQuery, error) {
	st, tq, err := repsState(q, v.scope)
	if err != nil {
		return st, tq, err
	}
	if raw := q.Get("manager"); raw == "none" {
		ms, err := s.store.TeamManagers(ctx, v.user.OrgID)
		if err != nil {
			return st, tq, err
		}
		tq.ExceptTeams = []int64{}
		for _, m := range ms {
			if !slices.Contains(tq.ExceptTeams, m.TeamID) {
				tq.ExceptTeams = append(tq.ExceptTeams, m.TeamID)
			}
		}
		st.NoManager = true
	} else if raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return st, tq, badParam{"manager", raw, "a manager's id, or none"}
		}
		ms, err := s.store.TeamManagers(ctx, v.user.OrgID)
		if err != nil {
			return st, tq, err
		}
		tq.Teams = []int64{}
		for _, m := range ms {
			if m.UserID == id && v.scope.HasTeam(m.TeamID) {
				tq.Teams, st.ManagerName = append(tq.Teams, m.TeamID), m.Name
			}
		}
		if len(tq.Teams) == 0 {
			return st, tq, reports.ErrNotFound
		}
		st.Manager = id
	}
	if raw := q.Get("cohort"); raw != "" {
		day, err := time.Parse(time.DateOnly, raw)
		if err != nil {
			return st, tq, badParam{"cohort", raw, "a date such as 2026-11-01"}
		}
		period := reports.Period(q.Get("period"))
		if period != reports.Week && period != reports.Month {
			return st, tq, badParam{"period", string(period), "week or month"}
		}
		loc, err := s.store.OrgLocation(ctx, v.user.OrgID)
		if err != nil {
			return st, tq, err
		}
		tq.EnrolledFrom, tq.EnrolledBefore = period.Range(day, loc)
		st.Cohort, st.Period = raw, string(period)
		st.CohortLabel = fmt.Sprintf("enrolled in the %s from %s", period, tq.EnrolledFrom.Format("2 Jan 2006"))
	}
	return st, tq, nil
}

// tagsParam reads ?tag= (any number, up to reports.MaxFilterTags; with or
// without the #, a list of them comma- or space-separated too): the tags,
// lower case, each once.
func tagsParam(q url.Values) ([]string, error) {
	var tags []string
	for _, v := range q["tag"] {
		for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			tag := strings.ToLower(strings.TrimPrefix(t, "#"))
			if parsed, _ := lessons.ParseNote("#" + tag); len(parsed) != 1 || parsed[0] != tag {
				return nil, badParam{"tag", t, "a #tag: letters, digits, _ or -, with a letter"}
			}
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
	}
	if len(tags) > reports.MaxFilterTags {
		return nil, badParam{"tag", strings.Join(tags, ","), fmt.Sprintf("at most %d tags", reports.MaxFilterTags)}
	}
	return tags, nil
}

// fragment says whether htmx asked for part of a page, to swap in place.
// A history restore asks for the whole page.
func fragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// repTable answers GET /dashboard/reps: the whole page, or with htmx the
// results alone.
func (s *Server) repTable(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	st, tq, err := s.repsStateOf(ctx, r.URL.Query(), v)
	if err != nil {
		return err
	}
	page, err := rep.Table(ctx, v.scope, tq)
	if err != nil {
		return err
	}
	p := pages.RepsPage{State: st, Page: page}
	p.Dash = s.dash(v, "Reps", "reps")
	p.Dash.Tagged = nil // the filters show them
	courses, err := s.store.Courses(ctx, v.user.OrgID)
	if err != nil {
		return err
	}
	for _, c := range courses {
		p.Courses = append(p.Courses, pages.Option{ID: c.ID, Name: c.Title})
	}
	if p.Tags, err = s.store.Tags(ctx, v.user.OrgID, "", filterTags); err != nil {
		return err
	}
	if fragment(r) {
		// The address bar gets the table's own URL, not the form's fields
		// with their empty values.
		w.Header().Set("HX-Push-Url", st.URL())
		s.render(w, r, http.StatusOK, pages.RepsResults(p))
		return nil
	}
	s.render(w, r, http.StatusOK, pages.Reps(p))
	return nil
}

// search answers GET /dashboard/search?q=: with htmx the matches alone (the
// search box fills them in as the user types), else a page of them.
func (s *Server) search(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	q := r.URL.Query().Get("q")
	if len(q) > 4*reports.MaxSearchRunes {
		return badParam{"q", strings.ToValidUTF8(q[:16], "") + "…", fmt.Sprintf("at most %d characters", reports.MaxSearchRunes)}
	}
	matches, err := rep.Search(ctx, v.scope, q)
	if err != nil {
		return err
	}
	p := pages.SearchPage{Dash: s.dash(v, "Find a rep", "search"), Matches: matches, Contacts: v.scope.Contacts}
	p.Search = strings.TrimSpace(q)
	if fragment(r) {
		s.render(w, r, http.StatusOK, pages.SearchResults(p))
		return nil
	}
	s.render(w, r, http.StatusOK, pages.Search(p))
	return nil
}

// repPage answers GET /dashboard/reps/{id}.
func (s *Server) repPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return reports.ErrNotFound
	}
	return s.renderRep(ctx, w, r, v, rep, id, pages.NoteForm{}, http.StatusOK)
}

// renderRep answers with the rep's page, its notes form in the state given
// (what was typed and why it was not saved), with the status.
func (s *Server) renderRep(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports, id int64, form pages.NoteForm, status int) error {
	older, err := olderParam(r.URL.Query())
	if err != nil {
		return err
	}
	story, err := rep.Story(ctx, v.scope, id, older, pages.TimelinePage)
	if err != nil {
		return err
	}
	total, older := story.Total, story.Skip // past the end: the last page
	var newer, olderLink, shown string
	if older > 0 {
		newer = timelineLink(id, older-pages.TimelinePage)
	}
	if older+pages.TimelinePage < total {
		olderLink = timelineLink(id, older+pages.TimelinePage)
	}
	if total > pages.TimelinePage {
		shown = fmt.Sprintf("Events %d to %d of %d, newest first.", older+1, older+len(story.Entries), total)
	}
	ids := map[int64]bool{}
	for _, e := range story.Entries {
		ids[e.LessonID] = true
	}
	for _, v := range story.Videos {
		ids[v.LessonID] = true
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		if id != 0 {
			list = append(list, id)
		}
	}
	names, err := s.store.LessonNames(ctx, v.user.OrgID, list)
	if err != nil {
		return err
	}
	p := pages.RepPage{Story: story, Lessons: map[int64]pages.LessonInfo{}, Back: "/dashboard/reps",
		Newer: newer, Older: olderLink, Shown: shown}
	for id, n := range names {
		p.Lessons[id] = pages.LessonInfo{Title: n.Title, Segments: n.Segments}
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, "/dashboard") {
		p.Back = localPath(ref.RequestURI())
	}
	if slices.Contains(enrollRoles, v.user.Role) {
		if p.Manage, err = s.managedEnrollments(ctx, v.user.OrgID, story); err != nil {
			return err
		}
	}
	p.Notes = pages.Notes{RepID: id, UserID: v.user.ID, Admin: v.user.Role == lessons.RoleAdmin, Form: form}
	// The reports decided the rep is in scope; Postgres decides again for
	// the notes, and a rep it does not show the user (their team changed a
	// moment ago) has the page without notes.
	switch p.Notes.Notes, err = s.store.RepNotes(ctx, v.user, id); {
	case errs.CodeOf(err) == errs.NotFound:
		p.Notes.Hidden = true
	case err != nil:
		return err
	}
	p.Notice = enrollmentNotice(r.URL.Query().Get("notice"))
	p.Dash = s.dash(v, story.Rep.Name, "rep")
	s.render(w, r, status, pages.Rep(p))
	return nil
}

// managedEnrollments lists the rep's enrollments as they stand in Postgres,
// where pausing changes them, named by course as the story names them.
func (s *Server) managedEnrollments(ctx context.Context, orgID int64, story reports.Story) ([]pages.ManagedEnrollment, error) {
	es, err := s.store.Enrollments(ctx, orgID, lessons.EnrollmentFilter{RepID: story.Rep.RepID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	titles := map[int64]string{}
	for _, row := range story.Enrollments {
		titles[row.CourseID] = row.Course
	}
	out := make([]pages.ManagedEnrollment, len(es))
	for i, e := range es {
		title, ok := titles[e.CourseID]
		if !ok {
			title = fmt.Sprintf("course %d", e.CourseID)
		}
		out[i] = pages.ManagedEnrollment{ID: e.ID, Course: title, Status: e.Status, DueOn: e.DueOn}
	}
	return out, nil
}

// enrollmentNotice says what an enrollment button did.
func enrollmentNotice(kind string) string {
	switch kind {
	case "paused":
		return "Paused: the rep gets nothing of the course until it is resumed."
	case "resumed":
		return "Resumed: the course goes on where it stopped."
	case "cancelled":
		return "Cancelled: the rep gets nothing more of the course."
	case "note-saved":
		return "Note saved."
	case "note-deleted":
		return "Note deleted. Its history stays on record."
	}
	return ""
}

// olderParam reads ?older=: how many of the newest timeline entries to skip,
// a multiple of pages.TimelinePage.
func olderParam(q url.Values) (int, error) {
	v := q.Get("older")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n%pages.TimelinePage != 0 || n > reports.MaxStoryEvents {
		return 0, badParam{"older", v, fmt.Sprintf("a multiple of %d from 0 to %d", pages.TimelinePage, reports.MaxStoryEvents)}
	}
	return n, nil
}

// timelineLink is the rep page showing the timeline from the older-th entry.
func timelineLink(rep int64, older int) string {
	if older <= 0 {
		return fmt.Sprintf("/dashboard/reps/%d", rep)
	}
	return fmt.Sprintf("/dashboard/reps/%d?older=%d", rep, older)
}
