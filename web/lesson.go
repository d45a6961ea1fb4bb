package web

import (
	_ "embed"
	"net/http"
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
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	h.Set("X-Robots-Tag", "noindex")
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			s.render(w, r, http.StatusNotFound, pages.LessonGone())
			return
		}
		status, _ := s.apiError(r, err) // logs it
		s.render(w, r, status, pages.LessonProblem())
		return
	}
	s.lessonLinks.remember(v)
	s.render(w, r, http.StatusOK, pages.Lesson(lessonPageOf(v)))
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
		Kind: string(v.Lesson.Kind), Body: v.Lesson.Body, Done: v.Done()}
	switch v.Lesson.Kind {
	case lessons.KindVideo:
		p.Token, p.VideoURL, p.VideoSeconds = v.Token, v.Lesson.VideoURL, v.Lesson.VideoSeconds
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
			}
		}
	}
	return p
}
