package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
)

func TestBatcherGroupsConcurrentCalls(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	b := newBatcher(1, 50, func(_ context.Context, ins []int) ([]string, []error) {
		<-release // hold the first batch so that the others queue up behind it
		mu.Lock()
		sizes = append(sizes, len(ins))
		mu.Unlock()
		outs, errs := make([]string, len(ins)), make([]error, len(ins))
		for i, in := range ins {
			outs[i] = fmt.Sprint(in * 2)
			if in%7 == 0 {
				errs[i] = fmt.Errorf("%d is a multiple of 7", in)
			}
		}
		return outs, errs
	})
	const calls = 120
	var wg sync.WaitGroup
	results := make([]string, calls)
	fails := make([]error, calls)
	for i := range calls {
		wg.Go(func() { results[i], fails[i] = b.do(context.Background(), i) })
	}
	// The first batch is held; the queue behind it is full.
	require.Eventually(t, func() bool { return len(b.calls) == cap(b.calls) }, 10*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	b.close()

	for i := range calls {
		require.Equal(t, fmt.Sprint(i*2), results[i], "call %d got another call's result", i)
		require.Equal(t, i%7 == 0, fails[i] != nil, "call %d's error", i)
	}
	total := 0
	for _, n := range sizes {
		require.LessOrEqual(t, n, 50, "a batch over the maximum")
		total += n
	}
	require.Equal(t, calls, total)
	require.Greater(t, slices.Max(sizes), 1, "calls that queued together were run one by one: %v", sizes)
}

func TestBatcherRunsCallsAfterClose(t *testing.T) {
	b := newBatcher(2, 10, func(_ context.Context, ins []int) ([]int, []error) {
		return slices.Clone(ins), make([]error, len(ins))
	})
	b.close()
	got, err := b.do(context.Background(), 42)
	require.NoError(t, err)
	require.Equal(t, 42, got)
}

func TestBatcherCallerGivesUpBeforeQueueing(t *testing.T) {
	block, running := make(chan struct{}), make(chan struct{}, 1)
	defer close(block)
	b := newBatcher(1, 1, func(_ context.Context, ins []int) ([]int, []error) {
		running <- struct{}{}
		<-block
		return ins, make([]error, len(ins))
	})
	go b.do(context.Background(), 1) // occupies the runner
	<-running
	go b.do(context.Background(), 2) // fills the queue (size 1)
	require.Eventually(t, func() bool { return len(b.calls) == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := b.do(ctx, 3)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// acceptanceFixture is a scheduler (not started) on a fresh database with
// six reps enrolled in a course of three text lessons, their first lessons
// scheduled; acceptances makes the provider's acceptance of messages.
type acceptanceFixture struct {
	pool *pgxpool.Pool
	s    *Scheduler
	ids  []int64 // the six first lessons
	logs *bytes.Buffer
}

func newAcceptanceFixture(t *testing.T) acceptanceFixture {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	queue, err := NewQueue(pool, QueueConfig{}, log)
	require.NoError(t, err)
	store := lessons.NewStore(pool, lessons.StoreConfig{PublicURL: "https://morsel.test", Queue: queue})
	s, err := New(pool, store, nil, Config{NudgeAfter: time.Hour}, log, true)
	require.NoError(t, err)
	t.Cleanup(func() { s.loads.close(); s.accepts.close() })

	org, err := store.CreateOrg(ctx, lessons.Org{Slug: "acme", Name: "Acme"})
	require.NoError(t, err)
	spec := lessons.CourseSpec{Slug: "basics", Title: "Basics", PassMark: 70, DueDays: 30,
		Cadence:    lessons.Cadence{EveryDays: 1, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow()}
	for i := range 3 {
		spec.Lessons = append(spec.Lessons, lessons.Lesson{Key: fmt.Sprintf("l%d", i+1), Kind: lessons.KindText,
			Title: fmt.Sprintf("Lesson %d", i+1), Body: "Text."})
	}
	v, err := store.SaveCourse(ctx, org.ID, spec, true)
	require.NoError(t, err)
	var in []lessons.RepInput
	for i := range 6 {
		in = append(in, lessons.RepInput{Name: fmt.Sprint("Rep ", i), Phone: fmt.Sprintf("+1212555%04d", i), TimeZone: "America/New_York"})
	}
	_, err = store.ImportReps(ctx, org.ID, in)
	require.NoError(t, err)
	reps, err := store.Reps(ctx, org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	var repIDs []int64
	for _, r := range reps {
		repIDs = append(repIDs, r.ID)
	}
	_, err = store.Enroll(ctx, org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: repIDs})
	require.NoError(t, err)
	f := acceptanceFixture{pool: pool, s: s, logs: logs}
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM messages WHERE status = 'scheduled'`).Scan(&f.ids))
	require.Len(t, f.ids, 6)
	return f
}

// acceptances are the provider's acceptances of the fixture's messages.
func (f acceptanceFixture) acceptances(t *testing.T) []acceptance {
	t.Helper()
	found, err := f.s.store.OutboundMessages(context.Background(), f.ids)
	require.NoError(t, err)
	loc, err := lessons.Location("America/New_York")
	require.NoError(t, err)
	var as []acceptance
	for i, id := range f.ids {
		as = append(as, acceptance{o: found[id], sid: fmt.Sprintf("SM%032d", i), loc: loc})
	}
	return as
}

// A message whose recording fails does not hold back the others in its batch:
// the batch is recorded one by one, and only that message fails.
func TestRecordAcceptedIsolatesAFailingMessage(t *testing.T) {
	ctx := context.Background()
	f := newAcceptanceFixture(t)
	pool, s, ids := f.pool, f.s, f.ids
	var err error
	bad := ids[2]
	// A fault in the database itself, for one message only.
	_, err = pool.Exec(ctx, fmt.Sprintf(`
		CREATE FUNCTION fail_one() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.id = %d AND NEW.status = 'queued' THEN RAISE EXCEPTION 'injected fault'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_one BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION fail_one();`, bad))
	require.NoError(t, err)

	_, fails := s.recordAccepted(ctx, f.acceptances(t))
	for i, id := range ids {
		if id == bad {
			require.Error(t, fails[i])
			require.Contains(t, fails[i].Error(), "injected fault")
			continue
		}
		require.NoError(t, fails[i], "message %d", id)
	}

	var queued, scheduled, nextLessons, nudges int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'queued' AND provider_sid IS NOT NULL),
		count(*) FILTER (WHERE status = 'scheduled' AND id <> ALL($1)) FROM messages`, ids).Scan(&queued, &scheduled))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'send_sms'), count(*) FILTER (WHERE kind = 'nudge')
		FROM river_job WHERE kind = 'nudge' OR args->>'message_id' <> ALL($1::text[])`,
		int64sToText(ids)).Scan(&nextLessons, &nudges))
	require.Equal(t, 5, queued, "the other five messages are recorded as accepted")
	require.Equal(t, 5, scheduled, "each of the five reps has its next lesson scheduled")
	require.Equal(t, 5, nextLessons, "and queued")
	require.Equal(t, 5, nudges, "each accepted lesson has its nudge queued")
	var status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, bad).Scan(&status))
	require.Equal(t, "scheduled", status, "the failing message is left for its job's retry")
}

// A batch of sent messages whose assignment has its nudge queued already (a
// quiz's second question) is recorded at once: the nudge is not queued twice.
func TestRecordAcceptedKeepsOneNudgePerAssignment(t *testing.T) {
	ctx := context.Background()
	f := newAcceptanceFixture(t)
	as := f.acceptances(t)
	_, err := f.s.client.Insert(ctx, NudgeArgs{AssignmentID: as[1].o.AssignmentID}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, fails := f.s.recordAccepted(ctx, as)
	for i := range fails {
		require.NoError(t, fails[i])
	}
	require.NotContains(t, f.logs.String(), "one by one", "the batch went in whole")
	var nudges, assignments int
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT args->>'assignment_id') FROM river_job WHERE kind = 'nudge'`).
		Scan(&nudges, &assignments))
	require.Equal(t, 6, nudges)
	require.Equal(t, 6, assignments)
}

func int64sToText(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprint(id)
	}
	return out
}
