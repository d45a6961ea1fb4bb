package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/sms"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web/pages"
)

// The lesson form: one lesson of the draft, its fields named by their course
// file paths inside the lesson (title, questions[0].choices[1]), so that the
// checker's problems land on them. It measures the lesson's messages while
// the trainer types (htmx posts the form to the same handler, which answers
// with the measure alone), and offers the GSM-7 stand-in for the character
// that forces UCS-2.

const (
	lessonFormMaxQuestions = 20 // the course file's limit
	lessonFormChoices      = 6
)

// lessonForm reads the lesson form of r.
func lessonForm(r *http.Request) pages.LessonForm {
	f := pages.LessonForm{Values: map[string]string{}}
	for _, k := range []string{"key", "kind", "title", "body", "video_url", "video_seconds", "optional", "remedial"} {
		f.Values[k] = r.PostFormValue(k)
	}
	n, _ := strconv.Atoi(r.PostFormValue("questions"))
	f.Questions = max(0, min(n, lessonFormMaxQuestions))
	for i := range f.Questions {
		for _, k := range questionKeys(i) {
			f.Values[k] = r.PostFormValue(k)
		}
	}
	return f
}

// questionKeys are the form fields of question i.
func questionKeys(i int) []string {
	p := fmt.Sprintf("questions[%d].", i)
	keys := []string{p + "prompt", p + "correct", p + "explanation"}
	for j := range lessonFormChoices {
		keys = append(keys, fmt.Sprintf("%schoices[%d]", p, j))
	}
	return keys
}

// formOf fills the lesson form from l.
func formOf(l lessons.Lesson) pages.LessonForm {
	f := pages.LessonForm{Values: map[string]string{"key": l.Key, "kind": string(l.Kind), "title": l.Title, "body": l.Body,
		"video_url": l.VideoURL}, Questions: len(l.Questions)}
	if l.VideoSeconds > 0 {
		f.Values["video_seconds"] = strconv.Itoa(l.VideoSeconds)
	}
	if l.Optional {
		f.Values["optional"] = "on"
	}
	if l.Remedial {
		f.Values["remedial"] = "on"
	}
	for i, q := range l.Questions {
		p := fmt.Sprintf("questions[%d].", i)
		f.Values[p+"prompt"], f.Values[p+"correct"], f.Values[p+"explanation"] = q.Prompt, lessons.ChoiceLetter(q.Correct), q.Explanation
		for j, c := range q.Choices {
			f.Values[fmt.Sprintf("%schoices[%d]", p, j)] = c
		}
	}
	return f
}

// fileLesson is the lesson form as a course file lesson: empty trailing
// choices left out, empty fields the kind does not take left out.
func fileLesson(f pages.LessonForm) map[string]any {
	v := f.Values
	l := map[string]any{"key": strings.TrimSpace(v["key"]), "kind": v["kind"], "title": v["title"]}
	if v["body"] != "" || v["kind"] == string(lessons.KindText) {
		l["body"] = v["body"]
	}
	l["optional"], l["remedial"] = v["optional"] != "", v["remedial"] != ""
	if v["kind"] == string(lessons.KindVideo) || v["video_url"] != "" {
		l["video_url"] = v["video_url"]
	}
	if v["kind"] == string(lessons.KindVideo) || v["video_seconds"] != "" {
		l["video_seconds"] = formNumber(v["video_seconds"])
	}
	if v["kind"] == string(lessons.KindQuiz) || f.Questions > 0 {
		qs := []any{}
		for i := range f.Questions {
			p := fmt.Sprintf("questions[%d].", i)
			var choices []any
			for j := range lessonFormChoices {
				choices = append(choices, v[fmt.Sprintf("%schoices[%d]", p, j)])
			}
			for len(choices) > 0 && strings.TrimSpace(choices[len(choices)-1].(string)) == "" {
				choices = choices[:len(choices)-1]
			}
			q := map[string]any{"prompt": v[p+"prompt"], "choices": choices, "correct": v[p+"correct"]}
			if v[p+"explanation"] != "" {
				q["explanation"] = v[p+"explanation"]
			}
			qs = append(qs, q)
		}
		l["questions"] = qs
	}
	return l
}

// draftLesson is the lesson form as a lesson, unchecked, for measuring.
func draftLesson(f pages.LessonForm) lessons.Lesson {
	v := f.Values
	l := lessons.Lesson{Key: v["key"], Kind: lessons.LessonKind(v["kind"]), Title: strings.TrimSpace(v["title"]),
		Body: strings.TrimSpace(v["body"]), VideoURL: v["video_url"], Remedial: v["remedial"] != ""}
	l.VideoSeconds, _ = strconv.Atoi(strings.TrimSpace(v["video_seconds"]))
	for i := range f.Questions {
		p := fmt.Sprintf("questions[%d].", i)
		q := lessons.Question{Prompt: strings.TrimSpace(v[p+"prompt"])}
		for j := range lessonFormChoices {
			if c := strings.TrimSpace(v[fmt.Sprintf("%schoices[%d]", p, j)]); c != "" {
				q.Choices = append(q.Choices, c)
			}
		}
		if len(q.Choices) == 0 {
			q.Choices = []string{""}
		}
		l.Questions = append(l.Questions, q)
	}
	return l
}

// lessonPageOf is the lesson page for the lesson at index (len(Lessons) for
// a new one) with form as typed.
func (s *Server) lessonPageOf(u lessons.User, e editable, index int, form pages.LessonForm, problems []errs.Detail) pages.LessonEditPage {
	spec := e.version.Spec
	spec.Lessons = slices.Clone(spec.Lessons)
	l := draftLesson(form)
	if index < len(spec.Lessons) {
		spec.Lessons[index] = l
	} else {
		spec.Lessons = append(spec.Lessons, l)
	}
	var msgs []pages.Measured
	for _, m := range measureCourse(spec, lessons.SampleLessonLink(s.store.PublicURL())) {
		if m.Key == l.Key {
			msgs = append(msgs, m)
		}
	}
	title := "New lesson"
	if index < len(e.version.Spec.Lessons) {
		title = e.version.Spec.Lessons[index].Title
	}
	return pages.LessonEditPage{Dash: s.authorDash(u, title), CourseID: e.course.ID, CourseTitle: spec.Title,
		New: index >= len(e.version.Spec.Lessons), OldKey: keyAt(e.version.Spec.Lessons, index), Form: form, Problems: problems, Messages: msgs}
}

// keyAt is the key of lesson i, "" past the end (a new lesson).
func keyAt(ls []lessons.Lesson, i int) string {
	if i < len(ls) {
		return ls[i].Key
	}
	return ""
}

// newLesson answers GET /courses/{id}/lessons/new?kind=...: an empty form.
func (s *Server) newLesson(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	kind := lessons.LessonKind(r.URL.Query().Get("kind"))
	if kind != lessons.KindVideo && kind != lessons.KindQuiz {
		kind = lessons.KindText
	}
	l := lessons.Lesson{Key: freeKey(e.version.Spec), Kind: kind}
	if kind == lessons.KindQuiz {
		l.Questions = []lessons.Question{{Choices: []string{"", ""}}}
	}
	s.render(w, r, http.StatusOK, pages.LessonEditor(s.lessonPageOf(u, e, len(e.version.Spec.Lessons), formOf(l), nil)))
}

// freeKey is a lesson key the course does not use yet: "lesson-7".
func freeKey(spec lessons.CourseSpec) string {
	for n := len(spec.Lessons) + 1; ; n++ {
		k := "lesson-" + strconv.Itoa(n)
		if !slices.ContainsFunc(spec.Lessons, func(l lessons.Lesson) bool { return l.Key == k }) {
			return k
		}
	}
}

// editLesson answers GET /courses/{id}/lessons/{key}.
func (s *Server) editLesson(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, i, ok := s.editableLesson(w, r, u)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, pages.LessonEditor(s.lessonPageOf(u, e, i, formOf(e.version.Spec.Lessons[i]), nil)))
}

// saveLesson answers POST /courses/{id}/lessons (a new lesson, added last)
// and POST /courses/{id}/lessons/{key}. With action=measure it answers with
// the measure of the form as typed; with action=replace the form comes
// back with the character in char replaced by its GSM-7 stand-in; with
// action=add_question, with one more question. Nothing is saved but by
// action=save.
func (s *Server) saveLesson(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, err := s.editable(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	index := len(e.version.Spec.Lessons)
	if r.PathValue("key") != "" {
		if index, err = lessonIndex(r, e.version.Spec); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	form := lessonForm(r)
	switch r.PostFormValue("action") {
	case "measure":
		s.render(w, r, http.StatusOK, pages.LessonMeasure(s.lessonPageOf(u, e, index, form, nil)))
		return
	case "replace":
		replaceChar(form, r.PostFormValue("char"))
		s.render(w, r, http.StatusOK, pages.LessonEditor(s.lessonPageOf(u, e, index, form, nil)))
		return
	case "add_question":
		if form.Questions < lessonFormMaxQuestions {
			form.Questions++
		}
		s.render(w, r, http.StatusOK, pages.LessonEditor(s.lessonPageOf(u, e, index, form, nil)))
		return
	}
	spec, err := editSpec(e.version.Spec, func(f map[string]any) {
		ls, _ := f["lessons"].([]any)
		if index < len(ls) {
			ls[index] = fileLesson(form)
		} else {
			ls = append(ls, fileLesson(form))
		}
		f["lessons"] = ls
	})
	if err == nil {
		_, err = s.store.SaveDraft(r.Context(), u.OrgID, e.course.ID, spec)
	}
	if ae := errs.As(err); ae != nil && (ae.Code == errs.Invalid || ae.Code == errs.Conflict) {
		s.render(w, r, http.StatusUnprocessableEntity, pages.LessonEditor(s.lessonPageOf(u, e, index, form, lessonProblems(ae, index))))
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", e.course.ID), http.StatusSeeOther)
}

// lessonProblems are the problems of e with the paths inside lesson index
// made relative to it, the form's field names; others keep their paths.
func lessonProblems(e *errs.Error, index int) []errs.Detail {
	prefix := fmt.Sprintf("lessons[%d].", index)
	out := make([]errs.Detail, 0, len(e.Details)+1)
	for _, d := range e.Details {
		d.Path = strings.TrimPrefix(d.Path, prefix)
		out = append(out, d)
	}
	if len(out) == 0 {
		out = append(out, errs.Detail{Message: e.Message})
	}
	return out
}

// replaceChar puts the GSM-7 stand-in for the character c in every text
// field of the form.
func replaceChar(f pages.LessonForm, c string) {
	r := []rune(c)
	if len(r) != 1 {
		return
	}
	repl, ok := sms.Replacement(r[0])
	if !ok {
		return
	}
	for k, v := range f.Values {
		if k != "key" && k != "kind" && k != "video_url" {
			f.Values[k] = strings.ReplaceAll(v, c, repl)
		}
	}
}

// lessonPagePreview answers GET /courses/{id}/lessons/{key}/page: the lesson
// page as a rep on the normal path first sees it (nothing watched or
// answered), built by the rep's page's own code, with no forms and no
// tracking.
func (s *Server) lessonPagePreview(w http.ResponseWriter, r *http.Request, u lessons.User) {
	e, i, ok := s.editableLesson(w, r, u)
	if !ok {
		return
	}
	spec := e.version.Spec
	l := spec.Lessons[i]
	v := lessons.LessonView{RepName: "Sam Sample", CourseTitle: spec.Title, Lesson: l, Status: lessons.AssignmentSent,
		TextCompletion: spec.TextCompletion, CompletePercent: spec.VideoCompletePercent,
		Watched: make([]bool, tracking.SegmentCount(l.VideoSeconds))}
	for j, other := range spec.Lessons {
		if !other.Remedial {
			v.Steps++
			if j <= i {
				v.Step++
			}
		}
	}
	v.Step = max(v.Step, 1)
	for q := range l.Questions {
		v.Questions = append(v.Questions, lessons.QuizStep{Index: q, Current: q == 0})
	}
	p := lessonPageOf(v)
	p.Preview, p.Script, p.DoneButton, p.Answerable = true, "", false, false
	lessonHeaders(w)
	s.render(w, r, http.StatusOK, pages.Lesson(p))
}
