package tracking

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
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

// String returns the detail as JSON, as json.Marshal writes it. Pings make
// one each, so it writes the usual case (finite numbers, a session of plain
// characters) itself.
func (d VideoDetail) String() string {
	if !plainJSONString(d.Session) || !finite(d.Position) || !finite(d.Rate) {
		return encodeDetail(d) // "" for NaN and infinities
	}
	b := make([]byte, 0, 64+len(d.Session))
	b = append(b, `{"position":`...)
	b = appendJSONFloat(b, d.Position)
	b = append(b, `,"rate":`...)
	b = appendJSONFloat(b, d.Rate)
	b = append(b, `,"session":"`...)
	b = append(b, d.Session...)
	b = append(b, '"')
	if d.Segment != nil {
		b = append(b, `,"segment":`...)
		b = strconv.AppendInt(b, int64(*d.Segment), 10)
	}
	b = append(b, '}')
	return string(b)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// plainJSONString reports whether s needs no escaping in JSON, as
// encoding/json escapes (it also escapes <, > and &).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendJSONFloat appends f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// ParseVideoDetail reads the Detail of a video event.
func ParseVideoDetail(detail string) (VideoDetail, error) {
	var d VideoDetail
	err := json.Unmarshal([]byte(detail), &d)
	return d, err
}

// DetailPosition returns the Position of a video event's Detail, as
// ParseVideoDetail does. The shipper reads one for every segment event, so
// it reads the form String writes without encoding/json, and any other
// with ParseVideoDetail.
func DetailPosition(detail string) (float64, error) {
	if pos, ok := writtenDetailPosition(detail); ok {
		return pos, nil
	}
	d, err := ParseVideoDetail(detail)
	return d.Position, err
}

// writtenDetailPosition returns the position of a detail in exactly the form
// String writes: {"position":N,"rate":N,"session":"S"} with ,"segment":I
// before the brace or not; false for any other. Each value is checked as
// ParseVideoDetail would, which fails when one does not fit its field.
func writtenDetailPosition(s string) (float64, bool) {
	rest, ok := strings.CutPrefix(s, `{"position":`)
	if !ok {
		return 0, false
	}
	num, rest, ok := cutJSONNumber(rest)
	if !ok {
		return 0, false
	}
	pos, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	if rest, ok = strings.CutPrefix(rest, `,"rate":`); !ok {
		return 0, false
	}
	if num, rest, ok = cutJSONNumber(rest); !ok {
		return 0, false
	}
	if _, err := strconv.ParseFloat(num, 64); err != nil {
		return 0, false
	}
	if rest, ok = strings.CutPrefix(rest, `,"session":"`); !ok {
		return 0, false
	}
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		return 0, false
	}
	for i := 0; i < end; i++ {
		if c := rest[i]; c < 0x20 || c >= 0x80 || c == '\\' {
			return 0, false
		}
	}
	rest = rest[end+1:]
	if r, ok := strings.CutPrefix(rest, `,"segment":`); ok {
		if num, r, ok = cutJSONNumber(r); !ok {
			return 0, false
		}
		if _, err := strconv.Atoi(num); err != nil {
			return 0, false // not a whole number, or too large for an int
		}
		rest = r
	}
	return pos, rest == "}"
}

// cutJSONNumber cuts the JSON number at the start of s.
func cutJSONNumber(s string) (num, rest string, ok bool) {
	i := 0
	digits := func() bool {
		from := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i > from
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return "", s, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return "", s, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return "", s, false
		}
	}
	return s[:i], s[i:], true
}
