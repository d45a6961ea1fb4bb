package lessons

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The course file as written: the shape COURSE_FORMAT.md documents, with every
// setting spelled out, so that an exported file says what the course does
// without the reader knowing the defaults.
type courseFile struct {
	Slug        string         `json:"slug"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	PassMark    int            `json:"pass_mark"`
	DueDays     int            `json:"due_days"`
	Cadence     cadenceFile    `json:"cadence"`
	SendWindow  sendWindowFile `json:"send_window"`
	Completion  completionFile `json:"completion"`
	Lessons     []lessonFile   `json:"lessons"`
	Rules       rulesFile      `json:"rules"`
}

type cadenceFile struct {
	Days      []string `json:"days,omitempty"`
	EveryDays int      `json:"every_days,omitempty"`
	Times     []string `json:"times"`
}

type sendWindowFile struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type completionFile struct {
	Text         string `json:"text"`
	VideoPercent int    `json:"video_percent"`
}

type lessonFile struct {
	Key          string         `json:"key"`
	Kind         LessonKind     `json:"kind"`
	Title        string         `json:"title"`
	Body         string         `json:"body,omitempty"`
	Optional     bool           `json:"optional,omitempty"`
	Remedial     bool           `json:"remedial,omitempty"`
	VideoURL     string         `json:"video_url,omitempty"`
	VideoSeconds int            `json:"video_seconds,omitempty"`
	Questions    []questionFile `json:"questions,omitempty"`
}

type questionFile struct {
	Prompt      string   `json:"prompt"`
	Choices     []string `json:"choices"`
	Correct     string   `json:"correct"`
	Explanation string   `json:"explanation,omitempty"`
}

type rulesFile struct {
	MasteryMark int            `json:"mastery_mark"`
	Remedial    []RemedialRule `json:"remedial,omitempty"`
	ReviewDays  []int          `json:"review_days,omitempty"`
	Retake      string         `json:"retake"`
	MaxRetakes  int            `json:"max_retakes"`
}

// courseFileDays are the day names a course file is written with, by weekday.
var courseFileDays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// MarshalCourseFile writes spec as a course file, indented, every setting
// spelled out. ParseCourseFile reads it back to the same spec (completion
// settings left at zero come back as their defaults): exporting a course and
// importing the file gives the course again.
func MarshalCourseFile(spec CourseSpec) ([]byte, error) {
	f, err := courseFileOf(spec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("write course file %q: %w", spec.Slug, err)
	}
	return b.Bytes(), nil
}

// courseFileOf returns spec in the shape of a course file; an error for a
// weekday out of range, which no checked spec has.
func courseFileOf(spec CourseSpec) (courseFile, error) {
	text, video := spec.completionOrDefault()
	f := courseFile{
		Slug: spec.Slug, Title: spec.Title, Description: spec.Description,
		PassMark: spec.PassMark, DueDays: spec.DueDays,
		Cadence:    cadenceFile{EveryDays: spec.Cadence.EveryDays, Times: clockStrings(spec.Cadence.Times)},
		SendWindow: sendWindowFile{Start: spec.SendWindow.Start.String(), End: spec.SendWindow.End.String()},
		Completion: completionFile{Text: text, VideoPercent: video},
		Rules: rulesFile{MasteryMark: spec.Rules.MasteryMark, Remedial: spec.Rules.Remedial,
			ReviewDays: spec.Rules.ReviewDays, Retake: "all", MaxRetakes: spec.Rules.MaxRetakes},
	}
	if spec.Rules.RetakeMissedOnly {
		f.Rules.Retake = "missed"
	}
	var err error
	for _, d := range spec.Cadence.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			err = fmt.Errorf("course %q: weekday %d out of range", spec.Slug, d)
			continue
		}
		f.Cadence.Days = append(f.Cadence.Days, courseFileDays[d])
	}
	for _, l := range spec.Lessons {
		lf := lessonFile{Key: l.Key, Kind: l.Kind, Title: l.Title, Body: l.Body, Optional: l.Optional,
			Remedial: l.Remedial, VideoURL: l.VideoURL, VideoSeconds: l.VideoSeconds}
		for _, q := range l.Questions {
			lf.Questions = append(lf.Questions, questionFile{Prompt: q.Prompt, Choices: q.Choices,
				Correct: ChoiceLetter(q.Correct), Explanation: q.Explanation})
		}
		f.Lessons = append(f.Lessons, lf)
	}
	return f, err
}

func clockStrings(times []ClockTime) []string {
	out := make([]string, len(times))
	for i, t := range times {
		out[i] = t.String()
	}
	return out
}

// CourseFileName is the name an exported course file is saved under.
func CourseFileName(slug string, version int) string {
	return fmt.Sprintf("%s-v%d.json", strings.TrimSpace(slug), version)
}
