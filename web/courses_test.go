package web_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type versionJSON struct {
	ID          int64   `json:"id"`
	CourseID    int64   `json:"course_id"`
	Number      int     `json:"number"`
	Status      string  `json:"status"`
	PublishedAt *string `json:"published_at"`
	Slug        string  `json:"slug"`
	Title       string  `json:"title"`
	PassMark    int     `json:"pass_mark"`
	DueDays     int     `json:"due_days"`
	Cadence     struct {
		Days      []string `json:"days"`
		EveryDays int      `json:"every_days"`
		Times     []string `json:"times"`
	} `json:"cadence"`
	SendWindow struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"send_window"`
	Lessons []struct {
		ID           int64  `json:"id"`
		Key          string `json:"key"`
		Kind         string `json:"kind"`
		Title        string `json:"title"`
		Optional     bool   `json:"optional"`
		VideoURL     string `json:"video_url"`
		VideoSeconds int    `json:"video_seconds"`
		Questions    []struct {
			Prompt  string   `json:"prompt"`
			Choices []string `json:"choices"`
			Correct string   `json:"correct"`
		} `json:"questions"`
	} `json:"lessons"`
}

func sampleCourse(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../lessons/testdata/course-sample.json")
	require.NoError(t, err)
	return string(data)
}

// smallCourse is a valid course file with the slug.
func smallCourse(slug string) string {
	return fmt.Sprintf(`{"slug": %q, "title": "Objections", "lessons": [
		{"key": "intro", "kind": "text", "title": "Welcome", "body": "Objections are questions in disguise."},
		{"key": "quiz", "kind": "quiz", "title": "Check", "questions": [
			{"prompt": "Price is too high. You say?", "choices": ["Discount", "Ask why"], "correct": "B"}
		]}
	]}`, slug)
}

func TestCourses(t *testing.T) {
	t.Parallel()
	b := setup(t)

	res := b.api(t, "POST", "/api/v1/courses", sampleCourse(t))
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	var v versionJSON
	res.decode(t, &v)
	require.Equal(t, "discount-policy", v.Slug)
	require.Equal(t, 1, v.Number)
	require.Equal(t, "draft", v.Status)
	require.Nil(t, v.PublishedAt)
	require.Equal(t, 80, v.PassMark)
	require.Equal(t, []string{"mon", "wed", "fri"}, v.Cadence.Days)
	require.Equal(t, []string{"09:30", "16:00"}, v.Cadence.Times)
	require.Equal(t, "08:30", v.SendWindow.Start)
	require.Len(t, v.Lessons, 10)
	quiz := v.Lessons[3]
	require.Equal(t, "quiz", quiz.Kind)
	require.Equal(t, "C", quiz.Questions[0].Correct)
	require.Equal(t, "B", quiz.Questions[1].Correct)
	require.Equal(t, 118, v.Lessons[2].VideoSeconds)
	courseID := v.CourseID

	// Saving again replaces the draft.
	res = b.api(t, "POST", "/api/v1/courses", strings.Replace(sampleCourse(t), `"pass_mark": 80`, `"pass_mark": 75`, 1))
	require.Equal(t, http.StatusCreated, res.status)
	res.decode(t, &v)
	require.Equal(t, 1, v.Number)
	require.Equal(t, 75, v.PassMark)

	res = b.api(t, "POST", fmt.Sprintf("/api/v1/courses/%d/publish", courseID), "")
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	res.decode(t, &v)
	require.Equal(t, "published", v.Status)
	require.NotNil(t, v.PublishedAt)

	res = b.api(t, "POST", fmt.Sprintf("/api/v1/courses/%d/publish", courseID), "")
	require.Equal(t, http.StatusConflict, res.status)
	require.Equal(t, "conflict", res.apiError(t).Error.Code)

	// A second course, published at once; then a new draft of the first.
	res = b.api(t, "POST", "/api/v1/courses?publish=true", smallCourse("objections"))
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	res.decode(t, &v)
	require.Equal(t, "published", v.Status)
	res = b.api(t, "POST", "/api/v1/courses", sampleCourse(t))
	require.Equal(t, http.StatusCreated, res.status)
	res.decode(t, &v)
	require.Equal(t, 2, v.Number)

	res = b.api(t, "GET", "/api/v1/courses", "")
	require.Equal(t, http.StatusOK, res.status)
	var courses struct {
		Data []struct {
			ID               int64  `json:"id"`
			Slug             string `json:"slug"`
			LatestVersion    *int   `json:"latest_version"`
			PublishedVersion *int   `json:"published_version"`
			HasDraft         bool   `json:"has_draft"`
			LessonCount      int    `json:"lesson_count"`
		} `json:"data"`
		NextAfter *int64 `json:"next_after"`
	}
	res.decode(t, &courses)
	require.Len(t, courses.Data, 2)
	require.Nil(t, courses.NextAfter)
	require.Equal(t, "discount-policy", courses.Data[0].Slug) // by title
	require.Equal(t, 2, *courses.Data[0].LatestVersion)
	require.Equal(t, 1, *courses.Data[0].PublishedVersion)
	require.True(t, courses.Data[0].HasDraft)
	require.Equal(t, 10, courses.Data[0].LessonCount)

	res = b.api(t, "GET", fmt.Sprintf("/api/v1/courses/%d", courseID), "")
	require.Equal(t, http.StatusOK, res.status)
	var course struct {
		ID       int64         `json:"id"`
		Slug     string        `json:"slug"`
		Versions []versionJSON `json:"versions"`
	}
	res.decode(t, &course)
	require.Equal(t, "discount-policy", course.Slug)
	require.Len(t, course.Versions, 2)
	require.Equal(t, "draft", course.Versions[0].Status)
	require.Equal(t, "published", course.Versions[1].Status)
	require.Equal(t, "C", course.Versions[1].Lessons[3].Questions[0].Correct)

	// Another organisation sees none of it.
	for _, path := range []string{fmt.Sprintf("/api/v1/courses/%d", courseID)} {
		res := b.send(t, "GET", path, b.otherKey, "", "")
		require.Equal(t, http.StatusNotFound, res.status)
	}
	res = b.send(t, "POST", fmt.Sprintf("/api/v1/courses/%d/publish", courseID), b.otherKey, "", "")
	require.Equal(t, http.StatusNotFound, res.status)
	res = b.send(t, "GET", "/api/v1/courses", b.otherKey, "", "")
	require.JSONEq(t, `{"data": [], "next_after": null}`, string(res.body))
}

func TestSaveCourseRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name    string
		path    string
		body    string
		status  int
		details []string // the paths of the first details
	}{
		{
			name:    "a wrong lesson kind",
			body:    strings.Replace(sampleCourse(t), `"kind": "text"`, `"kind": "Text"`, 1),
			status:  http.StatusBadRequest,
			details: []string{"lessons[0].kind"},
		},
		{
			name:    "many problems",
			body:    `{"slug": "Bad Slug", "title": "", "lessons": [{"key": "a", "kind": "quiz", "title": "Q", "questions": [{"prompt": "?", "choices": ["x", "y"], "correct": "Z"}]}]}`,
			status:  http.StatusBadRequest,
			details: []string{"slug", "title", "lessons[0].questions[0].correct"},
		},
		{
			name:    "malformed JSON",
			body:    "{\n  \"slug\": \"x\",\n  \"title\": 'T'\n}",
			status:  http.StatusBadRequest,
			details: []string{"line 3, column 12"},
		},
		{
			name:    "publish not a flag",
			path:    "/api/v1/courses?publish=maybe",
			body:    smallCourse("objections"),
			status:  http.StatusBadRequest,
			details: []string{"publish"},
		},
		{
			name:   "too large",
			body:   `{"slug": "big", "title": "` + strings.Repeat("x", 1<<20) + `"}`,
			status: http.StatusRequestEntityTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path
			if path == "" {
				path = "/api/v1/courses"
			}
			res := b.api(t, "POST", path, tt.body)
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			e := res.apiError(t)
			paths := e.detailPaths()
			require.GreaterOrEqual(t, len(paths), len(tt.details), "body: %s", res.body)
			require.Equal(t, tt.details, paths[:len(tt.details)], "body: %s", res.body)
		})
	}
	// Nothing was stored.
	res := b.api(t, "GET", "/api/v1/courses", "")
	require.JSONEq(t, `{"data": [], "next_after": null}`, string(res.body))

	for _, path := range []string{"/api/v1/courses/abc", "/api/v1/courses/0"} {
		res := b.api(t, "GET", path, "")
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Equal(t, []string{"id"}, res.apiError(t).detailPaths())
	}
	res = b.api(t, "POST", "/api/v1/courses/x/publish", "")
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Equal(t, []string{"id"}, res.apiError(t).detailPaths())
	res = b.api(t, "GET", "/api/v1/courses/424242", "")
	require.Equal(t, http.StatusNotFound, res.status)
}
