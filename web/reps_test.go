package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type teamJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	RepCount int    `json:"rep_count"`
}

func TestTeams(t *testing.T) {
	t.Parallel()
	b := setup(t)

	res := b.api(t, "POST", "/api/v1/teams", `{"name": " North "}`)
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	var north teamJSON
	res.decode(t, &north)
	require.Equal(t, "North", north.Name)
	require.Positive(t, north.ID)

	res = b.api(t, "GET", "/api/v1/teams", "")
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, fmt.Sprintf(`{"data": [{"id": %d, "name": "North", "rep_count": 0}], "next_after": null}`, north.ID), string(res.body))

	// Another organisation sees none of it.
	res = b.send(t, "GET", "/api/v1/teams", b.otherKey, "", "")
	require.JSONEq(t, `{"data": [], "next_after": null}`, string(res.body))

	tests := []struct {
		name   string
		body   string
		status int
		code   string
		path   string // of the first detail
	}{
		{"taken", `{"name": "North"}`, http.StatusConflict, "conflict", ""},
		{"blank", `{"name": "  "}`, http.StatusBadRequest, "invalid", "name"},
		{"unknown field", `{"nme": "South"}`, http.StatusBadRequest, "invalid", "nme"},
		{"wrong type", `{"name": 7}`, http.StatusBadRequest, "invalid", "name"},
		{"not an object", `["South"]`, http.StatusBadRequest, "invalid", "line 1, column 1"},
		{"malformed", "{\n  \"name\": \"South\",\n}", http.StatusBadRequest, "invalid", "line 3, column 1"},
		{"cut short", `{"name": "So`, http.StatusBadRequest, "invalid", "line 1, column 13"},
		{"trailing data", `{"name": "South"} {}`, http.StatusBadRequest, "invalid", "line 1, column 19"},
		{"empty", ``, http.StatusBadRequest, "invalid", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := b.send(t, "POST", "/api/v1/teams", b.key, "application/json", tt.body)
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, tt.code, e.Error.Code)
			if tt.path == "" {
				require.Empty(t, e.Error.Details)
				return
			}
			require.NotEmpty(t, e.Error.Details, "body: %s", res.body)
			require.Equal(t, tt.path, e.Error.Details[0].Path, "body: %s", res.body)
			require.NotEmpty(t, e.Error.Details[0].Message)
		})
	}
}

type repJSON struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Phone      string  `json:"phone"`
	Email      string  `json:"email"`
	TeamID     *int64  `json:"team_id"`
	Team       string  `json:"team"`
	TimeZone   string  `json:"timezone"`
	Status     string  `json:"status"`
	OptedOut   bool    `json:"opted_out"`
	OptedOutAt *string `json:"opted_out_at"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
}

type repList struct {
	Data      []repJSON `json:"data"`
	NextAfter *int64    `json:"next_after"`
}

func TestImportReps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string // "" for /api/v1/reps/import
		contentType string
		body        string
		status      int
		result      string   // the JSON answered on success
		details     []string // the paths of the details on failure
	}{
		{
			name: "csv", contentType: "text/csv", body: threeReps,
			status: http.StatusOK, result: `{"created": 3, "updated": 0, "teams_created": 2}`,
		},
		{
			name: "csv with charset, region GB", path: "/api/v1/reps/import?region=GB", contentType: "text/csv; charset=utf-8",
			body:   "name,phone,timezone\nOlly Owen,07400 123456,Europe/London\n",
			status: http.StatusOK, result: `{"created": 1, "updated": 0, "teams_created": 0}`,
		},
		{
			name: "json", contentType: "application/json",
			body: `{"reps": [
				{"name": "Ava Adams", "phone": "+12012345678", "email": "Ava@Example.com", "team": "North", "timezone": "America/New_York"},
				{"name": "Ben Brown", "phone": "(312) 234-5678", "timezone": "America/Chicago"}
			]}`,
			status: http.StatusOK, result: `{"created": 2, "updated": 0, "teams_created": 1}`,
		},
		{
			name: "bad csv", contentType: "text/csv",
			body:    "name,phone,email,team,timezone\nChloe Diaz,555-0100,chloe@,North,Mars/Olympus\nDan Evans,+12012345709,,North,America/Chicago\n,+12012345709,,North,America/Chicago\n",
			status:  http.StatusBadRequest,
			details: []string{"line 2, column phone", "line 2, column email", "line 2, column timezone", "line 4, column name", "line 4, column phone"},
		},
		{
			name: "bad csv header", contentType: "text/csv", body: "name,mobile\nAva,+12012345678\n",
			status: http.StatusBadRequest, details: []string{"header", "header", "header"},
		},
		{
			name: "bad json", contentType: "application/json",
			body: `{"reps": [
				{"name": "Dan Evans", "phone": "+12012345709", "timezone": "America/Chicago"},
				{},
				{"name": "Chloe Diaz", "phone": "555-0100", "email": "chloe@", "timezone": "Mars/Olympus"},
				{"name": "Line\nBreak", "phone": "+12012345709", "timezone": "America/Chicago"}
			]}`,
			status:  http.StatusBadRequest,
			details: []string{"reps[1]", "reps[2].phone", "reps[2].email", "reps[2].timezone", "reps[3].name", "reps[3].phone"},
		},
		{
			name: "json unknown field", contentType: "application/json",
			body:   `{"reps": [{"name": "Ava", "phone": "+12012345678", "timezone": "UTC", "tz": "UTC"}]}`,
			status: http.StatusBadRequest, details: []string{"tz"},
		},
		{
			name: "json without reps", contentType: "application/json", body: `{"reps": []}`,
			status: http.StatusBadRequest, details: []string{"reps"},
		},
		{
			name: "bad region", path: "/api/v1/reps/import?region=XX", contentType: "text/csv", body: threeReps,
			status: http.StatusBadRequest, details: []string{"region"},
		},
		{
			name: "other content type", contentType: "application/x-www-form-urlencoded", body: threeReps,
			status: http.StatusBadRequest, details: []string{"Content-Type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			path := tt.path
			if path == "" {
				path = "/api/v1/reps/import"
			}
			res := b.send(t, "POST", path, b.key, tt.contentType, tt.body)
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			if tt.status == http.StatusOK {
				require.JSONEq(t, tt.result, string(res.body))
				return
			}
			e := res.apiError(t)
			require.Equal(t, "invalid", e.Error.Code)
			require.Equal(t, tt.details, e.detailPaths(), "body: %s", res.body)

			var reps repList
			b.api(t, "GET", "/api/v1/reps", "").decode(t, &reps)
			require.Empty(t, reps.Data, "nothing is stored")
		})
	}
}

func TestImportRepsJSONNamesTheFirstOfARepeatedNumber(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.api(t, "POST", "/api/v1/reps/import", `{"reps": [
		{"name": "Ava", "phone": "+12012345678", "timezone": "UTC"},
		{"name": "Ben", "phone": "(201) 234-5678", "timezone": "UTC"}
	]}`)
	require.Equal(t, http.StatusBadRequest, res.status)
	e := res.apiError(t)
	require.Equal(t, []string{"reps[1].phone"}, e.detailPaths())
	require.Contains(t, e.Error.Details[0].Message, "as reps[0]")
}

func TestImportRepsUpdatesAndLimitsTheBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := b.importReps(t, b.key, threeReps)
	res := b.send(t, "POST", "/api/v1/reps/import", b.key, "text/csv", strings.Replace(threeReps, "Ava Adams", "Ava Jones", 1))
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, `{"created": 0, "updated": 3, "teams_created": 0}`, string(res.body))
	var ava repJSON
	b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d", ids["+12012345678"]), "").decode(t, &ava)
	require.Equal(t, "Ava Jones", ava.Name)

	huge := threeReps + "Zed," + strings.Repeat("x", 20<<20) // one long field: quick to read
	res = b.send(t, "POST", "/api/v1/reps/import", b.key, "text/csv", huge)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	e := res.apiError(t)
	require.Equal(t, "too_large", e.Error.Code)
	require.Contains(t, e.Error.Message, "20 MiB")
}

func TestReps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := b.importReps(t, b.key, threeReps)
	otherIDs := b.importReps(t, b.otherKey, "name,phone,timezone\nOtto Other,+12012345678,UTC\n")
	ava, ben := ids["+12012345678"], ids["+13122345678"]
	require.NotZero(t, ava)
	require.NotZero(t, ben)

	// Paging.
	var page1, page2 repList
	b.api(t, "GET", "/api/v1/reps?limit=2", "").decode(t, &page1)
	require.Len(t, page1.Data, 2)
	require.NotNil(t, page1.NextAfter)
	b.api(t, "GET", fmt.Sprintf("/api/v1/reps?limit=2&after=%d", *page1.NextAfter), "").decode(t, &page2)
	require.Len(t, page2.Data, 1)
	require.Nil(t, page2.NextAfter)
	require.Equal(t, "Chloe Diaz", page2.Data[0].Name)

	// One rep, in full.
	var got repJSON
	b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d", ava), "").decode(t, &got)
	require.Equal(t, "Ava Adams", got.Name)
	require.Equal(t, "+12012345678", got.Phone)
	require.Equal(t, "ava@example.com", got.Email)
	require.Equal(t, "North", got.Team)
	require.NotNil(t, got.TeamID)
	require.Equal(t, "America/New_York", got.TimeZone)
	require.Equal(t, "active", got.Status)
	require.False(t, got.OptedOut)
	require.Nil(t, got.OptedOutAt)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, got.CreatedAt)

	// By team.
	var north repList
	b.api(t, "GET", fmt.Sprintf("/api/v1/reps?team_id=%d", *got.TeamID), "").decode(t, &north)
	require.Len(t, north.Data, 2)

	// Opt out and back in.
	res := b.api(t, "POST", fmt.Sprintf("/api/v1/reps/%d/opt-out", ben), "")
	require.Equal(t, http.StatusOK, res.status)
	res.decode(t, &got)
	require.True(t, got.OptedOut)
	require.NotNil(t, got.OptedOutAt)
	b.api(t, "POST", fmt.Sprintf("/api/v1/reps/%d/opt-in", ben), "").decode(t, &got)
	require.False(t, got.OptedOut)

	// Remove.
	res = b.api(t, "DELETE", fmt.Sprintf("/api/v1/reps/%d", ben), "")
	require.Equal(t, http.StatusOK, res.status)
	res.decode(t, &got)
	require.Equal(t, ben, got.ID)
	require.Equal(t, "removed", got.Status)
	var removed repList
	b.api(t, "GET", "/api/v1/reps?status=removed", "").decode(t, &removed)
	require.Len(t, removed.Data, 1)
	require.Equal(t, ben, removed.Data[0].ID)

	// Bad requests and other organisations' reps.
	other := otherIDs["+12012345678"]
	tests := []struct {
		method, path string
		status       int
		details      []string
	}{
		{"GET", "/api/v1/reps/abc", http.StatusBadRequest, []string{"id"}},
		{"GET", "/api/v1/reps/0", http.StatusBadRequest, []string{"id"}},
		{"GET", "/api/v1/reps/-4", http.StatusBadRequest, []string{"id"}},
		{"GET", "/api/v1/reps/99999999999999999999", http.StatusBadRequest, []string{"id"}},
		{"POST", "/api/v1/reps/x/opt-out", http.StatusBadRequest, []string{"id"}},
		{"GET", "/api/v1/reps?team_id=north&status=gone&limit=5000&after=-1", http.StatusBadRequest, []string{"team_id", "status", "after", "limit"}},
		{"GET", "/api/v1/reps/999999", http.StatusNotFound, nil},
		{"GET", fmt.Sprintf("/api/v1/reps/%d", other), http.StatusNotFound, nil},
		{"DELETE", fmt.Sprintf("/api/v1/reps/%d", other), http.StatusNotFound, nil},
		{"POST", fmt.Sprintf("/api/v1/reps/%d/opt-out", other), http.StatusNotFound, nil},
		{"POST", fmt.Sprintf("/api/v1/reps/%d/opt-in", other), http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			res := b.api(t, tt.method, tt.path, "")
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, tt.details, e.detailPaths())
		})
	}

	// The other organisation's rep is untouched.
	var otto repJSON
	b.send(t, "GET", fmt.Sprintf("/api/v1/reps/%d", other), b.otherKey, "", "").decode(t, &otto)
	require.Equal(t, "active", otto.Status)
	require.False(t, otto.OptedOut)
}
