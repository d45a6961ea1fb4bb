package lessons

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// bitString spells b as Postgres does: "0110".
func bitString(b pgtype.Bits) string {
	var s strings.Builder
	for i := range int(b.Len) {
		if b.Bytes[i/8]&(0x80>>(i%8)) != 0 {
			s.WriteByte('1')
		} else {
			s.WriteByte('0')
		}
	}
	return s.String()
}

func TestSegmentSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		add  []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "1"},
		{[]int{2}, "001"},
		{[]int{7}, "00000001"},
		{[]int{8}, "000000001"},
		{[]int{3, 0, 3, 9, 1}, "1101000001"},
		{[]int{15, 16, 0}, "10000000000000011"},
	}
	for _, tt := range tests {
		var s segmentSet
		for _, i := range tt.add {
			s.add(i)
		}
		b := s.value()
		require.True(t, b.Valid)
		require.Equal(t, tt.want, bitString(b), "%v", tt.add)
		require.Len(t, b.Bytes, (len(tt.want)+7)/8, "no byte more than the bits need")
	}
}

func TestWatchedBitsAndFlags(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]bool{
		{},
		{false},
		{true, false, true},
		{false, false, false, false, false, false, false, false, true},
		{true, true, true, true, true, true, true, true, true, true, true, true},
	} {
		b := watchedBits(flags)
		require.EqualValues(t, len(flags), b.Len, "as long as the video, watched or not")
		require.Equal(t, flags, watchedFlags(b, len(flags)))
	}
	b := watchedBits([]bool{true, false, true, true})
	require.Equal(t, []bool{true, false}, watchedFlags(b, 2), "bits past the video are dropped")
	require.Equal(t, []bool{true, false, true, true, false, false}, watchedFlags(b, 6), "segments past the bits are not watched")
	require.Equal(t, []bool{false, false}, watchedFlags(pgtype.Bits{}, 2), "no progress yet")
}

func TestSampleLessonLink(t *testing.T) {
	if got, want := len(SampleLessonLink("https://m.example")), len(lessonLink("https://m.example", newLinkToken())); got != want {
		t.Fatalf("sample link is %d long, real links %d", got, want)
	}
}
