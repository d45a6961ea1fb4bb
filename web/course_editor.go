package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/sms"
	"github.com/morselhq/morsel/web/pages"
)

// The course editor: /courses/{id}. It edits the course's draft (the
// published content until the first change, which starts a draft). Each
// change is applied to the course file of the draft and read back through
// the course file checker: the form's problems are the checker's, at the
// checker's paths, which are the form's field names.

// editSpec applies edit to spec as a course file (a JSON object) and reads it
// back through the checker.
func editSpec(spec lessons.CourseSpec, edit func(file map[string]any)) (lessons.CourseSpec, error) {
	data, err := lessons.MarshalCourseFile(spec)
	if err != nil {
		return lessons.CourseSpec{}, err
	}
	var file map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&file); err != nil {
		return lessons.CourseSpec{}, fmt.Errorf("read course file back: %w", err)
	}
	edit(file)
	data, err = json.Marshal(file)
	if err != nil {
		return lessons.CourseSpec{}, fmt.Errorf("write edited course file: %w", err)
	}
	return lessons.ParseCourseFile(bytes.NewReader(data))
}

var wholeNumber = regexp.MustCompile(`^-?[0-9]{1,9}$`)

// formNumber is a form value as a course file value: a number when it is a
// whole number, else the text, which the checker then names ("must be a
// whole number, got \"seventy\"").
func formNumber(s string) any {
	s = strings.TrimSpace(s)
	if wholeNumber.MatchString(s) {
		return json.Number(s)
	}
	return s
}

// formList splits a comma-separated form value: "09:00, 16:00".
func formList(s string, item func(string) any) []any {
	out := []any{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, item(part))
		}
	}
	return out
}

func formText(s string) any { return s }

// editable is the course and the version the editor shows: its draft, or
// the newest published version when it has none; published is the newest
// published version (nil if never published).
type editable struct {
	course    lessons.Course
	version   lessons.CourseVersion
	published *lessons.CourseVersion
}

func (s *Server) editable(r *http.Request, u lessons.User) (editable, error) {
	id, err := courseID(r)
	if err != nil {
		return editable{}, err
	}
	c, versions, err := s.store.CourseVersions(r.Context(), u.OrgID, id)
	if err != nil {
		return editable{}, err
	}
	if len(versions) == 0 {
		return editable{}, errs.Errorf(errs.NotFound, "course %d has no content", id)
	}
	e := editable{course: c, version: versions[0]}
	for i := range versions {
		if versions[i].Status == lessons.VersionPublished {
			e.published = &versions[i]
			break
		}
	}
	return e, nil
}

// courseEditor answers GET /courses/{id}.
func (s *Server) courseEditor(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderEditor(w, r, u, http.StatusOK, e, pages.SettingsForm{}, nil)
}

// renderEditor shows the editor of e; form holds a refused settings form as
// typed, problems a refused change.
func (s *Server) renderEditor(w http.ResponseWriter, r *http.Request, u lessons.User, status int, e editable, form pages.SettingsForm, problems []errs.Detail) {
	org, err := s.store.Org(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	cohort := 100
	if n, err := strconv.Atoi(r.URL.Query().Get("cohort")); err == nil && n > 0 && n <= 1_000_000 {
		cohort = n
	}
	p := pages.EditorPage{Dash: s.authorDash(u, e.version.Spec.Title), Course: e.course, Version: e.version,
		Published: e.published, Problems: problems, Cohort: cohort, Price: org.SegmentPrice,
		Messages: measureCourse(e.version.Spec, lessons.SampleLessonLink(s.store.PublicURL()))}
	if form.Values == nil {
		form = settingsForm(e.version.Spec)
	}
	p.Settings = form
	if e.published != nil && e.version.Status == lessons.VersionDraft {
		d := lessons.DiffCourses(e.published.Spec, e.version.Spec)
		p.Diff = &d
	}
	s.render(w, r, status, pages.Editor(p))
}

// measureCourse measures every SMS the course sends on the normal path, as
// the sender composes it: a lesson's message with its step and link, each
// quiz question with its choices and the feedback on a right answer.
func measureCourse(spec lessons.CourseSpec, link string) []pages.Measured {
	steps := 0
	for _, l := range spec.Lessons {
		if !l.Remedial {
			steps++
		}
	}
	var out []pages.Measured
	step := 0
	for _, l := range spec.Lessons {
		if !l.Remedial {
			step++
		}
		if l.Kind == lessons.KindQuiz {
			for i, q := range l.Questions {
				out = append(out,
					measure(l.Key, fmt.Sprintf("%s, question %d", l.Title, i+1), lessons.QuestionText(l, i), l.Remedial),
					measure(l.Key, fmt.Sprintf("%s, feedback %d (right)", l.Title, i+1), lessons.FeedbackText(q, true), l.Remedial))
			}
			continue
		}
		out = append(out, measure(l.Key, l.Title, lessons.LessonText(spec.Title, max(step, 1), steps, l, link), l.Remedial))
	}
	return out
}

// measure is one SMS's length, encoding, segments and the first character
// that makes it UCS-2, by the sender's own counting.
func measure(key, label, text string, remedial bool) pages.Measured {
	enc, segs := sms.Segments(text)
	m := pages.Measured{Key: key, Label: label, Text: text, Encoding: string(enc), Segments: segs,
		Chars: len([]rune(text)), Remedial: remedial}
	if at, r := sms.FirstUCS2(text); at >= 0 {
		m.Char, m.At = string(r), at
		m.Replacement, m.CanReplace = sms.Replacement(r)
	}
	return m
}

// settingsForm is the settings form filled from spec.
func settingsForm(spec lessons.CourseSpec) pages.SettingsForm {
	v := map[string]string{
		"title": spec.Title, "description": spec.Description,
		"pass_mark": strconv.Itoa(spec.PassMark), "due_days": strconv.Itoa(spec.DueDays),
		"cadence.every_days": "", "cadence.times": joinClock(spec.Cadence.Times),
		"send_window.start": spec.SendWindow.Start.String(), "send_window.end": spec.SendWindow.End.String(),
		"completion.text": spec.TextCompletion, "completion.video_percent": strconv.Itoa(spec.VideoCompletePercent),
		"rules.mastery_mark": strconv.Itoa(spec.Rules.MasteryMark), "rules.max_retakes": strconv.Itoa(spec.Rules.MaxRetakes),
		"rules.retake": "all", "rules.review_days": joinInts(spec.Rules.ReviewDays), "cadence_kind": "days",
	}
	if spec.Rules.RetakeMissedOnly {
		v["rules.retake"] = "missed"
	}
	remedial := map[string][]string{}
	for _, rule := range spec.Rules.Remedial {
		remedial[rule.Quiz] = append(remedial[rule.Quiz], rule.Lessons...)
	}
	if spec.Cadence.EveryDays > 0 {
		v["cadence_kind"], v["cadence.every_days"] = "every", strconv.Itoa(spec.Cadence.EveryDays)
	}
	var days []string
	for _, d := range spec.Cadence.Weekdays {
		days = append(days, strings.ToLower(d.String()[:3]))
	}
	return pages.SettingsForm{Values: v, Days: days, Remedial: remedial}
}

func joinClock(times []lessons.ClockTime) string {
	s := make([]string, len(times))
	for i, t := range times {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// saveSettings answers POST /courses/{id}/settings.
func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, errs.Errorf(errs.Invalid, "The form could not be read."))
		return
	}
	form := pages.SettingsForm{Values: map[string]string{}, Days: r.PostForm["cadence.days"], Remedial: map[string][]string{}}
	for _, k := range pages.SettingsFields() {
		form.Values[k] = r.PostFormValue(k)
	}
	remedial := []any{}
	for _, l := range e.version.Spec.Lessons {
		if picked := r.PostForm["remedial."+l.Key]; l.Kind == lessons.KindQuiz && len(picked) > 0 {
			form.Remedial[l.Key] = picked
			keys := make([]any, len(picked))
			for i, k := range picked {
				keys[i] = k
			}
			remedial = append(remedial, map[string]any{"quiz": l.Key, "lessons": keys})
		}
	}
	val := form.Values
	spec, err := editSpec(e.version.Spec, func(f map[string]any) {
		f["title"], f["description"] = val["title"], val["description"]
		f["pass_mark"], f["due_days"] = formNumber(val["pass_mark"]), formNumber(val["due_days"])
		cad := map[string]any{"times": formList(val["cadence.times"], formText)}
		if val["cadence_kind"] == "every" {
			cad["every_days"] = formNumber(val["cadence.every_days"])
		} else {
			days := []any{}
			for _, d := range form.Days {
				days = append(days, d)
			}
			cad["days"] = days
		}
		f["cadence"] = cad
		f["send_window"] = map[string]any{"start": val["send_window.start"], "end": val["send_window.end"]}
		f["completion"] = map[string]any{"text": val["completion.text"], "video_percent": formNumber(val["completion.video_percent"])}
		rules, _ := f["rules"].(map[string]any)
		if rules == nil {
			rules = map[string]any{}
		}
		rules["mastery_mark"], rules["max_retakes"] = formNumber(val["rules.mastery_mark"]), formNumber(val["rules.max_retakes"])
		rules["retake"], rules["review_days"] = val["rules.retake"], formList(val["rules.review_days"], formNumber)
		rules["remedial"] = remedial
		f["rules"] = rules
	})
	s.saveEdit(w, r, u, e, spec, err, form)
}

// saveEdit stores spec as the draft, or shows the editor with the problems
// of err and nothing stored.
func (s *Server) saveEdit(w http.ResponseWriter, r *http.Request, u lessons.User, e editable, spec lessons.CourseSpec, err error, form pages.SettingsForm) {
	if err == nil {
		_, err = s.store.SaveDraft(r.Context(), u.OrgID, e.course.ID, spec)
	}
	if err != nil {
		if ae := errs.As(err); ae != nil && (ae.Code == errs.Invalid || ae.Code == errs.Conflict) {
			problems := ae.Details
			if len(problems) == 0 {
				problems = []errs.Detail{{Message: ae.Message}}
			}
			s.renderEditor(w, r, u, http.StatusUnprocessableEntity, e, form, problems)
			return
		}
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", e.course.ID), http.StatusSeeOther)
}

// editableLesson is the course being edited and the index of its lesson
// {key}; on an error it answers the request and returns false.
func (s *Server) editableLesson(w http.ResponseWriter, r *http.Request, u lessons.User) (editable, int, bool) {
	e, err := s.editable(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return e, 0, false
	}
	i, err := lessonIndex(r, e.version.Spec)
	if err != nil {
		s.pageError(w, r, err)
		return e, 0, false
	}
	return e, i, true
}

// lessonIndex finds the lesson {key} of spec.
func lessonIndex(r *http.Request, spec lessons.CourseSpec) (int, error) {
	key := r.PathValue("key")
	i := slices.IndexFunc(spec.Lessons, func(l lessons.Lesson) bool { return l.Key == key })
	if i < 0 {
		return 0, errs.Errorf(errs.NotFound, "no lesson %q in this course", key)
	}
	return i, nil
}

// moveLesson answers POST /courses/{id}/lessons/{key}/move: dir=up or down,
// or to=N (the 0-based place, for drag and drop).
func (s *Server) moveLesson(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, i, ok := s.editableLesson(w, r, u)
	if !ok {
		return
	}
	to := i
	switch dir := r.PostFormValue("dir"); {
	case dir == "up":
		to = i - 1
	case dir == "down":
		to = i + 1
	case r.PostFormValue("to") != "":
		n, err := strconv.Atoi(r.PostFormValue("to"))
		if err != nil {
			s.pageError(w, r, errs.Errorf(errs.Invalid, "The place %q is not a number.", r.PostFormValue("to")))
			return
		}
		to = n
	}
	to = max(0, min(to, len(e.version.Spec.Lessons)-1))
	spec, err := editSpec(e.version.Spec, func(f map[string]any) {
		ls, _ := f["lessons"].([]any)
		l := ls[i]
		ls = slices.Insert(slices.Delete(ls, i, i+1), to, l)
		f["lessons"] = ls
	})
	s.saveEdit(w, r, u, e, spec, err, pages.SettingsForm{})
}

// deleteLesson answers POST /courses/{id}/lessons/{key}/delete.
func (s *Server) deleteLesson(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, i, ok := s.editableLesson(w, r, u)
	if !ok {
		return
	}
	spec, err := editSpec(e.version.Spec, func(f map[string]any) {
		ls, _ := f["lessons"].([]any)
		f["lessons"] = slices.Delete(ls, i, i+1)
	})
	s.saveEdit(w, r, u, e, spec, err, pages.SettingsForm{})
}

// publishDraft answers POST /courses/{id}/publish.
func (s *Server) publishDraft(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err == nil {
		_, err = s.store.PublishCourse(r.Context(), u.OrgID, e.course.ID)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", e.course.ID), http.StatusSeeOther)
}

// discardDraft answers POST /courses/{id}/discard.
func (s *Server) discardDraft(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err == nil {
		err = s.store.DiscardDraft(r.Context(), u.OrgID, e.course.ID)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", e.course.ID), http.StatusSeeOther)
}

// previewCourse answers GET /courses/{id}/preview?tz=...&start=YYYY-MM-DD&answers=right|wrong:
// the dated messages a rep in the zone enrolled at 08:00 on the start date
// would get, every answer right or each quiz's first try wrong (the remedial
// path), as the scheduler sends them.
func (s *Server) previewCourse(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q := r.URL.Query()
	p := pages.PreviewPage{Dash: s.authorDash(u, "Schedule of "+e.version.Spec.Title), CourseID: e.course.ID,
		Zone: q.Get("tz"), Start: q.Get("start"), Wrong: q.Get("answers") == "wrong"}
	if a := q.Get("answers"); a != "" && a != "right" && a != "wrong" {
		p.Problem = fmt.Sprintf("answers: %q is neither right nor wrong.", a)
		s.render(w, r, http.StatusBadRequest, pages.Preview(p))
		return
	}
	answers := lessons.PlanAllRight
	if p.Wrong {
		answers = lessons.PlanFirstTryWrong
	}
	if p.Zone == "" {
		p.Zone = "America/New_York"
	}
	loc, err := lessons.Location(p.Zone)
	if err != nil || len(p.Zone) > 64 || p.Zone == "Local" {
		p.Problem = fmt.Sprintf("%q is not a time zone such as Europe/London.", p.Zone)
		s.render(w, r, http.StatusBadRequest, pages.Preview(p))
		return
	}
	now := s.store.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if p.Start != "" {
		d, err := time.ParseInLocation(time.DateOnly, p.Start, loc)
		if err != nil {
			p.Problem = fmt.Sprintf("%q is not a date as YYYY-MM-DD.", p.Start)
			s.render(w, r, http.StatusBadRequest, pages.Preview(p))
			return
		}
		day = d
	}
	p.Start = day.Format(time.DateOnly)
	enrolled := day.Add(8 * time.Hour)
	for _, m := range lessons.PlanCourse(e.version.Spec, loc, enrolled, lessons.SampleLessonLink(s.store.PublicURL()), answers) {
		enc, segs := sms.Segments(m.Body)
		p.Messages = append(p.Messages, pages.PlannedMessage{At: m.At.In(loc), Body: m.Body, Encoding: string(enc), Segments: segs,
			Reason: m.Reason})
	}
	s.render(w, r, http.StatusOK, pages.Preview(p))
}
