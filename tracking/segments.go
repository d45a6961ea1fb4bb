package tracking

import (
	"encoding/json"
	"math"
)

// SegmentSeconds is the length of a video segment: a lesson page reports each
// 15-second stretch of a video the rep actually played, and a video lesson
// completes once enough of its segments are played.
const SegmentSeconds = 15

// The kinds of the video events a lesson page sends besides segment_watched.
const (
	KindVideoPaused = "video_paused"
	KindVideoEnded  = "video_ended"
)

// SegmentCount returns how many segments a video of durationSeconds has: the
// last one is shorter when the duration is not a multiple of SegmentSeconds.
// A duration of zero or less has none.
func SegmentCount(durationSeconds int) int {
	if durationSeconds <= 0 {
		return 0
	}
	return (durationSeconds + SegmentSeconds - 1) / SegmentSeconds
}

// SegmentOf returns the segment that holds position (seconds from the start)
// in a video of durationSeconds. A position on a boundary starts the next
// segment, except the very end, which belongs to the last one. It reports
// false for a position outside [0, durationSeconds] or not a number.
func SegmentOf(position float64, durationSeconds int) (int, bool) {
	n := SegmentCount(durationSeconds)
	if n == 0 || math.IsNaN(position) || position < 0 || position > float64(durationSeconds) {
		return 0, false
	}
	return min(int(position/SegmentSeconds), n-1), true
}

// WatchedPercent returns the share of segments watched, in whole percent
// rounded down, so that a threshold is never reached by rounding; 0 for none.
func WatchedPercent(watched []bool) int {
	if len(watched) == 0 {
		return 0
	}
	n := 0
	for _, w := range watched {
		if w {
			n++
		}
	}
	return n * 100 / len(watched)
}

// FirstUnwatched returns the index of the first segment not watched, or -1
// when every segment is.
func FirstUnwatched(watched []bool) int {
	for i, w := range watched {
		if !w {
			return i
		}
	}
	return -1
}

// VideoDetail is the Detail (as JSON) of segment_watched, video_paused and
// video_ended events: where the player was, at what speed, in which page
// visit. Segment is set for pauses and ends; a segment event carries its
// segment in Value.
type VideoDetail struct {
	Position float64 `json:"position"`
	Rate     float64 `json:"rate"`
	Session  string  `json:"session"`
	Segment  *int    `json:"segment,omitempty"`
}

// String returns the detail as JSON.
func (d VideoDetail) String() string {
	b, _ := json.Marshal(d) // plain numbers and a string: cannot fail
	return string(b)
}

// ParseVideoDetail reads the Detail of a video event.
func ParseVideoDetail(detail string) (VideoDetail, error) {
	var d VideoDetail
	err := json.Unmarshal([]byte(detail), &d)
	return d, err
}
