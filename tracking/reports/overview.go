package reports

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"time"

	"github.com/morselhq/morsel/tracking"
)

// ChartDays is how many days the completion chart covers, ending today.
const ChartDays = 28

// CourseFigures are one course's figures over the reps in scope.
type CourseFigures struct {
	CourseID      int64
	Title         string
	Enrolled      int // reps enrolled (the enrollment not cancelled, the rep not removed)
	Completed     int // of them, every step done
	InProgress    int // not done, something opened or done
	NotStarted    int // nothing opened or done yet
	Overdue       int // not done, and past the due date
	OptedOut      int
	Undeliverable int
	// Completions holds, for each of the ChartDays days ending today (UTC),
	// how many enrollments were complete by the end of that day.
	Completions []DayCount
}

// DayCount is a count at the end of one day.
type DayCount struct {
	Day   time.Time // midnight UTC
	Count int
}

// Percent is n as a whole percentage of the enrolled reps.
func (c CourseFigures) Percent(n int) int {
	if c.Enrolled == 0 {
		return 0
	}
	return (n*100 + c.Enrolled/2) / c.Enrolled
}

// Overview is the dashboard's first page.
type Overview struct {
	Courses []CourseFigures
	AtRisk  []Row // the reps most at risk: overdue first, then due soonest with least progress
	At      time.Time
}

// AtRiskRows is how many rows the at-risk list shows.
const AtRiskRows = 10

// Overview reads the figures of every course in the scope, narrowed to
// team unless it is 0 (which must be in the scope: HasTeam), counted over
// the scope's rows of enrollment_progress as the audit counts a recount's.
func (r *Reports) Overview(ctx context.Context, s Scope, team int64) (Overview, error) {
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return Overview{}, err
	}
	now := r.now().UTC()
	var progress []tracking.EnrollmentProgress
	var atRisk []Row
	sn.rows(s, team, func(p *progressRow) {
		progress = append(progress, p.EnrollmentProgress)
		if !p.Finished() && !p.DueAt.IsZero() && !p.OptedOut && !p.PhoneInvalid {
			atRisk = append(atRisk, rowOf(p, now))
		}
	})
	out := Overview{At: now, Courses: courseFigures(progress, now)}
	sort.Slice(out.Courses, func(i, j int) bool {
		a, b := out.Courses[i], out.Courses[j]
		return a.Title < b.Title || a.Title == b.Title && a.CourseID < b.CourseID
	})
	// The most at risk: the earliest due date first (so the overdue, the
	// most overdue first), then the least progress. The date as the page
	// shows it, not the instant: reps due the same day are in several zones.
	slices.SortFunc(atRisk, func(a, b Row) int {
		ad, _ := a.DueOn()
		bd, _ := b.DueOn()
		return cmp.Or(ad.Compare(bd), cmp.Compare(a.Done*b.Lessons, b.Done*a.Lessons),
			cmp.Compare(a.RepID, b.RepID), cmp.Compare(a.EnrollmentID, b.EnrollmentID))
	})
	out.AtRisk = atRisk[:min(len(atRisk), AtRiskRows)]
	return out, nil
}

// courseFigures counts the overview's figures of each course over rows: of
// enrollment_progress for the overview, of a recount for the audit.
func courseFigures(rows []tracking.EnrollmentProgress, now time.Time) []CourseFigures {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(ChartDays - 1))
	byCourse := map[int64]*CourseFigures{}
	var order []int64
	for _, p := range rows {
		if p.RepStatus == "removed" || p.Status == "cancelled" {
			continue
		}
		c := byCourse[p.CourseID]
		if c == nil {
			c = &CourseFigures{CourseID: p.CourseID, Completions: make([]DayCount, ChartDays)}
			for i := range c.Completions {
				c.Completions[i].Day = first.AddDate(0, 0, i)
			}
			byCourse[p.CourseID] = c
			order = append(order, p.CourseID)
		}
		c.Title = max(c.Title, p.CourseTitle)
		c.Enrolled++
		switch {
		case p.Finished():
			c.Completed++
			// Counted on its day, then summed up below: complete by the end
			// of that day and every later one.
			if day := int(p.CompletedAt.Sub(first).Hours()) / 24; p.CompletedAt.Before(first) {
				c.Completions[0].Count++
			} else if day < ChartDays {
				c.Completions[day].Count++
			}
		case p.Opened > 0 || p.Done > 0:
			c.InProgress++
		default:
			c.NotStarted++
		}
		if isOverdue(p, now) {
			c.Overdue++
		}
		if p.OptedOut {
			c.OptedOut++
		}
		if p.PhoneInvalid {
			c.Undeliverable++
		}
	}
	out := make([]CourseFigures, 0, len(order))
	for _, id := range order {
		c := byCourse[id]
		for i := 1; i < ChartDays; i++ {
			c.Completions[i].Count += c.Completions[i-1].Count
		}
		out = append(out, *c)
	}
	return out
}
