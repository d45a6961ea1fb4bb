package web_test

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web"
)

// importCourse imports a course file as the session's user and returns the
// course's id and its editor's address.
func importCourse(t *testing.T, b testBundle, session string, file []byte) (int64, string) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, uploadFile(t, b.server, "/courses/import", session, "c.json", file).status)
	courses, err := b.store.Courses(context.Background(), b.org.ID)
	require.NoError(t, err)
	require.Len(t, courses, 1)
	return courses[0].ID, "/courses/" + itoa(courses[0].ID)
}

// uploadFile posts file as the form field "file" to path as the session's user.
func uploadFile(t *testing.T, srv *web.Server, path, session, name string, file []byte) response {
	t.Helper()
	return postMultipart(t, srv, path, session, nil, name, file)
}

func TestCoursesPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	srv := b.server
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	admin := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleAdmin, "ada@acme.test", "correct horse 2"))
	manager := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleManager, "max@acme.test", "correct horse 3", "North"))
	rival := sessionOf(t, b, newUser(t, b, b.other.ID, lessons.RoleTrainer, "tom@globex.test", "correct horse 4"))

	// Roles: managers may not author; nobody signed out may.
	require.Equal(t, http.StatusForbidden, servePage(srv, "GET", "/courses", manager, nil).status)
	require.Equal(t, http.StatusSeeOther, servePage(srv, "GET", "/courses", "", nil).status)
	require.Equal(t, http.StatusForbidden, postForm(srv, "/courses", manager, url.Values{"title": {"Sneaky"}}).status)

	// Create: the slug is made from the title; the form's problems are the checker's.
	res := postForm(srv, "/courses", trainer, url.Values{"title": {"Discount policy (2027)"}})
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	page := servePage(srv, "GET", res.header.Get("Location"), trainer, nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, string(page.body), "Created “Discount policy (2027)”.")
	require.Contains(t, string(page.body), `data-slug="discount-policy-2027"`)

	for _, tt := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no title", url.Values{"title": {" "}, "slug": {"x"}}, "title", "must not be blank"},
		{"bad slug", url.Values{"title": {"T"}, "slug": {"Not A Slug"}}, "slug", `must be 1-63 lower-case letters, digits and hyphens, starting with a letter or digit; got "Not A Slug"`},
		{"title too long", url.Values{"title": {strings.Repeat("t", 201)}}, "title", "at most 200"},
		{"slug taken", url.Values{"title": {"Again"}, "slug": {"discount-policy-2027"}}, "slug", `"discount-policy-2027" is taken by another course`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := postForm(srv, "/courses", trainer, tt.form)
			require.Equal(t, http.StatusUnprocessableEntity, res.status)
			require.Contains(t, string(res.body), `data-problem="`+tt.field+`"`)
			require.True(t, strings.Contains(string(res.body), template.HTMLEscapeString(tt.want)), "want %q on the page", tt.want)
			require.Contains(t, string(res.body), `aria-invalid`)
		})
	}
	courses, err := b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	require.Len(t, courses, 1, "nothing stored by a refused form")
	id := courses[0].ID

	// Import: a file with problems is refused whole, its problems by path.
	sample, err := os.ReadFile(filepath.Join("..", "lessons", "testdata", "course-sample.json"))
	require.NoError(t, err)
	broken := strings.Replace(string(sample), `"pass_mark": 80`, `"pass_mark": "eighty"`, 1)
	broken = strings.Replace(broken, `"correct": "C"`, `"correct": "Z"`, 1)
	res = uploadFile(t, srv, "/courses/import", trainer, "broken.json", []byte(broken))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, string(res.body), "broken.json: The course file has 2 problems.")
	require.Contains(t, string(res.body), "<code>pass_mark</code>")
	require.Contains(t, string(res.body), "<code>lessons[3].questions[0].correct</code>")
	res = uploadFile(t, srv, "/courses/import", trainer, "big.json", bytes.Repeat([]byte(" "), 2<<20))
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Contains(t, string(res.body), "larger than 1 MiB")
	courses, err = b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	require.Len(t, courses, 1)

	// A good file imports as a draft; its export reads back as the same course.
	res = uploadFile(t, srv, "/courses/import", trainer, "sample.json", sample)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	want, err := lessons.ParseCourseFile(bytes.NewReader(sample))
	require.NoError(t, err)
	courses, err = b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	var imported int64
	for _, c := range courses {
		if c.Slug == want.Slug {
			imported = c.ID
		}
	}
	require.NotZero(t, imported)
	exp := servePage(srv, "GET", "/courses/"+itoa(imported)+"/export", trainer, nil)
	require.Equal(t, http.StatusOK, exp.status)
	require.Contains(t, exp.header.Get("Content-Disposition"), `filename="discount-policy-v1.json"`)
	got, err := lessons.ParseCourseFile(bytes.NewReader(exp.body))
	require.NoError(t, err)
	require.Equal(t, want, got, "export, then import: the same course")
	require.Equal(t, http.StatusNotFound, servePage(srv, "GET", "/courses/"+itoa(imported)+"/export", rival, nil).status)
	require.Equal(t, http.StatusNotFound, servePage(srv, "GET", "/courses/"+itoa(imported)+"/export?version=9", trainer, nil).status)

	// Duplicate and archive; another organisation's course is not found.
	res = postForm(srv, "/courses/"+itoa(id)+"/duplicate", trainer, nil)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	res = postForm(srv, "/courses/"+itoa(id)+"/duplicate", trainer, nil)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	require.Equal(t, http.StatusNotFound, postForm(srv, "/courses/"+itoa(id)+"/duplicate", rival, nil).status)
	require.Equal(t, http.StatusNotFound, postForm(srv, "/courses/"+itoa(id)+"/archive", rival, url.Values{"archived": {"1"}}).status)
	res = postForm(srv, "/courses/"+itoa(id)+"/archive", trainer, url.Values{"archived": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	page = servePage(srv, "GET", "/courses", trainer, nil)
	for _, slug := range []string{"discount-policy-2027-copy", "discount-policy-2027-copy-2"} {
		require.Contains(t, string(page.body), `data-slug="`+slug+`"`)
	}
	require.Equal(t, 1, strings.Count(string(page.body), `data-testid="archived"`))
	require.NotContains(t, string(servePage(srv, "GET", "/courses", rival, nil).body), "discount-policy")

	// The segment price: admins only, checked.
	require.Equal(t, http.StatusForbidden, postForm(srv, "/courses/price", trainer, url.Values{"segment_price": {"0.01"}, "currency": {"USD"}}).status)
	res = postForm(srv, "/courses/price", admin, url.Values{"segment_price": {"0.01,5"}, "currency": {"EURO"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, string(res.body), `data-problem="segment_price"`)
	res = postForm(srv, "/courses/price", admin, url.Values{"segment_price": {"0.0125"}, "currency": {"eur"}})
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	org, err := b.store.Org(ctx, b.org.ID)
	require.NoError(t, err)
	require.Equal(t, lessons.Price{Micros: 12500, Currency: "EUR"}, org.SegmentPrice)
	require.Contains(t, string(servePage(srv, "GET", "/courses", trainer, nil).body), "EUR 0.0125")
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestCourseEditor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	srv := b.server
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	rival := sessionOf(t, b, newUser(t, b, b.other.ID, lessons.RoleAdmin, "tom@globex.test", "correct horse 2"))
	sample, err := os.ReadFile(filepath.Join("..", "lessons", "testdata", "course-sample.json"))
	require.NoError(t, err)
	// A curly apostrophe in the first lesson's body.
	curly := strings.Replace(string(sample), "Every 1% of discount", "Every 1% of discount’s cost", 1)
	require.NotEqual(t, string(sample), curly)
	require.Equal(t, http.StatusSeeOther, uploadFile(t, srv, "/courses/import", trainer, "c.json", []byte(curly)).status)
	courses, err := b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	id := itoa(courses[0].ID)
	base := "/courses/" + id

	page := servePage(srv, "GET", base, trainer, nil)
	require.Equal(t, http.StatusOK, page.status)
	body := string(page.body)
	require.Equal(t, 10, strings.Count(body, `data-testid="lesson-row"`))
	require.Equal(t, 8+3*2, strings.Count(body, `data-testid="message"`), "8 lesson messages, 3 questions and their feedback")
	require.Contains(t, body, "Correct! ", "a question's feedback is measured too")
	require.Contains(t, body, "“’” (character")
	require.Contains(t, body, "forces UCS-2")
	require.Contains(t, body, template.HTMLEscapeString("“'” would keep it GSM-7"))
	require.Contains(t, body, "Discount policy 1/10: Why discounts matter", "the message as sent, with its step")
	require.Contains(t, body, "/l/AAAAAAAAAAAAAAAAAAAAAA", "a link as long as the real ones")
	require.Equal(t, http.StatusNotFound, servePage(srv, "GET", base, rival, nil).status)
	require.Equal(t, http.StatusNotFound, postForm(srv, base+"/settings", rival, url.Values{"title": {"x"}}).status)

	// The preview: a sample rep's dated messages, in their zone.
	page = servePage(srv, "GET", base+"/preview?tz=Asia/Tokyo&start=2027-03-08", trainer, nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Equal(t, 8+3*2, strings.Count(string(page.body), `data-testid="planned"`), "the lessons, each question and its feedback")
	wrong := servePage(srv, "GET", base+"/preview?tz=Asia/Tokyo&start=2027-03-08&answers=wrong", trainer, nil)
	require.Equal(t, http.StatusOK, wrong.status)
	require.Greater(t, strings.Count(string(wrong.body), `data-testid="planned"`), 8+3*2, "a retake on the remedial path")
	require.Contains(t, string(wrong.body), `data-testid="reason"`, "each added step says why")
	require.Contains(t, string(wrong.body), "Not quite: the answer is")
	require.Contains(t, string(page.body), `<time datetime="2027-03-08T09:30:00+09:00">Mon 8 Mar 09:30</time>`, "Monday's first slot")
	require.Contains(t, string(page.body), `<time datetime="2027-03-08T16:00:00+09:00">Mon 8 Mar 16:00</time>`, "then the second")
	require.Contains(t, string(page.body), `<time datetime="2027-03-10T09:30:00+09:00">`, "Wednesday next")
	for _, q := range []string{"tz=Mars/Olympus", "tz=Local", "start=2027-13-01", "answers=maybe"} {
		res := servePage(srv, "GET", base+"/preview?"+q, trainer, nil)
		require.Equal(t, http.StatusBadRequest, res.status, q)
		require.Contains(t, string(res.body), `role="alert"`, q)
	}

	// Settings: refused whole with the checker's messages at the fields.
	good := url.Values{"title": {"Discount policy"}, "pass_mark": {"85"}, "due_days": {"21"}, "cadence_kind": {"days"},
		"cadence.days": {"mon", "thu"}, "cadence.times": {"09:30, 16:00"}, "send_window.start": {"08:30"}, "send_window.end": {"18:00"},
		"completion.text": {"open"}, "completion.video_percent": {"90"}, "rules.mastery_mark": {"0"}, "rules.max_retakes": {"2"},
		"rules.retake": {"all"}, "rules.review_days": {""}}
	bad := withForm(good, "pass_mark", "seventy", "cadence.times", "07:30", "rules.max_retakes", "9")
	res := postForm(srv, base+"/settings", trainer, bad)
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	for field, msg := range map[string]string{
		"pass_mark":         `must be a whole number, got "seventy"`,
		"cadence.times":     `"07:30" is outside the send window 08:30-18:00`,
		"rules.max_retakes": "must be",
	} {
		require.Contains(t, string(res.body), `data-problem="`+field+`"`, field)
		require.True(t, strings.Contains(string(res.body), template.HTMLEscapeString(msg)), "%s: want %q", field, msg)
	}
	require.Contains(t, string(res.body), `value="seventy"`, "the form keeps what was typed")
	_, versions, err := b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	require.Equal(t, 80, versions[0].Spec.PassMark, "nothing stored")

	res = postForm(srv, base+"/settings", trainer, good)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	_, versions, err = b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	require.Len(t, versions, 1)
	spec := versions[0].Spec
	require.Equal(t, 85, spec.PassMark)
	require.Equal(t, []time.Weekday{time.Monday, time.Thursday}, spec.Cadence.Weekdays)

	// Publish, then edit: a new draft, version 1 untouched, the diff shown.
	require.Equal(t, http.StatusSeeOther, postForm(srv, base+"/publish", trainer, nil).status)
	require.Equal(t, http.StatusSeeOther, postForm(srv, base+"/lessons/intro/move", trainer, url.Values{"dir": {"down"}}).status)
	require.Equal(t, http.StatusSeeOther, postForm(srv, base+"/lessons/tiers-video/delete", trainer, nil).status)
	require.Equal(t, http.StatusNotFound, postForm(srv, base+"/lessons/nope/delete", trainer, nil).status)
	_, versions, err = b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	draft, v1 := versions[0], versions[1]
	require.Equal(t, lessons.VersionPublished, v1.Status)
	require.Len(t, v1.Spec.Lessons, 10)
	require.Equal(t, "intro", v1.Spec.Lessons[0].Key)
	require.Len(t, draft.Spec.Lessons, 9)
	require.Equal(t, []string{"tiers", "intro"}, []string{draft.Spec.Lessons[0].Key, draft.Spec.Lessons[1].Key})
	body = string(servePage(srv, "GET", base, trainer, nil).body)
	require.Contains(t, body, "Removed: Tiers in two minutes")
	require.Contains(t, body, "Lessons reordered")
	require.Contains(t, body, "Publish version 2")

	// The last lesson cannot go: a course has at least one.
	for _, l := range draft.Spec.Lessons[:len(draft.Spec.Lessons)-1] {
		require.Equal(t, http.StatusSeeOther, postForm(srv, base+"/lessons/"+l.Key+"/delete", trainer, nil).status, l.Key)
	}
	last := draft.Spec.Lessons[len(draft.Spec.Lessons)-1].Key
	res = postForm(srv, base+"/lessons/"+last+"/delete", trainer, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, string(res.body), "lessons: ")
	require.Equal(t, http.StatusSeeOther, postForm(srv, base+"/discard", trainer, nil).status)
	_, versions, err = b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	require.Len(t, versions, 1)
}

func TestLessonEditor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	srv := b.server
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	manager := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleManager, "max@acme.test", "correct horse 2", "North"))
	require.Equal(t, http.StatusSeeOther, postForm(srv, "/courses", trainer, url.Values{"title": {"Pricing"}}).status)
	courses, err := b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	base := "/courses/" + itoa(courses[0].ID)

	page := servePage(srv, "GET", base+"/lessons/new?kind=quiz", trainer, nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, string(page.body), `name="key" id="f-key" value="lesson-2"`)
	require.Equal(t, http.StatusForbidden, servePage(srv, "GET", base+"/lessons/new?kind=quiz", manager, nil).status)

	quiz := url.Values{"kind": {"quiz"}, "key": {"check"}, "title": {"Check"}, "questions": {"1"},
		"questions[0].prompt": {"Who approves 8%?"}, "questions[0].choices[0]": {"You"}, "questions[0].choices[1]": {"Your lead"},
		"questions[0].correct": {"B"}, "questions[0].explanation": {"6-10% is your lead’s call."}}

	// Measure while typing: the question as sent, and the curly quote named.
	m := withForm(quiz, "action", "measure", "questions[0].prompt", "Who approves 8%? It’s")
	res := postForm(srv, base+"/lessons", trainer, m)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, string(res.body), `data-encoding="UCS-2"`)
	require.Contains(t, string(res.body), "Q1/1: Who approves 8%? It’s A) You B) Your lead. Reply A or B")
	require.Contains(t, string(res.body), `data-testid="replace"`)
	require.NotContains(t, string(res.body), "<html", "the measure alone")
	m.Set("action", "replace")
	m.Set("char", "’")
	res = postForm(srv, base+"/lessons", trainer, m)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, string(res.body), template.HTMLEscapeString("Who approves 8%? It's"))
	require.Contains(t, string(res.body), template.HTMLEscapeString("6-10% is your lead's call."))
	require.Contains(t, string(res.body), `data-encoding="GSM-7"`)

	// Validation: the checker's messages at the fields; nothing stored.
	for _, tt := range []struct {
		name, field, value, want string
	}{
		{"one choice", "questions[0].choices[1]", "", "must have at least 2 choices, got 1"},
		{"a letter with no choice", "questions[0].correct", "E", `"E" is not one of the choices A-B`},
		{"key used", "key", "welcome", `"welcome" is already used by lessons[0]`},
		{"bad key", "key", "Check Me", "must be 1-40 lower-case letters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := postForm(srv, base+"/lessons", trainer, withForm(quiz, tt.field, tt.value))
			require.Equal(t, http.StatusUnprocessableEntity, res.status)
			require.True(t, strings.Contains(string(res.body), template.HTMLEscapeString(tt.want)), "want %q", tt.want)
		})
	}
	_, versions, err := b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	require.Len(t, versions[0].Spec.Lessons, 1)

	// Saved: the quiz is the course's second lesson; then edited in place.
	res = postForm(srv, base+"/lessons", trainer, quiz)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	_, versions, err = b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	ls := versions[0].Spec.Lessons
	require.Len(t, ls, 2)
	require.Equal(t, lessons.Question{ID: ls[1].Questions[0].ID, Prompt: "Who approves 8%?", Choices: []string{"You", "Your lead"}, Correct: 1,
		Explanation: "6-10% is your lead’s call."}, ls[1].Questions[0])
	page = servePage(srv, "GET", base+"/lessons/check", trainer, nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, string(page.body), `value="Your lead"`)
	edit := withForm(quiz, "title", "Quick check", "questions[0].choices[2]", "Finance")
	require.Equal(t, http.StatusSeeOther, postForm(srv, base+"/lessons/check", trainer, edit).status)
	_, versions, err = b.store.CourseVersions(ctx, b.org.ID, courses[0].ID)
	require.NoError(t, err)
	ls = versions[0].Spec.Lessons
	require.Equal(t, "Quick check", ls[1].Title)
	require.Equal(t, []string{"You", "Your lead", "Finance"}, ls[1].Questions[0].Choices)
}

// withForm returns a copy of form with the name, value pairs set.
func withForm(form url.Values, pairs ...string) url.Values {
	out := make(url.Values, len(form))
	for k, v := range form {
		out[k] = v
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		out.Set(pairs[i], pairs[i+1])
	}
	return out
}

// remedialCourse has two quizzes and a remedial lesson for the first.
const remedialCourse = `{
  "slug": "discounts", "title": "Discounts", "pass_mark": 70,
  "cadence": {"days": ["mon", "wed"], "times": ["09:00"]},
  "rules": {"remedial": [{"quiz": "quiz", "lessons": ["tiers-again"]}]},
  "lessons": [
    {"key": "intro", "kind": "text", "title": "Intro", "body": "Discounts cost margin."},
    {"key": "quiz", "kind": "quiz", "title": "Check", "questions": [
      {"prompt": "Who approves 8%?", "choices": ["You", "Your lead"], "correct": "B", "explanation": "6-10% is your lead's."}
    ]},
    {"key": "tiers-again", "kind": "text", "title": "The tiers, again", "remedial": true, "body": "5% you, 10% lead."},
    {"key": "quiz2", "kind": "quiz", "title": "Check again", "questions": [
      {"prompt": "Who approves 20%?", "choices": ["Your lead", "Your manager"], "correct": "B"}
    ]},
    {"key": "wrap", "kind": "text", "title": "Wrap-up", "body": "Well done."}
  ]
}`

func TestRemedialRulesInSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	courseID, base := importCourse(t, b, trainer, []byte(remedialCourse))
	rules := func() []lessons.RemedialRule {
		_, versions, err := b.store.CourseVersions(ctx, b.org.ID, courseID)
		require.NoError(t, err)
		return versions[len(versions)-1].Spec.Rules.Remedial
	}
	box := func(quiz string) string {
		return `<input type="checkbox" name="remedial.` + quiz + `" value="tiers-again"`
	}
	page := string(servePage(b.server, "GET", base, trainer, nil).body)
	require.Contains(t, page, box("quiz")+" checked>")
	require.Contains(t, page, box("quiz2")+">", "offered for the other quiz, not picked")

	good := url.Values{"title": {"Discounts"}, "pass_mark": {"70"}, "due_days": {"14"}, "cadence_kind": {"days"},
		"cadence.days": {"mon", "wed"}, "cadence.times": {"09:00"}, "send_window.start": {"08:00"}, "send_window.end": {"20:00"},
		"completion.text": {"open"}, "completion.video_percent": {"90"}, "rules.mastery_mark": {"0"}, "rules.max_retakes": {"2"},
		"rules.retake": {"all"}, "rules.review_days": {""}, "remedial.quiz2": {"tiers-again"}}
	res := postForm(b.server, base+"/settings", trainer, good)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	require.Equal(t, []lessons.RemedialRule{{Quiz: "quiz2", Lessons: []string{"tiers-again"}}}, rules())
	page = string(servePage(b.server, "GET", base, trainer, nil).body)
	require.Contains(t, page, box("quiz2")+" checked>")
	require.Contains(t, page, box("quiz")+">")

	// Refused with the checker's messages, nothing stored.
	tests := []struct {
		name      string
		form      url.Values
		problem   string // the page shows it
		highlight bool   // at the remedial rules
	}{
		{"a lesson that is not remedial", withForm(good, "remedial.quiz2", "wrap"), "rules.remedial[0].lessons[0]", true},
		{"a remedial lesson no quiz sends", func() url.Values { f := withForm(good); f.Del("remedial.quiz2"); return f }(),
			template.HTMLEscapeString(`lessons[2].remedial: "tiers-again" is marked remedial but no rule in rules.remedial assigns it`), false},
	}
	for _, tt := range tests {
		res := postForm(b.server, base+"/settings", trainer, tt.form)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, tt.name)
		require.Contains(t, string(res.body), tt.problem, tt.name)
		require.Equal(t, tt.highlight, strings.Contains(string(res.body), `data-problem="rules.remedial"`), tt.name)
		require.Equal(t, []lessons.RemedialRule{{Quiz: "quiz2", Lessons: []string{"tiers-again"}}}, rules(), tt.name)
	}
}

// A row dropped on another moves the lesson to that place (to=N); a place
// that is not a number is refused and nothing moves.
func TestMoveLessonTo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	courseID, base := importCourse(t, b, trainer, []byte(remedialCourse))
	order := func() []string {
		_, versions, err := b.store.CourseVersions(ctx, b.org.ID, courseID)
		require.NoError(t, err)
		var keys []string
		for _, l := range versions[0].Spec.Lessons {
			keys = append(keys, l.Key)
		}
		return keys
	}
	tests := []struct {
		lesson, to string
		status     int
		want       []string
	}{
		{"wrap", "1", http.StatusSeeOther, []string{"intro", "wrap", "quiz", "tiers-again", "quiz2"}},
		{"intro", "99", http.StatusSeeOther, []string{"wrap", "quiz", "tiers-again", "quiz2", "intro"}},
		{"intro", "top", http.StatusBadRequest, []string{"wrap", "quiz", "tiers-again", "quiz2", "intro"}},
	}
	for _, tt := range tests {
		res := postForm(b.server, base+"/lessons/"+tt.lesson+"/move", trainer, url.Values{"to": {tt.to}})
		require.Equal(t, tt.status, res.status, "%s to %s", tt.lesson, tt.to)
		require.Equal(t, tt.want, order(), "%s to %s", tt.lesson, tt.to)
	}
}
