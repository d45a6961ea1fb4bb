package lessons

import (
	"fmt"
	"time"
)

// LessonKind is what a lesson delivers.
type LessonKind string

// The lesson kinds.
const (
	KindText  LessonKind = "text"  // a short text with a link to the lesson page
	KindVideo LessonKind = "video" // a short video watched on the lesson page
	KindQuiz  LessonKind = "quiz"  // multiple-choice questions answered by SMS
)

// VersionStatus is where a course version is in its life.
type VersionStatus string

// A draft can change; a published version never does.
const (
	VersionDraft     VersionStatus = "draft"
	VersionPublished VersionStatus = "published"
)

// ClockTime is a wall-clock time of day in minutes after midnight, read in the
// rep's own time zone.
type ClockTime int

// NewClockTime returns the ClockTime for hour:minute.
func NewClockTime(hour, minute int) ClockTime { return ClockTime(hour*60 + minute) }

// ParseClockTime reads "HH:MM" (24-hour).
func ParseClockTime(s string) (ClockTime, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day as HH:MM (24-hour)", s)
	}
	return NewClockTime(t.Hour(), t.Minute()), nil
}

// Hour returns the hour, 0-23.
func (c ClockTime) Hour() int { return int(c) / 60 }

// Minute returns the minute, 0-59.
func (c ClockTime) Minute() int { return int(c) % 60 }

func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", c.Hour(), c.Minute()) }

// Cadence says when a course's steps go out, in the rep's local time: on the
// listed weekdays, or every EveryDays days, at each of Times.
type Cadence struct {
	Weekdays  []time.Weekday // set for a weekday cadence, e.g. Monday-Friday
	EveryDays int            // set for an interval cadence, e.g. 2; 0 otherwise
	Times     []ClockTime    // ascending, at least one
}

// SendWindow is the part of the rep's day in which messages may go out; End is
// exclusive. The default is 08:00-20:00.
type SendWindow struct {
	Start, End ClockTime
}

// DefaultSendWindow returns the window used when a course names none,
// 08:00-20:00.
func DefaultSendWindow() SendWindow {
	return SendWindow{Start: NewClockTime(8, 0), End: NewClockTime(20, 0)}
}

// CourseSpec is everything a trainer authors about a course version: what a
// course file holds, and what a published version freezes.
type CourseSpec struct {
	Slug        string // the course's key within its organisation, e.g. "discount-policy"
	Title       string
	Description string
	PassMark    int // percent, 0-100: the course score needed to pass
	DueDays     int // default days from enrollment to the due date
	Cadence     Cadence
	SendWindow  SendWindow
	Lessons     []Lesson
	Rules       Rules // how quiz results adapt each rep's path

	// TextCompletion says when a text lesson counts as completed:
	// TextCompleteOnOpen (the default; "" means it too) or TextCompleteOnDone.
	TextCompletion string
	// VideoCompletePercent is the share of a video's segments, 1-100, that
	// completes its lesson; 0 means DefaultVideoCompletePercent.
	VideoCompletePercent int
}

// The settings of CourseSpec.TextCompletion.
const (
	TextCompleteOnOpen = "open"        // when the rep opens the lesson page
	TextCompleteOnDone = "done_button" // when the rep presses the page's Done button
)

// DefaultVideoCompletePercent is the share of a video's segments that
// completes its lesson when a course names none.
const DefaultVideoCompletePercent = 90

// completionOrDefault returns the spec's completion settings with the
// defaults in place of zero values.
func (c CourseSpec) completionOrDefault() (string, int) {
	text, video := c.TextCompletion, c.VideoCompletePercent
	if text == "" {
		text = TextCompleteOnOpen
	}
	if video == 0 {
		video = DefaultVideoCompletePercent
	}
	return text, video
}

// Lesson is one step of a course.
type Lesson struct {
	ID           int64
	Key          string // unique within the version, e.g. "4b"; rules refer to it
	Kind         LessonKind
	Title        string
	Body         string // the text sent or shown
	VideoURL     string // video lessons only
	VideoSeconds int    // video lessons only
	Optional     bool   // may be skipped by a rep who shows mastery
	Remedial     bool   // off the normal path: only a remedial rule assigns it
	Questions    []Question
}

// Question is one multiple-choice quiz question.
type Question struct {
	ID          int64
	Prompt      string
	Choices     []string // 2 to 6, shown as A, B, C...
	Correct     int      // index into Choices
	Explanation string   // sent as feedback after the answer
}

// ChoiceLetter returns the letter shown for choice i: A, B, C...
func ChoiceLetter(i int) string { return string(rune('A' + i)) }

// Course is a course of an organisation; its content lives in versions.
type Course struct {
	ID        int64
	OrgID     int64
	Slug      string
	Title     string
	CreatedAt time.Time
	// ArchivedAt is when the course was archived: kept with its history and
	// enrollments, it takes no new enrollments and no edits. Nil when active.
	ArchivedAt *time.Time
}

// CourseVersion is one version of a course's content.
type CourseVersion struct {
	ID          int64
	CourseID    int64
	Number      int
	Status      VersionStatus
	PublishedAt *time.Time
	Spec        CourseSpec
}
