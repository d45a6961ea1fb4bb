package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// videoReport answers GET /reports/videos: without ?course=, the courses to
// choose from; with it, the drop-off curve, median share watched and
// completions of each video lesson of the course's published versions (the
// newest always, older ones that reps were sent), over the viewer's scope;
// ?lesson= narrows it to one of them. A course or lesson outside the
// organisation is a 404.
func (s *Server) videoReport(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	q := r.URL.Query()
	p := pages.VideoReportPage{Dash: s.dash(v, "Video lessons", "videos")}
	raw := q.Get("course")
	if raw == "" {
		courses, err := s.store.Courses(ctx, v.user.OrgID)
		if err != nil {
			return err
		}
		for _, c := range courses {
			p.Courses = append(p.Courses, pages.Option{ID: c.ID, Name: c.Title})
		}
		s.render(w, r, http.StatusOK, pages.VideoReport(p))
		return nil
	}
	courseID, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || courseID <= 0 {
		return badParam{"course", raw, "a course's id"}
	}
	var lessonID int64
	if raw := q.Get("lesson"); raw != "" {
		if lessonID, err = strconv.ParseInt(raw, 10, 64); err != nil || lessonID <= 0 {
			return badParam{"lesson", raw, "a video lesson's id"}
		}
	}
	course, versions, err := s.store.CourseVersions(ctx, v.user.OrgID, courseID)
	if err != nil {
		return err
	}
	var list []reports.VideoLesson
	var newest int                // the newest published version's lessons come first
	for _, cv := range versions { // newest first
		if cv.Status != lessons.VersionPublished {
			continue
		}
		if newest == 0 {
			newest = cv.Number
		}
		threshold := cv.Spec.VideoCompletePercent
		if threshold == 0 {
			threshold = lessons.DefaultVideoCompletePercent
		}
		for _, l := range cv.Spec.Lessons {
			if l.Kind != lessons.KindVideo || lessonID != 0 && l.ID != lessonID || len(list) == reports.MaxVideoLessons {
				continue
			}
			list = append(list, reports.VideoLesson{LessonID: l.ID, Segments: tracking.SegmentCount(l.VideoSeconds), Threshold: threshold})
			p.Lessons = append(p.Lessons, pages.VideoLessonReport{Title: l.Title, Version: cv.Number, Seconds: l.VideoSeconds})
		}
	}
	if lessonID != 0 && len(list) == 0 {
		return reports.ErrNotFound
	}
	figures, err := rep.Videos(ctx, v.scope, list)
	if err != nil {
		return err
	}
	shown := p.Lessons[:0]
	for i, f := range figures {
		if l := p.Lessons[i]; l.Version == newest || f.Sent > 0 {
			l.Figures = f
			shown = append(shown, l)
		}
	}
	p.Lessons = shown
	p.Course = pages.Option{ID: course.ID, Name: course.Title}
	p.Title = "Video lessons: " + course.Title
	if err := s.tagScope(ctx, &p.Dash, v.user.OrgID, r); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, pages.VideoReport(p))
	return nil
}
