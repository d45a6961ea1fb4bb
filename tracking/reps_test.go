package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// perTeam is a report-shaped query: the org's live events per team, each rep
// under the team of their newest reps row, removed reps left out. A rep not
// synced yet joins as team 0 with status "".
const perTeam = `
	SELECT team_id, count()
	FROM events FINAL
	ANY LEFT JOIN (
		SELECT rep_id, argMax(team_id, version) AS team_id, argMax(status, version) AS status
		FROM reps WHERE org_id = ? GROUP BY rep_id
	) USING rep_id
	WHERE org_id = ? AND deleted = 0 AND status != 'removed'
	GROUP BY team_id`

func countPerTeam(t *testing.T, b correctionBundle, orgID int64) map[uint64]uint64 {
	t.Helper()
	rows, err := b.ch.Query(context.Background(), perTeam, uint64(orgID), uint64(orgID))
	require.NoError(t, err)
	defer rows.Close()
	out := map[uint64]uint64{}
	for rows.Next() {
		var team, n uint64
		require.NoError(t, rows.Scan(&team, &n))
		out[team] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func TestSyncRepsChangesTeamCountsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupCorrections(t)
	require.NoError(t, b.ch.Exec(ctx, `SYSTEM STOP MERGES reps`))
	var events []tracking.Event
	for rep, n := range map[int64]int{1: 1, 2: 2, 3: 4, 4: 8} {
		for seg := range n {
			events = append(events, segment(rep, rep, seg))
		}
	}
	b.live(t, events...)

	updated := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	version := func(d time.Duration) uint64 { return uint64(updated.Add(d).UnixNano()) }
	require.NoError(t, tracking.SyncReps(ctx, b.ch, []tracking.RepFacts{
		{OrgID: 1, RepID: 1, TeamID: 10, Status: "active", Version: version(0)},
		{OrgID: 1, RepID: 2, TeamID: 10, Status: "active", Version: version(0)},
		{OrgID: 1, RepID: 3, TeamID: 20, Status: "active", Version: version(0)},
		{OrgID: 2, RepID: 4, TeamID: 30, Status: "active", Version: version(0)}, // another organisation's
	}))
	require.Equal(t, map[uint64]uint64{10: 3, 20: 4, 0: 8}, countPerTeam(t, b, 1), "rep 4 of org 1 is not synced: team 0")

	// Rep 2 moves to team 20.
	require.NoError(t, tracking.SyncReps(ctx, b.ch, []tracking.RepFacts{{OrgID: 1, RepID: 2, TeamID: 20, Status: "active", Version: version(time.Hour)}}))
	require.Equal(t, map[uint64]uint64{10: 1, 20: 6, 0: 8}, countPerTeam(t, b, 1))

	// Rep 3 is removed.
	require.NoError(t, tracking.SyncReps(ctx, b.ch, []tracking.RepFacts{{OrgID: 1, RepID: 3, TeamID: 20, Status: "removed", Version: version(2 * time.Hour)}}))
	require.Equal(t, map[uint64]uint64{10: 1, 20: 2, 0: 8}, countPerTeam(t, b, 1))

	// A sync of an older state, arriving late or repeated, changes nothing.
	require.NoError(t, tracking.SyncReps(ctx, b.ch, []tracking.RepFacts{
		{OrgID: 1, RepID: 2, TeamID: 10, Status: "active", Version: version(0)},
		{OrgID: 1, RepID: 3, TeamID: 20, Status: "active", Version: version(0)},
	}))
	require.Equal(t, map[uint64]uint64{10: 1, 20: 2, 0: 8}, countPerTeam(t, b, 1))

	// Version 0 is the time of writing, newer than any updated_at before it.
	require.NoError(t, tracking.SyncReps(ctx, b.ch, []tracking.RepFacts{{OrgID: 1, RepID: 4, TeamID: 10, Status: "active"}}))
	require.Equal(t, map[uint64]uint64{10: 9, 20: 2}, countPerTeam(t, b, 1))

	dbtest.RequireNoMerge(t, b.ch, "reps", 5)
	require.NoError(t, tracking.SyncReps(ctx, b.ch, nil))
}
