package lessons

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPageLimit(t *testing.T) {
	t.Parallel()
	tests := []struct{ asked, want int }{
		{-5, 100}, {0, 100}, {1, 1}, {100, 100}, {999, 999}, {1000, 1000}, {1001, 1000}, {5000, 1000},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, pageLimit(tt.asked), "asked for %d", tt.asked)
	}
}

// Each condition's parameter is numbered as it is added, and LIMIT's after
// them.
func TestConditions(t *testing.T) {
	t.Parallel()
	var c conditions
	c.and("r.org_id = $%d", int64(7))
	c.and("r.status = $%d", RepActive)
	c.and("r.id > $%d", int64(40))
	limit := c.param(25)
	require.Equal(t, "r.org_id = $1 AND r.status = $2 AND r.id > $3", c.sql())
	require.Equal(t, 4, limit)
	require.Equal(t, []any{int64(7), RepActive, int64(40), 25}, c.args)
}
