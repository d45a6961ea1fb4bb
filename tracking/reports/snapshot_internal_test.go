package reports

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// Reports that hold a snapshot say they are unavailable once ClickHouse
// stops answering, rather than show it: nothing could reach it, so nothing
// could tell them what changed.
func TestSnapshotsClickHouseDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	opts, err := clickhouse.ParseDSN(dbtest.ClickHouseURL(t))
	require.NoError(t, err)
	ch, err := clickhouse.Open(opts)
	require.NoError(t, err)
	now := time.Now().UTC()
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, []tracking.Event{
		tracking.RepFacts{OrgID: 1, RepID: 1, TeamID: 5, Team: "North", Status: "active", Name: "Ana", TimeZone: "UTC"}.Event(now),
		tracking.EnrollmentFacts{OrgID: 1, RepID: 1, EnrollmentID: 10, CourseID: 7, CourseTitle: "Course 7", Status: "active",
			EnrolledAt: now, DueOn: now.AddDate(0, 0, 7).Format(time.DateOnly), Lessons: 2}.Event(now),
	}))
	r := New(ch, pool, nil)
	r.snapshots.healthEvery = 0 // check each time
	scope := Scope{OrgID: 1, All: true}
	ov, err := r.Overview(ctx, scope, 0)
	require.NoError(t, err)
	require.Equal(t, 1, ov.Courses[0].Enrolled)

	require.NoError(t, ch.Close())
	_, err = r.Overview(ctx, scope, 0)
	var unavailable *Unavailable
	require.True(t, errors.As(err, &unavailable), "%v", err)
	_, err = r.Search(ctx, scope, "an")
	require.True(t, errors.As(err, &unavailable), "%v", err)
}
