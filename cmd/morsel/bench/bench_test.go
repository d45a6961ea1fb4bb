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
