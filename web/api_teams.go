package web

import (
	"net/http"

	"github.com/morselhq/morsel/lessons"
)

type teamJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	RepCount int    `json:"rep_count"`
}

func newTeamJSON(t lessons.Team) teamJSON {
	return teamJSON{ID: t.ID, Name: t.Name, RepCount: t.RepCount}
}

// listTeams answers GET /api/v1/teams: every team, by name, in one page.
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, orgID int64) error {
	teams, err := s.store.Teams(r.Context(), orgID)
	if err != nil {
		return err
	}
	out := make([]teamJSON, len(teams))
	for i, t := range teams {
		out[i] = newTeamJSON(t)
	}
	writeJSON(w, http.StatusOK, page(out, 0, nil))
	return nil
}

type createTeamRequest struct {
	Name string `json:"name"`
}

// createTeam answers POST /api/v1/teams.
func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, orgID int64) error {
	var req createTeamRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := s.store.CreateTeam(r.Context(), orgID, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newTeamJSON(t))
	return nil
}
