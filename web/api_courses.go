package web

import (
	"net/http"
	"strings"

	"github.com/morselhq/morsel/lessons"
)

type courseSummaryJSON struct {
	ID               int64     `json:"id"`
	Slug             string    `json:"slug"`
	Title            string    `json:"title"`
	CreatedAt        timestamp `json:"created_at"`
	LatestVersion    *int      `json:"latest_version"`
	PublishedVersion *int      `json:"published_version"`
	HasDraft         bool      `json:"has_draft"`
	LessonCount      int       `json:"lesson_count"`
}

type courseJSON struct {
	ID        int64         `json:"id"`
	Slug      string        `json:"slug"`
	Title     string        `json:"title"`
	CreatedAt timestamp     `json:"created_at"`
	Versions  []versionJSON `json:"versions"`
}

// versionJSON is a course version, its content in the shape of a course file.
type versionJSON struct {
	ID          int64          `json:"id"`
	CourseID    int64          `json:"course_id"`
	Number      int            `json:"number"`
	Status      string         `json:"status"`
	PublishedAt *timestamp     `json:"published_at"`
	Slug        string         `json:"slug"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	PassMark    int            `json:"pass_mark"`
	DueDays     int            `json:"due_days"`
	Cadence     cadenceJSON    `json:"cadence"`
	SendWindow  sendWindowJSON `json:"send_window"`
	Lessons     []lessonJSON   `json:"lessons"`
}

type cadenceJSON struct {
	Days      []string `json:"days,omitempty"`
	EveryDays int      `json:"every_days,omitempty"`
	Times     []string `json:"times"`
}

type sendWindowJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type lessonJSON struct {
	ID           int64          `json:"id"`
	Key          string         `json:"key"`
	Kind         string         `json:"kind"`
	Title        string         `json:"title"`
	Body         string         `json:"body"`
	Optional     bool           `json:"optional"`
	VideoURL     string         `json:"video_url,omitempty"`
	VideoSeconds int            `json:"video_seconds,omitempty"`
	Questions    []questionJSON `json:"questions,omitempty"`
}

type questionJSON struct {
	ID          int64    `json:"id"`
	Prompt      string   `json:"prompt"`
	Choices     []string `json:"choices"`
	Correct     string   `json:"correct"` // the letter, as in a course file
	Explanation string   `json:"explanation"`
}

func optionalNumber(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func newVersionJSON(v lessons.CourseVersion) versionJSON {
	sp := v.Spec
	out := versionJSON{
		ID: v.ID, CourseID: v.CourseID, Number: v.Number, Status: string(v.Status), PublishedAt: optionalTime(v.PublishedAt),
		Slug: sp.Slug, Title: sp.Title, Description: sp.Description, PassMark: sp.PassMark, DueDays: sp.DueDays,
		Cadence:    cadenceJSON{EveryDays: sp.Cadence.EveryDays, Times: make([]string, len(sp.Cadence.Times))},
		SendWindow: sendWindowJSON{Start: sp.SendWindow.Start.String(), End: sp.SendWindow.End.String()},
		Lessons:    make([]lessonJSON, len(sp.Lessons)),
	}
	for _, d := range sp.Cadence.Weekdays {
		out.Cadence.Days = append(out.Cadence.Days, strings.ToLower(d.String()[:3]))
	}
	for i, t := range sp.Cadence.Times {
		out.Cadence.Times[i] = t.String()
	}
	for i, l := range sp.Lessons {
		lj := lessonJSON{ID: l.ID, Key: l.Key, Kind: string(l.Kind), Title: l.Title, Body: l.Body, Optional: l.Optional,
			VideoURL: l.VideoURL, VideoSeconds: l.VideoSeconds}
		for _, q := range l.Questions {
			lj.Questions = append(lj.Questions, questionJSON{ID: q.ID, Prompt: q.Prompt, Choices: q.Choices,
				Correct: lessons.ChoiceLetter(q.Correct), Explanation: q.Explanation})
		}
		out.Lessons[i] = lj
	}
	return out
}

// listCourses answers GET /api/v1/courses: every course, by title, in one page.
func (s *Server) listCourses(w http.ResponseWriter, r *http.Request, orgID int64) error {
	courses, err := s.store.Courses(r.Context(), orgID)
	if err != nil {
		return err
	}
	out := make([]courseSummaryJSON, len(courses))
	for i, c := range courses {
		out[i] = courseSummaryJSON{ID: c.ID, Slug: c.Slug, Title: c.Title, CreatedAt: timestamp(c.CreatedAt),
			LatestVersion: optionalNumber(c.LatestVersion), PublishedVersion: optionalNumber(c.PublishedVersion),
			HasDraft: c.HasDraft, LessonCount: c.LessonCount}
	}
	writeJSON(w, http.StatusOK, page(out, 0, nil))
	return nil
}

// getCourse answers GET /api/v1/courses/{id}: the course with every version,
// newest first.
func (s *Server) getCourse(w http.ResponseWriter, r *http.Request, orgID int64) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, versions, err := s.store.CourseVersions(r.Context(), orgID, id)
	if err != nil {
		return err
	}
	out := courseJSON{ID: c.ID, Slug: c.Slug, Title: c.Title, CreatedAt: timestamp(c.CreatedAt), Versions: make([]versionJSON, len(versions))}
	for i, v := range versions {
		out.Versions[i] = newVersionJSON(v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// saveCourse answers POST /api/v1/courses: the body is a course file, stored
// as the draft of the course with its slug and, with ?publish=true, published.
func (s *Server) saveCourse(w http.ResponseWriter, r *http.Request, orgID int64) error {
	q := newQuery(r)
	publish := q.flag("publish")
	if err := q.err(); err != nil {
		return err
	}
	spec, err := lessons.ParseCourseFile(http.MaxBytesReader(w, r.Body, maxCourseBody))
	if err != nil {
		return err
	}
	v, err := s.store.SaveCourse(r.Context(), orgID, spec, publish)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newVersionJSON(v))
	return nil
}

// publishCourse answers POST /api/v1/courses/{id}/publish.
func (s *Server) publishCourse(w http.ResponseWriter, r *http.Request, orgID int64) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.store.PublishCourse(r.Context(), orgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newVersionJSON(v))
	return nil
}
