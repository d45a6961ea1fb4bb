package xapi_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/xapi"
)

// exportAll pages through the organisation's statements limit at a time.
func exportAll(t *testing.T, x xapi.Exporter, since time.Time, limit int) []xapi.Statement {
	t.Helper()
	var all []xapi.Statement
	var cursor xapi.Cursor
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "the pages never end")
		page, next, err := x.Page(context.Background(), since, cursor, limit)
		require.NoError(t, err)
		all = append(all, page...)
		if next.IsZero() {
			return all
		}
		require.NotEqual(t, cursor, next, "the cursor moves on")
		cursor = next
	}
}

// The export reads events as the reports count them: corrections applied,
// voids and a removed rep left out, another organisation never, and the
// same statements, ids included, however it is paged and however often.
func TestExportCurrentEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	require.NoError(t, ch.Exec(ctx, `SYSTEM STOP MERGES events`)) // read unmerged parts, as right after a write
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	ev := func(org, rep int64, kind, key string, assignment, lesson int64, value float64, detail string) tracking.Event {
		return tracking.Event{OrgID: org, RepID: rep, Kind: kind, Key: key, OccurredAt: at, CourseID: 7, EnrollmentID: 9,
			AssignmentID: assignment, LessonID: lesson, Value: value, Detail: detail}
	}
	graded := func(q, choice int) string {
		return tracking.GradedDetail{Question: q, Choice: choice, Purpose: "question"}.String()
	}
	video := tracking.VideoDetail{Position: 3, Rate: 1, Session: "s"}.String()
	events := []tracking.Event{
		ev(1, 5, tracking.KindMessageSent, tracking.MessageKey(1, tracking.KindMessageSent), 102, 13, 0, ""), // no statement
		ev(1, 5, tracking.KindGraded, "grade/102/0/1", 102, 13, 0, graded(0, 0)),                             // corrected below
		ev(1, 5, tracking.KindGraded, "grade/102/1/2", 102, 13, 1, graded(1, 1)),                             // voided below
		ev(1, 5, tracking.KindLessonCompleted, "done/102", 102, 13, 50, ""),
		ev(1, 5, tracking.KindSegmentWatched, "seg/100/0", 100, 11, 0, video),
		ev(1, 5, tracking.KindSegmentWatched, "seg/100/1", 100, 11, 1, video),
		ev(1, 5, tracking.KindLessonCompleted, "done/100", 100, 11, 0, tracking.LessonDetail{Kind: "video"}.String()),
		ev(1, 6, tracking.KindLessonOpened, "open/200", 200, 12, 0, tracking.LessonDetail{Kind: "text"}.String()), // removed below
		ev(1, 8, tracking.KindLessonOpened, "open/300", 300, 12, 0, tracking.LessonDetail{Kind: "text"}.String()),
		ev(2, 5, tracking.KindLessonOpened, "open/400", 400, 12, 0, tracking.LessonDetail{Kind: "text"}.String()), // another org
		ev(2, 7, tracking.KindLessonOpened, "open/500", 500, 12, 0, tracking.LessonDetail{Kind: "text"}.String()),
	}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))

	x := xapi.Exporter{CH: ch, Converter: xapi.Converter{HomePage: home, OrgID: 1, Catalog: catalog}}
	before := exportAll(t, x, time.Time{}, 1000)
	require.Len(t, before, 8)

	now := time.Now()
	corrected := ev(1, 5, tracking.KindGraded, "grade/102/0/1", 102, 13, 1, graded(0, 1))
	_, err := tracking.Correct(ctx, pool, ch, now, 1, corrected)
	require.NoError(t, err)
	_, err = tracking.Void(ctx, pool, ch, now, 1, "grade/102/1/2", 5, "asked twice", "test")
	require.NoError(t, err)
	removed := tracking.RepFacts{OrgID: 1, RepID: 6, Status: "removed"}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, []tracking.Event{removed.Event(now)}))

	got := exportAll(t, x, time.Time{}, 1000)
	byID := map[string]xapi.Statement{}
	for _, s := range got {
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		require.Empty(t, xapi.Problems(raw), string(raw))
		require.Equal(t, home, s.Actor.Account.HomePage)
		require.NotEqual(t, xapi.RepAccountName(1, 6), s.Actor.Account.Name, "a removed rep has no statements")
		byID[s.ID] = s
	}
	require.Len(t, got, 6, "8 less the void and the removed rep's")
	answer, ok := byID[xapi.StatementID(1, 5, "grade/102/0/1")]
	require.True(t, ok)
	require.True(t, *answer.Result.Success, "the corrected answer is right")
	require.Equal(t, "B", answer.Result.Response)
	require.NotContains(t, byID, xapi.StatementID(1, 5, "grade/102/1/2"), "a voided answer has no statement")
	require.Contains(t, byID, xapi.StatementID(1, 8, "open/300"))
	for _, other := range []string{xapi.StatementID(2, 5, "open/400"), xapi.StatementID(2, 7, "open/500"), xapi.StatementID(1, 5, "open/400")} {
		require.NotContains(t, byID, other, "another organisation's events never appear")
	}
	done := byID[xapi.StatementID(1, 5, "done/100")]
	require.Equal(t, "0[.]30", done.Result.Extensions[xapi.ExtPlayedSegments], "a completion reads the segments watched")

	// Paged two at a time, or read again: the same statements.
	require.Equal(t, got, exportAll(t, x, time.Time{}, 2))
	require.Equal(t, got, exportAll(t, x, time.Time{}, 1000))
	// Since after every event: none.
	require.Empty(t, exportAll(t, x, at.Add(time.Second), 1000))
	require.Len(t, exportAll(t, x, at, 1000), 6)
}
