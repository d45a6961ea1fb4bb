package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/orderedjson"
)

// The limits of the course file format; COURSE_FORMAT.md documents them.
const (
	courseFileMaxBytes   = 1 << 20 // the largest file read
	courseFileMaxDetails = 100     // problems listed before "and N more problems"

	courseTitleMax       = 200
	courseDescriptionMax = 2000
	courseMaxLessons     = 200
	courseMaxTimes       = 6
	courseMaxEveryDays   = 30
	lessonTitleMax       = 200
	lessonBodyMax        = 1000
	lessonVideoURLMax    = 2000
	lessonVideoMaxSecs   = 3600
	lessonMaxQuestions   = 20
	questionPromptMax    = 300
	questionMinChoices   = 2
	questionMaxChoices   = 6
	questionChoiceMax    = 100
	questionExplainMax   = 300
	coursePassMarkDef    = 70
	courseDueDaysDef     = 14
	courseDueDaysMax     = 365
)

var (
	courseSlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	lessonKeyPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)
)

// courseFileWeekdays maps the day names a course file may use to weekdays.
var courseFileWeekdays = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
}

// defaultCadence is used when a course file names none: weekdays at 09:00.
func defaultCadence() Cadence {
	return Cadence{
		Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		Times:    []ClockTime{NewClockTime(9, 0)},
	}
}

// ParseCourseFile reads one course in the JSON course file format, with its
// adaptation rules and its remedial lessons marked (see ParseCourseFileWithRules
// for the errors).
func ParseCourseFile(r io.Reader) (CourseSpec, error) {
	spec, rules, remedial, err := ParseCourseFileWithRules(r)
	if err != nil {
		return spec, err
	}
	spec.Rules = rules
	for i := range spec.Lessons {
		spec.Lessons[i].Remedial = remedial[spec.Lessons[i].Key]
	}
	return spec, nil
}

// ParseCourseFileWithRules reads one course in the JSON course file format: the
// course, its adaptation rules (DefaultRules when the file has none), and the keys
// of its remedial lessons, which stay in spec.Lessons in file order. It reports
// every problem at once as an *errs.Error with Code errs.Invalid whose Details each
// name a path and a reason; on any problem it returns zero values.
//
// A JSON syntax error stops parsing and is reported at its line and column. A
// failure to read r is returned wrapped, not as errs.Invalid.
func ParseCourseFileWithRules(r io.Reader) (CourseSpec, Rules, map[string]bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, courseFileMaxBytes+1))
	if err != nil {
		return CourseSpec{}, Rules{}, nil, fmt.Errorf("read course file: %w", err)
	}
	if len(data) > courseFileMaxBytes {
		return CourseSpec{}, Rules{}, nil, courseFileInvalid([]errs.Detail{{Message: "the file is larger than 1 MiB"}})
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // a byte order mark some editors write

	root, err := orderedjson.Decode(data, "the course object")
	var se *orderedjson.SyntaxError
	if errors.As(err, &se) {
		return CourseSpec{}, Rules{}, nil, courseFileInvalid([]errs.Detail{{Path: se.Pos.String(), Message: se.Message}})
	}
	if err != nil {
		return CourseSpec{}, Rules{}, nil, fmt.Errorf("decode course file: %w", err)
	}
	if root.Kind != orderedjson.Object {
		start := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
		d := errs.Detail{Path: orderedjson.Position(data, start).String(), Message: "the file must hold one JSON object (the course), got " + root.Describe()}
		return CourseSpec{}, Rules{}, nil, courseFileInvalid([]errs.Detail{d})
	}

	var c cfChecker
	spec, rules, remedial := c.course(root)
	if len(c.details) > 0 {
		return CourseSpec{}, Rules{}, nil, courseFileInvalid(c.details)
	}
	return spec, rules, remedial, nil
}

// courseFileInvalid lists the problems of a course file, capped at courseFileMaxDetails.
func courseFileInvalid(details []errs.Detail) *errs.Error {
	n := len(details)
	msg := "The course file has 1 problem."
	if n != 1 {
		msg = fmt.Sprintf("The course file has %d problems.", n)
	}
	return errs.InvalidInput(msg, errs.Capped(details, n, courseFileMaxDetails, ""))
}

// cfChecker walks a decoded course file and collects every problem it finds.
type cfChecker struct {
	details []errs.Detail
}

func (c *cfChecker) add(path, format string, args ...any) {
	c.details = append(c.details, errs.Detail{Path: path, Message: fmt.Sprintf(format, args...)})
}

func cfJoin(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func cfIndex(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// object returns the fields of v by key, reporting unknown and repeated keys. A
// null field counts as absent. It reports and returns nil if v is not an object.
func (c *cfChecker) object(v *orderedjson.Value, path string, known ...string) map[string]*orderedjson.Value {
	if v.Kind != orderedjson.Object {
		c.add(path, "must be an object ({...}), got %s", v.Describe())
		return nil
	}
	fields := make(map[string]*orderedjson.Value, len(v.Fields))
	seen := make(map[string]bool, len(v.Fields))
	for _, f := range v.Fields {
		p := cfJoin(path, f.Key)
		switch {
		case !slices.Contains(known, f.Key):
			c.add(p, "unknown field; the known fields here are %s", strings.Join(known, ", "))
		case seen[f.Key]:
			c.add(p, "appears more than once")
		case f.Value.Kind != orderedjson.Null:
			fields[f.Key] = f.Value
		}
		seen[f.Key] = true
	}
	return fields
}

// text reads an optional string of at most limit characters, trimmed. It
// reports a wrong type or length and returns ok false then.
func (c *cfChecker) text(v *orderedjson.Value, path string, limit int) (s string, ok bool) {
	if v == nil {
		return "", true
	}
	if v.Kind != orderedjson.String {
		c.add(path, "must be a string, got %s", v.Describe())
		return "", false
	}
	s = strings.TrimSpace(v.Text)
	if n := utf8.RuneCountInString(s); n > limit {
		c.add(path, "must be at most %d characters, got %d", limit, n)
		return "", false
	}
	if r, at, found := controlChar(s); found {
		c.add(path, "has a control character (U+%04X) at character %d; only text, line breaks and tabs are allowed", r, at+1)
		return "", false
	}
	return s, true
}

// controlChar finds the first control character of s but a line break or a
// tab (a NUL, say), and its place in characters.
func controlChar(s string) (rune, int, bool) {
	at := 0
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return r, at, true
		}
		at++
	}
	return 0, 0, false
}

// requiredText reads a string like text and also reports it absent or blank.
func (c *cfChecker) requiredText(v *orderedjson.Value, path string, limit int) (string, bool) {
	if v == nil {
		c.add(path, "is required")
		return "", false
	}
	s, ok := c.text(v, path, limit)
	if ok && s == "" {
		c.add(path, "must not be blank")
		return "", false
	}
	return s, ok
}

// whole reads an optional whole number in [lo, hi], def when absent.
func (c *cfChecker) whole(v *orderedjson.Value, path string, lo, hi, def int) int {
	if v == nil {
		return def
	}
	n, ok := v.Whole()
	if !ok {
		c.add(path, "must be a whole number, got %s", v.Describe())
		return def
	}
	if n < int64(lo) || n > int64(hi) {
		c.add(path, "must be between %d and %d, got %s", lo, hi, v.Describe())
		return def
	}
	return int(n)
}

// flag reads an optional true or false.
func (c *cfChecker) flag(v *orderedjson.Value, path string) bool {
	if v == nil {
		return false
	}
	if v.Kind != orderedjson.Bool {
		c.add(path, "must be true or false, got %s", v.Describe())
		return false
	}
	return v.Truth
}

// list reads a list of lo to hi items of what (singular, e.g. "lesson"). It
// returns the items even when there are too many, so that each is checked.
func (c *cfChecker) list(v *orderedjson.Value, path string, lo, hi int, what string) []*orderedjson.Value {
	if v.Kind != orderedjson.Array {
		c.add(path, "must be a list ([...]), got %s", v.Describe())
		return nil
	}
	n := len(v.Items)
	switch {
	case n < lo && lo == 1:
		c.add(path, "must have at least 1 %s", what)
	case n < lo:
		c.add(path, "must have at least %d %ss, got %d", lo, what, n)
	case n > hi:
		c.add(path, "must have at most %d %ss, got %d", hi, what, n)
	}
	return v.Items
}

// clock reads a required "HH:MM" string.
func (c *cfChecker) clock(v *orderedjson.Value, path string) (ClockTime, bool) {
	s, ok := c.requiredText(v, path, math.MaxInt)
	if !ok {
		return 0, false
	}
	t, err := ParseClockTime(s)
	if err != nil {
		c.add(path, "must be a time of day as HH:MM (24-hour), got %q", orderedjson.Shorten(s))
		return 0, false
	}
	return t, true
}

// course reads the top-level object: the course, its rules and the keys of its
// remedial lessons.
func (c *cfChecker) course(v *orderedjson.Value) (CourseSpec, Rules, map[string]bool) {
	f := c.object(v, "", "slug", "title", "description", "pass_mark", "due_days",
		"cadence", "send_window", "completion", "lessons", "rules")
	var spec CourseSpec
	if slug, ok := c.requiredText(f["slug"], "slug", math.MaxInt); ok {
		if !courseSlugPattern.MatchString(slug) {
			c.add("slug", "must be 1-63 lower-case letters, digits and hyphens, starting with a letter or digit; got %q", orderedjson.Shorten(slug))
		}
		spec.Slug = slug
	}
	spec.Title, _ = c.requiredText(f["title"], "title", courseTitleMax)
	spec.Description, _ = c.text(f["description"], "description", courseDescriptionMax)
	spec.PassMark = c.whole(f["pass_mark"], "pass_mark", 0, 100, coursePassMarkDef)
	spec.DueDays = c.whole(f["due_days"], "due_days", 1, courseDueDaysMax, courseDueDaysDef)

	var timesOK bool
	spec.Cadence, timesOK = c.cadence(f["cadence"], "cadence")
	var windowOK bool
	spec.SendWindow, windowOK = c.sendWindow(f["send_window"], "send_window")
	if timesOK && windowOK {
		w := spec.SendWindow
		for i, t := range spec.Cadence.Times {
			if t < w.Start || t >= w.End {
				c.add(cfIndex("cadence.times", i), "%q is outside the send window %s-%s (the end time itself is outside)", t.String(), w.Start, w.End)
			}
		}
	}

	spec.TextCompletion, spec.VideoCompletePercent = c.completion(f["completion"], "completion")

	before := len(c.details)
	remedial := make(map[string]bool)
	if f["lessons"] == nil {
		c.add("lessons", "is required")
	} else {
		keys := make(map[string]string) // lesson key to the path of the lesson that first used it
		items := c.list(f["lessons"], "lessons", 1, courseMaxLessons, "lesson")
		for i, item := range items {
			l, isRemedial := c.lesson(item, cfIndex("lessons", i), keys)
			spec.Lessons = append(spec.Lessons, l)
			if isRemedial && l.Key != "" {
				remedial[l.Key] = true
			}
		}
		if len(items) > 0 && len(remedial) == len(items) {
			c.add("lessons", "must have at least 1 lesson that is not remedial")
		}
	}
	lessonsOK := len(c.details) == before

	rules, tainted := DefaultRules(), []string(nil)
	if f["rules"] != nil {
		rules, tainted = c.rules(f["rules"], "rules")
	}
	if slices.ContainsFunc(tainted, func(t string) bool { return t == "rules" || strings.HasPrefix(t, "rules.remedial") }) {
		tainted = append(tainted, "lessons") // a remedial lesson may be assigned by the rule not read
	}
	// What the rules refer to is checked only against lessons read without a
	// problem; a value the file got wrong is reported once, by c.rules.
	for _, d := range rules.validate(PathLessons(spec.Lessons, remedial), lessonsOK) {
		if !cfTainted(d.Path, tainted) {
			c.details = append(c.details, d)
		}
	}
	return spec, rules, remedial
}

// rules reads the adaptation rules. Ranges and references are left to
// Rules.validate; rules returns the paths whose values could not be read, where
// a zero value stands in, so that validate's problems there can be dropped.
func (c *cfChecker) rules(v *orderedjson.Value, path string) (r Rules, tainted []string) {
	r = DefaultRules()
	f := c.object(v, path, "mastery_mark", "remedial", "review_days", "retake", "max_retakes")
	if f == nil {
		return r, []string{path}
	}
	anyInt := func(key string, def int) int {
		return c.whole(f[key], cfJoin(path, key), math.MinInt, math.MaxInt, def)
	}
	r.MasteryMark = anyInt("mastery_mark", 0)

	if v := f["remedial"]; v != nil {
		p := cfJoin(path, "remedial")
		items := c.list(v, p, 0, math.MaxInt, "rule")
		if v.Kind != orderedjson.Array {
			tainted = append(tainted, p)
		}
		for i, item := range items {
			rule, bad := c.remedialRule(item, cfIndex(p, i))
			r.Remedial = append(r.Remedial, rule)
			tainted = append(tainted, bad...)
		}
	}

	if v := f["review_days"]; v != nil {
		p := cfJoin(path, "review_days")
		for i, item := range c.list(v, p, 0, math.MaxInt, "day") {
			ip := cfIndex(p, i)
			n, ok := item.Whole()
			if !ok {
				c.add(ip, "must be a whole number, got %s", item.Describe())
				tainted = append(tainted, ip)
			}
			r.ReviewDays = append(r.ReviewDays, int(max(min(n, math.MaxInt32), math.MinInt32)))
		}
	}

	if v := f["retake"]; v != nil {
		p := cfJoin(path, "retake")
		if s, ok := c.requiredText(v, p, math.MaxInt); ok {
			switch s {
			case "missed":
				r.RetakeMissedOnly = true
			case "all":
			default:
				c.add(p, `must be "missed" or "all", got %q`, orderedjson.Shorten(s))
			}
		}
	}
	r.MaxRetakes = anyInt("max_retakes", DefaultMaxRetakes)
	return r, tainted
}

// remedialRule reads one entry of rules.remedial, and the paths it could not read.
func (c *cfChecker) remedialRule(v *orderedjson.Value, path string) (rule RemedialRule, tainted []string) {
	f := c.object(v, path, "quiz", "lessons")
	if f == nil {
		return rule, []string{path}
	}
	quizPath, lessonsPath := path+".quiz", path+".lessons"
	if quiz, ok := c.requiredText(f["quiz"], quizPath, math.MaxInt); ok {
		rule.Quiz = quiz
	} else {
		tainted = append(tainted, quizPath)
	}
	if f["lessons"] == nil {
		c.add(lessonsPath, "is required")
		return rule, append(tainted, lessonsPath)
	}
	if f["lessons"].Kind != orderedjson.Array {
		c.list(f["lessons"], lessonsPath, 0, math.MaxInt, "lesson") // reports the type
		return rule, append(tainted, lessonsPath)
	}
	rule.Lessons = []string{}
	for i, item := range f["lessons"].Items {
		p := cfIndex(lessonsPath, i)
		key, ok := c.requiredText(item, p, math.MaxInt)
		if !ok {
			tainted = append(tainted, p)
		}
		rule.Lessons = append(rule.Lessons, key)
	}
	return rule, tainted
}

// cfTainted reports whether path is one of tainted or lies inside one.
func cfTainted(path string, tainted []string) bool {
	for _, t := range tainted {
		if path == t || strings.HasPrefix(path, t+".") || strings.HasPrefix(path, t+"[") {
			return true
		}
	}
	return false
}

// cadence reads the cadence, the default when absent. timesOK says whether
// every time was read, so that they can be checked against the send window.
func (c *cfChecker) cadence(v *orderedjson.Value, path string) (cad Cadence, timesOK bool) {
	if v == nil {
		return defaultCadence(), true
	}
	f := c.object(v, path, "days", "every_days", "times")
	if f == nil {
		return Cadence{}, false
	}
	switch {
	case f["days"] != nil && f["every_days"] != nil:
		c.add(path, "must have either days or every_days, not both")
	case f["days"] == nil && f["every_days"] == nil:
		c.add(path, "must have days (e.g. [\"mon\", \"wed\"]) or every_days (e.g. 2)")
	case f["days"] != nil:
		cad.Weekdays = c.weekdays(f["days"], cfJoin(path, "days"))
	default:
		cad.EveryDays = c.whole(f["every_days"], cfJoin(path, "every_days"), 1, courseMaxEveryDays, 0)
	}

	timesPath := cfJoin(path, "times")
	if f["times"] == nil {
		c.add(timesPath, "is required")
		return cad, false
	}
	items := c.list(f["times"], timesPath, 1, courseMaxTimes, "time")
	prev := -1 // the index of the last time read
	for i, item := range items {
		p := cfIndex(timesPath, i)
		t, ok := c.clock(item, p)
		if !ok {
			continue
		}
		if prev >= 0 && t <= cad.Times[len(cad.Times)-1] {
			c.add(p, "%q must be later than %s (%q)", t.String(), cfIndex(timesPath, prev), cad.Times[len(cad.Times)-1].String())
		}
		cad.Times = append(cad.Times, t)
		prev = i
	}
	return cad, len(items) > 0 && len(cad.Times) == len(items)
}

// weekdays reads a list of day names, sorted into time.Weekday order.
func (c *cfChecker) weekdays(v *orderedjson.Value, path string) []time.Weekday {
	var days []time.Weekday
	first := make(map[time.Weekday]int)
	for i, item := range c.list(v, path, 1, 7, "day") {
		p := cfIndex(path, i)
		s, ok := c.requiredText(item, p, math.MaxInt)
		if !ok {
			continue
		}
		d, known := courseFileWeekdays[strings.ToLower(s)]
		if !known {
			c.add(p, "must be one of mon, tue, wed, thu, fri, sat, sun; got %q", orderedjson.Shorten(s))
			continue
		}
		if j, dup := first[d]; dup {
			c.add(p, "%q is the same day as %s", s, cfIndex(path, j))
			continue
		}
		first[d] = i
		days = append(days, d)
	}
	slices.Sort(days)
	return days
}

// sendWindow reads the send window; each end left out takes its default.
func (c *cfChecker) sendWindow(v *orderedjson.Value, path string) (w SendWindow, ok bool) {
	w = DefaultSendWindow()
	if v == nil {
		return w, true
	}
	f := c.object(v, path, "start", "end")
	if f == nil {
		return w, false
	}
	ok = true
	if f["start"] != nil {
		t, tOK := c.clock(f["start"], cfJoin(path, "start"))
		w.Start, ok = t, ok && tOK
	}
	if f["end"] != nil {
		t, tOK := c.clock(f["end"], cfJoin(path, "end"))
		w.End, ok = t, ok && tOK
	}
	if ok && w.Start >= w.End {
		c.add(cfJoin(path, "end"), "%q must be later than the start (%q)", w.End.String(), w.Start.String())
		ok = false
	}
	return w, ok
}

// completion reads when lessons count as completed; each setting left out
// takes its default.
func (c *cfChecker) completion(v *orderedjson.Value, path string) (string, int) {
	text, percent := TextCompleteOnOpen, DefaultVideoCompletePercent
	if v == nil {
		return text, percent
	}
	f := c.object(v, path, "text", "video_percent")
	if f == nil {
		return text, percent
	}
	if f["text"] != nil {
		p := cfJoin(path, "text")
		if s, ok := c.requiredText(f["text"], p, math.MaxInt); ok {
			switch s {
			case TextCompleteOnOpen, TextCompleteOnDone:
				text = s
			default:
				c.add(p, "%q is not one of %s, %s", orderedjson.Shorten(s), TextCompleteOnOpen, TextCompleteOnDone)
			}
		}
	}
	percent = c.whole(f["video_percent"], cfJoin(path, "video_percent"), 1, 100, DefaultVideoCompletePercent)
	return text, percent
}

// lesson reads one lesson and whether it is remedial. keys maps each lesson key
// already read to its lesson's path; lesson adds its own.
func (c *cfChecker) lesson(v *orderedjson.Value, path string, keys map[string]string) (Lesson, bool) {
	f := c.object(v, path, "key", "kind", "title", "body", "optional", "remedial", "video_url", "video_seconds", "questions")
	if f == nil {
		return Lesson{}, false
	}
	var l Lesson
	if key, ok := c.requiredText(f["key"], path+".key", math.MaxInt); ok {
		switch first, used := keys[key]; {
		case !lessonKeyPattern.MatchString(key):
			c.add(path+".key", "must be 1-40 lower-case letters, digits, dots, underscores and hyphens, starting with a letter or digit; got %q", orderedjson.Shorten(key))
		case used:
			c.add(path+".key", "%q is already used by %s", key, first)
		default:
			l.Key = key
			keys[key] = path
		}
	}
	if kind, ok := c.requiredText(f["kind"], path+".kind", math.MaxInt); ok {
		switch k := LessonKind(kind); k {
		case KindText, KindVideo, KindQuiz:
			l.Kind = k
		default:
			c.add(path+".kind", "must be one of text, video, quiz; got %q", orderedjson.Shorten(kind))
		}
	}
	l.Title, _ = c.requiredText(f["title"], path+".title", lessonTitleMax)
	if l.Kind == KindText {
		l.Body, _ = c.requiredText(f["body"], path+".body", lessonBodyMax)
	} else {
		l.Body, _ = c.text(f["body"], path+".body", lessonBodyMax)
	}
	l.Optional = c.flag(f["optional"], path+".optional")
	remedial := c.flag(f["remedial"], path+".remedial")
	if l.Optional && remedial {
		c.add(path+".remedial", "a lesson cannot be both optional and remedial: remedial lessons are off the normal path")
	}

	// Kind-specific fields. With no valid kind, present fields are still checked.
	if l.Kind == KindVideo || l.Kind == "" {
		l.VideoURL, l.VideoSeconds = c.video(f, path, l.Kind == KindVideo)
	} else {
		for _, key := range []string{"video_url", "video_seconds"} {
			if f[key] != nil {
				c.add(path+"."+key, "is only allowed on video lessons")
			}
		}
	}
	switch {
	case l.Kind != KindQuiz && l.Kind != "" && f["questions"] != nil:
		c.add(path+".questions", "is only allowed on quiz lessons")
	case l.Kind == KindQuiz && f["questions"] == nil:
		c.add(path+".questions", "is required for a quiz lesson")
	case f["questions"] != nil:
		qPath := path + ".questions"
		for i, item := range c.list(f["questions"], qPath, 1, lessonMaxQuestions, "question") {
			l.Questions = append(l.Questions, c.question(item, cfIndex(qPath, i)))
		}
	}
	return l, remedial
}

// video reads video_url and video_seconds from a lesson's fields.
func (c *cfChecker) video(f map[string]*orderedjson.Value, path string, required bool) (string, int) {
	urlPath, secsPath := path+".video_url", path+".video_seconds"
	var u string
	var secs int
	switch v := f["video_url"]; {
	case v == nil && required:
		c.add(urlPath, "is required for a video lesson")
	case v != nil:
		s, ok := c.requiredText(v, urlPath, lessonVideoURLMax)
		switch {
		case ok && cfVideoURLOK(s):
			u = s
		case ok:
			c.add(urlPath, "must be an http(s) URL or a path starting with \"/\"; got %q", orderedjson.Shorten(s))
		}
	}
	if f["video_seconds"] == nil && required {
		c.add(secsPath, "is required for a video lesson")
	} else {
		secs = c.whole(f["video_seconds"], secsPath, 1, lessonVideoMaxSecs, 0)
	}
	return u, secs
}

// cfVideoURLOK reports whether s is an absolute http(s) URL with a host, or a
// path on this site such as "/media/demo.mp4".
func cfVideoURLOK(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if strings.HasPrefix(s, "/") {
		return !strings.HasPrefix(s, "//") && u.Scheme == "" && u.Host == ""
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// question reads one quiz question.
func (c *cfChecker) question(v *orderedjson.Value, path string) Question {
	f := c.object(v, path, "prompt", "choices", "correct", "explanation")
	if f == nil {
		return Question{}
	}
	var q Question
	q.Prompt, _ = c.requiredText(f["prompt"], path+".prompt", questionPromptMax)

	choicesPath := path + ".choices"
	n := 0 // how many choices there are, for checking the correct letter
	if f["choices"] == nil {
		c.add(choicesPath, "is required")
	} else {
		first := make(map[string]int)
		items := c.list(f["choices"], choicesPath, questionMinChoices, questionMaxChoices, "choice")
		n = len(items)
		for i, item := range items {
			p := cfIndex(choicesPath, i)
			s, ok := c.requiredText(item, p, questionChoiceMax)
			if !ok {
				continue
			}
			fold := strings.ToLower(s)
			if j, dup := first[fold]; dup {
				c.add(p, "%q is the same as %s", orderedjson.Shorten(s), cfIndex(choicesPath, j))
				continue
			}
			first[fold] = i
			q.Choices = append(q.Choices, s)
		}
	}

	correctPath := path + ".correct"
	if f["correct"] != nil && f["correct"].Kind != orderedjson.String {
		c.add(correctPath, "must be a choice letter such as \"A\", got %s", f["correct"].Describe())
	} else if letter, ok := c.requiredText(f["correct"], correctPath, math.MaxInt); ok && n > 0 {
		n = min(n, 26)
		i := -1
		if up := strings.ToUpper(letter); len(up) == 1 {
			i = int(up[0] - 'A')
		}
		if i < 0 || i >= n {
			c.add(correctPath, "%q is not one of the choices %s", orderedjson.Shorten(letter), cfLetterRange(n))
		} else {
			q.Correct = i
		}
	}
	q.Explanation, _ = c.text(f["explanation"], path+".explanation", questionExplainMax)
	return q
}

// cfLetterRange names the letters of n choices: "A", "A-D".
func cfLetterRange(n int) string {
	if n == 1 {
		return "A"
	}
	return "A-" + ChoiceLetter(n-1)
}
