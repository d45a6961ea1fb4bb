package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// breakdown answers GET /reports/breakdown?by=team|course|cohort&period=week|month
// (by team and month when left out).
func (s *Server) breakdown(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	b, err := s.breakdownOf(ctx, r, v, rep)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, pages.Breakdown(pages.BreakdownPage{Dash: s.dash(v, "Breakdowns", "breakdown"), Breakdown: b}))
	return nil
}

// breakdownOf reads the breakdown the request's parameters ask for.
func (s *Server) breakdownOf(ctx context.Context, r *http.Request, v viewer, rep *reports.Reports) (reports.Breakdown, error) {
	q := r.URL.Query()
	by := reports.Dimension(q.Get("by"))
	if by == "" {
		by = reports.DimTeam
	}
	if !slices.Contains(reports.Dimensions, by) {
		return reports.Breakdown{}, badParam{"by", string(by), "team, manager, course or cohort"}
	}
	period := reports.Period(q.Get("period"))
	if period == "" {
		period = reports.Month
	}
	if period != reports.Week && period != reports.Month {
		return reports.Breakdown{}, badParam{"period", string(period), "week or month"}
	}
	var managers map[int64][]string
	if by == reports.DimManager {
		var err error
		if managers, err = s.store.TeamManagers(ctx, v.user.OrgID); err != nil {
			return reports.Breakdown{}, err
		}
	}
	return rep.Breakdown(ctx, v.scope, by, period, managers)
}
