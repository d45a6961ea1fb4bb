package xapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/xapi"
)

const home = "https://morsel.example"

// catalog: course 7 with a 40-second video (3 segments), a text and a quiz
// whose pass mark is 70.
var catalog = xapi.Catalog{
	Courses: map[int64]xapi.Course{7: {Title: "Discounts"}},
	Lessons: map[int64]xapi.Lesson{
		11: {Title: "Welcome", Kind: lessons.KindVideo, VideoSeconds: 40},
		12: {Title: "Policy", Kind: lessons.KindText},
		13: {Title: "Check", Kind: lessons.KindQuiz, PassMark: 70, Questions: []lessons.Question{
			{Prompt: "Max discount?", Choices: []string{"5%", "10%"}, Correct: 1}}},
	},
}

func segment(n int) *int { return &n }

func TestStatementOfEachKind(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 3, 8, 14, 0, 0, 0, time.UTC)
	base := tracking.Event{OrgID: 1, RepID: 5, CourseID: 7, EnrollmentID: 9, OccurredAt: at}
	ev := func(kind, key string, assignment, lesson int64, value float64, detail string) tracking.Event {
		e := base
		e.Kind, e.Key, e.AssignmentID, e.LessonID, e.Value, e.Detail = kind, key, assignment, lesson, value, detail
		return e
	}
	// Segments 0 and 1 watched before the time of the events, 2 after.
	watched := []tracking.SegmentWatch{
		{RepID: 5, AssignmentID: 100, Segment: 0, At: at.Add(-time.Minute)},
		{RepID: 5, AssignmentID: 100, Segment: 1, At: at.Add(-time.Second)},
		{RepID: 5, AssignmentID: 100, Segment: 2, At: at.Add(time.Minute)},
	}
	video := tracking.VideoDetail{Position: 22.5, Rate: 1, Session: "s1"}
	paused := video
	paused.Segment = segment(1)
	tests := []struct {
		name     string
		event    tracking.Event
		verb     string
		object   string
		objType  string
		result   map[string]any // top-level result fields and extensions expected
		noResult bool
		category bool // the Video Profile's category
	}{
		{name: "video opened", event: ev(tracking.KindLessonOpened, "open/100", 100, 11, 0, tracking.LessonDetail{Kind: "video"}.String()),
			verb: xapi.VerbInitialized, object: home + "/xapi/lessons/11", objType: xapi.TypeVideo, noResult: true, category: true},
		{name: "text opened", event: ev(tracking.KindLessonOpened, "open/101", 101, 12, 0, tracking.LessonDetail{Kind: "text"}.String()),
			verb: xapi.VerbInitialized, object: home + "/xapi/lessons/12", objType: xapi.TypeLesson, noResult: true},
		{name: "segment played", event: ev(tracking.KindSegmentWatched, "seg/100/1", 100, 11, 1, video.String()),
			verb: xapi.VerbPlayed, object: home + "/xapi/lessons/11", objType: xapi.TypeVideo, category: true,
			result: map[string]any{xapi.ExtTime: 15.0, xapi.ExtPlayedSegments: "15[.]30", xapi.ExtProgress: 0.667}},
		{name: "paused", event: ev(tracking.KindVideoPaused, "video_paused/100/s1", 100, 11, 0, paused.String()),
			verb: xapi.VerbPaused, object: home + "/xapi/lessons/11", objType: xapi.TypeVideo, category: true,
			result: map[string]any{xapi.ExtTime: 22.5, xapi.ExtPlayedSegments: "0[.]30", xapi.ExtProgress: 0.667}},
		{name: "video completed", event: ev(tracking.KindLessonCompleted, "done/100", 100, 11, 0, tracking.LessonDetail{Kind: "video"}.String()),
			verb: xapi.VerbCompleted, object: home + "/xapi/lessons/11", objType: xapi.TypeVideo, category: true,
			result: map[string]any{"completion": true, "duration": "PT30S", xapi.ExtTime: 30.0, xapi.ExtPlayedSegments: "0[.]30", xapi.ExtProgress: 0.667}},
		{name: "text completed", event: ev(tracking.KindLessonCompleted, "done/101", 101, 12, 0, tracking.LessonDetail{Kind: "text"}.String()),
			verb: xapi.VerbCompleted, object: home + "/xapi/lessons/12", objType: xapi.TypeLesson, result: map[string]any{"completion": true}},
		{name: "quiz passed", event: ev(tracking.KindLessonCompleted, "done/102", 102, 13, 75, ""),
			verb: xapi.VerbPassed, object: home + "/xapi/lessons/13", objType: xapi.TypeAssessment,
			result: map[string]any{"completion": true, "success": true, "score": map[string]any{"scaled": 0.75, "raw": 75.0, "min": 0.0, "max": 100.0}}},
		{name: "quiz failed", event: ev(tracking.KindLessonCompleted, "done/103", 103, 13, 50, ""),
			verb: xapi.VerbFailed, object: home + "/xapi/lessons/13", objType: xapi.TypeAssessment,
			result: map[string]any{"completion": true, "success": false, "score": map[string]any{"scaled": 0.5, "raw": 50.0, "min": 0.0, "max": 100.0}}},
		{name: "answered right", event: ev(tracking.KindGraded, "grade/102/0/555", 102, 13, 1, tracking.GradedDetail{Question: 0, Choice: 1, Purpose: "question"}.String()),
			verb: xapi.VerbAnswered, object: home + "/xapi/lessons/13/questions/0", objType: xapi.TypeInteraction,
			result: map[string]any{"success": true, "response": "B"}},
		{name: "answered wrong", event: ev(tracking.KindGraded, "grade/102/0/556", 102, 13, 0, tracking.GradedDetail{Question: 0, Choice: 0, Purpose: "review"}.String()),
			verb: xapi.VerbAnswered, object: home + "/xapi/lessons/13/questions/0", objType: xapi.TypeInteraction,
			result: map[string]any{"success": false, "response": "A"}},
		{name: "course completed", event: ev(tracking.KindCourseCompleted, "course/9", 0, 0, 80, ""),
			verb: xapi.VerbCompleted, object: home + "/xapi/courses/7", objType: xapi.TypeCourse,
			result: map[string]any{"completion": true, "score": map[string]any{"scaled": 0.8, "raw": 80.0, "min": 0.0, "max": 100.0}}},
	}
	conv := xapi.Converter{HomePage: home, OrgID: 1, Catalog: catalog}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ok := conv.Statement(tt.event, watched)
			require.True(t, ok)
			raw, err := json.Marshal(s)
			require.NoError(t, err)
			require.Empty(t, xapi.Problems(raw), string(raw))
			var got map[string]any
			require.NoError(t, json.Unmarshal(raw, &got))
			require.Equal(t, tt.verb, got["verb"].(map[string]any)["id"])
			obj := got["object"].(map[string]any)
			require.Equal(t, tt.object, obj["id"])
			require.Equal(t, tt.objType, obj["definition"].(map[string]any)["type"])
			require.Equal(t, xapi.StatementID(1, 5, tt.event.Key), got["id"])
			require.Equal(t, "2027-03-08T14:00:00Z", got["timestamp"])
			require.Equal(t, map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": home, "name": xapi.RepAccountName(1, 5)}}, got["actor"])
			ctx := got["context"].(map[string]any)
			require.Equal(t, xapi.Registration(1, 9), ctx["registration"])
			activities, _ := ctx["contextActivities"].(map[string]any)
			cats, _ := activities["category"].([]any)
			require.Equal(t, tt.category, len(cats) == 1 && cats[0].(map[string]any)["id"] == xapi.VideoProfile, "category: %v", cats)
			if tt.category {
				require.Equal(t, 40.0, ctx["extensions"].(map[string]any)[xapi.ExtLength])
			}
			if tt.noResult {
				require.Nil(t, got["result"])
				return
			}
			result := got["result"].(map[string]any)
			ext, _ := result["extensions"].(map[string]any)
			for k, want := range tt.result {
				if v, top := result[k]; top {
					require.Equal(t, want, v, k)
				} else {
					require.Equal(t, want, ext[k], k)
				}
			}
		})
	}
}

// Events of other kinds have no statement.
func TestNoStatement(t *testing.T) {
	t.Parallel()
	conv := xapi.Converter{HomePage: home, OrgID: 1, Catalog: catalog}
	for _, kind := range []string{tracking.KindMessageSent, tracking.KindReply, tracking.KindOptedOut, tracking.KindVideoEnded, tracking.KindRepChanged} {
		_, ok := conv.Statement(tracking.Event{OrgID: 1, RepID: 5, Kind: kind, Key: kind, OccurredAt: time.Now()}, nil)
		require.False(t, ok, kind)
	}
}

// Ids are name-based: the same event, the same id; anything else, another.
func TestDeterministicIDs(t *testing.T) {
	t.Parallel()
	id := xapi.StatementID(1, 5, "done/100")
	require.Equal(t, id, xapi.StatementID(1, 5, "done/100"))
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)
	others := []string{xapi.StatementID(2, 5, "done/100"), xapi.StatementID(1, 6, "done/100"), xapi.StatementID(1, 5, "done/101"),
		xapi.RepAccountName(1, 5), xapi.Registration(1, 5)}
	for _, o := range others {
		require.NotEqual(t, id, o)
	}
	require.Equal(t, xapi.RepAccountName(1, 5), xapi.RepAccountName(1, 5))
	require.NotEqual(t, xapi.RepAccountName(1, 5), xapi.RepAccountName(2, 5))
}

// The checker finds each missing or malformed required property.
func TestProblems(t *testing.T) {
	t.Parallel()
	good := `{"id":"0d3c6f0e-6a55-5d5b-9c2e-1f1a2b3c4d5e","actor":{"objectType":"Agent","account":{"homePage":"https://m.example","name":"x"}},` +
		`"verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"completed"}},` +
		`"object":{"objectType":"Activity","id":"https://m.example/xapi/lessons/1"},"timestamp":"2027-03-08T14:00:00Z"}`
	require.Empty(t, xapi.Problems([]byte(good)))
	tests := []struct{ name, raw, want string }{
		{"no id", `{"actor":{"account":{"homePage":"https://m.example","name":"x"}},"verb":{"id":"http://v.example/v","display":{"en":"v"}},"object":{"id":"https://o.example/1"},"timestamp":"2027-03-08T14:00:00Z"}`, "id: missing"},
		{"id not a uuid", `{"id":"42","actor":{"account":{"homePage":"https://m.example","name":"x"}},"verb":{"id":"http://v.example/v","display":{"en":"v"}},"object":{"id":"https://o.example/1"},"timestamp":"2027-03-08T14:00:00Z"}`, `id: "42" is not a UUID`},
		{"actor by phone", `{"id":"0d3c6f0e-6a55-5d5b-9c2e-1f1a2b3c4d5e","actor":{"mbox":"tel:+1555"},"verb":{"id":"http://v.example/v","display":{"en":"v"}},"object":{"id":"https://o.example/1"},"timestamp":"2027-03-08T14:00:00Z"}`, "actor: must be identified by exactly one account"},
		{"relative verb", `{"id":"0d3c6f0e-6a55-5d5b-9c2e-1f1a2b3c4d5e","actor":{"account":{"homePage":"https://m.example","name":"x"}},"verb":{"id":"completed","display":{"en":"v"}},"object":{"id":"https://o.example/1"},"timestamp":"2027-03-08T14:00:00Z"}`, `verb.id: "completed" is not an absolute IRI`},
		{"no object", `{"id":"0d3c6f0e-6a55-5d5b-9c2e-1f1a2b3c4d5e","actor":{"account":{"homePage":"https://m.example","name":"x"}},"verb":{"id":"http://v.example/v","display":{"en":"v"}},"timestamp":"2027-03-08T14:00:00Z"}`, "object: missing"},
		{"no zone", `{"id":"0d3c6f0e-6a55-5d5b-9c2e-1f1a2b3c4d5e","actor":{"account":{"homePage":"https://m.example","name":"x"}},"verb":{"id":"http://v.example/v","display":{"en":"v"}},"object":{"id":"https://o.example/1"},"timestamp":"2027-03-08 14:00"}`, `timestamp: "2027-03-08 14:00" is not ISO 8601 with a zone`},
		{"bad segments", `{"id":"0d3c6f0e-6a55-5d5b-9c2e-1f1a2b3c4d5e","actor":{"account":{"homePage":"https://m.example","name":"x"}},"verb":{"id":"http://v.example/v","display":{"en":"v"}},"object":{"id":"https://o.example/1"},"timestamp":"2027-03-08T14:00:00Z","result":{"extensions":{"https://w3id.org/xapi/video/extensions/played-segments":"0-15"}}}`, "played-segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			problems := xapi.Problems([]byte(tt.raw))
			require.NotEmpty(t, problems)
			require.Contains(t, problems[0], tt.want)
		})
	}
}

// A cursor reads back as written; anything else is refused with its name.
func TestCursor(t *testing.T) {
	t.Parallel()
	c := xapi.Cursor{RepID: 42, Key: "grade/1/2/3"}
	back, err := xapi.ParseCursor("cursor", c.String())
	require.NoError(t, err)
	require.Equal(t, c, back)
	rep := xapi.Cursor{RepID: 42} // from the rep's first event
	back, err = xapi.ParseCursor("cursor", rep.String())
	require.NoError(t, err)
	require.Equal(t, rep, back)
	start, err := xapi.ParseCursor("cursor", "")
	require.NoError(t, err)
	require.True(t, start.IsZero())
	for _, bad := range []string{"%%%", "WzAsImsiXQ", "WzEsImFcdTAwMDAiXQ", "WyJ4IiwieSJd", "bm90IGpzb24"} {
		_, err := xapi.ParseCursor("cursor", bad)
		require.ErrorContains(t, err, "cursor", bad)
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(xapi.Cursor{RepID: 42, Key: "seg/1/2"}.String())
	f.Add("")
	f.Add("WzAsImsiXQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := xapi.ParseCursor("cursor", s)
		if err != nil {
			return
		}
		again, err := xapi.ParseCursor("cursor", c.String())
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}
