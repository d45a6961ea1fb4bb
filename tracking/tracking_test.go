package tracking_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func segment(rep, assignment int64, seg int) tracking.Event {
	return tracking.Event{OrgID: 1, RepID: rep, Key: fmt.Sprintf("seg/%d/%d", assignment, seg), Kind: tracking.KindSegmentWatched,
		OccurredAt: time.Date(2027, 3, 8, 14, 0, seg, 0, time.UTC), AssignmentID: assignment, Value: float64(seg)}
}

// countFinal counts the rep's live events as a report reads them: the newest
// version of each key, tombstones left out, before any merge.
func countFinal(t *testing.T, ch driver.Conn, where string) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, ch.QueryRow(context.Background(), `SELECT count() FROM events FINAL WHERE deleted = 0 AND `+where).Scan(&n))
	return n
}

func TestShipMovesTheOutboxOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	var events []tracking.Event
	for seg := range 10 {
		events = append(events, segment(7, 70, seg), segment(7, 70, seg)) // each segment pinged twice
	}
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) }))

	n, err := tracking.Ship(ctx, pool, ch, 7, nil)
	require.NoError(t, err)
	require.Equal(t, 7, n)
	for n > 0 {
		n, err = tracking.Ship(ctx, pool, ch, 7, nil)
		require.NoError(t, err)
	}
	left, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, left)
	require.EqualValues(t, 10, countFinal(t, ch, "rep_id = 7"), "a segment pinged twice counts once")
}

// A crash between the ClickHouse insert and the outbox delete ships the batch
// again: nothing is lost and reports count nothing twice.
func TestShipCrashAfterInsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return tracking.Append(ctx, tx, segment(8, 80, 0), segment(8, 80, 1), segment(8, 80, 2))
	}))
	crash := errors.New("killed")
	_, err := tracking.Ship(ctx, pool, ch, 100, func(context.Context, pgx.Tx, []tracking.Event) error { return crash })
	require.ErrorIs(t, err, crash)
	left, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 3, left, "the outbox keeps the batch")

	n, err := tracking.Ship(ctx, pool, ch, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	var raw uint64
	require.NoError(t, ch.QueryRow(ctx, `SELECT count() FROM events WHERE rep_id = 8`).Scan(&raw))
	require.EqualValues(t, 6, raw, "shipped twice")
	require.EqualValues(t, 3, countFinal(t, ch, "rep_id = 8"), "counted once")
}

// With ClickHouse down nothing is lost: the outbox holds the events until it
// is back.
func TestShipWhileClickHouseIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, segment(9, 90, 0)) }))
	down, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:1"}, DialTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	_, err = tracking.Ship(ctx, pool, down, 100, nil)
	require.Error(t, err)
	left, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 1, left)

	n, err := tracking.Ship(ctx, pool, ch, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.EqualValues(t, 1, countFinal(t, ch, "rep_id = 9"))
}

// A correction (a higher version) and a deletion (a tombstone) show in a
// report query at once, before any merge.
func TestCorrectionsVisibleBeforeMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	require.NoError(t, ch.Exec(ctx, `SYSTEM STOP MERGES events`))
	graded := tracking.Event{OrgID: 1, RepID: 5, Key: "grade/55/0", Kind: tracking.KindGraded, OccurredAt: time.Now(), Value: 40, Version: 1}
	other := tracking.Event{OrgID: 1, RepID: 5, Key: "grade/55/1", Kind: tracking.KindGraded, OccurredAt: time.Now(), Value: 100, Version: 1}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, []tracking.Event{graded, other}))

	corrected := graded
	corrected.Value, corrected.Version = 80, 2
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, []tracking.Event{corrected}))
	var avg float64
	require.NoError(t, ch.QueryRow(ctx, `SELECT avg(value) FROM events FINAL WHERE rep_id = 5 AND deleted = 0`).Scan(&avg))
	require.InDelta(t, 90, avg, 0.001)

	voided := other
	voided.Deleted, voided.Version = true, 2
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, []tracking.Event{voided}))
	require.NoError(t, ch.QueryRow(ctx, `SELECT avg(value) FROM events FINAL WHERE rep_id = 5 AND deleted = 0`).Scan(&avg))
	require.InDelta(t, 80, avg, 0.001)
	dbtest.RequireNoMerge(t, ch, "events", 3)
}

func TestIngesterGroupCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	in := tracking.NewIngester(pool, quiet, 4)
	defer in.Stop()
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for w := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- in.Write(ctx, []tracking.Event{segment(int64(w), int64(w), 0), segment(int64(w), int64(w), 1)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 1000, n, "every acknowledged write is in the outbox")
	in.Stop()
	require.ErrorIs(t, in.Write(ctx, []tracking.Event{segment(1, 1, 1)}), tracking.ErrStopped)
}

// repChanged is the event of a rep's facts at a time, versioned by it.
func repChanged(org, rep, team int64, status string, at time.Time) tracking.Event {
	f := tracking.RepFacts{OrgID: org, RepID: rep, TeamID: team, Status: status, Name: fmt.Sprintf("Rep %d", rep),
		TimeZone: "UTC", Version: uint64(at.UnixNano())}
	return f.Event(at)
}

// Rep changes shipped with the events keep the reps dimension in step.
func TestShipSyncsReps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	at := time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return tracking.Append(ctx, tx, repChanged(1, 11, 100, "active", at), repChanged(1, 11, 200, "active", at.Add(time.Minute)),
			repChanged(1, 12, 100, "active", at))
	}))
	_, err := tracking.Ship(ctx, pool, ch, 100, nil)
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return tracking.Append(ctx, tx, repChanged(1, 12, 100, "removed", at.Add(time.Hour)))
	}))
	_, err = tracking.Ship(ctx, pool, ch, 100, nil)
	require.NoError(t, err)

	var team uint64
	var status string
	require.NoError(t, ch.QueryRow(ctx, `SELECT argMax(team_id, version), argMax(status, version) FROM reps WHERE rep_id = 11`).Scan(&team, &status))
	require.EqualValues(t, 200, team, "moved to the newer team")
	require.NoError(t, ch.QueryRow(ctx, `SELECT argMax(status, version) FROM reps WHERE rep_id = 12`).Scan(&status))
	require.Equal(t, "removed", status)
}

// Every column of an event reaches ClickHouse as it was appended, through
// the outbox's arrays and the batch's columns.
func TestShipKeepsEveryColumn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	events := []tracking.Event{
		{OrgID: 5, RepID: 51, Key: "seg/501/3", Kind: tracking.KindSegmentWatched, OccurredAt: time.Date(2027, 3, 8, 9, 30, 15, 0, chicago),
			CourseID: 52, EnrollmentID: 53, AssignmentID: 501, LessonID: 54, Value: 3, Detail: `{"position":59.75,"rate":1.25,"session":"s-1"}`,
			Version: 1_800_000_000_000_000_001},
		{OrgID: 5, RepID: 52, Key: "done/502", Kind: tracking.KindLessonCompleted, OccurredAt: time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC),
			Value: 87.5, Detail: "é \"quoted\"", Version: 7, Deleted: true},
		{OrgID: 5, RepID: 53, Key: "open/503", Kind: tracking.KindLessonOpened, OccurredAt: time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)},
	}
	before := uint64(time.Now().UnixNano())
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, events...) }))
	n, err := tracking.Ship(ctx, pool, ch, 100, nil)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	rows, err := ch.Query(ctx, `SELECT org_id, rep_id, event_key, kind, occurred_at, course_id, enrollment_id, assignment_id,
		lesson_id, value, detail, version, deleted FROM events WHERE org_id = 5 ORDER BY rep_id`)
	require.NoError(t, err)
	defer rows.Close()
	var got []tracking.Event
	for rows.Next() {
		var org, rep, course, enrollment, assignment, lesson, version uint64
		var deleted uint8
		var e tracking.Event
		require.NoError(t, rows.Scan(&org, &rep, &e.Key, &e.Kind, &e.OccurredAt, &course, &enrollment, &assignment, &lesson,
			&e.Value, &e.Detail, &version, &deleted))
		e.OrgID, e.RepID, e.CourseID, e.EnrollmentID = int64(org), int64(rep), int64(course), int64(enrollment)
		e.AssignmentID, e.LessonID, e.Version, e.Deleted = int64(assignment), int64(lesson), version, deleted == 1
		got = append(got, e)
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, 3)
	require.GreaterOrEqual(t, got[2].Version, before, "no version given: the time of writing")
	got[2].Version = 0
	for i := range events {
		require.True(t, events[i].OccurredAt.Equal(got[i].OccurredAt), "%v, not %v", got[i].OccurredAt, events[i].OccurredAt)
		got[i].OccurredAt = events[i].OccurredAt
	}
	require.Equal(t, events, got)
}

// WriteWithin gives up in time when the outbox cannot be written, and the
// ingester goes on once it can.
func TestIngesterWriteWithin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	in := tracking.NewIngester(pool, quiet, 1)
	defer in.Stop()
	require.NoError(t, in.WriteWithin(ctx, time.Second, []tracking.Event{segment(1, 10, 0)}))

	lock, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer lock.Rollback(ctx) //nolint:errcheck // rolled back below unless the test fails first
	_, err = lock.Exec(ctx, `LOCK TABLE event_batches IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	start := time.Now()
	err = in.WriteWithin(ctx, 300*time.Millisecond, []tracking.Event{segment(1, 10, 1)})
	took := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.GreaterOrEqual(t, took, 300*time.Millisecond)
	require.Less(t, took, 2*time.Second)
	require.NoError(t, lock.Rollback(ctx))

	require.NoError(t, in.WriteWithin(ctx, 5*time.Second, []tracking.Event{segment(1, 10, 2)}))
	n, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 3, n, "the write that was given up on still committed once the lock was gone")
}

// The ingester's batches wait with the outbox (Backlog, Pending) and ship
// with it, whole, up to the limit of events.
func TestShipBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	in := tracking.NewIngester(pool, quiet, 1)
	defer in.Stop()
	var written []tracking.Event
	for req := range 4 { // one request a batch: each write waits for its commit
		events := []tracking.Event{segment(30, 300, 3*req), segment(30, 300, 3*req+1), segment(31, 310, req)}
		events[2].OrgID, events[2].Detail = 3, "a\ttab"
		require.NoError(t, in.Write(ctx, events))
		written = append(written, events...)
	}
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tracking.Append(ctx, tx, segment(32, 320, 0)) }))

	n, age, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 13, n)
	require.Greater(t, age, time.Duration(0))
	pending, err := tracking.Pending(ctx, pool, 3)
	require.NoError(t, err)
	require.Len(t, pending, 4, "organisation 3's")
	require.Equal(t, "a\ttab", pending[0].Detail)
	pending, err = tracking.Pending(ctx, pool, 0)
	require.NoError(t, err)
	require.Len(t, pending, 13)
	require.Equal(t, int64(32), pending[0].RepID, "the outbox's rows first, then the batches in order")
	for i, e := range pending[1:] {
		require.Equal(t, written[i].Key, e.Key)
		require.NotZero(t, e.Version, "stamped when written")
	}

	var shippedEvents []tracking.Event
	keep := func(_ context.Context, _ pgx.Tx, events []tracking.Event) error {
		shippedEvents = append(shippedEvents, events...)
		return nil
	}
	shipped, err := tracking.Ship(ctx, pool, ch, 5, keep)
	require.NoError(t, err)
	require.Equal(t, 1+6, shipped, "the outbox row, and whole batches up to 5 events, starting one more while under")
	shipped, err = tracking.Ship(ctx, pool, ch, 1, keep)
	require.NoError(t, err)
	require.Equal(t, 3, shipped, "at least one batch")
	shipped, err = tracking.Ship(ctx, pool, ch, 100, keep)
	require.NoError(t, err)
	require.Equal(t, 3, shipped)
	n, _, err = tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, pending, shippedEvents, "shipped as they were pending, in order")
	require.EqualValues(t, 12, countFinal(t, ch, "rep_id IN (30, 31)"))
}

// Writes racing Stop either commit or say the ingester stopped; none is left
// waiting, and every acknowledged one is stored.
func TestIngesterStopWhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	in := tracking.NewIngester(pool, quiet, 2)
	var wg sync.WaitGroup
	var acked atomic.Int64
	for w := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := in.Write(ctx, []tracking.Event{segment(int64(w), int64(w), 0)})
			if err == nil {
				acked.Add(1)
				return
			}
			assert.ErrorIs(t, err, tracking.ErrStopped)
		}()
	}
	in.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("writes still waiting a minute after Stop")
	}
	n, _, err := tracking.Backlog(ctx, pool)
	require.NoError(t, err)
	require.EqualValues(t, acked.Load(), n)
}
