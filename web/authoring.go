package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/web/pages"
)

// Course authoring in the browser: /courses and below, for trainers and
// admins. Every change goes through the course file checker, so a form gets
// the messages, at the paths, that a course file would.

var authorRoles = []lessons.Role{lessons.RoleAdmin, lessons.RoleTrainer}

// courseFileUploadMax bounds an uploaded course file with its form: the
// checker refuses a file over 1 MiB with a clear message, so let it see one.
const courseFileUploadMax = 1<<20 + 64<<10

// authorDash is the frame of an authoring page.
func (s *Server) authorDash(u lessons.User, title string) pages.Dash {
	return pages.Dash{Account: account(u), Title: title, Nav: "courses", Script: htmxAsset.url,
		Simulator: s.simulator, Now: s.store.Now()}
}

// coursesPage answers GET /courses: the organisation's courses, a form for a
// new one and one to import a course file.
func (s *Server) coursesPage(w http.ResponseWriter, r *http.Request, u lessons.User) {
	q := r.URL.Query()
	s.renderCourses(w, r, u, http.StatusOK, pages.CoursesPage{Notice: courseNotice(q.Get("notice"), q.Get("title"))})
}

// renderCourses fills p with the organisation's courses and price and shows it.
func (s *Server) renderCourses(w http.ResponseWriter, r *http.Request, u lessons.User, status int, p pages.CoursesPage) {
	courses, err := s.store.Courses(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	org, err := s.store.Org(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p.Dash = s.authorDash(u, "Courses")
	p.Courses, p.Price, p.CanPrice = courses, org.SegmentPrice, u.Role == lessons.RoleAdmin
	s.render(w, r, status, pages.Courses(p))
}

// courseNotice is the line shown after a change, from a fixed set: the
// query string never puts text of its own on the page.
func courseNotice(kind, title string) string {
	verb, ok := map[string]string{
		"created": "Created", "imported": "Imported", "duplicated": "Duplicated as",
		"archived": "Archived", "restored": "Restored", "price": "Saved the segment price for",
	}[kind]
	if !ok {
		return ""
	}
	if kind == "price" {
		return verb + " the organisation."
	}
	if len([]rune(title)) > 200 {
		title = string([]rune(title)[:200])
	}
	return fmt.Sprintf("%s “%s”.", verb, title)
}

// redirectNotice sends the browser to /courses with a notice about title.
func redirectNotice(w http.ResponseWriter, r *http.Request, kind, title string) {
	v := url.Values{"notice": {kind}, "title": {title}}
	http.Redirect(w, r, "/courses?"+v.Encode(), http.StatusSeeOther)
}

// createCourse answers POST /courses: a new course from its title (and slug,
// made from the title when left empty), starting as a draft.
func (s *Server) createCourse(w http.ResponseWriter, r *http.Request, u lessons.User) {
	form := pages.NewCourseForm{Title: strings.TrimSpace(r.PostFormValue("title")), Slug: strings.TrimSpace(r.PostFormValue("slug"))}
	slug := form.Slug
	if slug == "" {
		slug = slugOf(form.Title)
	}
	spec, err := editSpec(lessons.StarterCourse(slug, form.Title), func(map[string]any) {})
	if err == nil {
		_, err = s.store.CreateCourse(r.Context(), u.OrgID, spec)
	}
	if err != nil {
		if e := errs.As(err); e != nil && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
			form.Problems = e.Details
			if e.Code == errs.Conflict {
				form.Problems = []errs.Detail{{Path: "slug", Message: fmt.Sprintf("%q is taken by another course: choose another", slug)}}
			}
			s.renderCourses(w, r, u, http.StatusUnprocessableEntity, pages.CoursesPage{New: form})
			return
		}
		s.pageError(w, r, err)
		return
	}
	redirectNotice(w, r, "created", spec.Title)
}

// slugOf makes a course slug of a title: "Discount policy (2027)" is
// "discount-policy-2027".
func slugOf(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// importCourse answers POST /courses/import: a course file uploaded becomes
// the draft of the course with its slug (a new course when there is none).
// A file with problems is refused whole, its problems listed by path.
func (s *Server) importCourse(w http.ResponseWriter, r *http.Request, u lessons.User) {
	s.allowUpload(w)
	r.Body = http.MaxBytesReader(w, r.Body, courseFileUploadMax)
	file, header, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		msg := "Choose a course file (.json) to import."
		if errors.As(err, &tooBig) {
			msg = "The file is larger than 1 MiB, the most a course file may be."
		}
		s.renderCourses(w, r, u, http.StatusBadRequest, pages.CoursesPage{Import: pages.ImportResult{Problems: []errs.Detail{{Message: msg}}}})
		return
	}
	defer file.Close()
	res := pages.ImportResult{File: header.Filename}
	spec, err := lessons.ParseCourseFile(file)
	if err == nil {
		_, err = s.store.SaveCourse(r.Context(), u.OrgID, spec, false)
	}
	if err != nil {
		if e := errs.As(err); e != nil && e.Code == errs.Invalid {
			res.Message, res.Problems = e.Message, e.Details
			s.renderCourses(w, r, u, http.StatusUnprocessableEntity, pages.CoursesPage{Import: res})
			return
		}
		s.pageError(w, r, err)
		return
	}
	redirectNotice(w, r, "imported", spec.Title)
}

// courseID reads {id} of the path.
func courseID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Errorf(errs.NotFound, "no course %q", r.PathValue("id"))
	}
	return id, nil
}

// exportCourse answers GET /courses/{id}/export: the course's newest version
// (or ?version=N) as a course file to download.
func (s *Server) exportCourse(w http.ResponseWriter, r *http.Request, u lessons.User) {
	id, err := courseID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	_, versions, err := s.store.CourseVersions(r.Context(), u.OrgID, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	want := r.URL.Query().Get("version")
	var v *lessons.CourseVersion
	for i := range versions {
		if want == "" || want == strconv.Itoa(versions[i].Number) {
			v = &versions[i]
			break
		}
	}
	if v == nil {
		s.pageError(w, r, errs.Errorf(errs.NotFound, "no version %q", want))
		return
	}
	data, err := lessons.MarshalCourseFile(v.Spec)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, lessons.CourseFileName(v.Spec.Slug, v.Number)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data)
}

// duplicateCourse answers POST /courses/{id}/duplicate: a copy as a new draft
// course, "title (copy)" under a free slug.
func (s *Server) duplicateCourse(w http.ResponseWriter, r *http.Request, u lessons.User) {
	id, err := courseID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	courses, err := s.store.Courses(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	taken := make(map[string]bool, len(courses))
	var from *lessons.CourseSummary
	for i, c := range courses {
		taken[c.Slug] = true
		if c.ID == id {
			from = &courses[i]
		}
	}
	if from == nil {
		s.pageError(w, r, errs.Errorf(errs.NotFound, "course %d not found", id))
		return
	}
	slug := copySlug(from.Slug, taken)
	title := from.Title + " (copy)"
	if len([]rune(title)) > 200 {
		title = from.Title
	}
	if _, err := s.store.DuplicateCourse(r.Context(), u.OrgID, id, slug, title); err != nil {
		s.pageError(w, r, err)
		return
	}
	redirectNotice(w, r, "duplicated", title)
}

// copySlug returns "slug-copy", "slug-copy-2"... the first not taken, kept
// within a slug's 63 characters.
func copySlug(slug string, taken map[string]bool) string {
	for n := 1; ; n++ {
		suffix := "-copy"
		if n > 1 {
			suffix = fmt.Sprintf("-copy-%d", n)
		}
		base := slug
		if len(base)+len(suffix) > 63 {
			base = strings.TrimRight(base[:63-len(suffix)], "-")
		}
		if c := base + suffix; !taken[c] {
			return c
		}
	}
}

// archiveCourse answers POST /courses/{id}/archive: archived=1 archives,
// archived=0 restores.
func (s *Server) archiveCourse(w http.ResponseWriter, r *http.Request, u lessons.User) {
	id, err := courseID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	archive := r.PostFormValue("archived") != "0"
	if err := s.store.ArchiveCourse(r.Context(), u.OrgID, id, archive); err != nil {
		s.pageError(w, r, err)
		return
	}
	c, _, err := s.store.CourseVersions(r.Context(), u.OrgID, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	kind := "archived"
	if !archive {
		kind = "restored"
	}
	redirectNotice(w, r, kind, c.Title)
}

// setSegmentPrice answers POST /courses/price (admins): what one SMS segment
// costs the organisation.
func (s *Server) setSegmentPrice(w http.ResponseWriter, r *http.Request, u lessons.User) {
	form := pages.PriceForm{Amount: strings.TrimSpace(r.PostFormValue("segment_price")), Currency: strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency")))}
	micros, err := lessons.ParsePriceMicros(form.Amount)
	if err != nil {
		err = errs.InvalidInput("The price is not valid.", []errs.Detail{{Path: "segment_price", Message: err.Error()}})
	} else {
		err = s.store.SetSegmentPrice(r.Context(), u.OrgID, lessons.Price{Micros: micros, Currency: form.Currency})
	}
	if e := errs.As(err); e != nil && e.Code == errs.Invalid {
		form.Problems = e.Details
		s.renderCourses(w, r, u, http.StatusUnprocessableEntity, pages.CoursesPage{PriceForm: &form})
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	redirectNotice(w, r, "price", "")
}
