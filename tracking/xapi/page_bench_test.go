package xapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/xapi"
)

// BenchmarkExportPage measures a page of 1,000 statements at the start of an
// organisation of 1,000,000 events (300 a rep), the page that reads the
// most: each op is one page, its count of the reps ahead and its FINAL.
//
//	go test -run '^$' -bench ExportPage -benchtime 20x ./tracking/xapi/
func BenchmarkExportPage(b *testing.B) {
	ctx := context.Background()
	ch := dbtest.ClickHouse(b)
	at := time.Now().Add(-time.Hour)
	events := make([]tracking.Event, 0, 1_000_000)
	for i := range 1_000_000 {
		events = append(events, tracking.Event{OrgID: 1, RepID: int64(1 + i/300), Kind: tracking.KindGraded,
			Key: tracking.GradeKey(int64(i), 0, int64(i)), OccurredAt: at, AssignmentID: int64(i), LessonID: 1, Value: 1,
			Detail: tracking.GradedDetail{Question: 0, Choice: 1, Purpose: "question"}.String(), Version: 1})
	}
	require.NoError(b, tracking.InsertEvents(ctx, ch, events))
	x := xapi.Exporter{CH: ch, Converter: xapi.Converter{HomePage: "https://morsel.example", OrgID: 1}}
	b.ResetTimer()
	for b.Loop() {
		page, next, err := x.Page(ctx, time.Time{}, xapi.Cursor{}, 1000)
		require.NoError(b, err)
		require.Len(b, page, 1000)
		require.False(b, next.IsZero())
	}
}
