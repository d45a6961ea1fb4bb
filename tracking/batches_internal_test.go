package tracking

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBatchLines writes events as lines and reads them back as they were,
// to the microsecond a timestamptz keeps.
func TestBatchLines(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 3, 8, 14, 0, 15, 123456789, time.UTC)
	tests := []struct {
		name string
		e    Event
		line string
	}{
		{"a ping", Event{OrgID: 1, RepID: 2, Key: "seg/501/3", Kind: KindSegmentWatched, OccurredAt: at, CourseID: 3, EnrollmentID: 4,
			AssignmentID: 501, LessonID: 5, Value: 3, Detail: `{"position":59.75,"rate":1.25,"session":"bench-17-0"}`, Version: 77},
			"1\t2\tseg/501/3\tsegment_watched\t1804514415123456\t3\t4\t501\t5\t3\t{\"position\":59.75,\"rate\":1.25,\"session\":\"bench-17-0\"}\t77\t0\n"},
		{"escapes and a tombstone", Event{OrgID: 1, RepID: 2, Key: "k\\\t\n\r", Kind: "x", OccurredAt: at, Value: -0.1, Detail: "a\tb\\n", Version: math.MaxUint64, Deleted: true},
			"1\t2\tk\\\\\\t\\n\\r\tx\t1804514415123456\t0\t0\t0\t0\t-0.1\ta\\tb\\\\n\t18446744073709551615\t1\n"},
		{"no version: the one given", Event{OrgID: -1, RepID: 0, OccurredAt: time.Time{}, Value: math.Inf(-1)},
			"-1\t0\t\t\t-62135596800000000\t0\t0\t0\t0\t-Inf\t\t9\t0\n"},
		{"before 1970", Event{OccurredAt: time.Date(1969, 12, 31, 23, 59, 59, 999_999_500, time.UTC), Value: 1e300},
			"0\t0\t\t\t-1\t0\t0\t0\t0\t1e+300\t\t9\t0\n"},
	}
	var all string
	var each []Event
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := string(appendBatchLine(nil, tt.e, 9))
			require.Equal(t, tt.line, line)
			got, err := parseBatchLines(line, nil)
			require.NoError(t, err)
			require.Len(t, got, 1)
			e := tt.e
			if e.Version == 0 {
				e.Version = 9
			}
			require.True(t, e.OccurredAt.Truncate(time.Microsecond).Equal(got[0].OccurredAt), "%v, not %v", got[0].OccurredAt, e.OccurredAt)
			e.OccurredAt = got[0].OccurredAt
			require.Equal(t, e, got[0])
			each = append(each, got[0])
		})
		all += tt.line
	}
	got, err := parseBatchLines(all, nil)
	require.NoError(t, err)
	require.Equal(t, each, got, "a batch is its lines, in order")
}

func TestBatchLinesBroken(t *testing.T) {
	t.Parallel()
	good := string(appendBatchLine(nil, Event{OrgID: 1, RepID: 2, Key: "k", Kind: "x", Detail: "{}"}, 1))
	for _, lines := range []string{
		strings.TrimSuffix(good, "\n"),
		strings.Replace(good, "\t", " ", 1),
		strings.Replace(good, "\t0\n", "\t2\n", 1),
		strings.Replace(good, "1\t2", "x\t2", 1),
		strings.Replace(good, "\tk\t", "\tk\\\t", 1),
		strings.Replace(good, "\tk\t", "\tk\\q\t", 1),
		good + "\n",
		good + "1\t2\n",
	} {
		_, err := parseBatchLines(lines, nil)
		require.ErrorIs(t, err, errBatchLine, "%q", lines)
	}
}

// FuzzBatchLines writes any event and reads it back unchanged.
func FuzzBatchLines(f *testing.F) {
	f.Add(int64(1), int64(2), "seg/1/2", "segment_watched", int64(1804514415123456), int64(3), 2.5, `{"position":1}`, uint64(7), false)
	f.Add(int64(-1), int64(0), "a\\\tb", "\n\r", int64(-1), int64(0), math.NaN(), "\\\\t", uint64(0), true)
	f.Fuzz(func(t *testing.T, org, rep int64, key, kind string, micros, id int64, value float64, detail string, version uint64, deleted bool) {
		e := Event{OrgID: org, RepID: rep, Key: key, Kind: kind, OccurredAt: time.UnixMicro(micros), CourseID: id, EnrollmentID: id + 1,
			AssignmentID: id - 1, LessonID: -id, Value: value, Detail: detail, Version: version, Deleted: deleted}
		line := appendBatchLine(nil, e, 5)
		require.Equal(t, 13, strings.Count(string(line), "\t")+1, "%q", line)
		got, err := parseBatchLines(string(line), nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		if e.Version == 0 {
			e.Version = 5
		}
		if math.IsNaN(e.Value) {
			require.True(t, math.IsNaN(got[0].Value))
		} else {
			require.Equal(t, math.Float64bits(e.Value), math.Float64bits(got[0].Value))
		}
		got[0].Value, e.Value = 0, 0
		require.Equal(t, e, got[0])
	})
}
