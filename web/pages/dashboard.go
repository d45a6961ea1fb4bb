package pages

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking/reports"
)

// Dash is what every dashboard page has: the user, the search box and the
// script that makes the pages update in place.
type Dash struct {
	Account Account
	Title   string
	Nav     string // the section open: "overview", "reps", "videos", "search" or "rep"
	Search  string // the text in the search box
	Script  string // the URL of htmx
	Teams   []Option
	Team    int64 // the team selected; 0: all in scope
	// Simulator links the phone simulator (no Twilio account: messages stay in the app).
	Simulator bool
	// Now is the server's clock, for "3 days ago".
	Now time.Time
	// Mentions counts the notes mentioning the user that they have not seen.
	Mentions int
	// Tagged narrows the page's figures to the reps with every one of these
	// tags; TagScope, when set, offers to choose one.
	Tagged   []string
	TagScope *TagScope
}

// TagScope is a report page's form to narrow it to the reps with a tag.
type TagScope struct {
	Action  string     // the page's path
	Keep    url.Values // its other parameters
	Options []string   // the organisation's most used tags
}

// chosen says whether the tag is the one the page is narrowed to.
func (d Dash) chosen(tag string) bool { return len(d.Tagged) == 1 && d.Tagged[0] == tag }

// keepFields are TagScope.Keep as name, value pairs for hidden inputs.
func (t TagScope) keepFields() [][2]string {
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(t.Keep)) {
		if k == "tag" {
			continue
		}
		for _, v := range t.Keep[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// withTags adds the page's tags to a link of a report, so that it keeps the
// narrowing.
func withTags(link string, tags []string) string {
	if len(tags) == 0 {
		return link
	}
	q := url.Values{}
	for _, t := range tags {
		q.Add("tag", t)
	}
	sep := "?"
	if strings.Contains(link, "?") {
		sep = "&"
	}
	return link + sep + q.Encode()
}

// Option is one choice of a select.
type Option struct {
	ID   int64
	Name string
}

// OverviewPage is /dashboard.
type OverviewPage struct {
	Dash
	Overview reports.Overview
}

// RepsState is the rep table's state, all in the URL.
type RepsState struct {
	Team, Course int64
	Status       string   // a reports.Status slug; "": every status
	Due          int      // days; 0: any
	Tags         []string // the reps' #tags, all of them; none: any
	// Manager narrows the table to the teams of a manager, Cohort (a date)
	// and Period (week or month) to the enrollments that started in that
	// period: the links of the breakdowns. The labels say so on the page.
	// NoManager narrows it to the teams without a manager, Untagged to the
	// reps without a tag: the links of the breakdowns' "No manager" and
	// "No tag" rows.
	Manager       int64
	NoManager     bool
	Untagged      bool
	Cohort        string
	Period        string
	ManagerName   string
	CohortLabel   string
	Sort          string // a reports.Column; "": name
	Desc          bool
	After, Before string // cursors
}

// URL is the rep table's address in this state.
func (s RepsState) URL() string {
	v := url.Values{}
	if s.Team != 0 {
		v.Set("team", strconv.FormatInt(s.Team, 10))
	}
	if s.Course != 0 {
		v.Set("course", strconv.FormatInt(s.Course, 10))
	}
	if s.Status != "" {
		v.Set("status", s.Status)
	}
	if s.Due != 0 {
		v.Set("due", strconv.Itoa(s.Due))
	}
	for _, t := range s.Tags {
		v.Add("tag", t)
	}
	if s.Untagged {
		v.Set("untagged", "true")
	}
	if s.Manager != 0 {
		v.Set("manager", strconv.FormatInt(s.Manager, 10))
	}
	if s.NoManager {
		v.Set("manager", "none")
	}
	if s.Cohort != "" {
		v.Set("cohort", s.Cohort)
		v.Set("period", s.Period)
	}
	if s.Sort != "" && s.Sort != string(reports.ByName) {
		v.Set("sort", s.Sort)
	}
	if s.Desc {
		v.Set("dir", "desc")
	}
	if s.After != "" {
		v.Set("after", s.After)
	}
	if s.Before != "" {
		v.Set("before", s.Before)
	}
	if len(v) == 0 {
		return "/dashboard/reps"
	}
	return "/dashboard/reps?" + v.Encode()
}

// CSVURL is the rep table as CSV: every row its filters keep, in its order.
func (s RepsState) CSVURL() string {
	f := s.filters()
	f.Sort, f.Desc = s.Sort, s.Desc
	return strings.Replace(f.URL(), "/dashboard/reps", "/dashboard/reps.csv", 1)
}

// filters is the state's filters alone: no sort, no page.
func (s RepsState) filters() RepsState {
	return RepsState{Team: s.Team, Course: s.Course, Status: s.Status, Due: s.Due, Tags: s.Tags, Untagged: s.Untagged,
		Manager: s.Manager, NoManager: s.NoManager, Cohort: s.Cohort, Period: s.Period}
}

// narrowing is what a breakdown's link narrowed the table to, as the
// notice says it: each part's Text, then its Name in bold if any.
func (s RepsState) narrowing() []narrowingPart {
	var parts []narrowingPart
	if s.ManagerName != "" {
		parts = append(parts, narrowingPart{"the teams of ", s.ManagerName})
	}
	if s.NoManager {
		parts = append(parts, narrowingPart{Text: "the teams without a manager"})
	}
	if s.Untagged {
		parts = append(parts, narrowingPart{Text: "the reps without a tag"})
	}
	if s.CohortLabel != "" {
		parts = append(parts, narrowingPart{Text: "the reps " + s.CohortLabel})
	}
	return parts
}

// narrowingPart is one part of the rep table's narrowing notice.
type narrowingPart struct{ Text, Name string }

// withoutNarrowing is the table without the manager, cohort or lack of a
// manager or tag that the breakdown's link narrowed it to.
func (s RepsState) withoutNarrowing() string {
	f := s.filters()
	f.Manager, f.NoManager, f.Untagged, f.Cohort, f.Period = 0, false, false, "", ""
	f.Sort, f.Desc = s.Sort, s.Desc
	return f.URL()
}

// EnrollURL is the enrollment form for the reps this state's filters keep.
func (s RepsState) EnrollURL() string {
	_, query, _ := strings.Cut(s.filters().URL(), "?")
	return "/enroll?" + url.Values{"from": {query}}.Encode()
}

// sorted is the state sorted by c, from the first page: ascending, or
// descending when it already sorts ascending by c.
func (s RepsState) sorted(c reports.Column) string {
	cur := s.Sort
	if cur == "" {
		cur = string(reports.ByName)
	}
	s.Desc = cur == string(c) && !s.Desc
	s.Sort, s.After, s.Before = string(c), "", ""
	return s.URL()
}

func (s RepsState) sortMark(c reports.Column) string {
	cur := s.Sort
	if cur == "" {
		cur = string(reports.ByName)
	}
	switch {
	case cur != string(c):
		return ""
	case s.Desc:
		return " ▼"
	}
	return " ▲"
}

func (s RepsState) ariaSort(c reports.Column) string {
	cur := s.Sort
	if cur == "" {
		cur = string(reports.ByName)
	}
	switch {
	case cur != string(c):
		return "none"
	case s.Desc:
		return "descending"
	}
	return "ascending"
}

func (s RepsState) page(after, before *reports.Cursor) string {
	s.After, s.Before = "", ""
	if after != nil {
		s.After = after.String()
	}
	if before != nil {
		s.Before = before.String()
	}
	return s.URL()
}

// RepsPage is /dashboard/reps.
type RepsPage struct {
	Dash
	State   RepsState
	Courses []Option
	Tags    []lessons.TagCount // the organisation's most used tags, to filter by
	Page    reports.TablePage
}

// tagChoices are the tags the filters offer: the organisation's most used,
// then any the state filters by that are not among them.
func (p RepsPage) tagChoices() []string {
	var out []string
	for _, t := range p.Tags {
		out = append(out, t.Tag)
	}
	for _, t := range p.State.Tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// SearchPage is /dashboard/search: the full page, or its results alone.
type SearchPage struct {
	Dash
	Matches  []reports.Match
	Contacts bool
}

// RepPage is /dashboard/reps/{id}.
type RepPage struct {
	Dash
	Story   reports.Story // its Entries: the page of the timeline shown
	Lessons map[int64]LessonInfo
	Back    string // the page to go back to
	Notice  string
	// Newer and Older link the timeline's neighbouring pages ("": none);
	// Shown says which entries of how many this page holds.
	Newer, Older string
	Shown        string
	// Manage lists the rep's enrollments as Postgres has them, with buttons
	// to pause, resume and cancel them, for users who may (nil: none).
	Manage []ManagedEnrollment
	Notes  Notes
}

// TimelinePage is how many entries of the timeline a rep page shows.
const TimelinePage = 100

// ManagedEnrollment is one enrollment on the rep page's controls.
type ManagedEnrollment struct {
	ID     int64
	Course string
	Status lessons.EnrollmentStatus
	DueOn  time.Time
}

// LessonInfo names a lesson on the rep page.
type LessonInfo struct {
	Title    string
	Segments int
}

var columnLabels = map[reports.Column]string{
	reports.ByName: "Name", reports.ByTeam: "Team", reports.ByCourse: "Course", reports.ByProgress: "Progress",
	reports.ByQuiz: "Quiz", reports.ByVideo: "Video", reports.ByActivity: "Last activity", reports.ByDue: "Due",
	reports.ByStatus: "Status",
}

func repURL(id int64) string { return "/dashboard/reps/" + strconv.FormatInt(id, 10) }

func quiz(r reports.Row) string {
	if p, ok := r.QuizPercent(); ok {
		return fmt.Sprintf("%d%% (%d/%d)", p, r.Correct, r.Answers)
	}
	return "–"
}

func video(r reports.Row) string {
	if p, ok := r.VideoPercent(); ok {
		return strconv.Itoa(p) + "%"
	}
	return "–"
}

func progress(r reports.Row) string { return fmt.Sprintf("%d/%d", r.Done, r.Lessons) }

func progressPercent(r reports.Row) int {
	if r.Lessons == 0 {
		return 0
	}
	return min(100, r.Done*100/r.Lessons)
}

func due(r reports.Row) string {
	if d, ok := r.DueOn(); ok {
		return d.Format("2 Jan 2006")
	}
	return "–"
}

// ago says how long before now t was, for people: "3 h ago".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// chart is the geometry of a course's completion chart.
type chart struct {
	Points string // the polyline's points
	LastX  int
	LastY  int
	Label  string // the last day's figure
	Desc   string // the chart in words
	First  string // the first day
	Last   string
}

const chartW, chartH, chartPad = 320, 100, 4

func completionChart(c reports.CourseFigures) chart {
	var ch chart
	var pts []string
	n := len(c.Completions)
	for i, d := range c.Completions {
		x := chartPad
		if n > 1 {
			x = chartPad + i*(chartW-2*chartPad)/(n-1)
		}
		y := chartH - chartPad - c.Percent(d.Count)*(chartH-2*chartPad)/100
		pts = append(pts, fmt.Sprintf("%d,%d", x, y))
		ch.LastX, ch.LastY = x, y
	}
	ch.Points = strings.Join(pts, " ")
	if n > 0 {
		first, last := c.Completions[0], c.Completions[n-1]
		ch.First, ch.Last = first.Day.Format("2 Jan"), last.Day.Format("2 Jan")
		ch.Label = fmt.Sprintf("%d%% done", c.Percent(last.Count))
		ch.Desc = fmt.Sprintf("Completed, as a share of the %d enrolled: %d%% on %s, %d%% on %s.",
			c.Enrolled, c.Percent(first.Count), ch.First, c.Percent(last.Count), ch.Last)
	}
	return ch
}

// statusClass is a status's CSS class; the status is always written out
// too, so colour is never the only sign.
func statusClass(s reports.Status) string { return "status status-" + s.String() }

func teamName(teams []Option, id int64) string {
	for _, t := range teams {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}

// segmentStrip is one video's segments for the strip: true where watched.
func segmentStrip(v reports.Video, total int) []bool {
	total = max(total, 0)
	for _, i := range v.Watched {
		total = max(total, i+1)
	}
	out := make([]bool, total)
	for _, i := range v.Watched {
		if i >= 0 {
			out[i] = true
		}
	}
	return out
}

func watchedCount(strip []bool) int {
	n := 0
	for _, w := range strip {
		if w {
			n++
		}
	}
	return n
}
