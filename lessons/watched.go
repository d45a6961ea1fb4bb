package lessons

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/morselhq/morsel/tracking"
)

// maxVideoSegments is the number of segments of the longest video a course
// may have: a segment at or past it is in no video.
var maxVideoSegments = tracking.SegmentCount(lessonVideoMaxSecs)

// segmentSet is a set of a video's segments as video_progress.watched keeps
// it, a bit string: segment i is bit i from the left (the high bit of byte
// 0 is segment 0). Its length is one past the highest segment added.
type segmentSet struct {
	bytes []byte
	n     int
}

// add puts segment i in the set; i must be 0 or more.
func (s *segmentSet) add(i int) {
	if i >= s.n {
		s.n = i + 1
		for len(s.bytes) < (s.n+7)/8 {
			s.bytes = append(s.bytes, 0)
		}
	}
	s.bytes[i/8] |= 0x80 >> (i % 8)
}

// value is the set as a Postgres bit varying.
func (s segmentSet) value() pgtype.Bits {
	return pgtype.Bits{Bytes: s.bytes, Len: int32(s.n), Valid: true}
}

// watchedBits returns watched (a flag per segment) as a bit string.
func watchedBits(watched []bool) pgtype.Bits {
	var s segmentSet
	for i, w := range watched {
		if w {
			s.add(i)
		}
	}
	s.n = len(watched)
	for len(s.bytes) < (s.n+7)/8 {
		s.bytes = append(s.bytes, 0)
	}
	return s.value()
}

// watchedFlags returns a flag per segment of a video of n segments from the
// bit string b: bits past n are dropped, and a short (or NULL) b leaves the
// later segments unwatched.
func watchedFlags(b pgtype.Bits, n int) []bool {
	out := make([]bool, n)
	if !b.Valid {
		return out
	}
	for i := range min(n, int(b.Len), len(b.Bytes)*8) {
		out[i] = b.Bytes[i/8]&(0x80>>(i%8)) != 0
	}
	return out
}
