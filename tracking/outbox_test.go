package tracking_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
)

// DiscardUnshipped deletes one organisation's outbox events and leaves the
// other organisations' for the shipper.
func TestDiscardUnshipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	kept := segment(8, 80, 0)
	kept.OrgID = 2
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return tracking.Append(ctx, tx, segment(7, 70, 0), segment(7, 70, 1), segment(7, 71, 0), kept)
	}))

	n, err := tracking.DiscardUnshipped(ctx, pool, 1)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	left, err := tracking.Pending(ctx, pool, 0)
	require.NoError(t, err)
	require.Len(t, left, 1)
	require.Equal(t, kept.Key, left[0].Key)
	require.EqualValues(t, 2, left[0].OrgID)

	n, err = tracking.DiscardUnshipped(ctx, pool, 1)
	require.NoError(t, err)
	require.Zero(t, n, "nothing of the organisation's left")
}
