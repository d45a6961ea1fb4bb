package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/xapi"
	"github.com/morselhq/morsel/web"
)

type statementPage struct {
	Data       []json.RawMessage `json:"data"`
	NextCursor *string           `json:"next_cursor"`
}

// exportXAPI pages through GET /api/v1/xapi/statements with key.
func exportXAPI(t *testing.T, b testBundle, key, since string, limit int) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 50, "the pages never end")
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if since != "" {
			q.Set("since", since)
		}
		res := b.send(t, "GET", "/api/v1/xapi/statements?"+q.Encode(), key, "", "")
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
		var p statementPage
		res.decode(t, &p)
		require.NotNil(t, p.Data, "data is a list, even empty: %s", res.body)
		all = append(all, p.Data...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
	}
}

func TestXAPIStatementsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ch := dbtest.ClickHouse(t)
	require.NoError(t, ch.Exec(ctx, `SYSTEM STOP MERGES events`))
	const public = "https://morsel.example"
	srv := httptest.NewServer(web.New(web.Deps{Store: b.store, ClickHouse: ch, Pool: b.pool, PublicURL: public + "/",
		Logger: slog.New(slog.NewTextHandler(b.logs, nil))}).Handler())
	t.Cleanup(srv.Close)
	b.url = srv.URL
	ids := b.importReps(t, b.key, threeReps)
	ava, ben := ids["+12012345678"], ids["+13122345678"]
	otherAva := b.importReps(t, b.otherKey, threeReps)["+12012345678"]
	courseID := b.publishCourse(t, b.key, sampleCourse(t))
	_, versions, err := b.store.CourseVersions(ctx, b.org.ID, courseID)
	require.NoError(t, err)
	var quiz lessons.Lesson
	for _, l := range versions[0].Spec.Lessons {
		if l.Kind == lessons.KindQuiz && quiz.ID == 0 {
			quiz = l
		}
	}
	require.NotZero(t, quiz.ID)

	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	ev := func(org, rep int64, kind, key string, value float64, detail string) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Kind: kind, Key: key, OccurredAt: at, CourseID: courseID,
			EnrollmentID: 1, AssignmentID: 1, LessonID: quiz.ID, Value: value, Detail: detail}
	}
	answer := tracking.GradedDetail{Question: 0, Choice: 1, Purpose: "question"}.String()
	require.NoError(t, tracking.WriteClickHouse(ctx, b.pool, ch, []tracking.Event{
		ev(b.org.ID, ava, tracking.KindGraded, "grade/1/0/1", 1, answer),
		ev(b.org.ID, ava, tracking.KindGraded, "grade/1/1/2", 0, answer),
		ev(b.org.ID, ava, tracking.KindLessonCompleted, "done/1", 100, ""),
		ev(b.org.ID, ben, tracking.KindLessonCompleted, "done/2", 50, ""),
		ev(b.org.ID, ben, tracking.KindMessageSent, "msg/1/message_sent", 0, ""), // no statement
		ev(b.other.ID, otherAva, tracking.KindLessonCompleted, "done/3", 100, ""),
	}))

	all := exportXAPI(t, b, b.key, "", 1000)
	require.Len(t, all, 4)
	paged := exportXAPI(t, b, b.key, "", 1)
	require.Equal(t, all, paged, "paged one at a time, the same statements")
	require.Equal(t, all, exportXAPI(t, b, b.key, "", 3), "read again, the same statements, ids included")
	byID := map[string]xapi.Statement{}
	for _, raw := range all {
		require.Empty(t, xapi.Problems(raw), string(raw))
		var s xapi.Statement
		require.NoError(t, json.Unmarshal(raw, &s))
		require.Equal(t, public, s.Actor.Account.HomePage)
		require.NotContains(t, string(raw), "+1201", "no phone number")
		byID[s.ID] = s
	}
	passed := byID[xapi.StatementID(b.org.ID, ava, "done/1")]
	require.Equal(t, xapi.VerbPassed, passed.Verb.ID)
	require.Equal(t, fmt.Sprintf("%s/xapi/lessons/%d", public, quiz.ID), passed.Object.ID)
	require.Equal(t, quiz.Title, passed.Object.Definition.Name["en-US"], "the catalog names the quiz")
	require.Equal(t, xapi.VerbFailed, byID[xapi.StatementID(b.org.ID, ben, "done/2")].Verb.ID, "50 is under the pass mark of 80")

	// The other organisation sees its own statement alone.
	other := exportXAPI(t, b, b.otherKey, "", 1000)
	require.Len(t, other, 1)
	require.Contains(t, string(other[0]), xapi.StatementID(b.other.ID, otherAva, "done/3"))

	// A void, a correction and a removed rep, through the API.
	res := b.api(t, "POST", "/api/v1/events/void", mustJSON(t, map[string]any{"key": "grade/1/0/1", "rep_id": ava, "reason": "asked twice"}))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	res = b.api(t, "DELETE", fmt.Sprintf("/api/v1/reps/%d", ben), "")
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	for {
		n, err := tracking.Ship(ctx, b.pool, ch, 1000, nil)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	after := exportXAPI(t, b, b.key, "", 1000)
	require.Len(t, after, 2, "the void and the removed rep's statement are gone")
	for _, raw := range after {
		require.NotContains(t, string(raw), xapi.StatementID(b.org.ID, ava, "grade/1/0/1"))
		require.NotContains(t, string(raw), xapi.RepAccountName(b.org.ID, ben))
	}
	require.Empty(t, exportXAPI(t, b, b.key, at.Add(time.Second).Format(time.RFC3339), 1000), "nothing since")

	for _, tt := range []struct{ query, path string }{
		{"cursor=not-a-cursor", "cursor"}, {"since=yesterday", "since"}, {"limit=0", "limit"}, {"limit=1001", "limit"},
	} {
		res := b.send(t, "GET", "/api/v1/xapi/statements?"+tt.query, b.key, "", "")
		require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", tt.query, res.body)
		require.Equal(t, []string{tt.path}, res.apiError(t).detailPaths(), tt.query)
	}
	res = b.send(t, "GET", "/api/v1/xapi/statements", "", "", "")
	require.Equal(t, http.StatusUnauthorized, res.status)
}
