package tracking_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

func TestSegmentCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		duration, want int
	}{
		{-15, 0},
		{0, 0},
		{1, 1},
		{14, 1},
		{15, 1},
		{16, 2},
		{30, 2},
		{31, 3},
		{62, 5}, // the demo video: 4 full segments and one of 2 s
		{95, 7},
		{3600, 240},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tracking.SegmentCount(tt.duration), "duration %d", tt.duration)
	}
}

func TestSegmentOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		position float64
		duration int
		want     int
		ok       bool
	}{
		{0, 62, 0, true},
		{14.999, 62, 0, true},
		{15, 62, 1, true}, // a boundary starts the next segment
		{29.5, 62, 1, true},
		{30, 62, 2, true},
		{59.99, 62, 3, true},
		{60, 62, 4, true}, // the short last segment
		{61.9, 62, 4, true},
		{62, 62, 4, true}, // the very end belongs to the last segment
		{62.01, 62, 0, false},
		{45, 45, 2, true}, // the end of a video of whole segments is not a segment of its own
		{44.9, 45, 2, true},
		{-0.01, 62, 0, false},
		{math.NaN(), 62, 0, false},
		{math.Inf(1), 62, 0, false},
		{math.Inf(-1), 62, 0, false},
		{0, 0, 0, false},
		{0, -5, 0, false},
		{7, 10, 0, true},
		{10, 10, 0, true},
	}
	for _, tt := range tests {
		got, ok := tracking.SegmentOf(tt.position, tt.duration)
		require.Equal(t, tt.ok, ok, "position %v of %d s", tt.position, tt.duration)
		require.Equal(t, tt.want, got, "position %v of %d s", tt.position, tt.duration)
	}
}

func TestWatchedPercent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		watched []bool
		want    int
	}{
		{nil, 0},
		{[]bool{}, 0},
		{[]bool{false}, 0},
		{[]bool{true}, 100},
		{[]bool{true, false, false}, 33},
		{[]bool{true, true, false}, 66}, // rounded down, never up to a threshold
		{[]bool{true, true, true, true, false}, 80},
		{[]bool{true, true, true, true, true}, 100},
		{append(make([]bool, 1), trues(9)...), 90},
		{append(make([]bool, 1), trues(8)...), 88},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tracking.WatchedPercent(tt.watched), "%v", tt.watched)
	}
}

func trues(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

func TestFirstUnwatched(t *testing.T) {
	t.Parallel()
	require.Equal(t, -1, tracking.FirstUnwatched(nil))
	require.Equal(t, 0, tracking.FirstUnwatched([]bool{false, true}))
	require.Equal(t, 2, tracking.FirstUnwatched([]bool{true, true, false, false, true}))
	require.Equal(t, -1, tracking.FirstUnwatched(trues(5)))
}

func TestVideoDetail(t *testing.T) {
	t.Parallel()
	seg := 3
	d := tracking.VideoDetail{Position: 52.25, Rate: 2, Session: "abcdef0123", Segment: &seg}
	require.JSONEq(t, `{"position":52.25,"rate":2,"session":"abcdef0123","segment":3}`, d.String())
	back, err := tracking.ParseVideoDetail(d.String())
	require.NoError(t, err)
	require.Equal(t, d, back)
	require.JSONEq(t, `{"position":0,"rate":1,"session":"s"}`, tracking.VideoDetail{Rate: 1, Session: "s"}.String())
	_, err = tracking.ParseVideoDetail("not json")
	require.Error(t, err)
}

// TestVideoDetailString writes details as json.Marshal does, including the
// numbers it writes with an exponent and the strings it escapes.
func TestVideoDetailString(t *testing.T) {
	t.Parallel()
	seg, neg := 17, -3
	for _, d := range []tracking.VideoDetail{
		{Position: 15.25, Rate: 1, Session: "bench-17-0"},
		{Position: 0, Rate: 0.25, Session: "abcdefgh", Segment: &seg},
		{Position: math.Copysign(0, -1), Rate: 4, Session: "", Segment: &neg},
		{Position: 1e-7, Rate: 1e21, Session: "x"},
		{Position: 9.999999e-7, Rate: 1e20, Session: "x"},
		{Position: 123456789.123456789, Rate: 1.0000001, Session: "x"},
		{Position: 5e-324, Rate: math.MaxFloat64, Session: "x"},
		{Position: 1, Rate: 1, Session: `<a href="x">&amp;</a>`},
		{Position: 1, Rate: 1, Session: "tab\there\u2028 é \xff"},
		{Position: math.NaN(), Rate: 1, Session: "x"},
		{Position: 1, Rate: math.Inf(1), Session: "x"},
	} {
		want, _ := json.Marshal(d)
		require.Equal(t, string(want), d.String())
	}
}

func FuzzVideoDetailString(f *testing.F) {
	f.Add(15.25, 1.0, "bench-17-0", 3, true)
	f.Add(1e-7, 1e21, "<&>", -1, false)
	f.Fuzz(func(t *testing.T, position, rate float64, session string, segment int, withSegment bool) {
		d := tracking.VideoDetail{Position: position, Rate: rate, Session: session}
		if withSegment {
			d.Segment = &segment
		}
		want, _ := json.Marshal(d)
		require.Equal(t, string(want), d.String())
	})
}

// detailSeeds are details as String writes them, and others that only
// encoding/json reads right.
var detailSeeds = []string{
	`{"position":59.75,"rate":1.25,"session":"bench-17-0"}`,
	`{"position":0,"rate":1,"session":"abcdefgh","segment":3}`,
	`{"position":-0,"rate":1e-7,"session":"","segment":-0}`,
	`{"position":1.5e+300,"rate":2E-3,"session":"<&>"}`,
	`{"position":59.75,"rate":1.25,"session":"bench-17-0","position":3}`,
	`{"position":59.75,"rate":1.25,"session":"bench-17-0","POSITION":3}`,
	`{"position":59.75,"rate":1.25,"session":"bench-17-0","segment":1.5}`,
	`{"position":59.75,"rate":1.25,"session":"bench-17-0","segment":99999999999999999999}`,
	`{"position":59.75,"rate":1e400,"session":"bench-17-0"}`,
	`{"position":1e400,"rate":1,"session":"bench-17-0"}`,
	`{"position":59.75,"rate":1.25,"session":"be\"nch"}`,
	`{"position":59.75,"rate":1.25,"session":"bench-17-0"} `,
	`{"position":59.75,"rate":1.25,"session":"bench-17-0"`,
	`{"position":059,"rate":1,"session":"x"}`,
	`{"position":.5,"rate":1,"session":"x"}`,
	`{"rate":1.25,"position":59.75,"session":"bench-17-0"}`,
	`garbled`, ``, `{}`,
}

// TestDetailPosition reads positions as ParseVideoDetail does, on the
// details String writes and on others.
func TestDetailPosition(t *testing.T) {
	t.Parallel()
	for _, s := range detailSeeds {
		want, werr := tracking.ParseVideoDetail(s)
		got, err := tracking.DetailPosition(s)
		require.Equal(t, werr == nil, err == nil, "%s: %v", s, werr)
		if werr == nil {
			require.Equal(t, math.Float64bits(want.Position), math.Float64bits(got), s)
		}
	}
	got, err := tracking.DetailPosition(detailSeeds[0])
	require.NoError(t, err)
	require.Equal(t, 59.75, got)
}

func FuzzDetailPosition(f *testing.F) {
	for _, s := range detailSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := tracking.ParseVideoDetail(s)
		got, err := tracking.DetailPosition(s)
		require.Equal(t, werr == nil, err == nil, "%q: %v", s, werr)
		if werr == nil {
			require.Equal(t, math.Float64bits(want.Position), math.Float64bits(got), "%q", s)
		}
	})
}
