package tracking_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// correctionBundle is a fresh Postgres and ClickHouse with merges stopped, so
// that every report query below reads unmerged parts, as right after a write.
type correctionBundle struct {
	pool *pgxpool.Pool
	ch   driver.Conn
}

func setupCorrections(t *testing.T) correctionBundle {
	t.Helper()
	b := correctionBundle{pool: dbtest.Postgres(t), ch: dbtest.ClickHouse(t)}
	require.NoError(t, b.ch.Exec(context.Background(), `SYSTEM STOP MERGES events`))
	return b
}

// live appends events to the outbox and ships them, as the live path does.
func (b correctionBundle) live(t *testing.T, events ...tracking.Event) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) }))
	for {
		n, err := tracking.Ship(ctx, b.pool, b.ch, 1000, nil)
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

// pending appends events to the outbox without shipping them.
func (b correctionBundle) pending(t *testing.T, events ...tracking.Event) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) }))
}

// repReport is one rep's line of a report: live events and the sum of their values.
type repReport struct {
	Count uint64
	Sum   float64
}

// report reads the org's live events per rep both ways a report may, FINAL
// with deleted = 0 and argMax by version, checks that the two agree, and
// returns the result.
func (b correctionBundle) report(t *testing.T, orgID int64) map[uint64]repReport {
	t.Helper()
	read := func(query string) map[uint64]repReport {
		rows, err := b.ch.Query(context.Background(), query, uint64(orgID))
		require.NoError(t, err)
		defer rows.Close()
		out := map[uint64]repReport{}
		for rows.Next() {
			var rep, n uint64
			var sum float64
			require.NoError(t, rows.Scan(&rep, &n, &sum))
			out[rep] = repReport{n, sum}
		}
		require.NoError(t, rows.Err())
		return out
	}
	final := read(`SELECT rep_id, count(), sum(value) FROM events FINAL WHERE org_id = ? AND deleted = 0 GROUP BY rep_id`)
	byArgMax := read(`
		SELECT rep_id, count(), sum(value) FROM (
			SELECT rep_id, event_key, argMax(value, version) AS value, argMax(deleted, version) AS deleted
			FROM events WHERE org_id = ? GROUP BY rep_id, event_key)
		WHERE deleted = 0 GROUP BY rep_id`)
	require.Equal(t, final, byArgMax, "FINAL and argMax disagree")
	return final
}

// rawRows counts the rows stored for a key, every version.
func (b correctionBundle) rawRows(t *testing.T, key string) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, b.ch.QueryRow(context.Background(), `SELECT count() FROM events WHERE event_key = ?`, key).Scan(&n))
	return n
}

// requireNoMerge checks that the reads above ran on unmerged parts.
func (b correctionBundle) requireNoMerge(t *testing.T, inserts int) {
	t.Helper()
	dbtest.RequireNoMerge(t, b.ch, "events", inserts)
}

func graded(org, rep int64, key string, value float64) tracking.Event {
	return tracking.Event{OrgID: org, RepID: rep, Key: key, Kind: tracking.KindGraded,
		OccurredAt: time.Date(2025, 3, 8, 14, 0, 0, 0, time.UTC), AssignmentID: 55, Value: value, Detail: `{"question":1}`}
}

func TestVoid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	b.live(t, graded(1, 5, "grade/55/0", 40), graded(1, 5, "grade/55/1", 60), graded(1, 5, "grade/55/2", 80))
	b.live(t, graded(2, 5, "grade/55/0", 10)) // another organisation, the same rep id and key
	require.Equal(t, repReport{3, 180}, b.report(t, 1)[5])

	tomb, err := tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "grade/55/0", 5, "graded by a bug", "test")
	require.NoError(t, err)
	require.Equal(t, repReport{2, 140}, b.report(t, 1)[5], "the report sees the void at once")
	require.Equal(t, repReport{1, 10}, b.report(t, 2)[5], "the other organisation's event stays")
	require.True(t, tomb.Deleted)
	require.Equal(t, tracking.KindGraded, tomb.Kind, "the tombstone carries the row it voids")
	require.EqualValues(t, 40, tomb.Value)
	require.JSONEq(t, `{"void_reason": "graded by a bug", "voided_by": "test"}`, tomb.Detail)

	again, err := tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "grade/55/0", 5, "twice", "test")
	require.NoError(t, err)
	require.Equal(t, tomb, again, "voiding a void event changes nothing")
	require.EqualValues(t, 3, b.rawRows(t, "grade/55/0"), "org 1's row and tombstone, org 2's row")

	// An event still in the outbox can be voided: the tombstone outranks it
	// when it is shipped.
	b.pending(t, graded(1, 5, "grade/55/3", 100))
	_, err = tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "grade/55/3", 5, "test answer", "test")
	require.NoError(t, err)
	require.Equal(t, repReport{2, 140}, b.report(t, 1)[5])
	n, err := tracking.Ship(ctx, b.pool, b.ch, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, repReport{2, 140}, b.report(t, 1)[5], "the row shipped after its void stays void")
	b.requireNoMerge(t, 5)

	for _, tt := range []struct {
		name       string
		org, rep   int64
		key, why   string
		code       errs.Code
		detailPath string
	}{
		{"no such key", 1, 5, "grade/55/9", "x", errs.NotFound, ""},
		{"no such rep", 1, 6, "grade/55/1", "x", errs.NotFound, ""},
		{"another organisation", 3, 5, "grade/55/1", "x", errs.NotFound, ""},
		{"no reason", 1, 5, "grade/55/1", " ", errs.Invalid, "reason"},
		{"no key", 1, 5, "", "x", errs.Invalid, "key"},
		{"no rep", 1, 0, "grade/55/1", "x", errs.Invalid, "rep_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tracking.Void(ctx, b.pool, b.ch, time.Now(), tt.org, tt.key, tt.rep, tt.why, "test")
			require.Equal(t, tt.code, errs.CodeOf(err), "%v", err)
			if tt.detailPath != "" {
				require.Equal(t, tt.detailPath, errs.As(err).Details[0].Path)
			}
		})
	}
	require.Equal(t, repReport{2, 140}, b.report(t, 1)[5])
}

func TestCorrect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	b.live(t, graded(1, 5, "grade/55/0", 40), graded(1, 5, "grade/55/1", 100))

	fixed := graded(0, 5, "grade/55/0", 80) // the organisation comes from the caller
	row, err := tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, fixed)
	require.NoError(t, err)
	require.Equal(t, repReport{2, 180}, b.report(t, 1)[5], "the report sees the correction at once")
	require.EqualValues(t, 1, row.OrgID)
	require.False(t, row.Deleted)

	// A void event corrected comes back.
	_, err = tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "grade/55/1", 5, "mistake", "test")
	require.NoError(t, err)
	require.Equal(t, repReport{1, 80}, b.report(t, 1)[5])
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, graded(1, 5, "grade/55/1", 90))
	require.NoError(t, err)
	require.Equal(t, repReport{2, 170}, b.report(t, 1)[5])

	// A row with a version from a clock ahead is still replaced.
	ahead := graded(1, 5, "grade/55/2", 10)
	ahead.Version = uint64(time.Now().Add(time.Hour).UnixNano())
	require.NoError(t, tracking.WriteClickHouse(ctx, b.pool, b.ch, []tracking.Event{ahead}))
	row, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, graded(1, 5, "grade/55/2", 20))
	require.NoError(t, err)
	require.Equal(t, ahead.Version+1, row.Version)
	require.Equal(t, repReport{3, 190}, b.report(t, 1)[5])
	b.requireNoMerge(t, 6)

	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, graded(1, 5, "grade/55/9", 1))
	require.Equal(t, errs.NotFound, errs.CodeOf(err), "a correction of nothing: %v", err)
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 2, graded(2, 5, "grade/55/0", 1))
	require.Equal(t, errs.NotFound, errs.CodeOf(err), "another organisation's event: %v", err)
	bad := graded(1, 5, "grade/55/0", 1)
	bad.Kind, bad.OccurredAt = "scored", time.Now().Add(time.Hour)
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, bad)
	require.Equal(t, errs.Invalid, errs.CodeOf(err))
	require.Equal(t, []errs.Detail{
		{Path: "kind", Message: errs.As(err).Details[0].Message},
		{Path: "occurred_at", Message: errs.As(err).Details[1].Message},
	}, errs.As(err).Details)
	require.Equal(t, repReport{3, 190}, b.report(t, 1)[5])
}

// history is n past events spread over reps 1 to 3.
func history(n int) []tracking.Event {
	start := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	events := make([]tracking.Event, n)
	for i := range events {
		events[i] = tracking.Event{RepID: int64(i%3 + 1), Key: fmt.Sprintf("import/%d", i), Kind: tracking.KindLessonCompleted,
			OccurredAt: start.Add(time.Duration(i) * time.Minute), LessonID: int64(i + 1), Value: 1}
	}
	return events
}

func TestBackfillTwiceChangesNoReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	// A live row that the backfill also carries, with another value.
	b.live(t, tracking.Event{OrgID: 1, RepID: 1, Key: "import/0", Kind: tracking.KindLessonCompleted,
		OccurredAt: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC), Value: 7})

	events := history(300)
	n, err := tracking.Backfill(ctx, b.pool, b.ch, time.Now(), 1, events)
	require.NoError(t, err)
	require.Equal(t, 300, n)
	want := map[uint64]repReport{1: {100, 106}, 2: {100, 100}, 3: {100, 100}}
	require.Equal(t, want, b.report(t, 1), "the live row of import/0 outranks its backfill")

	n, err = tracking.Backfill(ctx, b.pool, b.ch, time.Now(), 1, events)
	require.NoError(t, err)
	require.Equal(t, 300, n)
	require.Equal(t, want, b.report(t, 1), "a second backfill changes nothing")
	require.EqualValues(t, 2, b.rawRows(t, "import/1"), "stored twice, counted once")

	// Corrections made after a backfill survive its replay.
	_, err = tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "import/1", 2, "duplicate of import/4", "test")
	require.NoError(t, err)
	fixed := events[2]
	fixed.Value = 5
	_, err = tracking.Correct(ctx, b.pool, b.ch, time.Now(), 1, fixed)
	require.NoError(t, err)
	want = map[uint64]repReport{1: {100, 106}, 2: {99, 99}, 3: {100, 104}}
	require.Equal(t, want, b.report(t, 1))
	_, err = tracking.Backfill(ctx, b.pool, b.ch, time.Now(), 1, events)
	require.NoError(t, err)
	require.Equal(t, want, b.report(t, 1), "a replayed backfill undoes no void or correction")
	require.Empty(t, b.report(t, 2), "the events are the caller's organisation's")
	b.requireNoMerge(t, 6)

	_, err = tracking.Backfill(ctx, b.pool, b.ch, time.Now(), 1, []tracking.Event{{RepID: 1, Key: "x", Kind: "nope", OccurredAt: time.Now()}})
	require.Equal(t, errs.Invalid, errs.CodeOf(err))
	require.Equal(t, want, b.report(t, 1), "an invalid backfill writes nothing")
}

func TestValidateEvents(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	good := func() []tracking.Event {
		return []tracking.Event{
			{RepID: 1, Key: "a", Kind: tracking.KindReply, OccurredAt: now.Add(-time.Hour)},
			{RepID: 2, Key: "a", Kind: tracking.KindGraded, OccurredAt: now, CourseID: 3, Detail: `{"q": 1}`},
		}
	}
	require.NoError(t, tracking.ValidateEvents(good(), now))

	tests := []struct {
		name   string
		change func(e *tracking.Event)
		path   string
	}{
		{"no key", func(e *tracking.Event) { e.Key = "" }, "events[1].key"},
		{"key too long", func(e *tracking.Event) { e.Key = strings.Repeat("é", 201) }, "events[1].key"},
		{"no rep", func(e *tracking.Event) { e.RepID = 0 }, "events[1].rep_id"},
		{"negative rep", func(e *tracking.Event) { e.RepID = -2 }, "events[1].rep_id"},
		{"no kind", func(e *tracking.Event) { e.Kind = "" }, "events[1].kind"},
		{"unknown kind", func(e *tracking.Event) { e.Kind = "graded " }, "events[1].kind"},
		{"no time", func(e *tracking.Event) { e.OccurredAt = time.Time{} }, "events[1].occurred_at"},
		{"future", func(e *tracking.Event) { e.OccurredAt = now.Add(time.Second) }, "events[1].occurred_at"},
		{"before 1970", func(e *tracking.Event) { e.OccurredAt = time.Date(1969, 7, 20, 0, 0, 0, 0, time.UTC) }, "events[1].occurred_at"},
		{"negative course", func(e *tracking.Event) { e.CourseID = -1 }, "events[1].course_id"},
		{"negative enrollment", func(e *tracking.Event) { e.EnrollmentID = -1 }, "events[1].enrollment_id"},
		{"negative assignment", func(e *tracking.Event) { e.AssignmentID = -1 }, "events[1].assignment_id"},
		{"negative lesson", func(e *tracking.Event) { e.LessonID = -1 }, "events[1].lesson_id"},
		{"detail not JSON", func(e *tracking.Event) { e.Detail = `{"q": }` }, "events[1].detail"},
		{"detail not an object", func(e *tracking.Event) { e.Detail = `[1]` }, "events[1].detail"},
		{"detail too big", func(e *tracking.Event) { e.Detail = `{"x":"` + strings.Repeat("x", 1024) + `"}` }, "events[1].detail"},
		{"same rep and key", func(e *tracking.Event) { e.RepID = 1 }, "events[1].key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events := good()
			tt.change(&events[1])
			err := tracking.ValidateEvents(events, now)
			require.Equal(t, errs.Invalid, errs.CodeOf(err))
			details := errs.As(err).Details
			require.Len(t, details, 1, "%v", err)
			require.Equal(t, tt.path, details[0].Path)
			require.NotEmpty(t, details[0].Message)
		})
	}

	t.Run("none", func(t *testing.T) {
		t.Parallel()
		err := tracking.ValidateEvents(nil, now)
		require.Equal(t, "events", errs.As(err).Details[0].Path)
	})
	t.Run("too many", func(t *testing.T) {
		t.Parallel()
		err := tracking.ValidateEvents(make([]tracking.Event, tracking.MaxBackfill+1), now)
		require.Len(t, errs.As(err).Details, 1)
		require.Equal(t, "events", errs.As(err).Details[0].Path)
	})
	t.Run("many problems", func(t *testing.T) {
		t.Parallel()
		err := tracking.ValidateEvents(make([]tracking.Event, 500), now) // every one without key, rep, kind, time
		require.Len(t, errs.As(err).Details, 100, "the first 100 are listed")
		require.Contains(t, err.Error(), "2000 problems")
		require.Equal(t, "events[0].key", errs.As(err).Details[0].Path)
	})
}

func TestDeleteRep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	var events []tracking.Event
	for rep := int64(1); rep <= 3; rep++ {
		for seg := range 20 {
			events = append(events, segment(rep, rep*10, seg))
		}
	}
	other := segment(1, 10, 0)
	other.OrgID = 2 // another organisation's rep 1
	b.live(t, append(events, other)...)
	_, err := tracking.Void(ctx, b.pool, b.ch, time.Now(), 1, "seg/10/0", 1, "replayed ping", "test")
	require.NoError(t, err)
	b.pending(t, segment(1, 10, 20)) // not shipped yet
	before := b.report(t, 1)
	require.EqualValues(t, 19, before[1].Count)

	n, err := tracking.DeleteRep(ctx, b.pool, b.ch, time.Now(), 1, 1)
	require.NoError(t, err)
	require.Equal(t, 20, n, "19 shipped and 1 in the outbox; the void one already gone")
	after := b.report(t, 1)
	require.NotContains(t, after, uint64(1), "the rep is gone from the report at once")
	require.Equal(t, before[2], after[2])
	require.Equal(t, before[3], after[3])
	require.EqualValues(t, 1, b.report(t, 2)[1].Count, "another organisation's rep 1 stays")

	n, err = tracking.DeleteRep(ctx, b.pool, b.ch, time.Now(), 1, 1)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to delete")
	shipped, err := tracking.Ship(ctx, b.pool, b.ch, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 1, shipped)
	require.NotContains(t, b.report(t, 1), uint64(1), "the row shipped late stays deleted")
	b.requireNoMerge(t, 4)
}

// Pings the ingester wrote and the shipper has not moved yet (in event
// batches) are voided with the rep's other events, and stay void once shipped.
func TestDeleteRepWithBatchedPings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	b.live(t, segment(1, 10, 0), segment(2, 20, 0))
	in := tracking.NewIngester(b.pool, quiet, 1)
	defer in.Stop()
	require.NoError(t, in.Write(ctx, []tracking.Event{segment(1, 10, 1), segment(1, 10, 2), segment(2, 20, 1)}))
	require.NoError(t, in.Write(ctx, []tracking.Event{segment(1, 10, 0)})) // a second ping of a shipped segment

	n, err := tracking.DeleteRep(ctx, b.pool, b.ch, time.Now(), 1, 1)
	require.NoError(t, err)
	require.Equal(t, 3, n, "segments 0 (shipped, and again batched), 1 and 2 (batched)")
	shipped, err := tracking.Ship(ctx, b.pool, b.ch, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 4, shipped)
	report := b.report(t, 1)
	require.NotContains(t, report, uint64(1), "the batched pings shipped late stay deleted")
	require.EqualValues(t, 2, report[2].Count)
}
