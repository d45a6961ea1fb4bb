package pages

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/tracking/reports"
)

// BreakdownPage is /reports/breakdown: the scope's figures by team, course
// or cohort, this period against the previous one.
type BreakdownPage struct {
	Dash
	Breakdown reports.Breakdown
	// Compare is the measure the page compares this period against the
	// previous one by (the CSV compares them all).
	Compare reports.Measure
}

// percentText is a share for a cell: "—" where there is nothing to share.
func percentText(n int, ok bool) string {
	if !ok {
		return "—"
	}
	return strconv.Itoa(n) + "%"
}

// changeText is a change in points: "+12", "−3", "0", or "" when there is
// none (ok false).
func changeText(d int, ok bool) string {
	switch {
	case !ok:
		return ""
	case d > 0:
		return "+" + strconv.Itoa(d)
	case d < 0:
		return "−" + strconv.Itoa(-d)
	default:
		return "0"
	}
}

// measureLabel is the column heading of a breakdown's measure.
func measureLabel(m reports.Measure) string {
	switch m {
	case reports.MeasureCompleted:
		return "Completed"
	case reports.MeasureOverdue:
		return "Overdue"
	case reports.MeasureQuiz:
		return "Quiz average"
	case reports.MeasureVideo:
		return "Video watched"
	}
	return string(m)
}

// breakdownURL is the page by the dimension and period comparing the
// measure, narrowed to the tags.
func breakdownURL(by reports.Dimension, period reports.Period, compare reports.Measure, tags []string) string {
	return withTags("/reports/breakdown?"+url.Values{"by": {string(by)}, "period": {string(period)}, "compare": {string(compare)}}.Encode(), tags)
}

// csvURL is the page's CSV: every measure compared.
func (p BreakdownPage) csvURL() string {
	return withTags("/reports/breakdown.csv?"+url.Values{"by": {string(p.Breakdown.By)}, "period": {string(p.Breakdown.Period)}}.Encode(), p.Tagged)
}

// periodHeads are the headings of the comparison's columns.
func (p BreakdownPage) periodHeads() (this, before string) {
	if p.Breakdown.By == reports.DimCohort {
		return "This cohort", "The cohort before"
	}
	return "This " + string(p.Breakdown.Period), "The " + string(p.Breakdown.Period) + " before"
}

// zone is the name of the time zone the periods start in: the
// organisation's.
func (p BreakdownPage) zone() string {
	if p.Breakdown.Location == nil {
		return "UTC"
	}
	return p.Breakdown.Location.String()
}

// rowURL is the rep table filtered to the row's team, manager (or the teams
// without one), course, cohort or tag (or the reps without one).
func (p BreakdownPage) rowURL(r reports.BreakdownRow) string {
	switch p.Breakdown.By {
	case reports.DimTeam:
		return withTags("/dashboard/reps?team="+strconv.FormatInt(r.ID, 10), p.Tagged)
	case reports.DimCourse:
		return withTags("/dashboard/reps?course="+strconv.FormatInt(r.ID, 10), p.Tagged)
	case reports.DimManager:
		if r.ID == 0 {
			return withTags("/dashboard/reps?manager=none", p.Tagged)
		}
		return withTags("/dashboard/reps?manager="+strconv.FormatInt(r.ID, 10), p.Tagged)
	case reports.DimCohort:
		return withTags("/dashboard/reps?"+url.Values{"cohort": {r.Start.Format(time.DateOnly)}, "period": {string(p.Breakdown.Period)}}.Encode(), p.Tagged)
	case reports.DimTag:
		if tag, ok := strings.CutPrefix(r.Label, "#"); ok {
			return withTags("/dashboard/reps", append(slices.Clone(p.Tagged), tag))
		}
		if r.Label == reports.NoTag {
			return withTags("/dashboard/reps?untagged=true", p.Tagged)
		}
	}
	return ""
}
