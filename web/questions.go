package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// questionReport answers GET /reports/questions?course=ID: how each question
// of the course fared at the reps' first attempts, in the user's scope; the
// first course when none is named.
func (s *Server) questionReport(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	p, err := s.questionsOf(ctx, r, v, rep)
	if err != nil {
		return err
	}
	if err := s.tagScope(ctx, &p.Dash, v.user.OrgID, r); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, pages.Questions(p))
	return nil
}

// questionsOf reads the question report the request asks for.
func (s *Server) questionsOf(ctx context.Context, r *http.Request, v viewer, rep *reports.Reports) (pages.QuestionsPage, error) {
	courses, err := s.store.Courses(ctx, v.user.OrgID)
	if err != nil {
		return pages.QuestionsPage{}, err
	}
	p := pages.QuestionsPage{Dash: s.dash(v, "Questions", "questions")}
	for _, c := range courses {
		p.Courses = append(p.Courses, pages.Option{ID: c.ID, Name: c.Title})
	}
	if raw := r.URL.Query().Get("course"); raw != "" {
		if p.CourseID, err = strconv.ParseInt(raw, 10, 64); err != nil || p.CourseID <= 0 {
			return p, badParam{"course", raw, "a course's id"}
		}
	} else if len(courses) > 0 {
		p.CourseID = courses[0].ID
	}
	if p.CourseID != 0 {
		_, versions, err := s.store.CourseVersions(ctx, v.user.OrgID, p.CourseID)
		if err != nil {
			return p, err // NotFound for another organisation's course
		}
		stats, err := rep.Questions(ctx, v.scope, p.CourseID)
		if err != nil {
			return p, err
		}
		p.Items = questionItems(versions, stats)
	}
	return p, nil
}

// questionItems puts each question's figures beside its text, from the
// version its lesson belongs to.
func questionItems(versions []lessons.CourseVersion, stats []reports.QuestionStats) []pages.QuestionItem {
	type where struct {
		version int
		lesson  *lessons.Lesson
	}
	lessonsByID := map[int64]where{}
	for _, v := range versions {
		for i := range v.Spec.Lessons {
			lessonsByID[v.Spec.Lessons[i].ID] = where{v.Number, &v.Spec.Lessons[i]}
		}
	}
	var items []pages.QuestionItem
	for _, st := range stats {
		item := pages.QuestionItem{Stats: st, Number: st.Question + 1, Lesson: "a lesson no longer stored", Correct: -1}
		if w, ok := lessonsByID[st.LessonID]; ok {
			item.Version, item.Lesson = w.version, w.lesson.Title
			if st.Question < len(w.lesson.Questions) {
				q := w.lesson.Questions[st.Question]
				item.Prompt, item.Choices, item.Correct = q.Prompt, q.Choices, q.Correct
			}
		}
		items = append(items, item)
	}
	return items
}
