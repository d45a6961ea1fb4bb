package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

// eventsBundle is a server with ClickHouse, merges stopped so that reports
// read unmerged parts, and three reps in each organisation.
type eventsBundle struct {
	testBundle
	ch                 driver.Conn
	ava, ben, chloe    int64 // b.org's reps
	otherAva, otherBen int64 // b.other's reps
}

func setupEvents(t *testing.T) eventsBundle {
	t.Helper()
	b := eventsBundle{testBundle: setup(t), ch: dbtest.ClickHouse(t)}
	require.NoError(t, b.ch.Exec(context.Background(), `SYSTEM STOP MERGES events`))
	srv := httptest.NewServer(web.New(web.Deps{Store: b.store, ClickHouse: b.ch, Pool: b.pool, Logger: slog.New(slog.NewTextHandler(b.logs, nil))}).Handler())
	t.Cleanup(srv.Close)
	b.url = srv.URL
	ids := b.importReps(t, b.key, threeReps)
	b.ava, b.ben, b.chloe = ids["+12012345678"], ids["+13122345678"], ids["+14152345678"]
	other := b.importReps(t, b.otherKey, threeReps)
	b.otherAva, b.otherBen = other["+12012345678"], other["+13122345678"]
	require.True(t, b.ava > 0 && b.ben > 0 && b.chloe > 0 && b.otherAva > 0 && b.otherBen > 0, "reps %v %v", ids, other)
	return b
}

// report is each rep's live events and their values' sum, as a report reads
// them (FINAL, deleted = 0), for the organisation.
func (b eventsBundle) report(t *testing.T, orgID int64) map[int64][2]float64 {
	t.Helper()
	rows, err := b.ch.Query(context.Background(),
		`SELECT rep_id, count(), sum(value) FROM events FINAL WHERE org_id = ? AND deleted = 0 GROUP BY rep_id`, uint64(orgID))
	require.NoError(t, err)
	defer rows.Close()
	out := map[int64][2]float64{}
	for rows.Next() {
		var rep, n uint64
		var sum float64
		require.NoError(t, rows.Scan(&rep, &n, &sum))
		out[int64(rep)] = [2]float64{float64(n), sum}
	}
	require.NoError(t, rows.Err())
	return out
}

// ev is a past event as the API takes it.
func ev(rep int64, key string, value float64) map[string]any {
	return map[string]any{"key": key, "rep_id": rep, "kind": "graded", "occurred_at": "2026-03-08T14:00:00Z",
		"assignment_id": 55, "value": value, "detail": map[string]any{"question": 1}}
}

func TestEventCorrections(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	backfill := mustJSON(t, map[string]any{"events": []any{
		ev(b.ava, "grade/1/0", 40), ev(b.ava, "grade/1/1", 60),
		ev(b.ben, "grade/2/0", 50), ev(b.ben, "grade/2/1", 70),
		ev(b.chloe, "grade/3/0", 90), ev(b.chloe, "grade/3/1", 100),
	}})
	res := b.api(t, "POST", "/api/v1/events/backfill", backfill)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.JSONEq(t, `{"backfilled": 6}`, string(res.body))
	want := map[int64][2]float64{b.ava: {2, 100}, b.ben: {2, 120}, b.chloe: {2, 190}}
	require.Equal(t, want, b.report(t, b.org.ID))

	res = b.api(t, "POST", "/api/v1/events/backfill", backfill)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.Equal(t, want, b.report(t, b.org.ID), "a second backfill changes no report")
	require.Empty(t, b.report(t, b.other.ID), "the events are the caller's organisation's")

	res = b.api(t, "POST", "/api/v1/events/void", mustJSON(t, map[string]any{"key": "grade/1/0", "rep_id": b.ava, "reason": "graded twice"}))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.JSONEq(t, fmt.Sprintf(`{"key": "grade/1/0", "rep_id": %d, "kind": "graded", "occurred_at": "2026-03-08T14:00:00Z",
		"course_id": null, "enrollment_id": null, "assignment_id": 55, "lesson_id": null, "value": 40,
		"detail": {"void_reason": "graded twice", "voided_by": "API key \"test\""}, "deleted": true}`, b.ava), string(res.body))
	want[b.ava] = [2]float64{1, 60}
	require.Equal(t, want, b.report(t, b.org.ID), "the report sees the void at once")

	corrected := ev(b.ben, "grade/2/0", 55)
	corrected["course_id"] = 9
	res = b.api(t, "POST", "/api/v1/events/correct", mustJSON(t, corrected))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.JSONEq(t, fmt.Sprintf(`{"key": "grade/2/0", "rep_id": %d, "kind": "graded", "occurred_at": "2026-03-08T14:00:00Z",
		"course_id": 9, "enrollment_id": null, "assignment_id": 55, "lesson_id": null, "value": 55,
		"detail": {"question": 1}, "deleted": false}`, b.ben), string(res.body))
	want[b.ben] = [2]float64{2, 125}
	require.Equal(t, want, b.report(t, b.org.ID), "the report sees the correction at once")

	res = b.api(t, "DELETE", fmt.Sprintf("/api/v1/reps/%d/events", b.chloe), "")
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.JSONEq(t, fmt.Sprintf(`{"rep_id": %d, "voided": 2}`, b.chloe), string(res.body))
	delete(want, b.chloe)
	require.Equal(t, want, b.report(t, b.org.ID), "the rep leaves the report at once; the others stay")
	res = b.api(t, "DELETE", fmt.Sprintf("/api/v1/reps/%d/events", b.chloe), "")
	require.JSONEq(t, fmt.Sprintf(`{"rep_id": %d, "voided": 0}`, b.chloe), string(res.body))

	// A replayed backfill undoes none of it.
	res = b.api(t, "POST", "/api/v1/events/backfill", backfill)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.Equal(t, want, b.report(t, b.org.ID))

	// Nothing of another organisation, nor anything that does not exist, is found.
	notFound := []struct {
		name, method, path, body string
		detailPath               string
	}{
		{"void another organisation's rep", "POST", "/api/v1/events/void",
			mustJSON(t, map[string]any{"key": "grade/1/1", "rep_id": b.otherAva, "reason": "x"}), ""},
		{"void a key the rep does not have", "POST", "/api/v1/events/void",
			mustJSON(t, map[string]any{"key": "grade/2/0", "rep_id": b.ava, "reason": "x"}), ""},
		{"correct another organisation's rep", "POST", "/api/v1/events/correct", mustJSON(t, ev(b.otherAva, "grade/1/1", 1)), ""},
		{"correct a key the rep does not have", "POST", "/api/v1/events/correct", mustJSON(t, ev(b.ava, "grade/9/9", 1)), ""},
		{"delete another organisation's rep's events", "DELETE", fmt.Sprintf("/api/v1/reps/%d/events", b.otherAva), "", ""},
		{"delete a rep that does not exist", "DELETE", "/api/v1/reps/999999/events", "", ""},
		{"backfill another organisation's rep", "POST", "/api/v1/events/backfill",
			mustJSON(t, map[string]any{"events": []any{ev(b.ava, "new/0", 1), ev(b.otherBen, "new/1", 1), ev(b.otherBen, "new/2", 1)}}),
			"events[1].rep_id"},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			res := b.api(t, tt.method, tt.path, tt.body)
			require.Equal(t, http.StatusNotFound, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, "not_found", e.Error.Code)
			if tt.detailPath != "" {
				require.Equal(t, []string{tt.detailPath}, e.detailPaths())
			}
		})
	}
	require.Equal(t, want, b.report(t, b.org.ID), "nothing changed")
	require.Empty(t, b.report(t, b.other.ID))
}

func TestBackfillValidation(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	good := func() []map[string]any { return []map[string]any{ev(b.ava, "a/0", 1), ev(b.ben, "a/1", 2)} }
	with := func(field string, value any) string {
		events := good()
		events[1][field] = value
		return mustJSON(t, map[string]any{"events": events})
	}
	without := func(field string) string {
		events := good()
		delete(events[1], field)
		return mustJSON(t, map[string]any{"events": events})
	}
	tooMany := make([]map[string]any, 10_001)
	for i := range tooMany {
		tooMany[i] = ev(b.ava, fmt.Sprintf("k/%d", i), 1)
	}

	tests := []struct {
		name string
		body string
		path string // of the only detail
	}{
		{"unknown kind", with("kind", "scored"), "events[1].kind"},
		{"no kind", without("kind"), "events[1].kind"},
		{"future", with("occurred_at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), "events[1].occurred_at"},
		{"not RFC 3339", with("occurred_at", "2026-03-08 14:00"), "events[1].occurred_at"},
		{"a date only", with("occurred_at", "2026-03-08"), "events[1].occurred_at"},
		{"no time", without("occurred_at"), "events[1].occurred_at"},
		{"time as a number", with("occurred_at", 1741442400), "events[1].occurred_at"},
		{"empty key", with("key", ""), "events[1].key"},
		{"key too long", with("key", strings.Repeat("k", 201)), "events[1].key"},
		{"no rep", without("rep_id"), "events[1].rep_id"},
		{"rep 0", with("rep_id", 0), "events[1].rep_id"},
		{"negative rep", with("rep_id", -4), "events[1].rep_id"},
		{"rep as a string", with("rep_id", "4"), "events[1].rep_id"},
		{"rep not whole", with("rep_id", 1.5), "events[1].rep_id"},
		{"negative course", with("course_id", -1), "events[1].course_id"},
		{"negative lesson", with("lesson_id", -1), "events[1].lesson_id"},
		{"detail not an object", with("detail", []int{1}), "events[1].detail"},
		{"detail too big", with("detail", map[string]string{"x": strings.Repeat("x", 1024)}), "events[1].detail"},
		{"unknown field", with("colour", "red"), "events[1].colour"},
		{"same rep and key twice", mustJSON(t, map[string]any{"events": []any{ev(b.ava, "a/0", 1), ev(b.ava, "a/0", 2)}}), "events[1].key"},
		{"an event not an object", `{"events": [{"key": "a/0", "rep_id": 1, "kind": "graded", "occurred_at": "2026-03-08T14:00:00Z"}, 7]}`, "events[1]"},
		{"no events", `{"events": []}`, "events"},
		{"events missing", `{}`, "events"},
		{"events not a list", `{"events": {}}`, "events"},
		{"unknown top-level field", `{"events": [], "dry_run": true}`, "dry_run"},
		{"too many", mustJSON(t, map[string]any{"events": tooMany}), "events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := b.api(t, "POST", "/api/v1/events/backfill", tt.body)
			require.Equal(t, http.StatusBadRequest, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, "invalid", e.Error.Code)
			require.Equal(t, []string{tt.path}, e.detailPaths(), "body: %s", res.body)
			require.NotEmpty(t, e.Error.Details[0].Message)
		})
	}

	t.Run("every problem named", func(t *testing.T) {
		t.Parallel()
		events := good()
		events[0]["kind"], events[1]["occurred_at"] = "nope", "2999-01-01T00:00:00Z"
		res := b.api(t, "POST", "/api/v1/events/backfill", mustJSON(t, map[string]any{"events": events}))
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Equal(t, []string{"events[0].kind", "events[1].occurred_at"}, res.apiError(t).detailPaths())
	})
	t.Run("first 100 problems", func(t *testing.T) {
		t.Parallel()
		events := make([]map[string]any, 300)
		for i := range events {
			events[i] = ev(b.ava, fmt.Sprintf("k/%d", i), 1)
			events[i]["kind"] = "nope"
		}
		res := b.api(t, "POST", "/api/v1/events/backfill", mustJSON(t, map[string]any{"events": events}))
		require.Equal(t, http.StatusBadRequest, res.status)
		e := res.apiError(t)
		require.Len(t, e.Error.Details, 100)
		require.Contains(t, e.Error.Message, "300 problems")
	})
	require.Empty(t, b.report(t, b.org.ID), "no invalid backfill wrote anything")
}

func TestVoidAndCorrectValidation(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	res := b.api(t, "POST", "/api/v1/events/backfill", mustJSON(t, map[string]any{"events": []any{ev(b.ava, "a/0", 1)}}))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	void := func(change func(map[string]any)) string {
		v := map[string]any{"key": "a/0", "rep_id": b.ava, "reason": "test"}
		change(v)
		return mustJSON(t, v)
	}
	correct := func(change func(map[string]any)) string {
		e := ev(b.ava, "a/0", 2)
		change(e)
		return mustJSON(t, e)
	}
	tests := []struct {
		name, path, body string
		paths            []string
	}{
		{"void without reason", "void", void(func(v map[string]any) { delete(v, "reason") }), []string{"reason"}},
		{"void with a blank reason", "void", void(func(v map[string]any) { v["reason"] = "  " }), []string{"reason"}},
		{"void with a long reason", "void", void(func(v map[string]any) { v["reason"] = strings.Repeat("r", 501) }), []string{"reason"}},
		{"void without key or rep", "void", void(func(v map[string]any) { delete(v, "key"); delete(v, "rep_id") }), []string{"key", "rep_id"}},
		{"void with an unknown field", "void", void(func(v map[string]any) { v["why"] = "x" }), []string{"why"}},
		{"void with rep as a string", "void", void(func(v map[string]any) { v["rep_id"] = "1" }), []string{"rep_id"}},
		{"correct to an unknown kind", "correct", correct(func(e map[string]any) { e["kind"] = "scored" }), []string{"kind"}},
		{"correct to the future", "correct", correct(func(e map[string]any) { e["occurred_at"] = "2999-01-01T00:00:00Z" }), []string{"occurred_at"}},
		{"correct to a bad time", "correct", correct(func(e map[string]any) { e["occurred_at"] = "yesterday" }), []string{"occurred_at"}},
		{"correct without key", "correct", correct(func(e map[string]any) { delete(e, "key") }), []string{"key"}},
		{"correct with a version", "correct", correct(func(e map[string]any) { e["version"] = 9 }), []string{"version"}},
		{"correct with a negative id", "correct", correct(func(e map[string]any) { e["enrollment_id"] = -3 }), []string{"enrollment_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := b.api(t, "POST", "/api/v1/events/"+tt.path, tt.body)
			require.Equal(t, http.StatusBadRequest, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, "invalid", e.Error.Code)
			require.Equal(t, tt.paths, e.detailPaths(), "body: %s", res.body)
		})
	}
	require.Equal(t, map[int64][2]float64{b.ava: {1, 1}}, b.report(t, b.org.ID), "nothing changed")
}

func TestEventCorrectionsNeedClickHouse(t *testing.T) {
	t.Parallel()
	b := setup(t) // no ClickHouse
	ids := b.importReps(t, b.key, threeReps)
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/api/v1/events/void", `{"key": "a", "rep_id": 1, "reason": "x"}`},
		{"POST", "/api/v1/events/correct", mustJSON(t, ev(1, "a", 1))},
		{"POST", "/api/v1/events/backfill", `{"events": []}`},
		{"DELETE", fmt.Sprintf("/api/v1/reps/%d/events", ids["+12012345678"]), ""},
	} {
		res := b.api(t, req.method, req.path, req.body)
		require.Equal(t, http.StatusServiceUnavailable, res.status, "%s %s: %s", req.method, req.path, res.body)
		require.Equal(t, "unavailable", res.apiError(t).Error.Code)
		res = b.send(t, req.method, req.path, "", "application/json", req.body)
		require.Equal(t, http.StatusUnauthorized, res.status, "%s %s needs a key", req.method, req.path)
	}
}

// TestOpenAPIEventKinds holds the documented kinds of event to tracking's.
func TestOpenAPIEventKinds(t *testing.T) {
	t.Parallel()
	res := serve(web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet}), "GET", "/api/v1/openapi.json", "")
	var doc struct {
		Components struct {
			Schemas struct {
				EventKind struct {
					Enum []string `json:"enum"`
				} `json:"EventKind"`
			} `json:"schemas"`
		} `json:"components"`
	}
	res.decode(t, &doc)
	require.ElementsMatch(t, tracking.Kinds(), doc.Components.Schemas.EventKind.Enum)
}

// A backfill or a correction naming a course, an enrollment, an assignment or
// a lesson of another organisation (an enrollment of another rep) is refused
// with each field named.
func TestEventIDsOfAnotherOrganisation(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	ctx := context.Background()
	enrolled := func(orgID, repID int64, slug string) (course, enrollment, assignment, lesson int64) {
		v, err := b.store.SaveCourse(ctx, orgID, lessons.StarterCourse(slug, "Course "+slug), true)
		require.NoError(t, err)
		res, err := b.store.Enroll(ctx, orgID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{repID}})
		require.NoError(t, err)
		as, err := b.store.Assignments(ctx, orgID, res.Enrollments[0].ID)
		require.NoError(t, err)
		return v.CourseID, res.Enrollments[0].ID, as[0].ID, as[0].LessonID
	}
	course, enrollment, assignment, lesson := enrolled(b.other.ID, b.otherAva, "theirs")
	_, bensEnrollment, bensAssignment, _ := enrolled(b.org.ID, b.ben, "ours")
	event := func(course, enrollment, assignment, lesson int64) map[string]any {
		return map[string]any{"key": "x/1", "rep_id": b.ava, "kind": "graded", "occurred_at": "2026-03-08T14:00:00Z",
			"course_id": course, "enrollment_id": enrollment, "assignment_id": assignment, "lesson_id": lesson, "value": 1}
	}
	tests := []struct {
		name  string
		event map[string]any
		paths []string
	}{
		{"another organisation's ids", event(course, enrollment, assignment, lesson),
			[]string{"course_id", "enrollment_id", "assignment_id", "lesson_id"}},
		{"another rep's enrollment", event(0, bensEnrollment, bensAssignment, 0), []string{"enrollment_id", "assignment_id"}},
	}
	for _, tt := range tests {
		res := b.api(t, "POST", "/api/v1/events/backfill", mustJSON(t, map[string]any{"events": []any{tt.event}}))
		require.Equal(t, http.StatusNotFound, res.status, "%s: %s", tt.name, res.body)
		var want []string
		for _, p := range tt.paths {
			want = append(want, "events[0]."+p)
		}
		require.Equal(t, want, res.apiError(t).detailPaths(), tt.name)
		res = b.api(t, "POST", "/api/v1/events/correct", mustJSON(t, tt.event))
		require.Equal(t, http.StatusNotFound, res.status, "%s: %s", tt.name, res.body)
		require.Equal(t, tt.paths, res.apiError(t).detailPaths(), tt.name)
	}
}

// The events API reads the store's clock, once a request: an event at a
// time the store's clock has passed is not in the future, whatever the
// machine's clock says, and one past it is.
func TestEventsAPIUsesTheStoresClock(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	b.clock.advance(48 * time.Hour)
	ahead := b.clock.now()
	at := func(t time.Time) map[string]any {
		e := ev(b.ava, "grade/9/0", 1)
		e["occurred_at"] = t.UTC().Format(time.RFC3339)
		return e
	}
	res := b.api(t, "POST", "/api/v1/events/backfill", mustJSON(t, map[string]any{"events": []any{at(ahead.Add(-24 * time.Hour))}}))
	require.Equal(t, http.StatusOK, res.status, "tomorrow is past on the store's clock: %s", res.body)
	res = b.api(t, "POST", "/api/v1/events/correct", mustJSON(t, at(ahead.Add(-23*time.Hour))))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res = b.api(t, "POST", "/api/v1/events/backfill", mustJSON(t, map[string]any{"events": []any{at(ahead.Add(time.Hour))}}))
	require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
	require.Contains(t, string(res.body), "must not be in the future")
}
