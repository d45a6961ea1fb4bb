package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benches' percentiles are the nearest rank of the sorted sample.
func TestPercentile(t *testing.T) {
	t.Parallel()
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		sample []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{[]time.Duration{7}, 0.99, 7},
		{hundred, 0, time.Millisecond},
		{hundred, 0.5, 51 * time.Millisecond},
		{hundred, 0.95, 95 * time.Millisecond},
		{hundred, 0.99, 99 * time.Millisecond},
		{hundred, 1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, percentile(tt.sample, tt.p), "p%v of %d", tt.p*100, len(tt.sample))
	}
}

// A soak reads its memory at start once serve's pings maps are full, when
// the run leaves room for it.
func TestDefaultWarmup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		run, want time.Duration
	}{
		{15 * time.Second, 9 * time.Second},   // six tenths of a short run
		{10 * time.Minute, 6 * time.Minute},   // still too short for the maps to fill
		{30 * time.Minute, 16 * time.Minute},  // the maps are full: a quarter hour, and a minute
		{60 * time.Minute, 16 * time.Minute},  // the same in a longer run
		{120 * time.Minute, 24 * time.Minute}, // a fifth of a long run
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, defaultWarmup(tc.run), "a run of %v", tc.run)
	}
}
