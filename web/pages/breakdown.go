package pages

import (
	"net/url"
	"strconv"

	"github.com/morselhq/morsel/tracking/reports"
)

// BreakdownPage is /reports/breakdown: the scope's figures by team, course
// or cohort, this period against the previous one.
type BreakdownPage struct {
	Dash
	Breakdown reports.Breakdown
}

// percentText is a share for a cell: "—" where there is nothing to share.
func percentText(n int, ok bool) string {
	if !ok {
		return "—"
	}
	return strconv.Itoa(n) + "%"
}

// changeText is the change from the previous period's share to this one's,
// in points: "+12", "−3", "0", or "" when either has nothing to share.
func changeText(this, prev int, okThis, okPrev bool) string {
	if !okThis || !okPrev {
		return ""
	}
	switch d := this - prev; {
	case d > 0:
		return "+" + strconv.Itoa(d)
	case d < 0:
		return "−" + strconv.Itoa(-d)
	default:
		return "0"
	}
}

// breakdownURL is the page by the dimension and period.
func breakdownURL(by reports.Dimension, period reports.Period) string {
	return "/reports/breakdown?" + url.Values{"by": {string(by)}, "period": {string(period)}}.Encode()
}

// rowURL is the rep table filtered to the row's team or course; "" for a
// cohort, which the table does not filter by.
func (p BreakdownPage) rowURL(r reports.BreakdownRow) string {
	switch p.Breakdown.By {
	case reports.DimTeam:
		return "/dashboard/reps?team=" + strconv.FormatInt(r.ID, 10)
	case reports.DimCourse:
		return "/dashboard/reps?course=" + strconv.FormatInt(r.ID, 10)
	}
	return ""
}
