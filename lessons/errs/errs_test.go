package errs_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/errs"
)

func TestCapped(t *testing.T) {
	t.Parallel()
	details := func(n int) []errs.Detail {
		d := make([]errs.Detail, n)
		for i := range d {
			d[i] = errs.Detail{Path: fmt.Sprintf("lines[%d]", i), Message: "bad"}
		}
		return d
	}
	for _, tt := range []struct {
		name     string
		n, total int
		max      int
		kept     int
		more     string // the last detail's message, "" for none
		morePath string
	}{
		{"none", 0, 0, 3, 0, "", ""},
		{"under the cap", 2, 2, 3, 2, "", ""},
		{"at the cap", 3, 3, 3, 3, "", ""},
		{"over the cap", 5, 5, 3, 3, "and 2 more problems", "pings"},
		{"more found than collected", 3, 250, 3, 3, "and 247 more problems", "pings"},
		{"collected under the cap, counted over", 2, 4, 3, 2, "and 2 more problems", "pings"},
	} {
		got := errs.Capped(details(tt.n), tt.total, tt.max, "pings")
		if tt.more == "" {
			require.Equal(t, details(tt.kept), got, tt.name)
			continue
		}
		require.Len(t, got, tt.kept+1, tt.name)
		require.Equal(t, details(tt.kept), got[:tt.kept], tt.name)
		require.Equal(t, errs.Detail{Path: tt.morePath, Message: tt.more}, got[tt.kept], tt.name)
	}
}
