package reports

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/morselhq/morsel/tracking"
)

// Dimension is what a breakdown groups enrollments by.
type Dimension string

// The dimensions.
const (
	DimTeam    Dimension = "team"
	DimCourse  Dimension = "course"
	DimManager Dimension = "manager" // each manager of the rep's team; NoManager for a team without
	DimCohort  Dimension = "cohort"  // the period the enrollment started in
	DimTag     Dimension = "tag"     // each #tag of the notes on the rep; NoTag for a rep without
)

// Dimensions lists the dimensions, as the page offers them: a fresh slice
// each call, so no caller can change another's.
func Dimensions() []Dimension {
	return []Dimension{DimTeam, DimManager, DimCourse, DimCohort, DimTag}
}

// NoManager labels the row of the teams that no manager manages, NoTag
// that of the reps without a tag.
const (
	NoManager = "No manager"
	NoTag     = "No tag"
)

// Period is the length of a breakdown's periods: a calendar week (from
// Monday) or month, in the organisation's time zone.
type Period string

// The periods.
const (
	Week  Period = "week"
	Month Period = "month"
)

// start returns the start of the period t is in, in loc.
func (p Period) start(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	if p == Month {
		return day.AddDate(0, 0, 1-day.Day())
	}
	return day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
}

// Range is the period that starts on the day (a date in loc, which it
// need not be the first of): [from, before).
func (p Period) Range(day time.Time, loc *time.Location) (from, before time.Time) {
	from = p.start(time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, loc), loc)
	if p == Month {
		return from, from.AddDate(0, 1, 0)
	}
	return from, from.AddDate(0, 0, 7)
}

// before returns the start of the period before the one starting at start.
func (p Period) before(start time.Time) time.Time {
	if p == Month {
		return start.AddDate(0, -1, 0)
	}
	return start.AddDate(0, 0, -7)
}

// Figures are a group of enrollments' counts, over the enrollments not
// cancelled of reps not removed.
type Figures struct {
	Enrolled, Completed, Overdue int
	Answers, Correct             int // quiz answers graded, and right
	Segments, Watched            int // video segments on the paths, and watched
}

// percent is part of whole in whole percent; ok is false when whole is 0.
func percent(part, whole int) (int, bool) {
	if whole == 0 {
		return 0, false
	}
	return part * 100 / whole, true
}

// CompletedPercent, OverduePercent, QuizPercent and VideoPercent are the
// shares the page shows; ok is false where there is nothing to share.
func (f Figures) CompletedPercent() (int, bool) { return percent(f.Completed, f.Enrolled) }
func (f Figures) OverduePercent() (int, bool)   { return percent(f.Overdue, f.Enrolled) }
func (f Figures) QuizPercent() (int, bool)      { return percent(f.Correct, f.Answers) }
func (f Figures) VideoPercent() (int, bool)     { return percent(f.Watched, f.Segments) }

// Measure is one of the shares a breakdown shows and compares between
// periods.
type Measure string

// The measures.
const (
	MeasureCompleted Measure = "completed" // enrollments finished, of those enrolled
	MeasureOverdue   Measure = "overdue"   // enrollments overdue now, of those enrolled
	MeasureQuiz      Measure = "quiz"      // quiz answers right, of those graded
	MeasureVideo     Measure = "video"     // video segments watched, of those on the paths
)

// Measures lists the measures in the page's order: a fresh slice each call.
func Measures() []Measure {
	return []Measure{MeasureCompleted, MeasureOverdue, MeasureQuiz, MeasureVideo}
}

// Percent is the measure's share of f in whole percent; ok is false where
// there is nothing to share (or m is no measure).
func (f Figures) Percent(m Measure) (int, bool) {
	switch m {
	case MeasureCompleted:
		return f.CompletedPercent()
	case MeasureOverdue:
		return f.OverduePercent()
	case MeasureQuiz:
		return f.QuizPercent()
	case MeasureVideo:
		return f.VideoPercent()
	}
	return 0, false
}

func (f *Figures) add(p tracking.EnrollmentProgress, now time.Time) {
	f.Enrolled++
	if p.Finished() {
		f.Completed++
	}
	if isOverdue(p, now) {
		f.Overdue++
	}
	f.Answers += p.Answers
	f.Correct += p.Correct
	f.Segments += p.Segments
	f.Watched += min(p.Watched, p.Segments)
}

// BreakdownRow is one group: a team, a course or a cohort.
type BreakdownRow struct {
	ID    int64     // the team's, the manager's or the course's; 0 for a cohort, a tag, NoManager
	Label string    // its name, or the cohort's first day
	Start time.Time // a cohort's first day
	All   Figures   // every enrollment of the group
	// This and Previous are the group's enrollments that started in this
	// period and in the one before (for a cohort: the cohort itself, and
	// the cohort before it). Every measure of a period is of its
	// enrollments alone, as they stand now: completion, overdue, and their
	// quiz answers and video segments whenever given or watched.
	This, Previous Figures
}

// Change is the measure's change from the previous period to this one, in
// percentage points (this minus previous); ok is false where either period
// has nothing to share.
func (r BreakdownRow) Change(m Measure) (int, bool) {
	this, okThis := r.This.Percent(m)
	prev, okPrev := r.Previous.Percent(m)
	if !okThis || !okPrev {
		return 0, false
	}
	return this - prev, true
}

// Breakdown is the figures of the scope's enrollments by a dimension.
type Breakdown struct {
	By                   Dimension
	Period               Period
	ThisStart, PrevStart time.Time      // the current period's first day, and the previous one's
	Location             *time.Location // the time zone the periods start in: the query's, or UTC
	Rows                 []BreakdownRow
	Total                BreakdownRow
}

// BreakdownQuery is what a breakdown groups by, over which periods.
type BreakdownQuery struct {
	By     Dimension
	Period Period
	// Location is the organisation's time zone, where periods start; nil: UTC.
	Location *time.Location
	// Managers are the managers of each team, for DimManager.
	Managers map[int64][]Manager
}

// Manager is a user who manages a team.
type Manager struct {
	ID   int64
	Name string
}

// Breakdown counts the scope's enrollments by team, manager (an enrollment
// counts for each manager of its rep's team, once in the total), course,
// cohort (the period they started in) or tag (an enrollment counts for each
// tag of its rep, once in the total), from the same rows as the rep table
// and the overview: every group's figures, and those of its enrollments that
// started in this period against the previous one. A period's figures are
// all of the same enrollments, those whose EnrolledAt falls in it (in
// q.Location): how many of them are completed and overdue now, and their
// quiz answers and video segments whatever day those came, so each measure
// compares the same two cohorts as completion does. Rows come in name order,
// cohorts newest first.
func (r *Reports) Breakdown(ctx context.Context, s Scope, q BreakdownQuery) (Breakdown, error) {
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return Breakdown{}, err
	}
	by, period, managers, loc := q.By, q.Period, q.Managers, q.Location
	if loc == nil {
		loc = time.UTC
	}
	now := r.now()
	b := Breakdown{By: by, Period: period, ThisStart: period.start(now, loc), Location: loc}
	b.PrevStart = period.before(b.ThisStart)
	type groupKey struct {
		id    int64 // a team's, a course's, a cohort's start (Unix)
		label string
	}
	groups := map[groupKey]*BreakdownRow{}
	group := func(k groupKey, label string) *BreakdownRow {
		g := groups[k]
		if g == nil {
			g = &BreakdownRow{ID: k.id, Label: label}
			if by == DimCohort {
				g.ID, g.Start = 0, time.Unix(k.id, 0).In(loc)
			}
			groups[k] = g
		}
		g.Label = max(g.Label, label)
		return g
	}
	sn.rows(s, 0, func(p *progressRow) {
		if p.RepStatus == "removed" || p.Status == "cancelled" {
			return
		}
		var rows []*BreakdownRow
		switch by {
		case DimTeam:
			rows = append(rows, group(groupKey{id: p.TeamID}, p.Team))
		case DimCourse:
			rows = append(rows, group(groupKey{id: p.CourseID}, p.CourseTitle))
		case DimManager:
			ms := managers[p.TeamID]
			if len(ms) == 0 {
				ms = []Manager{{Name: NoManager}}
			}
			for _, m := range ms {
				rows = append(rows, group(groupKey{id: m.ID, label: m.Name}, m.Name))
			}
		case DimTag:
			for _, t := range p.Tags {
				rows = append(rows, group(groupKey{label: "#" + t}, "#"+t))
			}
			if len(p.Tags) == 0 {
				rows = append(rows, group(groupKey{label: NoTag}, NoTag))
			}
		default:
			start := period.start(p.EnrolledAt, loc)
			rows = append(rows, group(groupKey{id: start.Unix()}, start.Format("2 Jan 2006")))
		}
		for _, row := range append(rows, &b.Total) {
			row.All.add(p.EnrollmentProgress, now)
			switch started := p.EnrolledAt; {
			case !started.Before(b.ThisStart):
				row.This.add(p.EnrollmentProgress, now)
			case !started.Before(b.PrevStart):
				row.Previous.add(p.EnrollmentProgress, now)
			}
		}
	})
	for _, g := range groups {
		b.Rows = append(b.Rows, *g)
	}
	if by == DimCohort {
		slices.SortFunc(b.Rows, func(a, c BreakdownRow) int { return c.Start.Compare(a.Start) })
		for i := range b.Rows {
			b.Rows[i].This = b.Rows[i].All
			b.Rows[i].Previous = Figures{}
			if i+1 < len(b.Rows) && b.Rows[i+1].Start.Equal(period.before(b.Rows[i].Start)) {
				b.Rows[i].Previous = b.Rows[i+1].All
			}
		}
	} else {
		slices.SortFunc(b.Rows, func(a, c BreakdownRow) int { return cmp.Or(cmp.Compare(a.Label, c.Label), cmp.Compare(a.ID, c.ID)) })
	}
	b.Total.Label = "All"
	return b, nil
}
