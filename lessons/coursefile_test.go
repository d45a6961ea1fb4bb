package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/errs"
)

// courseFileTextLesson is a valid lesson for building test files.
const courseFileTextLesson = `{"key":"intro","kind":"text","title":"Intro","body":"Hello"}`

// courseFileJSON returns a course file with a valid slug and title, the given
// extra top-level fields (JSON object members, may be empty) and lessons (one
// text lesson when none are given).
func courseFileJSON(fields string, lessons ...string) string {
	if len(lessons) == 0 {
		lessons = []string{courseFileTextLesson}
	}
	if fields != "" {
		fields = "," + fields
	}
	return `{"slug":"s","title":"T"` + fields + `,"lessons":[` + strings.Join(lessons, ",") + `]}`
}

func courseFileDetail(path, message string) errs.Detail {
	return errs.Detail{Path: path, Message: message}
}

// Lessons for building test files with rules: a quiz and a remedial lesson.
const (
	courseFileQuiz     = `{"key":"quiz-1","kind":"quiz","title":"Q","questions":[{"prompt":"P","choices":["x","y"],"correct":"A"}]}`
	courseFileRemedial = `{"key":"again","kind":"text","title":"Again","body":"Once more","remedial":true}`
)

// courseFileWithRules returns a course file of an intro, quiz-1 and the
// remedial lesson "again", with the given rules object.
func courseFileWithRules(rules string) string {
	return courseFileJSON(`"rules":`+rules, courseFileTextLesson, courseFileQuiz, courseFileRemedial)
}

// courseFileBrokenCases are course files with known problems; the fuzz test
// starts from them too.
var courseFileBrokenCases = []struct {
	name  string
	input string
	want  []errs.Detail
}{
	{
		name:  "empty file",
		input: " \n ",
		want:  []errs.Detail{courseFileDetail("line 1, column 1", "the file is empty; it must hold one JSON object")},
	},
	{
		name:  "trailing comma",
		input: "{\n  \"slug\": \"s\",\n}",
		want:  []errs.Detail{courseFileDetail("line 3, column 1", "invalid JSON: unexpected '}' after a comma; remove the comma")},
	},
	{
		name:  "file ends early",
		input: `{"slug": "s"`,
		want:  []errs.Detail{courseFileDetail("line 1, column 13", `invalid JSON: the file ends too early; a closing }, ] or " is missing`)},
	},
	{
		name:  "single quotes",
		input: "{\n\"slug\": 'héllo'}",
		want:  []errs.Detail{courseFileDetail("line 2, column 9", "invalid JSON: unexpected single quote; strings and field names must be in double quotes")},
	},
	{
		name:  "missing comma",
		input: "{\"slug\": \"s\"\n \"title\": \"T\"}",
		want:  []errs.Detail{courseFileDetail("line 2, column 2", `invalid JSON: unexpected '"'; is a comma missing before it?`)},
	},
	{
		name:  "line break in a string",
		input: "{\"title\": \"two\nlines\"}",
		want:  []errs.Detail{courseFileDetail("line 1, column 15", `invalid JSON: unexpected line break inside a string; write line breaks as \n and tabs as \t`)},
	},
	{
		name:  "trailing data",
		input: courseFileJSON("") + "\n{}",
		want:  []errs.Detail{courseFileDetail("line 2, column 1", "invalid JSON: unexpected '{' after the course object; the file must hold a single JSON object")},
	},
	{
		name:  "not an object",
		input: "\n  [" + courseFileJSON("") + "]",
		want:  []errs.Detail{courseFileDetail("line 2, column 3", "the file must hold one JSON object (the course), got a list")},
	},
	{
		name:  "unknown top-level field",
		input: courseFileJSON(`"lesons":[]`),
		want: []errs.Detail{courseFileDetail("lesons",
			"unknown field; the known fields here are slug, title, description, pass_mark, due_days, cadence, send_window, completion, lessons, rules")},
	},
	{
		name:  "repeated field",
		input: courseFileJSON(`"title":"Again"`),
		want:  []errs.Detail{courseFileDetail("title", "appears more than once")},
	},
	{
		name:  "slug missing, title blank",
		input: `{"title":"   ","lessons":[` + courseFileTextLesson + `]}`,
		want: []errs.Detail{
			courseFileDetail("slug", "is required"),
			courseFileDetail("title", "must not be blank"),
		},
	},
	{
		name:  "slug not a slug",
		input: `{"slug":"Discount Policy","title":"T","lessons":[` + courseFileTextLesson + `]}`,
		want: []errs.Detail{courseFileDetail("slug",
			`must be 1-63 lower-case letters, digits and hyphens, starting with a letter or digit; got "Discount Policy"`)},
	},
	{
		name:  "title too long",
		input: `{"slug":"s","title":"` + strings.Repeat("é", 201) + `","lessons":[` + courseFileTextLesson + `]}`,
		want:  []errs.Detail{courseFileDetail("title", "must be at most 200 characters, got 201")},
	},
	{
		name:  "description too long",
		input: courseFileJSON(`"description":"` + strings.Repeat("x", 2001) + `"`),
		want:  []errs.Detail{courseFileDetail("description", "must be at most 2000 characters, got 2001")},
	},
	{
		name:  "pass mark not a number",
		input: courseFileJSON(`"pass_mark":"seventy"`),
		want:  []errs.Detail{courseFileDetail("pass_mark", `must be a whole number, got "seventy"`)},
	},
	{
		name:  "pass mark and due days out of range",
		input: courseFileJSON(`"pass_mark":101,"due_days":0`),
		want: []errs.Detail{
			courseFileDetail("pass_mark", "must be between 0 and 100, got 101"),
			courseFileDetail("due_days", "must be between 1 and 365, got 0"),
		},
	},
	{
		name:  "due days not whole",
		input: courseFileJSON(`"due_days":2.5`),
		want:  []errs.Detail{courseFileDetail("due_days", "must be a whole number, got 2.5")},
	},
	{
		name:  "cadence with days and every_days",
		input: courseFileJSON(`"cadence":{"days":["mon"],"every_days":2,"times":["09:00"]}`),
		want:  []errs.Detail{courseFileDetail("cadence", "must have either days or every_days, not both")},
	},
	{
		name:  "cadence with neither, no times",
		input: courseFileJSON(`"cadence":{}`),
		want: []errs.Detail{
			courseFileDetail("cadence", `must have days (e.g. ["mon", "wed"]) or every_days (e.g. 2)`),
			courseFileDetail("cadence.times", "is required"),
		},
	},
	{
		name:  "cadence days unknown and repeated",
		input: courseFileJSON(`"cadence":{"days":["mon","tue","funday","MON",3],"times":["09:00"]}`),
		want: []errs.Detail{
			courseFileDetail("cadence.days[2]", `must be one of mon, tue, wed, thu, fri, sat, sun; got "funday"`),
			courseFileDetail("cadence.days[3]", `"MON" is the same day as cadence.days[0]`),
			courseFileDetail("cadence.days[4]", "must be a string, got 3"),
		},
	},
	{
		name:  "every_days out of range",
		input: courseFileJSON(`"cadence":{"every_days":31,"times":["09:00"]}`),
		want:  []errs.Detail{courseFileDetail("cadence.every_days", "must be between 1 and 30, got 31")},
	},
	{
		name:  "cadence times bad and out of order",
		input: courseFileJSON(`"cadence":{"days":["mon"],"times":["12:00","9am","12:00","11:00"]}`),
		want: []errs.Detail{
			courseFileDetail("cadence.times[1]", `must be a time of day as HH:MM (24-hour), got "9am"`),
			courseFileDetail("cadence.times[2]", `"12:00" must be later than cadence.times[0] ("12:00")`),
			courseFileDetail("cadence.times[3]", `"11:00" must be later than cadence.times[2] ("12:00")`),
		},
	},
	{
		name:  "too many cadence times",
		input: courseFileJSON(`"cadence":{"every_days":1,"times":["08:00","09:00","10:00","11:00","12:00","13:00","14:00"]}`),
		want:  []errs.Detail{courseFileDetail("cadence.times", "must have at most 6 times, got 7")},
	},
	{
		name:  "no cadence times",
		input: courseFileJSON(`"cadence":{"every_days":1,"times":[]}`),
		want:  []errs.Detail{courseFileDetail("cadence.times", "must have at least 1 time")},
	},
	{
		name:  "send window ends before it starts",
		input: courseFileJSON(`"send_window":{"start":"20:00","end":"08:00"}`),
		want:  []errs.Detail{courseFileDetail("send_window.end", `"08:00" must be later than the start ("20:00")`)},
	},
	{
		name:  "cadence times outside the send window",
		input: courseFileJSON(`"cadence":{"every_days":2,"times":["07:59","08:00","19:59","20:00"]}`),
		want: []errs.Detail{
			courseFileDetail("cadence.times[0]", `"07:59" is outside the send window 08:00-20:00 (the end time itself is outside)`),
			courseFileDetail("cadence.times[3]", `"20:00" is outside the send window 08:00-20:00 (the end time itself is outside)`),
		},
	},
	{
		name:  "send window with a bad time and an unknown field",
		input: courseFileJSON(`"send_window":{"start":"8:00","stop":"21:00"}`),
		want: []errs.Detail{
			courseFileDetail("send_window.stop", "unknown field; the known fields here are start, end"),
			courseFileDetail("send_window.start", `must be a time of day as HH:MM (24-hour), got "8:00"`),
		},
	},
	{
		name:  "completion text unknown",
		input: courseFileJSON(`"completion":{"text":"clicked"}`),
		want:  []errs.Detail{courseFileDetail("completion.text", `"clicked" is not one of open, done_button`)},
	},
	{
		name:  "completion text not a string, video percent out of range",
		input: courseFileJSON(`"completion":{"text":true,"video_percent":0}`),
		want: []errs.Detail{
			courseFileDetail("completion.text", "must be a string, got true"),
			courseFileDetail("completion.video_percent", "must be between 1 and 100, got 0"),
		},
	},
	{
		name:  "completion video percent too high, not whole, unknown field",
		input: courseFileJSON(`"completion":{"video_percent":101,"quiz":"sms"}`),
		want: []errs.Detail{
			courseFileDetail("completion.quiz", "unknown field; the known fields here are text, video_percent"),
			courseFileDetail("completion.video_percent", "must be between 1 and 100, got 101"),
		},
	},
	{
		name:  "completion video percent a fraction, text blank",
		input: courseFileJSON(`"completion":{"text":" ","video_percent":"90"}`),
		want: []errs.Detail{
			courseFileDetail("completion.text", "must not be blank"),
			courseFileDetail("completion.video_percent", `must be a whole number, got "90"`),
		},
	},
	{
		name:  "completion not an object",
		input: courseFileJSON(`"completion":"open"`),
		want:  []errs.Detail{courseFileDetail("completion", `must be an object ({...}), got "open"`)},
	},
	{
		name:  "lessons missing",
		input: `{"slug":"s","title":"T"}`,
		want:  []errs.Detail{courseFileDetail("lessons", "is required")},
	},
	{
		name:  "lessons empty",
		input: `{"slug":"s","title":"T","lessons":[]}`,
		want:  []errs.Detail{courseFileDetail("lessons", "must have at least 1 lesson")},
	},
	{
		name:  "lessons not a list",
		input: `{"slug":"s","title":"T","lessons":{"key":"intro"}}`,
		want:  []errs.Detail{courseFileDetail("lessons", "must be a list ([...]), got an object")},
	},
	{
		name:  "lesson not an object",
		input: courseFileJSON("", `"intro"`),
		want:  []errs.Detail{courseFileDetail("lessons[0]", `must be an object ({...}), got "intro"`)},
	},
	{
		name: "lesson key used twice",
		input: courseFileJSON("",
			courseFileTextLesson,
			`{"key":"b","kind":"text","title":"B","body":"b"}`,
			`{"key":"c","kind":"text","title":"C","body":"c"}`,
			`{"key":"b","kind":"text","title":"B2","body":"b"}`,
			`{"key":" intro ","kind":"text","title":"Again","body":"again"}`),
		want: []errs.Detail{
			courseFileDetail("lessons[3].key", `"b" is already used by lessons[1]`),
			courseFileDetail("lessons[4].key", `"intro" is already used by lessons[0]`),
		},
	},
	{
		name:  "lesson key, kind and title wrong",
		input: courseFileJSON("", `{"key":"Intro!","kind":"podcast","title":42,"optional":"yes"}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].key",
				`must be 1-40 lower-case letters, digits, dots, underscores and hyphens, starting with a letter or digit; got "Intro!"`),
			courseFileDetail("lessons[0].kind", `must be one of text, video, quiz; got "podcast"`),
			courseFileDetail("lessons[0].title", "must be a string, got 42"),
			courseFileDetail("lessons[0].optional", `must be true or false, got "yes"`),
		},
	},
	{
		name:  "text lesson without body, with video and quiz fields",
		input: courseFileJSON("", `{"key":"a","kind":"text","title":"A","video_url":"/v.mp4","video_seconds":10,"questions":[]}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].body", "is required"),
			courseFileDetail("lessons[0].video_url", "is only allowed on video lessons"),
			courseFileDetail("lessons[0].video_seconds", "is only allowed on video lessons"),
			courseFileDetail("lessons[0].questions", "is only allowed on quiz lessons"),
		},
	},
	{
		name:  "text body too long",
		input: courseFileJSON("", `{"key":"a","kind":"text","title":"A","body":"`+strings.Repeat("b", 1001)+`"}`),
		want:  []errs.Detail{courseFileDetail("lessons[0].body", "must be at most 1000 characters, got 1001")},
	},
	{
		name:  "video lesson without its fields",
		input: courseFileJSON("", `{"key":"v","kind":"video","title":"V"}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].video_url", "is required for a video lesson"),
			courseFileDetail("lessons[0].video_seconds", "is required for a video lesson"),
		},
	},
	{
		name: "video url and length wrong",
		input: courseFileJSON("",
			`{"key":"v1","kind":"video","title":"V","video_url":"ftp://cdn.example/a.mp4","video_seconds":3601}`,
			`{"key":"v2","kind":"video","title":"V","video_url":"//cdn.example/a.mp4","video_seconds":0}`,
			`{"key":"v3","kind":"video","title":"V","video_url":"media/a.mp4","video_seconds":"95"}`,
			`{"key":"v4","kind":"video","title":"V","video_url":"https:///a.mp4","video_seconds":1}`,
			`{"key":"v5","kind":"video","title":"V","video_url":" ","video_seconds":1}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].video_url", `must be an http(s) URL or a path starting with "/"; got "ftp://cdn.example/a.mp4"`),
			courseFileDetail("lessons[0].video_seconds", "must be between 1 and 3600, got 3601"),
			courseFileDetail("lessons[1].video_url", `must be an http(s) URL or a path starting with "/"; got "//cdn.example/a.mp4"`),
			courseFileDetail("lessons[1].video_seconds", "must be between 1 and 3600, got 0"),
			courseFileDetail("lessons[2].video_url", `must be an http(s) URL or a path starting with "/"; got "media/a.mp4"`),
			courseFileDetail("lessons[2].video_seconds", `must be a whole number, got "95"`),
			courseFileDetail("lessons[3].video_url", `must be an http(s) URL or a path starting with "/"; got "https:///a.mp4"`),
			courseFileDetail("lessons[4].video_url", "must not be blank"),
		},
	},
	{
		name:  "quiz without questions",
		input: courseFileJSON("", `{"key":"q","kind":"quiz","title":"Q"}`, `{"key":"q2","kind":"quiz","title":"Q","questions":[]}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].questions", "is required for a quiz lesson"),
			courseFileDetail("lessons[1].questions", "must have at least 1 question"),
		},
	},
	{
		name: "correct letter not among the choices",
		input: courseFileJSON("",
			`{"key":"a","kind":"text","title":"A","body":"a"}`,
			`{"key":"b","kind":"text","title":"B","body":"b"}`,
			`{"key":"c","kind":"text","title":"C","body":"c"}`,
			`{"key":"quiz-1","kind":"quiz","title":"Q","questions":[
				{"prompt":"P","choices":["a","b","c","d"],"correct":"E"},
				{"prompt":"P","choices":["a","b"],"correct":"AB"},
				{"prompt":"P","choices":["a","b"],"correct":2}]}`),
		want: []errs.Detail{
			courseFileDetail("lessons[3].questions[0].correct", `"E" is not one of the choices A-D`),
			courseFileDetail("lessons[3].questions[1].correct", `"AB" is not one of the choices A-B`),
			courseFileDetail("lessons[3].questions[2].correct", `must be a choice letter such as "A", got 2`),
		},
	},
	{
		name: "choices wrong",
		input: courseFileJSON("", `{"key":"q","kind":"quiz","title":"Q","questions":[
			{"prompt":"P","choices":["Yes","No"," yes ",""],"correct":"a"},
			{"prompt":"P","choices":["only"],"correct":"A"},
			{"prompt":"P","choices":["1","2","3","4","5","6","7"],"correct":"G"},
			{"prompt":"P","choices":["`+strings.Repeat("c", 101)+`","d"],"correct":"B"}]}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].questions[0].choices[2]", `"yes" is the same as lessons[0].questions[0].choices[0]`),
			courseFileDetail("lessons[0].questions[0].choices[3]", "must not be blank"),
			courseFileDetail("lessons[0].questions[1].choices", "must have at least 2 choices, got 1"),
			courseFileDetail("lessons[0].questions[2].choices", "must have at most 6 choices, got 7"),
			courseFileDetail("lessons[0].questions[3].choices[0]", "must be at most 100 characters, got 101"),
		},
	},
	{
		name:  "question fields missing or unknown",
		input: courseFileJSON("", `{"key":"q","kind":"quiz","title":"Q","questions":[{"hint":"no"}]}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].questions[0].hint", "unknown field; the known fields here are prompt, choices, correct, explanation"),
			courseFileDetail("lessons[0].questions[0].prompt", "is required"),
			courseFileDetail("lessons[0].questions[0].choices", "is required"),
			courseFileDetail("lessons[0].questions[0].correct", "is required"),
		},
	},
	{
		name: "question text too long",
		input: courseFileJSON("", `{"key":"q","kind":"quiz","title":"Q","questions":[
			{"prompt":"`+strings.Repeat("p", 301)+`","choices":["a","b"],"correct":"a","explanation":"`+strings.Repeat("e", 301)+`"}]}`),
		want: []errs.Detail{
			courseFileDetail("lessons[0].questions[0].prompt", "must be at most 300 characters, got 301"),
			courseFileDetail("lessons[0].questions[0].explanation", "must be at most 300 characters, got 301"),
		},
	},
	{
		name:  "rules not an object",
		input: courseFileJSON(`"rules":[]`),
		want:  []errs.Detail{courseFileDetail("rules", "must be an object ({...}), got a list")},
	},
	{
		name:  "rules not an object, with a remedial lesson",
		input: courseFileWithRules(`"missed"`),
		want:  []errs.Detail{courseFileDetail("rules", `must be an object ({...}), got "missed"`)},
	},
	{
		name:  "remedial rule not read, with a remedial lesson",
		input: courseFileWithRules(`{"remedial":[{"quiz":"quiz-1","lessons":"again"}]}`),
		want:  []errs.Detail{courseFileDetail("rules.remedial[0].lessons", `must be a list ([...]), got "again"`)},
	},
	{
		name:  "rules with an unknown field",
		input: courseFileJSON(`"rules":{"mastery":90}`),
		want: []errs.Detail{courseFileDetail("rules.mastery",
			"unknown field; the known fields here are mastery_mark, remedial, review_days, retake, max_retakes")},
	},
	{
		name:  "rules values of the wrong type",
		input: courseFileJSON(`"rules":{"max_retakes":1.5,"retake":"some","review_days":[1,"3",2.5,0],"remedial":{},"mastery_mark":"ninety"}`),
		want: []errs.Detail{
			courseFileDetail("rules.mastery_mark", `must be a whole number, got "ninety"`),
			courseFileDetail("rules.remedial", "must be a list ([...]), got an object"),
			courseFileDetail("rules.review_days[1]", `must be a whole number, got "3"`),
			courseFileDetail("rules.review_days[2]", "must be a whole number, got 2.5"),
			courseFileDetail("rules.retake", `must be "missed" or "all", got "some"`),
			courseFileDetail("rules.max_retakes", "must be a whole number, got 1.5"),
			courseFileDetail("rules.review_days[3]", "must be between 1 and 60, got 0"),
		},
	},
	{
		name:  "rules values out of range",
		input: courseFileJSON(`"rules":{"mastery_mark":101,"review_days":[1,3,3,0,7,61],"retake":"","max_retakes":6}`),
		want: []errs.Detail{
			courseFileDetail("rules.retake", "must not be blank"),
			courseFileDetail("rules.mastery_mark", "must be between 0 and 100, got 101"),
			courseFileDetail("rules.review_days", "must have at most 5 days, got 6"),
			courseFileDetail("rules.review_days[2]", "3 must be greater than rules.review_days[1] (3)"),
			courseFileDetail("rules.review_days[3]", "must be between 1 and 60, got 0"),
			courseFileDetail("rules.review_days[5]", "must be between 1 and 60, got 61"),
			courseFileDetail("rules.max_retakes", "must be between 0 and 5, got 6"),
		},
	},
	{
		name: "remedial rules referring to the wrong lessons",
		input: courseFileWithRules(`{"remedial":[{"quiz":"q9","lessons":["again"]},{"quiz":"intro","lessons":["4z","intro"," again "]},` +
			`{"quiz":"quiz-1","lessons":[]},{"quiz":"quiz-1","lessons":["again","again"]}]}`),
		want: []errs.Detail{
			courseFileDetail("rules.remedial[0].quiz", `"q9" is not a quiz in this course`),
			courseFileDetail("rules.remedial[1].quiz", `"intro" is a text lesson, not a quiz`),
			courseFileDetail("rules.remedial[1].lessons[0]", `"4z" is not a lesson in this course`),
			courseFileDetail("rules.remedial[1].lessons[1]", `"intro" is not marked remedial`),
			courseFileDetail("rules.remedial[2].lessons", "must have at least 1 lesson"),
			courseFileDetail("rules.remedial[3].quiz", `"quiz-1" already has remedial lessons in rules.remedial[2]`),
			courseFileDetail("rules.remedial[3].lessons[1]", `"again" is already listed at rules.remedial[3].lessons[0]`),
		},
	},
	{
		name: "remedial rules malformed: reported once",
		input: courseFileWithRules(`{"remedial":["quiz-1",{"quiz":3,"lessons":"again"},{"lessons":["again",7]},` +
			`{"quiz":"quiz-1","lessons":["again"],"when":"failed"},{"quiz":"quiz-1"}]}`),
		want: []errs.Detail{
			courseFileDetail("rules.remedial[0]", `must be an object ({...}), got "quiz-1"`),
			courseFileDetail("rules.remedial[1].quiz", "must be a string, got 3"),
			courseFileDetail("rules.remedial[1].lessons", `must be a list ([...]), got "again"`),
			courseFileDetail("rules.remedial[2].quiz", "is required"),
			courseFileDetail("rules.remedial[2].lessons[1]", "must be a string, got 7"),
			courseFileDetail("rules.remedial[3].when", "unknown field; the known fields here are quiz, lessons"),
			courseFileDetail("rules.remedial[4].lessons", "is required"),
			courseFileDetail("rules.remedial[4].quiz", `"quiz-1" already has remedial lessons in rules.remedial[3]`),
		},
	},
	{
		name:  "remedial lesson no rule assigns",
		input: courseFileJSON("", courseFileTextLesson, courseFileQuiz, courseFileRemedial),
		want:  []errs.Detail{courseFileDetail("lessons[2].remedial", `"again" is marked remedial but no rule in rules.remedial assigns it`)},
	},
	{
		name: "remedial flag wrong",
		input: courseFileJSON("", courseFileTextLesson,
			`{"key":"again","kind":"text","title":"A","body":"b","optional":true,"remedial":true}`,
			`{"key":"more","kind":"text","title":"M","body":"m","remedial":"yes"}`),
		want: []errs.Detail{
			courseFileDetail("lessons[1].remedial", "a lesson cannot be both optional and remedial: remedial lessons are off the normal path"),
			courseFileDetail("lessons[2].remedial", `must be true or false, got "yes"`),
		},
	},
	{
		name:  "every lesson remedial",
		input: courseFileJSON(`"rules":{"remedial":[{"quiz":"quiz-1","lessons":["again"]}]}`, courseFileRemedial),
		want:  []errs.Detail{courseFileDetail("lessons", "must have at least 1 lesson that is not remedial")},
	},
	{
		name: "a lesson problem hides what the rules refer to, not their ranges",
		input: courseFileJSON(`"rules":{"mastery_mark":200,"remedial":[{"quiz":"quiz-1","lessons":["again"]}]}`,
			courseFileTextLesson, courseFileQuiz, `{"key":"Again","kind":"text","title":"A","body":"b","remedial":true}`),
		want: []errs.Detail{
			courseFileDetail("lessons[2].key",
				`must be 1-40 lower-case letters, digits, dots, underscores and hyphens, starting with a letter or digit; got "Again"`),
			courseFileDetail("rules.mastery_mark", "must be between 0 and 100, got 200"),
		},
	},
	{
		name:  "long values are shortened in messages",
		input: courseFileJSON(`"pass_mark":"` + strings.Repeat("n", 50) + `"`),
		want:  []errs.Detail{courseFileDetail("pass_mark", `must be a whole number, got "`+strings.Repeat("n", 40)+`…"`)},
	},
}

func TestParseCourseFileBroken(t *testing.T) {
	t.Parallel()
	for _, tc := range courseFileBrokenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec, err := ParseCourseFile(strings.NewReader(tc.input))
			requireCourseFileProblems(t, tc.want, spec, err)

			spec, rules, remedial, err := ParseCourseFileWithRules(strings.NewReader(tc.input))
			requireCourseFileProblems(t, tc.want, spec, err)
			assert.Zero(t, rules)
			assert.Nil(t, remedial)
		})
	}
}

// requireCourseFileProblems checks that a parse failed with exactly want.
func requireCourseFileProblems(t *testing.T, want []errs.Detail, spec CourseSpec, err error) {
	t.Helper()
	require.Error(t, err)
	e := errs.As(err)
	require.NotNil(t, e, "want an *errs.Error, got %v", err)
	assert.Equal(t, errs.Invalid, e.Code)
	assert.Equal(t, want, e.Details)
	assert.Zero(t, spec)
}

func TestParseCourseFileSample(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "course-sample.json"))
	require.NoError(t, err)
	defer f.Close()

	spec, err := ParseCourseFile(f)
	require.NoError(t, err)

	assert.Equal(t, "discount-policy", spec.Slug)
	assert.Equal(t, "Discount policy", spec.Title)
	assert.True(t, strings.HasPrefix(spec.Description, "How much you may discount"))
	assert.Equal(t, 80, spec.PassMark)
	assert.Equal(t, 21, spec.DueDays)
	assert.Equal(t, Cadence{
		Weekdays: []time.Weekday{time.Monday, time.Wednesday, time.Friday},
		Times:    []ClockTime{NewClockTime(9, 30), NewClockTime(16, 0)},
	}, spec.Cadence)
	assert.Equal(t, SendWindow{Start: NewClockTime(8, 30), End: NewClockTime(18, 0)}, spec.SendWindow)

	var keys []string
	for _, l := range spec.Lessons {
		keys = append(keys, l.Key)
	}
	assert.Equal(t, []string{"intro", "tiers", "tiers-video", "quiz-1", "multi-year", "pitch-video",
		"value-first", "end-of-quarter", "quiz-2", "wrap-up"}, keys)

	assert.Equal(t, Lesson{
		Key:          "tiers-video",
		Kind:         KindVideo,
		Title:        "Tiers in two minutes",
		Body:         "Priya walks through a real quote at each tier.",
		VideoURL:     "https://cdn.morsel.example/videos/discount-tiers.mp4",
		VideoSeconds: 118,
	}, spec.Lessons[2])
	assert.Equal(t, "/media/hold-the-line.mp4", spec.Lessons[5].VideoURL)
	assert.Equal(t, 95, spec.Lessons[5].VideoSeconds)
	assert.True(t, spec.Lessons[4].Optional)
	assert.False(t, spec.Lessons[0].Optional)

	quiz := spec.Lessons[3]
	assert.Equal(t, KindQuiz, quiz.Kind)
	assert.Equal(t, []Question{
		{
			Prompt:      "Which discount needs the sales manager's sign-off?",
			Choices:     []string{"5%", "10%", "20%"},
			Correct:     2,
			Explanation: "Anything over 10% needs the sales manager before the quote goes out.",
		},
		{
			Prompt:      "Who approves an 8% discount?",
			Choices:     []string{"You", "Your team lead", "The sales manager", "Finance"},
			Correct:     1,
			Explanation: "6-10% is approved by your team lead in the CRM.",
		},
	}, quiz.Questions)
	assert.Empty(t, spec.Lessons[8].Questions[0].Explanation)

	requireCourseSpecInvariants(t, spec)
}

func TestCourseFormatExampleParses(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("COURSE_FORMAT.md")
	require.NoError(t, err)
	var examples []string
	for rest, found := string(doc), true; ; {
		_, rest, found = strings.Cut(rest, "```json\n")
		if !found {
			break
		}
		var example string
		example, rest, found = strings.Cut(rest, "```")
		require.True(t, found, "unclosed JSON example in COURSE_FORMAT.md")
		examples = append(examples, example)
	}
	require.Len(t, examples, 2, "JSON examples in COURSE_FORMAT.md")

	spec, err := ParseCourseFile(strings.NewReader(examples[0]))
	require.NoError(t, err)
	assert.Len(t, spec.Lessons, 3)
	requireCourseSpecInvariants(t, spec)

	spec, rules, remedial, err := ParseCourseFileWithRules(strings.NewReader(examples[1]))
	require.NoError(t, err)
	requireCourseSpecInvariants(t, spec)
	assert.Equal(t, 90, rules.MasteryMark)
	assert.NotEmpty(t, rules.Remedial)
	assert.NotEmpty(t, remedial)
}

func TestParseCourseFileDefaults(t *testing.T) {
	t.Parallel()
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	nine := []ClockTime{NewClockTime(9, 0)}
	tests := []struct {
		name       string
		input      string
		wantCad    Cadence
		wantWindow SendWindow
	}{
		{
			name:       "nothing given",
			input:      courseFileJSON(""),
			wantCad:    Cadence{Weekdays: weekdays, Times: nine},
			wantWindow: DefaultSendWindow(),
		},
		{
			name:       "nulls count as absent",
			input:      courseFileJSON(`"description":null,"pass_mark":null,"due_days":null,"cadence":null,"send_window":null,"completion":null`),
			wantCad:    Cadence{Weekdays: weekdays, Times: nine},
			wantWindow: DefaultSendWindow(),
		},
		{
			name:       "every_days cadence, send window end only",
			input:      courseFileJSON(`"cadence":{"every_days":2,"times":["18:30"]},"send_window":{"end":"21:00"}`),
			wantCad:    Cadence{EveryDays: 2, Times: []ClockTime{NewClockTime(18, 30)}},
			wantWindow: SendWindow{Start: NewClockTime(8, 0), End: NewClockTime(21, 0)},
		},
		{
			name:       "days sorted, send window start only",
			input:      courseFileJSON(`"cadence":{"days":[" SUN ","sat","Mon"],"times":["07:00"]},"send_window":{"start":"07:00"}`),
			wantCad:    Cadence{Weekdays: []time.Weekday{time.Sunday, time.Monday, time.Saturday}, Times: []ClockTime{NewClockTime(7, 0)}},
			wantWindow: SendWindow{Start: NewClockTime(7, 0), End: NewClockTime(20, 0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec, err := ParseCourseFile(strings.NewReader(tc.input))
			require.NoError(t, err)
			assert.Equal(t, "s", spec.Slug)
			assert.Empty(t, spec.Description)
			assert.Equal(t, 70, spec.PassMark)
			assert.Equal(t, 14, spec.DueDays)
			assert.Equal(t, tc.wantCad, spec.Cadence)
			assert.Equal(t, tc.wantWindow, spec.SendWindow)
			assert.Equal(t, TextCompleteOnOpen, spec.TextCompletion)
			assert.Equal(t, 90, spec.VideoCompletePercent)
			assert.Equal(t, []Lesson{{Key: "intro", Kind: KindText, Title: "Intro", Body: "Hello"}}, spec.Lessons)
		})
	}
}

func TestParseCourseFileAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, spec CourseSpec)
	}{
		{
			name:  "byte order mark, spaces trimmed, whole numbers written as floats",
			input: "\uFEFF" + `{"slug":" s ","title":" T ","pass_mark":7e1,"due_days":30.0,"lessons":[` + courseFileTextLesson + `]}`,
			check: func(t *testing.T, spec CourseSpec) {
				assert.Equal(t, "s", spec.Slug)
				assert.Equal(t, "T", spec.Title)
				assert.Equal(t, 70, spec.PassMark)
				assert.Equal(t, 30, spec.DueDays)
			},
		},
		{
			name: "quiz with lower-case letter and body, video with http URL",
			input: courseFileJSON("",
				`{"key":"q.1_a","kind":"quiz","title":"Q","body":"Reply A or B","questions":[{"prompt":"P","choices":["x","y"],"correct":" b "}]}`,
				`{"key":"v","kind":"video","title":"V","video_url":"HTTP://cdn.example:8080/a.mp4?x=1","video_seconds":3600,"optional":true}`),
			check: func(t *testing.T, spec CourseSpec) {
				assert.Equal(t, "Reply A or B", spec.Lessons[0].Body)
				assert.Equal(t, 1, spec.Lessons[0].Questions[0].Correct)
				assert.Equal(t, "HTTP://cdn.example:8080/a.mp4?x=1", spec.Lessons[1].VideoURL)
				assert.True(t, spec.Lessons[1].Optional)
			},
		},
		{
			name:  "completion on the Done button, video at 75%",
			input: courseFileJSON(`"completion":{"text":" done_button ","video_percent":75.0}`),
			check: func(t *testing.T, spec CourseSpec) {
				assert.Equal(t, TextCompleteOnDone, spec.TextCompletion)
				assert.Equal(t, 75, spec.VideoCompletePercent)
			},
		},
		{
			name:  "completion settings left out or null take their defaults",
			input: courseFileJSON(`"completion":{"text":null}`),
			check: func(t *testing.T, spec CourseSpec) {
				assert.Equal(t, TextCompleteOnOpen, spec.TextCompletion)
				assert.Equal(t, 90, spec.VideoCompletePercent)
			},
		},
		{
			name:  "completion limits reached exactly",
			input: courseFileJSON(`"completion":{"text":"open","video_percent":1}`),
			check: func(t *testing.T, spec CourseSpec) { assert.Equal(t, 1, spec.VideoCompletePercent) },
		},
		{
			name:  "limits reached exactly",
			input: courseFileJSON(`"pass_mark":0,"due_days":365,"cadence":{"every_days":30,"times":["08:00","08:01","08:02","08:03","08:04","19:59"]}`),
			check: func(t *testing.T, spec CourseSpec) {
				assert.Equal(t, 0, spec.PassMark)
				assert.Len(t, spec.Cadence.Times, 6)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec, err := ParseCourseFile(strings.NewReader(tc.input))
			require.NoError(t, err)
			tc.check(t, spec)
			requireCourseSpecInvariants(t, spec)
		})
	}
}

func TestParseCourseFileWithRules(t *testing.T) {
	t.Parallel()
	intro := Lesson{Key: "intro", Kind: KindText, Title: "Intro", Body: "Hello"}
	again := Lesson{Key: "again", Kind: KindText, Title: "Again", Body: "Once more"}
	tests := []struct {
		name         string
		input        string
		wantRules    Rules
		wantRemedial map[string]bool
		wantLessons  []string // the keys ParseCourseFile returns
	}{
		{
			name:         "no rules: the defaults",
			input:        courseFileJSON(""),
			wantRules:    DefaultRules(),
			wantRemedial: map[string]bool{},
			wantLessons:  []string{"intro"},
		},
		{
			name:         "null and empty rules: the defaults",
			input:        courseFileJSON(`"rules":{"mastery_mark":null,"remedial":null,"review_days":null,"retake":null,"max_retakes":null}`),
			wantRules:    DefaultRules(),
			wantRemedial: map[string]bool{},
			wantLessons:  []string{"intro"},
		},
		{
			name: "every rule",
			input: courseFileWithRules(`{"mastery_mark":90,"remedial":[{"quiz":" quiz-1 ","lessons":["again"]}],` +
				`"review_days":[1,3,7.0],"retake":"missed","max_retakes":0}`),
			wantRules: Rules{MasteryMark: 90, Remedial: []RemedialRule{{Quiz: "quiz-1", Lessons: []string{"again"}}},
				ReviewDays: []int{1, 3, 7}, RetakeMissedOnly: true},
			wantRemedial: map[string]bool{"again": true},
			wantLessons:  []string{"intro", "quiz-1"},
		},
		{
			name:         "limits reached, retake all",
			input:        courseFileWithRules(`{"mastery_mark":100,"remedial":[{"quiz":"quiz-1","lessons":["again"]}],"review_days":[1,2,3,4,60],"retake":"all","max_retakes":5}`),
			wantRules:    Rules{MasteryMark: 100, Remedial: []RemedialRule{{Quiz: "quiz-1", Lessons: []string{"again"}}}, ReviewDays: []int{1, 2, 3, 4, 60}, MaxRetakes: 5},
			wantRemedial: map[string]bool{"again": true},
			wantLessons:  []string{"intro", "quiz-1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec, rules, remedial, err := ParseCourseFileWithRules(strings.NewReader(tc.input))
			require.NoError(t, err)
			assert.Equal(t, tc.wantRules, rules)
			assert.Equal(t, tc.wantRemedial, remedial)
			assert.Equal(t, intro, spec.Lessons[0])
			if remedial["again"] {
				assert.Equal(t, again, spec.Lessons[2], "remedial lessons stay in the spec")
			}
			requireCourseSpecInvariants(t, spec)

			plain, err := ParseCourseFile(strings.NewReader(tc.input))
			require.NoError(t, err)
			var keys []string
			for _, l := range plain.Lessons {
				if !l.Remedial {
					keys = append(keys, l.Key)
				}
				assert.Equal(t, remedial[l.Key], l.Remedial, "ParseCourseFile marks %s remedial", l.Key)
			}
			assert.Equal(t, tc.wantLessons, keys, "the normal path leaves remedial lessons out")
			assert.Equal(t, rules, plain.Rules)
		})
	}
}

func TestParseCourseFileReportsEveryProblem(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "coursefile", "many-problems.json"))
	require.NoError(t, err)
	defer f.Close()

	spec, err := ParseCourseFile(f)
	requireCourseFileProblems(t, []errs.Detail{
		courseFileDetail("owner", "unknown field; the known fields here are slug, title, description, pass_mark, due_days, cadence, send_window, completion, lessons, rules"),
		courseFileDetail("slug", `must be 1-63 lower-case letters, digits and hyphens, starting with a letter or digit; got "Discount_Policy"`),
		courseFileDetail("pass_mark", `must be a whole number, got "seventy"`),
		courseFileDetail("cadence.days[1]", `must be one of mon, tue, wed, thu, fri, sat, sun; got "tues"`),
		courseFileDetail("cadence.times[1]", `"07:30" must be later than cadence.times[0] ("18:30")`),
		courseFileDetail("cadence.times[0]", `"18:30" is outside the send window 08:00-18:00 (the end time itself is outside)`),
		courseFileDetail("cadence.times[1]", `"07:30" is outside the send window 08:00-18:00 (the end time itself is outside)`),
		courseFileDetail("lessons[1].kind", `must be one of text, video, quiz; got "Video"`),
		courseFileDetail("lessons[2].video_url", "is required for a video lesson"),
		courseFileDetail("lessons[2].video_seconds", "must be between 1 and 3600, got 7200"),
		courseFileDetail("lessons[3].questions[0].correct", `"E" is not one of the choices A-D`),
		courseFileDetail("lessons[3].questions[1].choices[1]", `"Yes" is the same as lessons[3].questions[1].choices[0]`),
		courseFileDetail("lessons[4].key", `"intro" is already used by lessons[0]`),
		courseFileDetail("lessons[4].body", "is required"),
	}, spec, err)
	assert.Equal(t, "The course file has 14 problems.", errs.As(err).Message)
}

func TestParseCourseFileCapsProblems(t *testing.T) {
	t.Parallel()
	lessons := make([]string, 150)
	for i := range lessons {
		lessons[i] = fmt.Sprintf(`{"key":"l%d","kind":"text","title":"L"}`, i)
	}
	_, err := ParseCourseFile(strings.NewReader(courseFileJSON("", lessons...)))
	e := errs.As(err)
	require.NotNil(t, e)
	assert.Equal(t, "The course file has 150 problems.", e.Message)
	require.Len(t, e.Details, 101)
	assert.Equal(t, courseFileDetail("lessons[99].body", "is required"), e.Details[99])
	assert.Equal(t, courseFileDetail("", "and 50 more problems"), e.Details[100])
}

func TestParseCourseFileTooLarge(t *testing.T) {
	t.Parallel()
	input := courseFileJSON(`"description":"x"`) + strings.Repeat(" ", 1<<20)
	spec, err := ParseCourseFile(strings.NewReader(input))
	requireCourseFileProblems(t, []errs.Detail{courseFileDetail("", "the file is larger than 1 MiB")}, spec, err)
}

type courseFileFailingReader struct{}

func (courseFileFailingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseCourseFileReadError(t *testing.T) {
	t.Parallel()
	_, err := ParseCourseFile(courseFileFailingReader{})
	require.Error(t, err)
	assert.Equal(t, errs.Internal, errs.CodeOf(err))
	assert.ErrorContains(t, err, "disk on fire")
}

func FuzzParseCourseFile(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("testdata", "course-sample.json"))
	require.NoError(f, err)
	f.Add(sample)
	many, err := os.ReadFile(filepath.Join("testdata", "coursefile", "many-problems.json"))
	require.NoError(f, err)
	f.Add(many)
	f.Add([]byte(courseFileJSON(`"cadence":{"every_days":2,"times":["18:30"]}`)))
	f.Add([]byte(courseFileWithRules(`{"mastery_mark":90,"remedial":[{"quiz":"quiz-1","lessons":["again"]}],"review_days":[1,3,7],"retake":"missed"}`)))
	for _, tc := range courseFileBrokenCases {
		f.Add([]byte(tc.input))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		spec, rules, remedial, err := ParseCourseFileWithRules(bytes.NewReader(data))
		if err == nil {
			lessons := PathLessons(spec.Lessons, remedial)
			require.Empty(t, rules.Validate(lessons), "parsed rules are valid")
			for _, l := range lessons {
				require.False(t, l.Remedial && l.Optional, "%q remedial and optional", l.Key)
			}
			require.Less(t, len(remedial), len(spec.Lessons), "a lesson on the normal path")
		}
		spec, err = ParseCourseFile(bytes.NewReader(data))
		if err != nil {
			e := errs.As(err)
			require.NotNil(t, e, "want an *errs.Error, got %v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.NotEmpty(t, e.Details)
			require.LessOrEqual(t, len(e.Details), 101)
			for _, d := range e.Details {
				require.NotEmpty(t, d.Message)
			}
			require.Zero(t, spec)
			return
		}
		requireCourseSpecInvariants(t, spec)
		requireRoundTrip(t, spec)
	})
}

// requireRoundTrip checks that spec written as a course file reads back as
// spec, and that writing it again gives the same bytes.
func requireRoundTrip(t *testing.T, spec CourseSpec) {
	t.Helper()
	data, err := MarshalCourseFile(spec)
	require.NoError(t, err)
	again, err := ParseCourseFile(bytes.NewReader(data))
	require.NoError(t, err, "the written file:\n%s", data)
	require.Equal(t, spec, again)
	data2, err := MarshalCourseFile(again)
	require.NoError(t, err)
	require.Equal(t, string(data), string(data2))
}

func TestMarshalCourseFileRoundTrip(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("testdata", "course-sample.json"))
	require.NoError(t, err)
	for name, file := range map[string]string{
		"sample":         string(sample),
		"every days":     courseFileJSON(`"cadence":{"every_days":2,"times":["18:30"]},"completion":{"text":"done_button","video_percent":75}`),
		"rules":          courseFileWithRules(`{"mastery_mark":90,"remedial":[{"quiz":"quiz-1","lessons":["again"]}],"review_days":[1,3,7],"retake":"missed","max_retakes":0}`),
		"quotes and <&>": courseFileJSON(`"description":"\u201cquoted\u201d <b>&amp;</b> \\ back"`),
	} {
		t.Run(name, func(t *testing.T) {
			spec, err := ParseCourseFile(strings.NewReader(file))
			require.NoError(t, err)
			requireRoundTrip(t, spec)
		})
	}
}

// requireCourseSpecInvariants checks what every parsed course file must satisfy.
func requireCourseSpecInvariants(t *testing.T, spec CourseSpec) {
	t.Helper()
	require.Regexp(t, `^[a-z0-9][a-z0-9-]{0,62}$`, spec.Slug)
	requireCourseFileText(t, spec.Title, 1, 200)
	requireCourseFileText(t, spec.Description, 0, 2000)
	require.True(t, spec.PassMark >= 0 && spec.PassMark <= 100, "pass mark %d", spec.PassMark)
	require.True(t, spec.DueDays >= 1 && spec.DueDays <= 365, "due days %d", spec.DueDays)

	cad := spec.Cadence
	require.NotEqual(t, len(cad.Weekdays) > 0, cad.EveryDays > 0, "exactly one of weekdays and every days: %+v", cad)
	require.True(t, cad.EveryDays >= 0 && cad.EveryDays <= 30, "every days %d", cad.EveryDays)
	require.LessOrEqual(t, len(cad.Weekdays), 7)
	for i, d := range cad.Weekdays {
		require.True(t, d >= time.Sunday && d <= time.Saturday, "weekday %d", d)
		if i > 0 {
			require.Greater(t, d, cad.Weekdays[i-1], "weekdays ascending")
		}
	}
	w := spec.SendWindow
	require.True(t, w.Start >= 0 && w.Start < w.End && w.End < 24*60, "send window %+v", w)
	require.True(t, len(cad.Times) >= 1 && len(cad.Times) <= 6, "times %v", cad.Times)
	for i, tm := range cad.Times {
		require.True(t, tm >= w.Start && tm < w.End, "time %s outside %+v", tm, w)
		if i > 0 {
			require.Greater(t, tm, cad.Times[i-1], "times ascending")
		}
	}

	require.True(t, len(spec.Lessons) >= 1 && len(spec.Lessons) <= 200, "%d lessons", len(spec.Lessons))
	keys := make(map[string]bool)
	for _, l := range spec.Lessons {
		require.Regexp(t, `^[a-z0-9][a-z0-9._-]{0,39}$`, l.Key)
		require.False(t, keys[l.Key], "key %q repeated", l.Key)
		keys[l.Key] = true
		requireCourseFileText(t, l.Title, 1, 200)
		requireCourseFileText(t, l.Body, 0, 1000)
		switch l.Kind {
		case KindText:
			require.NotEmpty(t, l.Body)
		case KindVideo:
			require.True(t, strings.HasPrefix(l.VideoURL, "/") || strings.HasPrefix(strings.ToLower(l.VideoURL), "http"), "video url %q", l.VideoURL)
			require.True(t, l.VideoSeconds >= 1 && l.VideoSeconds <= 3600, "video seconds %d", l.VideoSeconds)
		case KindQuiz:
			require.True(t, len(l.Questions) >= 1 && len(l.Questions) <= 20, "%d questions", len(l.Questions))
		default:
			require.Failf(t, "bad kind", "%q", l.Kind)
		}
		if l.Kind != KindVideo {
			require.Empty(t, l.VideoURL)
			require.Zero(t, l.VideoSeconds)
		}
		if l.Kind != KindQuiz {
			require.Empty(t, l.Questions)
		}
		for _, q := range l.Questions {
			requireCourseFileText(t, q.Prompt, 1, 300)
			requireCourseFileText(t, q.Explanation, 0, 300)
			require.True(t, len(q.Choices) >= 2 && len(q.Choices) <= 6, "%d choices", len(q.Choices))
			require.True(t, q.Correct >= 0 && q.Correct < len(q.Choices), "correct %d of %d", q.Correct, len(q.Choices))
			seen := make(map[string]bool)
			for _, c := range q.Choices {
				requireCourseFileText(t, c, 1, 100)
				require.False(t, seen[strings.ToLower(c)], "choice %q repeated", c)
				seen[strings.ToLower(c)] = true
			}
		}
	}
}

// requireCourseFileText checks that s is trimmed and has lo to hi characters.
func requireCourseFileText(t *testing.T, s string, lo, hi int) {
	t.Helper()
	require.Equal(t, strings.TrimSpace(s), s, "not trimmed")
	n := utf8.RuneCountInString(s)
	require.True(t, n >= lo && n <= hi, "%q has %d characters, want %d-%d", s, n, lo, hi)
}
