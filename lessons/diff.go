package lessons

import (
	"encoding/json"
	"slices"
)

// CourseDiff is what a draft changes against the published version, as a
// trainer reviews it before publishing. Values are written as in a course
// file, so the review reads like the file.
type CourseDiff struct {
	Settings []SettingChange
	Added    []Lesson // in the draft's order
	Removed  []Lesson // in the published order
	Changed  []LessonChange
	// Reordered says the lessons both versions have come in another order.
	Reordered bool
}

// SettingChange is one course setting changed: its course file field.
type SettingChange struct {
	Field    string // e.g. "pass_mark", "cadence"
	Old, New string // compact JSON
}

// LessonChange is a lesson both versions have, changed.
type LessonChange struct {
	Key, Title string // as in the draft
	Fields     []string
}

// Empty reports whether the versions are the same.
func (d CourseDiff) Empty() bool {
	return len(d.Settings) == 0 && len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && !d.Reordered
}

// DiffCourses compares a draft with the version it will replace.
func DiffCourses(published, draft CourseSpec) CourseDiff {
	var d CourseDiff
	old, cur := specFile(published), specFile(draft)
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"title", old.Title, cur.Title}, {"description", old.Description, cur.Description},
		{"pass_mark", old.PassMark, cur.PassMark}, {"due_days", old.DueDays, cur.DueDays},
		{"cadence", old.Cadence, cur.Cadence}, {"send_window", old.SendWindow, cur.SendWindow},
		{"completion", old.Completion, cur.Completion}, {"rules", old.Rules, cur.Rules},
	} {
		if o, n := compactJSON(f.old), compactJSON(f.new); o != n {
			d.Settings = append(d.Settings, SettingChange{Field: f.name, Old: o, New: n})
		}
	}

	oldLessons := make(map[string]int, len(old.Lessons))
	for i, l := range old.Lessons {
		oldLessons[l.Key] = i
	}
	newKeys := make(map[string]bool, len(cur.Lessons))
	var oldOrder, newOrder []string
	for i, l := range cur.Lessons {
		newKeys[l.Key] = true
		j, ok := oldLessons[l.Key]
		if !ok {
			d.Added = append(d.Added, draft.Lessons[i])
			continue
		}
		newOrder = append(newOrder, l.Key)
		if fields := lessonFields(old.Lessons[j], l); len(fields) > 0 {
			d.Changed = append(d.Changed, LessonChange{Key: l.Key, Title: l.Title, Fields: fields})
		}
	}
	for i, l := range old.Lessons {
		if !newKeys[l.Key] {
			d.Removed = append(d.Removed, published.Lessons[i])
			continue
		}
		oldOrder = append(oldOrder, l.Key)
	}
	d.Reordered = !slices.Equal(oldOrder, newOrder)
	return d
}

// lessonFields names the course file fields of a lesson that differ.
func lessonFields(a, b lessonFile) []string {
	var out []string
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"kind", a.Kind, b.Kind}, {"title", a.Title, b.Title}, {"body", a.Body, b.Body},
		{"optional", a.Optional, b.Optional}, {"remedial", a.Remedial, b.Remedial},
		{"video_url", a.VideoURL, b.VideoURL}, {"video_seconds", a.VideoSeconds, b.VideoSeconds},
		{"questions", a.Questions, b.Questions},
	} {
		if compactJSON(f.old) != compactJSON(f.new) {
			out = append(out, f.name)
		}
	}
	return out
}

// specFile is spec in the shape of a course file.
func specFile(spec CourseSpec) courseFile {
	f, _ := courseFileOf(spec) // a weekday out of range, which no checked spec has, is left out
	return f
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
