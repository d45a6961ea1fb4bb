package reports

import (
	"context"
	"fmt"
	"github.com/ClickHouse/clickhouse-go/v2"
	"sort"
	"time"
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
// team unless it is 0 (which must be in the scope: HasTeam).
func (r *Reports) Overview(ctx context.Context, s Scope, team int64) (Overview, error) {
	now := r.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(ChartDays - 1))
	rows, err := r.query(ctx, "read the overview", `
		SELECT course_id, max(course_title), count(), countIf(`+finishedSQL+`),
			countIf(NOT `+finishedSQL+` AND (lessons_opened > 0 OR lessons_done > 0)),
			countIf(NOT `+finishedSQL+` AND lessons_opened = 0 AND lessons_done = 0),
			countIf(`+overdueSQL+`), countIf(opted_out = 1), countIf(phone_invalid = 1),
			countIf(`+finishedSQL+` AND toDate(completed_at) < toDate(@first)),
			tupleElement(sumMapIf([toDate(completed_at)], [toUInt64(1)], `+finishedSQL+` AND toDate(completed_at) >= toDate(@first)) AS per_day, 1),
			tupleElement(per_day, 2)
		FROM enrollment_progress FINAL
		WHERE `+s.where(team)+` AND `+liveSQL+`
		GROUP BY course_id`, nowArg(now), clickhouse.Named("first", first.Format(time.DateOnly)))
	if err != nil {
		return Overview{}, err
	}
	defer rows.Close()
	out := Overview{At: now}
	for rows.Next() {
		var course, enrolled, completed, inProgress, notStarted, overdue, optedOut, invalid, before uint64
		var days []time.Time
		var counts []uint64
		var c CourseFigures
		if err := rows.Scan(&course, &c.Title, &enrolled, &completed, &inProgress, &notStarted, &overdue, &optedOut, &invalid,
			&before, &days, &counts); err != nil {
			return Overview{}, &Unavailable{fmt.Errorf("read the overview: %w", err)}
		}
		c.CourseID = int64(course)
		c.Enrolled, c.Completed, c.InProgress, c.NotStarted = int(enrolled), int(completed), int(inProgress), int(notStarted)
		c.Overdue, c.OptedOut, c.Undeliverable = int(overdue), int(optedOut), int(invalid)
		c.Completions = cumulative(first, int(before), days, counts)
		out.Courses = append(out.Courses, c)
	}
	if err := rows.Err(); err != nil {
		return Overview{}, &Unavailable{fmt.Errorf("read the overview: %w", err)}
	}
	sort.Slice(out.Courses, func(i, j int) bool {
		a, b := out.Courses[i], out.Courses[j]
		return a.Title < b.Title || a.Title == b.Title && a.CourseID < b.CourseID
	})
	if out.AtRisk, err = r.atRisk(ctx, s, team, now); err != nil {
		return Overview{}, err
	}
	return out, nil
}

// cumulative turns the completions per day into the count complete at the
// end of each of the ChartDays days from first.
func cumulative(first time.Time, before int, days []time.Time, counts []uint64) []DayCount {
	per := map[string]int{}
	for i, d := range days {
		per[d.Format(time.DateOnly)] += int(counts[i])
	}
	out := make([]DayCount, ChartDays)
	n := before
	for i := range out {
		day := first.AddDate(0, 0, i)
		n += per[day.Format(time.DateOnly)]
		out[i] = DayCount{Day: day, Count: n}
	}
	return out
}

// atRisk reads the reps most at risk: not done and with a due date, the
// earliest due first (so the overdue, most overdue first), then the least
// progress.
func (r *Reports) atRisk(ctx context.Context, s Scope, team int64, now time.Time) ([]Row, error) {
	rows, err := r.query(ctx, "read the reps at risk", `
		SELECT `+rowColumns+`
		FROM enrollment_progress FINAL
		WHERE `+s.where(team)+` AND `+liveSQL+` AND NOT `+finishedSQL+` AND toUInt32(due_at) > 0
			AND opted_out = 0 AND phone_invalid = 0
		ORDER BY due_at, if(lessons_total = 0, 0, lessons_done / lessons_total), rep_id, enrollment_id
		LIMIT `+fmt.Sprint(AtRiskRows), nowArg(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		row, err := scanRow(rows)
		if err != nil {
			return nil, &Unavailable{fmt.Errorf("read the reps at risk: %w", err)}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, &Unavailable{fmt.Errorf("read the reps at risk: %w", err)}
	}
	return out, nil
}
