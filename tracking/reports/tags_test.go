package reports_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

// Tags reach the reports with the rep's facts: the rep table filters by
// them and the breakdown groups by them on the next load after a write, and
// both equal a recount from the raw events; a removed tag is gone on the
// next load.
func TestTagsFilterAndBreakdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Now().UTC().Truncate(time.Second)
	history(t, pool, ch, now)
	rep := reports.New(ch, pool, func() time.Time { return now })
	all := reports.Scope{OrgID: org, All: true, Contacts: true}
	ship := func(events ...tracking.Event) { t.Helper(); shipEvents(t, pool, ch, events...) }
	facts := func(id int64, tags ...string) tracking.Event {
		return tracking.RepFacts{OrgID: org, RepID: id, TeamID: 5, Team: "North", Status: "active", Name: "Rep " + string(rune('0'+id)),
			TimeZone: "UTC", Tags: tags}.Event(now)
	}
	// filtered returns the reps of the rows the filter keeps, and how
	// many rows (enrollments) it keeps.
	filtered := func(f reports.Filter) ([]int64, int) {
		t.Helper()
		page, err := rep.Table(ctx, all, reports.TableQuery{Filter: f, Limit: reports.MaxPageSize})
		require.NoError(t, err)
		var ids []int64
		for _, r := range page.Rows {
			if !slices.Contains(ids, r.RepID) {
				ids = append(ids, r.RepID)
			}
		}
		slices.Sort(ids)
		return ids, len(page.Rows)
	}
	reps := func(tags ...string) []int64 {
		t.Helper()
		ids, _ := filtered(reports.Filter{Tags: tags})
		return ids
	}
	// recount is the breakdown by tag counted from the raw events: each
	// live enrollment under each tag of its rep.
	recount := func() map[string][2]int {
		t.Helper()
		rows, _, err := tracking.RecountProgress(ctx, ch, org)
		require.NoError(t, err)
		out := map[string][2]int{}
		for _, p := range rows {
			if p.RepStatus == "removed" || p.Status == "cancelled" {
				continue
			}
			labels := []string{reports.NoTag}
			if len(p.Tags) > 0 {
				labels = nil
				for _, tag := range p.Tags {
					labels = append(labels, "#"+tag)
				}
			}
			for _, l := range labels {
				c := out[l]
				c[0]++
				if p.Finished() {
					c[1]++
				}
				out[l] = c
			}
		}
		return out
	}
	breakdown := func() map[string][2]int {
		t.Helper()
		b, err := rep.Breakdown(ctx, all, reports.BreakdownQuery{By: reports.DimTag, Period: reports.Month})
		require.NoError(t, err)
		out := map[string][2]int{}
		for _, r := range b.Rows {
			out[r.Label] = [2]int{r.All.Enrolled, r.All.Completed}
		}
		return out
	}

	require.Empty(t, reps("needs-coaching"), "no rep has a tag yet")
	ship(facts(1, "needs-coaching", "vip"), facts(2, "needs-coaching"))
	require.Equal(t, []int64{1, 2}, reps("needs-coaching"))
	require.Equal(t, []int64{1}, reps("needs-coaching", "vip"), "every tag given")
	require.Empty(t, reps("vip", "other"))
	want := recount()
	require.Equal(t, map[string][2]int{"#needs-coaching": {4, 1}, "#vip": {2, 1}}, want,
		"reps 1 and 2 (rep 3 was removed), two enrollments each; rep 1 finished course 7")
	require.Equal(t, want, breakdown())
	audit, err := rep.Audit(ctx, org)
	require.NoError(t, err)
	require.Empty(t, audit.Differences)
	// A scope narrowed to a tag: every report counts its reps alone.
	enrolled := func(s reports.Scope) int {
		t.Helper()
		ov, err := rep.Overview(ctx, s, 0)
		require.NoError(t, err)
		n := 0
		for _, c := range ov.Courses {
			n += c.Enrolled
		}
		return n
	}
	require.Equal(t, want["#vip"][0], enrolled(all.Tagged("vip")))
	require.Equal(t, want["#needs-coaching"][0], enrolled(all.Tagged("needs-coaching")))
	require.Equal(t, 4, enrolled(all), "reps 1 and 2, two courses each")
	b, err := rep.Breakdown(ctx, all.Tagged("vip"), reports.BreakdownQuery{By: reports.DimTag, Period: reports.Month})
	require.NoError(t, err)
	require.Equal(t, want["#vip"][0], b.Total.All.Enrolled)

	// The tag leaves rep 2's last note: gone on the next load.
	ship(facts(2))
	require.Equal(t, []int64{1}, reps("needs-coaching"))
	want = recount()
	require.Equal(t, map[string][2]int{"#needs-coaching": {2, 1}, "#vip": {2, 1}, reports.NoTag: {2, 0}}, want)
	require.Equal(t, want, breakdown())
	// The untagged filter keeps the "No tag" row's reps: rep 2 alone now.
	untagged, rows := filtered(reports.Filter{Untagged: true})
	require.Equal(t, []int64{2}, untagged)
	require.Equal(t, want[reports.NoTag][0], rows)
	untagged, _ = filtered(reports.Filter{Untagged: true, Tags: []string{"vip"}})
	require.Empty(t, untagged, "no rep is without tags and with one")
	// Leaving out the teams that have a manager (North, the only team):
	// nothing; leaving out another team: everything.
	except, _ := filtered(reports.Filter{ExceptTeams: []int64{5}})
	require.Empty(t, except)
	except, rows = filtered(reports.Filter{ExceptTeams: []int64{6}})
	require.Equal(t, []int64{1, 2}, except)
	require.Equal(t, 4, rows)
}

// A breakdown's periods start in the organisation's time zone: an
// enrollment on the evening of 30 November in Los Angeles is November's,
// though it is 1 December in UTC.
func TestBreakdownPeriodsInTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ch := dbtest.Postgres(t), dbtest.ClickHouse(t)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	late := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC) // 21:00 on 30 Nov in Los Angeles
	var events []tracking.Event
	for i, at := range []time.Time{late, late.Add(24 * time.Hour)} {
		id := int64(i + 1)
		events = append(events, tracking.RepFacts{OrgID: org, RepID: id, TeamID: 5, Team: "North", Status: "active", Name: "Rep", TimeZone: "UTC"}.Event(at),
			tracking.EnrollmentFacts{OrgID: org, RepID: id, EnrollmentID: id * 10, CourseID: 7, CourseVersionID: 7, CourseTitle: "Course 7",
				Status: "active", EnrolledAt: at, DueOn: "2026-12-31", Lessons: 2}.Event(at))
	}
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))
	rep := reports.New(ch, pool, func() time.Time { return now })
	la, err := time.LoadLocation("America/Los_Angeles")
	require.NoError(t, err)
	tests := []struct {
		loc     *time.Location
		cohorts map[string]int
		this    int
	}{
		{time.UTC, map[string]int{"1 Dec 2026": 2}, 2},
		{la, map[string]int{"1 Nov 2026": 1, "1 Dec 2026": 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.loc.String(), func(t *testing.T) {
			b, err := rep.Breakdown(ctx, reports.Scope{OrgID: org, All: true}, reports.BreakdownQuery{By: reports.DimCohort, Period: reports.Month, Location: tt.loc})
			require.NoError(t, err)
			got := map[string]int{}
			for _, r := range b.Rows {
				got[r.Label] = r.All.Enrolled
			}
			require.Equal(t, tt.cohorts, got)
			require.Equal(t, tt.this, b.Total.This.Enrolled, "this month's enrollments")
			require.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, tt.loc), b.ThisStart)
		})
	}
}
