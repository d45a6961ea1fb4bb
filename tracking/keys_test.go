package tracking_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

// TestKeys holds each key function to the literal format events were stored
// under before it existed: a key of another shape would be another event to
// the events table, and count every stored one twice.
func TestKeys(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 3, 8, 14, 0, 0, 123456789, time.UTC)
	tests := []struct {
		got, want string
	}{
		{tracking.MessageKey(17, tracking.KindMessageSent), "msg/17/message_sent"},
		{tracking.MessageKey(17, tracking.KindMessageDelivered), "msg/17/message_delivered"},
		{tracking.MessageKey(math.MaxInt64, tracking.KindMessageFailed), "msg/9223372036854775807/message_failed"},
		{tracking.ReplyKey(42), "reply/42"},
		{tracking.GradeKey(501, 0, 9001), "grade/501/0/9001"},
		{tracking.GradeKey(math.MaxInt64, 12, math.MaxInt64), "grade/9223372036854775807/12/9223372036854775807"},
		{tracking.OpenKey(503), "open/503"},
		{tracking.SegmentKey(501, 3), "seg/501/3"},
		{tracking.SegmentKey(0, 0), "seg/0/0"},
		{tracking.SegmentKey(math.MaxInt64, 1_000_000), "seg/9223372036854775807/1000000"},
		{tracking.PlayerKey(tracking.KindVideoPaused, 5, "sessionone"), "video_paused/5/sessionone"},
		{tracking.PlayerKey(tracking.KindVideoEnded, 5, "sessionone"), "video_ended/5/sessionone"},
		{tracking.PlayerKey(tracking.KindVideoEnded, math.MaxInt64, strings.Repeat("s", 64)),
			"video_ended/9223372036854775807/" + strings.Repeat("s", 64)},
		{tracking.PlayerKey(tracking.KindVideoPaused, 5, strings.Repeat("x", 300)), "video_paused/5/" + strings.Repeat("x", 300)},
		{tracking.DoneKey(502), "done/502"},
		{tracking.CourseKey(53), "course/53"},
		{tracking.PathKey(501, 2), "path/501/2"},
		{tracking.OptKey(tracking.KindOptedOut, 7, at), "opted_out/7/1804514400123456789"},
		{tracking.OptKey(tracking.KindOptedIn, 7, at), "opted_in/7/1804514400123456789"},
		{tracking.RepKey(7), "rep/7"},
		{tracking.EnrollmentKey(math.MaxInt64), "enrollment/9223372036854775807"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.got)
	}
	// The formats as they were written, over more ids.
	for _, id := range []int64{0, 1, 9, 10, 99, 100, 12345, 1 << 40, math.MaxInt64} {
		n := int(id % 1000)
		require.Equal(t, fmt.Sprintf("msg/%d/%s", id, tracking.KindMessageSent), tracking.MessageKey(id, tracking.KindMessageSent))
		require.Equal(t, fmt.Sprintf("reply/%d", id), tracking.ReplyKey(id))
		require.Equal(t, fmt.Sprintf("grade/%d/%d/%d", id, n, id), tracking.GradeKey(id, n, id))
		require.Equal(t, fmt.Sprintf("open/%d", id), tracking.OpenKey(id))
		require.Equal(t, fmt.Sprintf("seg/%d/%d", id, n), tracking.SegmentKey(id, n))
		require.Equal(t, fmt.Sprintf("%s/%d/%s", tracking.KindVideoPaused, id, "abcdefgh"), tracking.PlayerKey(tracking.KindVideoPaused, id, "abcdefgh"))
		require.Equal(t, fmt.Sprintf("done/%d", id), tracking.DoneKey(id))
		require.Equal(t, fmt.Sprintf("course/%d", id), tracking.CourseKey(id))
		require.Equal(t, fmt.Sprintf("path/%d/%d", id, n), tracking.PathKey(id, n))
		require.Equal(t, fmt.Sprintf("%s/%d/%d", tracking.KindOptedOut, id, at.UnixNano()), tracking.OptKey(tracking.KindOptedOut, id, at))
		require.Equal(t, fmt.Sprintf("rep/%d", id), tracking.RepKey(id))
		require.Equal(t, fmt.Sprintf("enrollment/%d", id), tracking.EnrollmentKey(id))
	}
}

// detailCase is an event of one kind, built with the key and detail
// functions, and what its detail decodes to.
type detailCase struct {
	event  tracking.Event
	stored string // the detail as the code before the payloads wrote it, for these values; "": none
	into   any    // a pointer to the kind's payload type, to decode into; nil: the kind has no detail
	want   any    // the payload decoded
}

// payload is a detailCase of an event carrying p.
func payload[T fmt.Stringer](kind, key string, p T, stored string) detailCase {
	return detailCase{event: tracking.Event{Kind: kind, Key: key, Detail: p.String()}, stored: stored, into: new(T), want: p}
}

// TestDetails builds an event of every kind and decodes its detail with
// encoding/json, unknown fields refused, into its kind's payload type. A kind
// without an entry fails: a new kind gets its payload (or says it has none)
// here.
func TestDetails(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	seg := 3
	rep := tracking.RepFacts{OrgID: 1, RepID: 7, TeamID: 2, Team: "North", Status: "active", Name: "Ava Smith",
		Phone: "+15555550100", Email: "ava@example.com", TimeZone: "America/Chicago", OptedOut: true}
	enrollment := tracking.EnrollmentFacts{OrgID: 1, RepID: 7, EnrollmentID: 53, CourseID: 52, CourseVersionID: 9,
		CourseTitle: "Safety", Status: "active", EnrolledAt: at, DueOn: "2027-03-22", Lessons: 4, Segments: 8}
	cases := map[string]detailCase{
		tracking.KindMessageSent: payload(tracking.KindMessageSent, tracking.MessageKey(17, tracking.KindMessageSent),
			tracking.MessageSentDetail{Purpose: "question"}, `{"purpose":"question"}`),
		tracking.KindMessageDelivered: payload(tracking.KindMessageDelivered, tracking.MessageKey(17, tracking.KindMessageDelivered),
			tracking.MessageStatusDetail{Status: "delivered"}, `{"status":"delivered","error_code":0}`),
		tracking.KindMessageFailed: payload(tracking.KindMessageFailed, tracking.MessageKey(17, tracking.KindMessageFailed),
			tracking.MessageStatusDetail{ErrorCode: 21610}, `{"error_code":21610}`),
		tracking.KindReply: payload(tracking.KindReply, tracking.ReplyKey(18),
			tracking.ReplyDetail{MessageID: 18}, `{"message_id":18}`),
		tracking.KindGraded: payload(tracking.KindGraded, tracking.GradeKey(501, 1, 17),
			tracking.GradedDetail{Question: 1, Choice: 2, Purpose: "review"}, `{"question":1,"choice":2,"purpose":"review"}`),
		tracking.KindLessonOpened: payload(tracking.KindLessonOpened, tracking.OpenKey(501),
			tracking.LessonDetail{Kind: "video"}, `{"kind":"video"}`),
		tracking.KindSegmentWatched: payload(tracking.KindSegmentWatched, tracking.SegmentKey(501, 3),
			tracking.VideoDetail{Position: 59.75, Rate: 1.25, Session: "s-1abcdef"}, `{"position":59.75,"rate":1.25,"session":"s-1abcdef"}`),
		tracking.KindVideoPaused: payload(tracking.KindVideoPaused, tracking.PlayerKey(tracking.KindVideoPaused, 501, "s-1abcdef"),
			tracking.VideoDetail{Position: 50.5, Rate: 1, Session: "s-1abcdef", Segment: &seg}, `{"position":50.5,"rate":1,"session":"s-1abcdef","segment":3}`),
		tracking.KindVideoEnded: payload(tracking.KindVideoEnded, tracking.PlayerKey(tracking.KindVideoEnded, 501, "s-1abcdef"),
			tracking.VideoDetail{Position: 62, Rate: 2, Session: "s-1abcdef", Segment: &seg}, `{"position":62,"rate":2,"session":"s-1abcdef","segment":3}`),
		tracking.KindLessonCompleted: payload(tracking.KindLessonCompleted, tracking.DoneKey(501),
			tracking.LessonDetail{Kind: "text"}, `{"kind":"text"}`),
		tracking.KindCourseCompleted: {event: tracking.Event{Kind: tracking.KindCourseCompleted, Key: tracking.CourseKey(53)}},
		tracking.KindOptedOut:        {event: tracking.Event{Kind: tracking.KindOptedOut, Key: tracking.OptKey(tracking.KindOptedOut, 7, at)}},
		tracking.KindOptedIn:         {event: tracking.Event{Kind: tracking.KindOptedIn, Key: tracking.OptKey(tracking.KindOptedIn, 7, at)}},
		tracking.KindPathChanged: payload(tracking.KindPathChanged, tracking.PathKey(501, 0),
			tracking.PathChangedDetail{Change: "remedial", Reason: "scored 40% on Quiz 1, below 70%"},
			`{"change":"remedial","reason":"scored 40% on Quiz 1, below 70%"}`),
		tracking.KindRepChanged: {event: rep.Event(at), into: new(tracking.RepFacts),
			stored: `{"team":"North","status":"active","name":"Ava Smith","phone":"+15555550100","email":"ava@example.com",` +
				`"time_zone":"America/Chicago","opted_out":true,"phone_invalid":false}`,
			want: tracking.RepFacts{Team: "North", Status: "active", Name: "Ava Smith", Phone: "+15555550100",
				Email: "ava@example.com", TimeZone: "America/Chicago", OptedOut: true}}, // the ids travel in columns
		tracking.KindEnrollmentChanged: {event: enrollment.Event(at), into: new(tracking.EnrollmentFacts),
			stored: `{"course_version_id":9,"course_title":"Safety","status":"active","enrolled_at":"2027-03-08T14:00:00Z",` +
				`"due_on":"2027-03-22","lessons":4,"segments":8}`,
			want: tracking.EnrollmentFacts{CourseVersionID: 9, CourseTitle: "Safety", Status: "active", EnrolledAt: at,
				DueOn: "2027-03-22", Lessons: 4, Segments: 8}},
	}
	every := append(tracking.Kinds(), tracking.KindVideoPaused, tracking.KindVideoEnded,
		tracking.KindRepChanged, tracking.KindEnrollmentChanged)
	for _, kind := range every {
		t.Run(kind, func(t *testing.T) {
			c, ok := cases[kind]
			require.True(t, ok, "kind %s has no entry: give it its payload, or say it has no detail", kind)
			e := c.event
			require.Equal(t, kind, e.Kind)
			require.NotEmpty(t, e.Key)
			require.Equal(t, c.stored, e.Detail, "the detail as stored events have it")
			if c.into == nil {
				require.Empty(t, e.Detail, "a kind without a payload has no detail")
				return
			}
			dec := json.NewDecoder(strings.NewReader(e.Detail))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(c.into), e.Detail)
			require.Equal(t, c.want, reflect.ValueOf(c.into).Elem().Interface())
		})
	}
	require.Len(t, cases, len(every), "an entry for a kind that is not one")
}

// awkward is text that Go quoting (%q) does not write as JSON: quotes,
// backslashes, control characters, HTML's specials and characters of other
// scripts and planes.
const awkward = "Ava \"the rep\" O'Neil \\ C:\\path\t\n\r\x00\x07\x1b\x7f <b>&amp; ünïcödé 日本語 \u2028\u2029 😀"

// TestDetailsAwkwardText round-trips awkward text through every payload's
// strings, where the old details (fmt's %q) made text that was not JSON.
func TestDetailsAwkwardText(t *testing.T) {
	t.Parallel()
	require.False(t, json.Valid(fmt.Appendf(nil, `{"reason":%q}`, awkward)), "%%q does not write JSON")

	roundTrip := func(t *testing.T, detail string, into, want any) {
		t.Helper()
		require.True(t, json.Valid([]byte(detail)), detail)
		require.NoError(t, json.Unmarshal([]byte(detail), into), detail)
		require.Equal(t, want, reflect.ValueOf(into).Elem().Interface())
	}
	seg := 1
	for _, p := range []fmt.Stringer{
		tracking.MessageSentDetail{Purpose: awkward},
		tracking.MessageStatusDetail{Status: awkward, ErrorCode: 30003},
		tracking.GradedDetail{Question: 1, Choice: 2, Purpose: awkward},
		tracking.LessonDetail{Kind: awkward},
		tracking.PathChangedDetail{Change: awkward, Reason: awkward + awkward},
		tracking.VoidDetail{Reason: awkward, By: awkward},
		tracking.VideoDetail{Position: 1, Rate: 1, Session: awkward, Segment: &seg},
	} {
		t.Run(reflect.TypeOf(p).Name(), func(t *testing.T) {
			roundTrip(t, p.String(), reflect.New(reflect.TypeOf(p)).Interface(), p)
		})
	}
	t.Run("RepFacts", func(t *testing.T) {
		f := tracking.RepFacts{Team: awkward, Status: "active", Name: awkward, Email: awkward, TimeZone: "UTC"}
		roundTrip(t, f.Event(time.Now()).Detail, new(tracking.RepFacts), f)
	})
	t.Run("EnrollmentFacts", func(t *testing.T) {
		f := tracking.EnrollmentFacts{CourseTitle: awkward, Status: "active", DueOn: "2027-03-22"}
		roundTrip(t, f.Event(time.Now()).Detail, new(tracking.EnrollmentFacts), f)
	})
}

// keySink keeps the keys TestKeysAllocate makes.
var keySink string

// TestKeysAllocate holds the keys pings make to one allocation each, the
// string: /t/pings makes tens of thousands a second.
func TestKeysAllocate(t *testing.T) {
	session := strings.Repeat("s", 64)
	for name, f := range map[string]func(){
		"SegmentKey": func() { keySink = tracking.SegmentKey(math.MaxInt64, 1_000_000) },
		"PlayerKey":  func() { keySink = tracking.PlayerKey(tracking.KindVideoEnded, math.MaxInt64, session) },
		"DoneKey":    func() { keySink = tracking.DoneKey(math.MaxInt64) },
	} {
		require.EqualValues(t, 1, testing.AllocsPerRun(100, f), name)
	}
}
