package xapi

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// kinds are the kinds of event that have a statement.
var kinds = []string{tracking.KindLessonOpened, tracking.KindSegmentWatched, tracking.KindVideoPaused,
	tracking.KindLessonCompleted, tracking.KindGraded, tracking.KindCourseCompleted}

// language is the language of every display name.
const language = "en-US"

// Converter turns one organisation's events into statements.
type Converter struct {
	HomePage string // the server's public URL, without a trailing slash
	OrgID    int64
	Catalog  Catalog
}

// needsSegments reports whether the statement of e says which segments of
// its video were watched (played, paused, a video completed).
func (c Converter) needsSegments(e tracking.Event) bool {
	switch e.Kind {
	case tracking.KindSegmentWatched, tracking.KindVideoPaused:
		return true
	case tracking.KindLessonCompleted:
		return c.lessonKind(e) == lessons.KindVideo
	}
	return false
}

// lessonKind is the kind of e's lesson: its detail's, else the catalog's; a
// lesson_completed without a detail is a quiz's (its score is the Value).
func (c Converter) lessonKind(e tracking.Event) lessons.LessonKind {
	var d tracking.LessonDetail
	if e.Detail != "" && json.Unmarshal([]byte(e.Detail), &d) == nil && d.Kind != "" {
		return lessons.LessonKind(d.Kind)
	}
	if l, ok := c.Catalog.Lessons[e.LessonID]; ok {
		return l.Kind
	}
	switch e.Kind {
	case tracking.KindLessonCompleted:
		return lessons.KindQuiz
	case tracking.KindSegmentWatched, tracking.KindVideoPaused:
		return lessons.KindVideo
	}
	return ""
}

// Statement returns the statement of e, and false for an event that has
// none. watched are the segments the rep watched of e's assignment (any
// time: those watched by e's time count), for the statements of a video.
func (c Converter) Statement(e tracking.Event, watched []tracking.SegmentWatch) (Statement, bool) {
	s := Statement{
		ID:        StatementID(c.OrgID, e.RepID, e.Key),
		Actor:     Agent{ObjectType: "Agent", Account: Account{HomePage: c.HomePage, Name: RepAccountName(c.OrgID, e.RepID)}},
		Timestamp: e.OccurredAt.UTC().Format(time.RFC3339),
	}
	ctx := &Context{Platform: "Morsel"}
	if e.EnrollmentID != 0 {
		ctx.Registration = Registration(c.OrgID, e.EnrollmentID)
	}
	kind := c.lessonKind(e)
	video := kind == lessons.KindVideo
	switch e.Kind {
	case tracking.KindLessonOpened:
		s.Verb, s.Object = verb(VerbInitialized), c.lesson(e.LessonID, kind)
	case tracking.KindSegmentWatched:
		segment := int(e.Value)
		s.Verb, s.Object = verb(VerbPlayed), c.lesson(e.LessonID, lessons.KindVideo)
		s.Result = &Result{Extensions: map[string]any{ExtTime: float64(segment * tracking.SegmentSeconds)}}
		c.videoProgress(e, watched, s.Result)
		s.Result.Extensions[ExtPlayedSegments] = c.segmentRanges(e.LessonID, []int{segment})
	case tracking.KindVideoPaused:
		d, _ := tracking.ParseVideoDetail(e.Detail)
		s.Verb, s.Object = verb(VerbPaused), c.lesson(e.LessonID, lessons.KindVideo)
		s.Result = &Result{Extensions: map[string]any{ExtTime: round3(d.Position)}}
		c.videoProgress(e, watched, s.Result)
	case tracking.KindLessonCompleted:
		s.Object = c.lesson(e.LessonID, kind)
		done := true
		s.Result = &Result{Completion: &done}
		switch kind {
		case lessons.KindQuiz:
			s.Verb = verb(VerbCompleted)
			s.Result.Score = percentScore(e.Value)
			if l, ok := c.Catalog.Lessons[e.LessonID]; ok {
				passed := e.Value >= float64(l.PassMark)
				s.Result.Success = &passed
				s.Verb = verb(map[bool]string{true: VerbPassed, false: VerbFailed}[passed])
			}
		case lessons.KindVideo:
			s.Verb = verb(VerbCompleted)
			s.Result.Extensions = map[string]any{}
			n := c.videoProgress(e, watched, s.Result)
			s.Result.Duration = isoSeconds(n * tracking.SegmentSeconds)
		default:
			s.Verb = verb(VerbCompleted)
		}
	case tracking.KindGraded:
		var d tracking.GradedDetail
		_ = json.Unmarshal([]byte(e.Detail), &d)
		correct := e.Value > 0
		s.Verb, s.Object = verb(VerbAnswered), c.question(e.LessonID, d.Question)
		s.Result = &Result{Success: &correct, Response: lessons.ChoiceLetter(d.Choice)}
		ctx.ContextActivities = &ContextActivities{Parent: []Activity{c.lesson(e.LessonID, lessons.KindQuiz)}}
		if e.CourseID != 0 {
			ctx.ContextActivities.Grouping = []Activity{c.course(e.CourseID)}
		}
	case tracking.KindCourseCompleted:
		done := true
		s.Verb, s.Object = verb(VerbCompleted), c.course(e.CourseID)
		s.Result = &Result{Completion: &done}
		if e.Value > 0 {
			s.Result.Score = percentScore(e.Value)
		}
	default:
		return Statement{}, false
	}
	if ctx.ContextActivities == nil && e.CourseID != 0 && e.Kind != tracking.KindCourseCompleted {
		ctx.ContextActivities = &ContextActivities{Parent: []Activity{c.course(e.CourseID)}}
	}
	if video {
		if ctx.ContextActivities == nil {
			ctx.ContextActivities = &ContextActivities{}
		}
		ctx.ContextActivities.Category = []Activity{{ObjectType: "Activity", ID: VideoProfile, Definition: &Definition{Type: TypeProfile}}}
		ctx.Extensions = map[string]any{}
		if l, ok := c.Catalog.Lessons[e.LessonID]; ok && l.VideoSeconds > 0 {
			ctx.Extensions[ExtLength] = float64(l.VideoSeconds)
		}
		if d, err := tracking.ParseVideoDetail(e.Detail); err == nil && d.Session != "" {
			ctx.Extensions[ExtSessionID] = d.Session
		}
		if len(ctx.Extensions) == 0 {
			ctx.Extensions = nil
		}
	}
	s.Context = ctx
	return s, true
}

// videoProgress sets the progress and played segments of e's video in r's
// extensions, from the segments watched by e's time, and returns how many
// those are.
func (c Converter) videoProgress(e tracking.Event, watched []tracking.SegmentWatch, r *Result) int {
	var segments []int
	for _, w := range watched {
		if w.RepID == e.RepID && w.AssignmentID == e.AssignmentID && !w.At.After(e.OccurredAt) {
			segments = append(segments, w.Segment)
		}
	}
	if e.Kind == tracking.KindSegmentWatched {
		segments = append(segments, int(e.Value)) // the segment itself counts, whatever the clocks
	}
	slices.Sort(segments)
	segments = slices.Compact(segments)
	if r.Extensions == nil {
		r.Extensions = map[string]any{}
	}
	r.Extensions[ExtPlayedSegments] = c.segmentRanges(e.LessonID, segments)
	if l, ok := c.Catalog.Lessons[e.LessonID]; ok && l.VideoSeconds > 0 {
		total := tracking.SegmentCount(l.VideoSeconds)
		r.Extensions[ExtProgress] = round3(math.Min(1, float64(len(segments))/float64(total)))
	}
	if e.Kind == tracking.KindLessonCompleted && len(segments) > 0 {
		r.Extensions[ExtTime] = c.segmentEnd(e.LessonID, segments[len(segments)-1])
	}
	return len(segments)
}

// segmentRanges writes sorted distinct segments as the profile's
// played-segments: "0[.]30[,]45[.]60", adjacent segments merged.
func (c Converter) segmentRanges(lessonID int64, segments []int) string {
	var b strings.Builder
	for i := 0; i < len(segments); {
		j := i
		for j+1 < len(segments) && segments[j+1] == segments[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(segmentListSeparator)
		}
		b.WriteString(strconv.Itoa(segments[i] * tracking.SegmentSeconds))
		b.WriteString(segmentRangeSep)
		b.WriteString(strconv.FormatFloat(c.segmentEnd(lessonID, segments[j]), 'f', -1, 64))
		i = j + 1
	}
	return b.String()
}

// segmentEnd is where a segment ends, in seconds: the video's end for its
// last segment when the length is known.
func (c Converter) segmentEnd(lessonID int64, segment int) float64 {
	end := (segment + 1) * tracking.SegmentSeconds
	if l, ok := c.Catalog.Lessons[lessonID]; ok && l.VideoSeconds > 0 {
		end = min(end, l.VideoSeconds)
	}
	return float64(end)
}

// lesson is the activity of a lesson of kind.
func (c Converter) lesson(id int64, kind lessons.LessonKind) Activity {
	typ := TypeLesson
	switch kind {
	case lessons.KindVideo:
		typ = TypeVideo
	case lessons.KindQuiz:
		typ = TypeAssessment
	}
	a := Activity{ObjectType: "Activity", ID: c.HomePage + "/xapi/lessons/" + strconv.FormatInt(id, 10), Definition: &Definition{Type: typ}}
	if l, ok := c.Catalog.Lessons[id]; ok && l.Title != "" {
		a.Definition.Name = map[string]string{language: l.Title}
	}
	return a
}

// question is the activity of a quiz's n-th question (from 0): a
// multiple-choice interaction whose choices are the letters A, B...
func (c Converter) question(lessonID int64, n int) Activity {
	a := Activity{ObjectType: "Activity",
		ID:         c.HomePage + "/xapi/lessons/" + strconv.FormatInt(lessonID, 10) + "/questions/" + strconv.Itoa(n),
		Definition: &Definition{Type: TypeInteraction, InteractionType: "choice"}}
	if l, ok := c.Catalog.Lessons[lessonID]; ok && n >= 0 && n < len(l.Questions) {
		q := l.Questions[n]
		a.Definition.Name = map[string]string{language: q.Prompt}
		a.Definition.CorrectResponsesPattern = []string{lessons.ChoiceLetter(q.Correct)}
		for i, choice := range q.Choices {
			a.Definition.Choices = append(a.Definition.Choices, Choice{ID: lessons.ChoiceLetter(i), Description: map[string]string{language: choice}})
		}
	}
	return a
}

// course is the activity of a course.
func (c Converter) course(id int64) Activity {
	a := Activity{ObjectType: "Activity", ID: c.HomePage + "/xapi/courses/" + strconv.FormatInt(id, 10), Definition: &Definition{Type: TypeCourse}}
	if co, ok := c.Catalog.Courses[id]; ok && co.Title != "" {
		a.Definition.Name = map[string]string{language: co.Title}
	}
	return a
}

func verb(id string) Verb { return Verb{ID: id, Display: map[string]string{language: verbNames[id]}} }

// percentScore is a score in percent as an xAPI score.
func percentScore(p float64) *Score {
	p = math.Max(0, math.Min(100, p))
	return &Score{Scaled: round3(p / 100), Raw: round3(p), Min: 0, Max: 100}
}

// round3 rounds to three decimals, as the profile writes times and progress.
func round3(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*1000) / 1000
}

// isoSeconds is a duration in seconds in ISO 8601: PT45S.
func isoSeconds(s int) string { return "PT" + strconv.Itoa(s) + "S" }
