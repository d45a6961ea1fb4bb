package web

import (
	_ "embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/web/pages"
)

// lessonJS is the video lesson page's tracking script, as written.
//
//go:embed static/lesson.js
var lessonJS string

// lessonScript is lessonJS as inlined into the page: without its comment
// lines and indentation.
var lessonScript = compactScript(lessonJS)

// compactScript drops whole-line comments and leading whitespace. The
// script keeps its comments on lines of their own for this.
func compactScript(js string) string {
	var b strings.Builder
	for line := range strings.Lines(js) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// lessonPage answers GET /l/{token}, the link in a lesson SMS: the lesson's
// page. Opening it is what completes a text lesson; link previews (an SMS
// app fetching the page to show a card, a browser prefetching) only read it.
// An unknown link, or one of a removed rep or a cancelled enrollment, gets
// the friendly 404 page.
func (s *Server) lessonPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	open := s.store.OpenLesson
	if isPreview(r) {
		open = s.store.LessonByToken
	}
	v, err := open(r.Context(), token)
	if err != nil {
		s.lessonError(w, r, err)
		return
	}
	s.lessonLinks.remember(v)
	p := lessonPageOf(v)
	p.AnswerReceived = v.Lesson.Kind == lessons.KindQuiz && r.URL.Query().Has("answered")
	lessonHeaders(w)
	s.render(w, r, http.StatusOK, pages.Lesson(p))
}

// lessonDone answers POST /l/{token}/done, a text lesson's Done button: it
// completes the lesson and goes back to its page.
func (s *Server) lessonDone(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if _, err := s.store.CompleteTextLesson(r.Context(), token); err != nil {
		s.lessonError(w, r, err)
		return
	}
	http.Redirect(w, r, "/l/"+token, http.StatusSeeOther)
}

// maxAnswerForm bounds the body of an answer posted on a lesson page.
const maxAnswerForm = 4 << 10

// lessonAnswer answers POST /l/{token}/answer: the rep answers the quiz's
// open question on the page, with choice the index of their choice. The
// answer goes to the Inbox as an SMS reply of the choice's letter, from the
// rep's phone to the organisation's sender, so that it is graded as a texted
// answer is; the page then says that the feedback arrives by text. A bad
// choice is 400, and an answer when no question of this quiz is open 409,
// both on the page.
func (s *Server) lessonAnswer(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	v, err := s.store.LessonByToken(r.Context(), token)
	if err != nil {
		s.lessonError(w, r, err)
		return
	}
	p := lessonPageOf(v)
	r.Body = http.MaxBytesReader(w, r.Body, maxAnswerForm)
	if err := r.ParseForm(); err != nil {
		p.Error = "The answer could not be read. Please try again."
		s.renderLesson(w, r, http.StatusBadRequest, p)
		return
	}
	if v.Lesson.Kind != lessons.KindQuiz || !v.AwaitingAnswer || p.Question == nil {
		p.Error = "There's no question open to answer here right now."
		s.renderLesson(w, r, http.StatusConflict, p)
		return
	}
	n := len(p.Question.Choices)
	raw := r.PostForm.Get("choice")
	choice, err := strconv.Atoi(raw)
	if err != nil || choice < 0 || choice >= n {
		p.Error = fmt.Sprintf("choice: must be one of 0-%d, got %q", n-1, raw)
		s.renderLesson(w, r, http.StatusBadRequest, p)
		return
	}
	org, err := s.store.Org(r.Context(), v.OrgID)
	if err != nil {
		s.lessonError(w, r, err)
		return
	}
	in, err := replySMS("WEB", v.RepPhone, org, lessons.ChoiceLetter(choice))
	if err == nil {
		in.OrgID, in.RepID = v.OrgID, v.RepID // the link names the rep: no lookup by phone
		err = s.receive(r.Context(), in)
	}
	if err != nil {
		s.lessonError(w, r, err)
		return
	}
	http.Redirect(w, r, "/l/"+token+"?answered=1", http.StatusSeeOther)
}

// lessonHeaders keeps a lesson page out of caches, referrers and indexes:
// its token is in the URL.
func lessonHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
}

// renderLesson shows the lesson page with status.
func (s *Server) renderLesson(w http.ResponseWriter, r *http.Request, status int, p pages.LessonPage) {
	lessonHeaders(w)
	s.render(w, r, status, pages.Lesson(p))
}

// lessonError answers a lesson request that failed: the friendly 404 page
// for a link that leads nowhere, otherwise the problem page with the error's
// status. Internal errors are logged.
func (s *Server) lessonError(w http.ResponseWriter, r *http.Request, err error) {
	lessonHeaders(w)
	if errs.CodeOf(err) == errs.NotFound {
		s.render(w, r, http.StatusNotFound, pages.LessonGone())
		return
	}
	status, _ := s.apiError(r, err) // logs it
	s.render(w, r, status, pages.LessonProblem())
}

// previewAgents are parts of the user agents of link previewers and crawlers.
var previewAgents = []string{"bot", "crawler", "spider", "preview", "facebookexternalhit", "whatsapp", "embedly", "slurp"}

// isPreview reports whether the request is a link preview or a prefetch
// rather than the rep opening the lesson.
func isPreview(r *http.Request) bool {
	if r.Method == http.MethodHead || r.Header.Get("Sec-Purpose") != "" || r.Header.Get("Purpose") == "prefetch" {
		return true
	}
	ua := strings.ToLower(r.UserAgent())
	for _, a := range previewAgents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}

// lessonPageOf maps a lesson to its page.
func lessonPageOf(v lessons.LessonView) pages.LessonPage {
	first, _, _ := strings.Cut(strings.TrimSpace(v.RepName), " ")
	p := pages.LessonPage{Title: v.Lesson.Title, CourseTitle: v.CourseTitle, Greeting: first, Step: v.Step, Steps: v.Steps,
		Kind: string(v.Lesson.Kind), Body: v.Lesson.Body, Done: v.Done(), Token: v.Token}
	switch v.Lesson.Kind {
	case lessons.KindText:
		p.DoneButton = v.TextCompletion == lessons.TextCompleteOnDone
	case lessons.KindVideo:
		p.VideoURL, p.VideoSeconds = v.Lesson.VideoURL, v.Lesson.VideoSeconds
		p.Segments, p.StartAt, p.WatchedPercent, p.CompletePercent = v.Watched, v.ResumeAt(), v.WatchedPercent(), v.CompletePercent
		p.Script = lessonScript
	case lessons.KindQuiz:
		p.Total = len(v.Questions)
		for i, q := range v.Questions {
			if q.Answered {
				p.Answered++
			}
			if q.Current && q.Index < len(v.Lesson.Questions) {
				question := v.Lesson.Questions[q.Index]
				p.Question = &pages.QuizQuestion{Number: i + 1, Prompt: question.Prompt, Choices: question.Choices}
				p.Answerable = v.AwaitingAnswer
			}
		}
	}
	return p
}
