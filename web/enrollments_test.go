package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

type enrollmentJSON struct {
	ID              int64    `json:"id"`
	RepID           int64    `json:"rep_id"`
	CourseID        int64    `json:"course_id"`
	CourseVersionID int64    `json:"course_version_id"`
	Status          string   `json:"status"`
	EnrolledAt      string   `json:"enrolled_at"`
	DueOn           string   `json:"due_on"`
	CompletedAt     *string  `json:"completed_at"`
	Score           *float64 `json:"score"`
}

type enrollResult struct {
	Enrollments     []enrollmentJSON `json:"enrollments"`
	AlreadyEnrolled int              `json:"already_enrolled"`
}

// publishCourse saves and publishes a course with the key and returns its id.
func (b testBundle) publishCourse(t *testing.T, key, file string) int64 {
	t.Helper()
	res := b.send(t, "POST", "/api/v1/courses?publish=true", key, "application/json", file)
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	var v versionJSON
	res.decode(t, &v)
	return v.CourseID
}

func TestEnrollments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := b.importReps(t, b.key, threeReps)
	ava, ben, chloe := ids["+12012345678"], ids["+13122345678"], ids["+14152345678"]
	require.NotZero(t, chloe)
	course := b.publishCourse(t, b.key, sampleCourse(t))
	draftOnly := b.send(t, "POST", "/api/v1/courses", b.key, "application/json", smallCourse("draft-only"))
	require.Equal(t, http.StatusCreated, draftOnly.status)
	var draft versionJSON
	draftOnly.decode(t, &draft)

	otherIDs := b.importReps(t, b.otherKey, "name,phone,timezone\nOtto Other,+12012345678,UTC\n")
	otherRep := otherIDs["+12012345678"]
	otherCourse := b.publishCourse(t, b.otherKey, smallCourse("objections"))

	var rep repJSON
	b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d", ava), "").decode(t, &rep)
	north := *rep.TeamID

	// Ava by id, then the North team (Ava and Chloe): Ava is skipped.
	res := b.api(t, "POST", "/api/v1/enrollments", mustJSON(t, map[string]any{"course_id": course, "rep_ids": []int64{ava}, "due_on": "2099-12-01"}))
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	var got enrollResult
	res.decode(t, &got)
	require.Len(t, got.Enrollments, 1)
	require.Zero(t, got.AlreadyEnrolled)
	e := got.Enrollments[0]
	require.Equal(t, ava, e.RepID)
	require.Equal(t, course, e.CourseID)
	require.Equal(t, "2099-12-01", e.DueOn)
	require.Equal(t, "active", e.Status)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, e.EnrolledAt)

	res = b.api(t, "POST", "/api/v1/enrollments", mustJSON(t, map[string]any{"course_id": course, "team_ids": []int64{north}}))
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	res.decode(t, &got)
	require.Len(t, got.Enrollments, 1)
	require.Equal(t, chloe, got.Enrollments[0].RepID)
	require.Equal(t, 1, got.AlreadyEnrolled)

	res = b.api(t, "POST", "/api/v1/enrollments", mustJSON(t, map[string]any{"course_id": course, "rep_ids": []int64{ava}}))
	require.Equal(t, http.StatusOK, res.status, "nothing new: body: %s", res.body)
	res.decode(t, &got)
	require.Empty(t, got.Enrollments)
	require.Equal(t, 1, got.AlreadyEnrolled)

	// Listing.
	var list struct {
		Data      []enrollmentJSON `json:"data"`
		NextAfter *int64           `json:"next_after"`
	}
	b.api(t, "GET", "/api/v1/enrollments", "").decode(t, &list)
	require.Len(t, list.Data, 2)
	require.Nil(t, list.NextAfter)
	b.api(t, "GET", fmt.Sprintf("/api/v1/enrollments?rep_id=%d&course_id=%d", chloe, course), "").decode(t, &list)
	require.Len(t, list.Data, 1)
	require.Equal(t, chloe, list.Data[0].RepID)
	b.api(t, "GET", "/api/v1/enrollments?limit=1", "").decode(t, &list)
	require.Len(t, list.Data, 1)
	require.Equal(t, e.ID, *list.NextAfter)
	b.send(t, "GET", "/api/v1/enrollments", b.otherKey, "", "").decode(t, &list)
	require.Empty(t, list.Data)

	// Assignments: one per lesson, in order.
	res = b.api(t, "GET", fmt.Sprintf("/api/v1/enrollments/%d/assignments", e.ID), "")
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	var assignments struct {
		Data []struct {
			ID           int64   `json:"id"`
			EnrollmentID int64   `json:"enrollment_id"`
			LessonID     int64   `json:"lesson_id"`
			Position     int     `json:"position"`
			Status       string  `json:"status"`
			SentAt       *string `json:"sent_at"`
		} `json:"data"`
		NextAfter *int64 `json:"next_after"`
	}
	res.decode(t, &assignments)
	require.Len(t, assignments.Data, 10)
	for i, a := range assignments.Data {
		require.Equal(t, e.ID, a.EnrollmentID)
		require.Equal(t, i, a.Position)
		require.NotEmpty(t, a.Status)
	}

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		status  int
		details []string
	}{
		{"no course", "POST", "/api/v1/enrollments", map[string]any{"rep_ids": []int64{ava}}, http.StatusBadRequest, []string{"course_id"}},
		{"bad ids and date", "POST", "/api/v1/enrollments", map[string]any{"course_id": course, "rep_ids": []int64{ava, 0}, "team_ids": []int64{-2}, "due_on": "1/12/2099"},
			http.StatusBadRequest, []string{"rep_ids[1]", "team_ids[0]", "due_on"}},
		{"past due date", "POST", "/api/v1/enrollments", map[string]any{"course_id": course, "rep_ids": []int64{ben}, "due_on": "2001-01-01"}, http.StatusBadRequest, []string{"due_on"}},
		{"nobody", "POST", "/api/v1/enrollments", map[string]any{"course_id": course}, http.StatusBadRequest, []string{"rep_ids"}},
		{"unknown field", "POST", "/api/v1/enrollments", map[string]any{"course": course}, http.StatusBadRequest, []string{"course"}},
		{"wrong type", "POST", "/api/v1/enrollments", map[string]any{"course_id": "one"}, http.StatusBadRequest, []string{"course_id"}},
		{"unpublished course", "POST", "/api/v1/enrollments", map[string]any{"course_id": draft.CourseID, "rep_ids": []int64{ben}}, http.StatusConflict, nil},
		{"other organisation's course", "POST", "/api/v1/enrollments", map[string]any{"course_id": otherCourse, "rep_ids": []int64{ben}}, http.StatusNotFound, nil},
		{"other organisation's rep", "POST", "/api/v1/enrollments", map[string]any{"course_id": course, "rep_ids": []int64{otherRep}}, http.StatusNotFound, []string{"rep_ids"}},
		{"bad filter", "GET", "/api/v1/enrollments?rep_id=ava&limit=0", nil, http.StatusBadRequest, []string{"rep_id", "limit"}},
		{"bad enrollment id", "GET", "/api/v1/enrollments/x/assignments", nil, http.StatusBadRequest, []string{"id"}},
		{"no such enrollment", "GET", "/api/v1/enrollments/999999/assignments", nil, http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := ""
			if tt.body != nil {
				body = mustJSON(t, tt.body)
			}
			res := b.api(t, tt.method, tt.path, body)
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			require.Equal(t, tt.details, res.apiError(t).detailPaths(), "body: %s", res.body)
		})
	}

	// Another organisation can neither see Ava's assignments nor enroll her.
	res = b.send(t, "GET", fmt.Sprintf("/api/v1/enrollments/%d/assignments", e.ID), b.otherKey, "", "")
	require.Equal(t, http.StatusNotFound, res.status)
	res = b.send(t, "POST", "/api/v1/enrollments", b.otherKey, "application/json", mustJSON(t, map[string]any{"course_id": otherCourse, "rep_ids": []int64{ben}}))
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, []string{"rep_ids"}, res.apiError(t).detailPaths())
}
