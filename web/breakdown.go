package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// breakdown answers GET /reports/breakdown?by=team|manager|course|cohort|tag&period=week|month
// &compare=completed|overdue|quiz|video (by team and month, comparing
// completion, when left out).
func (s *Server) breakdown(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	compare := reports.Measure(r.URL.Query().Get("compare"))
	if compare == "" {
		compare = reports.MeasureCompleted
	}
	if !slices.Contains(reports.Measures(), compare) {
		return badParam{"compare", string(compare), "completed, overdue, quiz or video"}
	}
	b, err := s.breakdownOf(ctx, r, v, rep)
	if err != nil {
		return err
	}
	d := s.dash(v, "Breakdowns", "breakdown")
	if err := s.tagScope(ctx, &d, v.user.OrgID, r); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, pages.Breakdown(pages.BreakdownPage{Dash: d, Breakdown: b, Compare: compare}))
	return nil
}

// breakdownOf reads the breakdown the request's parameters ask for.
func (s *Server) breakdownOf(ctx context.Context, r *http.Request, v viewer, rep *reports.Reports) (reports.Breakdown, error) {
	q := r.URL.Query()
	by := reports.Dimension(q.Get("by"))
	if by == "" {
		by = reports.DimTeam
	}
	if !slices.Contains(reports.Dimensions(), by) {
		return reports.Breakdown{}, badParam{"by", string(by), "team, manager, course, cohort or tag"}
	}
	period := reports.Period(q.Get("period"))
	if period == "" {
		period = reports.Month
	}
	if period != reports.Week && period != reports.Month {
		return reports.Breakdown{}, badParam{"period", string(period), "week or month"}
	}
	bq := reports.BreakdownQuery{By: by, Period: period}
	var err error
	if bq.Location, err = s.store.OrgLocation(ctx, v.user.OrgID); err != nil {
		return reports.Breakdown{}, err
	}
	if by == reports.DimManager {
		ms, err := s.store.TeamManagers(ctx, v.user.OrgID)
		if err != nil {
			return reports.Breakdown{}, err
		}
		bq.Managers = map[int64][]reports.Manager{}
		for _, m := range ms {
			bq.Managers[m.TeamID] = append(bq.Managers[m.TeamID], reports.Manager{ID: m.UserID, Name: m.Name})
		}
	}
	return rep.Breakdown(ctx, v.scope, bq)
}
