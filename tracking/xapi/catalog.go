package xapi

import (
	"context"
	"fmt"

	"github.com/morselhq/morsel/lessons"
)

// Catalog is what the statements say of an organisation's courses and
// lessons beyond the events: names, kinds, video lengths and pass marks.
type Catalog struct {
	Courses map[int64]Course
	Lessons map[int64]Lesson
}

// Course is a course as the statements name it.
type Course struct {
	Title string
}

// Lesson is a lesson of one course version.
type Lesson struct {
	Title        string
	Kind         lessons.LessonKind
	VideoSeconds int // video lessons: the video's length
	PassMark     int // quizzes: the course version's pass mark, in percent
	Questions    []lessons.Question
}

// CourseReader reads an organisation's courses; *lessons.Store is one.
type CourseReader interface {
	Courses(ctx context.Context, orgID int64) ([]lessons.CourseSummary, error)
	CourseVersions(ctx context.Context, orgID, courseID int64) (lessons.Course, []lessons.CourseVersion, error)
}

// LoadCatalog reads the catalog of the organisation's courses, every version
// (an enrolled rep keeps the version they started).
func LoadCatalog(ctx context.Context, store CourseReader, orgID int64) (Catalog, error) {
	courses, err := store.Courses(ctx, orgID)
	if err != nil {
		return Catalog{}, fmt.Errorf("xapi catalog: %w", err)
	}
	c := Catalog{Courses: map[int64]Course{}, Lessons: map[int64]Lesson{}}
	for _, summary := range courses {
		course, versions, err := store.CourseVersions(ctx, orgID, summary.ID)
		if err != nil {
			return Catalog{}, fmt.Errorf("xapi catalog: course %d: %w", summary.ID, err)
		}
		c.Courses[course.ID] = Course{Title: course.Title}
		for _, v := range versions {
			for _, l := range v.Spec.Lessons {
				c.Lessons[l.ID] = Lesson{Title: l.Title, Kind: l.Kind, VideoSeconds: l.VideoSeconds,
					PassMark: v.Spec.PassMark, Questions: l.Questions}
			}
		}
	}
	return c, nil
}
