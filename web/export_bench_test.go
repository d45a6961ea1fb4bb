package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

// scaleTable is an organisation of many reps in real Postgres and
// ClickHouse, each in two enrollments, and its admin's session.
type scaleTable struct {
	srv   *web.Server
	admin string
	reps  int
}

// setupScaleTable writes reps made by lessons.GenerateReps (the names,
// teams and zones `morsel demo` and the import benchmarks use) into
// ClickHouse through the live path's writer: each rep's facts, two
// enrollments (Pricing and Compliance, due dates spread from ten days ago to
// a month ahead), and for two reps in three a lesson sent and done and a
// quiz answer, so that every column of the table has figures to sort. Every
// fourth rep has the tag "quarter".
func setupScaleTable(tb testing.TB, reps int) scaleTable {
	tb.Helper()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(tb), dbtest.ClickHouse(tb)
	store := lessons.NewStore(pool, lessons.StoreConfig{PasswordCost: bcrypt.MinCost})
	org, err := store.CreateOrg(ctx, lessons.Org{Slug: "scale", Name: "Scale"})
	require.NoError(tb, err)
	admin, _, err := store.CreateUser(ctx, org.ID, lessons.NewUser{Name: "Ada Admin", Email: "admin@scale.test", Role: lessons.RoleAdmin})
	require.NoError(tb, err)
	require.NoError(tb, store.SetPassword(ctx, admin.Email, "correct horse 1", false)) // no password to change first
	sess, err := store.StartSession(ctx, admin)
	require.NoError(tb, err)
	teams := map[string]int64{}
	now := time.Now().UTC().Truncate(time.Second)
	var events []tracking.Event
	for i, in := range lessons.GenerateReps(reps, 1) {
		if teams[in.Team] == 0 {
			t, err := store.CreateTeam(ctx, org.ID, in.Team)
			require.NoError(tb, err)
			teams[in.Team] = t.ID
		}
		id := int64(1000 + i)
		var tags []string
		if i%4 == 0 {
			tags = []string{"quarter"}
		}
		enrolled := now.AddDate(0, 0, -(i % 30))
		events = append(events, tracking.RepFacts{OrgID: org.ID, RepID: id, TeamID: teams[in.Team], Team: in.Team, Status: "active",
			Name: in.Name, Phone: in.Phone, Email: in.Email, TimeZone: in.TimeZone, Tags: tags}.Event(enrolled))
		for c, title := range []string{"Pricing", "Compliance"} {
			enrollment := id*10 + int64(c)
			events = append(events, tracking.EnrollmentFacts{OrgID: org.ID, RepID: id, EnrollmentID: enrollment, CourseID: int64(c + 1),
				CourseVersionID: int64(c + 1), CourseTitle: title, Status: "active", EnrolledAt: enrolled,
				DueOn: now.AddDate(0, 0, i%40-10).Format(time.DateOnly), Lessons: 4, Segments: 8}.Event(enrolled))
			if i%3 == 0 {
				continue
			}
			ev := func(kind, key string, value float64) tracking.Event {
				return tracking.Event{OrgID: org.ID, RepID: id, Key: fmt.Sprintf("%s/%d", key, enrollment), Kind: kind,
					OccurredAt: enrolled.Add(time.Hour), CourseID: int64(c + 1), EnrollmentID: enrollment,
					AssignmentID: enrollment*10 + 1, LessonID: 1, Value: value}
			}
			events = append(events, ev(tracking.KindMessageSent, "msg", 0), ev(tracking.KindLessonCompleted, "done", 0),
				ev(tracking.KindGraded, "grade", float64(i%2)))
		}
	}
	for i := range events {
		events[i].Version = uint64(time.Now().UnixNano()) + uint64(i)
	}
	for len(events) > 0 {
		n := min(len(events), 20_000)
		require.NoError(tb, tracking.WriteClickHouse(ctx, pool, ch, events[:n]))
		events = events[n:]
	}
	srv := web.New(web.Deps{Store: store, ClickHouse: ch, Pool: pool, Logger: slog.New(slog.DiscardHandler)})
	return scaleTable{srv: srv, admin: sess.Token, reps: reps}
}

// export runs GET path as the admin into w.
func (s scaleTable) export(w http.ResponseWriter, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(&http.Cookie{Name: "morsel_session", Value: s.admin})
	s.srv.Handler().ServeHTTP(w, req)
}

// discardWriter is a response that keeps nothing of its body but its size,
// and calls onWrite (if any) after each write.
type discardWriter struct {
	header  http.Header
	status  int
	bytes   int
	onWrite func()
}

func (w *discardWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	n, err := io.Discard.Write(p)
	w.bytes += n
	if w.onWrite != nil {
		w.onWrite()
	}
	return n, err
}

// BenchmarkRepTableCSV measures the rep table's CSV export end to end, as
// an admin downloads it (session, scope, the current snapshot, every row
// sorted by due date and written), for an organisation of 7,000 reps in two
// enrollments each: 14,000 rows.
//
//	go test ./web/ -run '^$' -bench RepTableCSV -benchtime 5x
func BenchmarkRepTableCSV(b *testing.B) {
	s := setupScaleTable(b, 7000)
	var size int
	for _, sort := range []string{"name", "due", "status"} {
		b.Run("sort="+sort, func(b *testing.B) {
			path := "/dashboard/reps.csv?sort=" + sort
			s.export(&discardWriter{}, path) // the snapshot and its order, once
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{}
				s.export(w, path)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
				size = w.bytes
			}
			b.ReportMetric(float64(size), "bytes/export")
		})
	}
}

// BenchmarkRepTablePage measures a page of the same table, for comparison:
// what the sorted order per snapshot must keep fast.
//
//	go test ./web/ -run '^$' -bench RepTablePage -benchtime 20x
func BenchmarkRepTablePage(b *testing.B) {
	s := setupScaleTable(b, 7000)
	for _, sort := range []string{"name", "due", "status"} {
		b.Run("sort="+sort, func(b *testing.B) {
			path := "/dashboard/reps?sort=" + sort + "&dir=desc"
			s.export(&discardWriter{}, path)
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{}
				s.export(w, path)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// The rep table's CSV export holds nothing per row: the live heap while it
// streams the whole organisation (14,000 rows) grows no more above the heap
// before it than while it streams the quarter tagged "quarter" (3,500 rows,
// the same snapshot walked), give or take 64 KiB, where holding even 8 bytes
// a row would add 84 KiB and the former copy of every row (56 bytes a row
// and more) half a megabyte. The heap is read after a collection every few
// writes of the answer; each export's figure is the least of three runs,
// so that a stray allocation elsewhere cannot make it.
func TestRepTableCSVMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 7,000 reps to ClickHouse")
	}
	s := setupScaleTable(t, 7000)
	// peak is how far the live heap rose above its level before the export
	// at its highest, and the rows the answer had.
	peak := func(t *testing.T, path string) (uint64, int) {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base, top, writes := ms.HeapAlloc, ms.HeapAlloc, 0
		w := &discardWriter{onWrite: func() {
			if writes++; writes%4 != 0 {
				return
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
		}}
		s.export(w, path)
		require.Equal(t, http.StatusOK, w.status)
		return top - base, w.bytes
	}
	least := func(t *testing.T, path string) (uint64, int) {
		best, size := peak(t, path)
		for range 2 {
			p, n := peak(t, path)
			require.Equal(t, size, n, "the same answer each time")
			best = min(best, p)
		}
		return best, size
	}
	for _, sort := range []string{"name", "status"} {
		t.Run(sort, func(t *testing.T) {
			all, quarter := "/dashboard/reps.csv?sort="+sort, "/dashboard/reps.csv?tag=quarter&sort="+sort
			s.export(&discardWriter{}, all) // the snapshot and its order, once
			growQuarter, sizeQuarter := least(t, quarter)
			growAll, sizeAll := least(t, all)
			t.Logf("%d bytes of CSV: heap +%d B; %d bytes: heap +%d B", sizeQuarter, growQuarter, sizeAll, growAll)
			require.InDelta(t, 4*sizeQuarter, sizeAll, float64(sizeAll)/10, "four times the rows")
			require.Less(t, growAll, growQuarter+64<<10, "the heap does not grow with the rows")
		})
	}
}
