package reports

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// tableSnapshot is a snapshot of reps made up at random: names, teams and
// figures that tie often, rows of every status, removed reps and cancelled
// enrollments, tags "a" and "b" on some reps, and "q" on every fourth rep.
func tableSnapshot(reps int, seed uint64, now time.Time) *snapshot {
	rng := rand.New(rand.NewPCG(seed, 7))
	pick := func(n int) int { return rng.IntN(n) }
	at := func(days int) time.Time {
		return now.Add(time.Duration(days)*24*time.Hour + time.Duration(pick(3600))*time.Second)
	}
	var progress []tracking.EnrollmentProgress
	for rep := int64(1); rep <= int64(reps); rep++ {
		team := int64(1 + pick(4))
		var tags []string
		for _, t := range []string{"a", "b"} {
			if pick(3) == 0 {
				tags = append(tags, t)
			}
		}
		if rep%4 == 0 {
			tags = append(tags, "q")
		}
		repStatus := "active"
		if pick(20) == 0 {
			repStatus = "removed"
		}
		name := []string{"Ana", "ana", "Ben", "Zoë", "Lou"}[pick(5)] + fmt.Sprint(" ", pick(3))
		for e := range 1 + pick(3) {
			p := tracking.EnrollmentProgress{OrgID: 1, TeamID: team, RepID: rep, EnrollmentID: rep*10 + int64(e), CourseID: int64(1 + pick(2)),
				CourseTitle: []string{"Pricing", "Compliance"}[pick(2)], Team: fmt.Sprint("Team ", team), Name: name, Tags: tags,
				RepStatus: repStatus, OptedOut: pick(15) == 0, PhoneInvalid: pick(15) == 0, Status: "active",
				EnrolledAt: at(-pick(60)), Lessons: pick(4), Answers: pick(3), Segments: 4 * pick(2)}
			if pick(20) == 0 {
				p.Status = "cancelled"
			}
			p.Sent = pick(p.Lessons + 1)
			p.Done = pick(p.Sent + 1)
			p.Correct = pick(p.Answers + 1)
			p.Watched = pick(p.Segments + 2)
			if pick(4) > 0 {
				p.DueAt = at(pick(20) - 5)
			}
			if pick(3) > 0 {
				p.LastActivityAt = at(-pick(10))
			}
			if p.Sent > p.Done {
				p.OldestOpenSentAt = at(-pick(6))
			}
			progress = append(progress, p)
		}
	}
	sn := &snapshot{reps: map[int64]*repRows{}}
	sn.add(progress, nil)
	return sn
}

// sortedRows is the rep table as it was read before walk: every row of the
// scope, keyed at now, after start, sorted whole.
func sortedRows(sn *snapshot, s Scope, team int64, c Column, desc bool, start *Cursor, now time.Time) []keyed {
	order := func(a, b keyed) int {
		if desc {
			return -compareKeys(a.key, b.key)
		}
		return compareKeys(a.key, b.key)
	}
	var rows []keyed
	sn.rows(s, team, func(p *progressRow) {
		k := keyed{p: p, st: StatusOf(p.EnrollmentProgress, now), key: Cursor{Rep: p.RepID, Enrollment: p.EnrollmentID}}
		k.key.Text, k.key.Number = sortKey(c, p, k.st)
		if start == nil || order(k, keyed{key: *start}) > 0 {
			rows = append(rows, k)
		}
	})
	slices.SortFunc(rows, order)
	return rows
}

// Walking a snapshot's sorted rows gives what sorting them gave: the same
// rows in the same order with the same keys, for every column both ways,
// every kind of scope, and pages that start after a row, between rows or
// after a cursor that matches none.
func TestWalkMatchesSort(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	sn := tableSnapshot(300, 1, now)
	scopes := []struct {
		name  string
		scope Scope
		team  int64
	}{
		{"organisation", Scope{OrgID: 1, All: true}, 0},
		{"one team picked", Scope{OrgID: 1, All: true}, 2},
		{"a manager's teams", Scope{OrgID: 1, Teams: []int64{1, 3}}, 0},
		{"a manager's team picked", Scope{OrgID: 1, Teams: []int64{1, 3}}, 3},
		{"a manager of none", Scope{OrgID: 1, Teams: []int64{}}, 0},
		{"tagged", Scope{OrgID: 1, All: true}.Tagged("a"), 0},
		{"a manager's, tagged twice", Scope{OrgID: 1, Teams: []int64{2, 4}}.Tagged("a", "b"), 0},
	}
	columns := []Column{ByName, ByTeam, ByCourse, ByProgress, ByQuiz, ByVideo, ByActivity, ByDue, ByStatus}
	for _, sc := range scopes {
		for _, c := range columns {
			for _, desc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/desc=%v", sc.name, c, desc), func(t *testing.T) {
					all := sortedRows(sn, sc.scope, sc.team, c, desc, nil, now)
					if sc.name != "a manager of none" {
						require.Greater(t, len(all), 10, "the scope has rows to order")
					}
					starts := []*Cursor{nil, {Text: "zzz"}, {Number: -5}, {Number: 1 << 40}}
					for i := 0; i < len(all); i += 1 + len(all)/7 {
						k := all[i].key
						starts = append(starts, &k)
						between := k
						between.Enrollment++ // between two rows, or after the rep's last
						starts = append(starts, &between)
					}
					for _, start := range starts {
						want := sortedRows(sn, sc.scope, sc.team, c, desc, start, now)
						var got []keyed
						sn.walk(sc.scope, sc.team, c, desc, start, now, func(k keyed) bool {
							got = append(got, k)
							return true
						})
						require.Equal(t, len(want), len(got), "after %+v", start)
						for i := range want {
							require.Equal(t, want[i].key, got[i].key, "row %d after %+v", i, start)
							require.Same(t, want[i].p, got[i].p, "row %d after %+v", i, start)
							require.Equal(t, want[i].st, got[i].st, "row %d after %+v", i, start)
						}
						// Stopping early stops.
						n := 0
						sn.walk(sc.scope, sc.team, c, desc, start, now, func(keyed) bool { n++; return n < 3 })
						require.Equal(t, min(3, len(want)), n, "after %+v", start)
					}
				})
			}
		}
	}
}

// A snapshot made from the one before by a write of a few reps carries the
// orders the one before had sorted instead of sorting again: each carried
// order is the one a sort of the new snapshot's rows gives, step after step,
// with reps whose rows changed, reps gone, reps new and reps given twice.
func TestCarriedOrdersMatchSort(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	columns := []Column{ByName, ByTeam, ByCourse, ByProgress, ByQuiz, ByVideo, ByActivity, ByDue, ByStatus}
	sn := tableSnapshot(300, 1, now)
	for _, c := range columns {
		sn.ordered(c)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for step := range 20 {
		// The rows the write reads again, from a made-up future of the
		// organisation with more reps.
		future := tableSnapshot(320, uint64(100+step), now)
		var changed []int64
		var progress []tracking.EnrollmentProgress
		for range 1 + rng.IntN(25) {
			id := int64(1 + rng.IntN(320))
			changed = append(changed, id)
			if rng.IntN(6) == 0 || slices.Contains(changed[:len(changed)-1], id) {
				continue // gone, or given twice: its rows once
			}
			for _, p := range future.reps[id].rows {
				progress = append(progress, p.EnrollmentProgress)
			}
		}
		next := sn.withReps(int64(step+1), changed, progress, nil)
		require.Len(t, next.orders.byColumn, len(columns), "every order carried, none left to sort on reading")
		fresh := &snapshot{reps: maps.Clone(next.reps), all: next.all}
		for _, c := range columns {
			got := next.ordered(c)
			want := sortedLive(c, fresh.all)
			require.Equal(t, len(want), len(got), "step %d, %s", step, c)
			for i := range want {
				require.Same(t, want[i], got[i], "step %d, %s: row %d", step, c, i)
			}
		}
		sn = next
	}
}

// Walking the rows holds and allocates nothing per row once the snapshot's
// order is sorted: walking four times the rows (the whole organisation
// against the quarter of reps tagged "q", from the same snapshot) allocates
// exactly as often and as many bytes, so an export's memory does not grow
// with the number of rows. The sort itself is made once per snapshot and
// column, and shared by every later read.
func TestWalkMemoryFlat(t *testing.T) {
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	sn := tableSnapshot(4000, 2, now)
	all, quarter := Scope{OrgID: 1, All: true}, Scope{OrgID: 1, All: true}.Tagged("q")
	for _, c := range []Column{ByName, ByDue, ByStatus} {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/desc=%v", c, desc), func(t *testing.T) {
				var rows int
				walk := func(s Scope) func() {
					return func() {
						rows = 0
						sn.walk(s, 0, c, desc, nil, now, func(keyed) bool { rows++; return true })
					}
				}
				walk(all)() // sorts the order, once
				bytes := func(f func()) uint64 {
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					for range 10 {
						f()
					}
					runtime.ReadMemStats(&after)
					return (after.TotalAlloc - before.TotalAlloc) / 10
				}
				allocsQuarter, bytesQuarter := testing.AllocsPerRun(10, walk(quarter)), bytes(walk(quarter))
				quarterRows := rows
				allocsAll, bytesAll := testing.AllocsPerRun(10, walk(all)), bytes(walk(all))
				require.Greater(t, quarterRows, 500)
				require.InDelta(t, 4*quarterRows, rows, float64(rows)/5, "about four times the rows")
				t.Logf("%d rows: %.0f allocs, %d B; %d rows: %.0f allocs, %d B", quarterRows, allocsQuarter, bytesQuarter, rows, allocsAll, bytesAll)
				require.Equal(t, allocsQuarter, allocsAll, "allocations do not grow with the rows")
				require.LessOrEqual(t, allocsAll, 10.0, "a few allocations a walk, none a row")
				require.Less(t, bytesAll, uint64(rows), "under a byte a row: nothing held per row")
			})
		}
	}
}

// BenchmarkOrdered measures what the first read of a snapshot in a column's
// order costs, once per snapshot and column: sorting about 14,000 rows (7,000
// reps made up by tableSnapshot).
//
//	go test ./tracking/reports/ -run '^$' -bench Ordered
func BenchmarkOrdered(b *testing.B) {
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	sn := tableSnapshot(7000, 3, now)
	for _, c := range []Column{ByName, ByDue, ByStatus} {
		b.Run(string(c), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sn.orders = rowOrders{}
				sn.ordered(c)
			}
			b.ReportMetric(float64(len(sn.ordered(c))), "rows")
		})
	}
}

// BenchmarkNextSnapshot is the cost of a write of 20 reps to the rep
// table of 7,000 reps sorted by three columns: the next snapshot with its
// orders carried (carried), or sorted again on reading (sorted, as before).
func BenchmarkNextSnapshot(b *testing.B) {
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	sn := tableSnapshot(7000, 1, now)
	columns := []Column{ByName, ByActivity, ByStatus}
	for _, c := range columns {
		sn.ordered(c)
	}
	future := tableSnapshot(7000, 2, now)
	var changed []int64
	var progress []tracking.EnrollmentProgress
	for id := int64(1); id <= 7000; id += 350 {
		changed = append(changed, id)
		for _, p := range future.reps[id].rows {
			progress = append(progress, p.EnrollmentProgress)
		}
	}
	b.Run("carried", func(b *testing.B) {
		for range b.N {
			next := sn.withReps(1, changed, progress, nil)
			for _, c := range columns {
				next.ordered(c)
			}
		}
	})
	b.Run("sorted", func(b *testing.B) {
		for range b.N {
			next := sn.withReps(1, changed, progress, nil)
			next.orders.byColumn = nil
			for _, c := range columns {
				next.ordered(c)
			}
		}
	})
}
