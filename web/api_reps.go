package web

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

type repJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Phone      string     `json:"phone"`
	Email      string     `json:"email"`
	TeamID     *int64     `json:"team_id"`
	Team       string     `json:"team"`
	TimeZone   string     `json:"timezone"`
	Status     string     `json:"status"`
	OptedOut   bool       `json:"opted_out"`
	OptedOutAt *timestamp `json:"opted_out_at"`
	CreatedAt  timestamp  `json:"created_at"`
	UpdatedAt  timestamp  `json:"updated_at"`
}

func newRepJSON(r lessons.Rep) repJSON {
	return repJSON{
		ID: r.ID, Name: r.Name, Phone: r.Phone, Email: r.Email,
		TeamID: optionalID(r.TeamID), Team: r.Team, TimeZone: r.TimeZone,
		Status: string(r.Status), OptedOut: r.OptedOutAt != nil, OptedOutAt: optionalTime(r.OptedOutAt),
		CreatedAt: timestamp(r.CreatedAt), UpdatedAt: timestamp(r.UpdatedAt),
	}
}

// listReps answers GET /api/v1/reps, a page of reps by id.
func (s *Server) listReps(w http.ResponseWriter, r *http.Request, orgID int64) error {
	q := newQuery(r)
	f := lessons.RepFilter{
		TeamID:  q.id("team_id"),
		Status:  lessons.RepStatus(q.oneOf("status", string(lessons.RepActive), string(lessons.RepRemoved))),
		AfterID: q.id("after"),
		Limit:   q.limit(defaultLimit, maxLimit),
	}
	if err := q.err(); err != nil {
		return err
	}
	reps, err := s.store.Reps(r.Context(), orgID, f)
	if err != nil {
		return err
	}
	out := make([]repJSON, len(reps))
	for i, rep := range reps {
		out[i] = newRepJSON(rep)
	}
	writeJSON(w, http.StatusOK, page(out, f.Limit, func(r repJSON) int64 { return r.ID }))
	return nil
}

// getRep answers GET /api/v1/reps/{id}.
func (s *Server) getRep(w http.ResponseWriter, r *http.Request, orgID int64) error {
	return s.repAction(w, r, func(id int64) (lessons.Rep, error) { return s.store.Rep(r.Context(), orgID, id) })
}

// removeRep answers DELETE /api/v1/reps/{id}: the rep is kept, marked removed.
func (s *Server) removeRep(w http.ResponseWriter, r *http.Request, orgID int64) error {
	return s.repAction(w, r, func(id int64) (lessons.Rep, error) { return s.store.RemoveRep(r.Context(), orgID, id) })
}

// optOutRep answers POST /api/v1/reps/{id}/opt-out.
func (s *Server) optOutRep(w http.ResponseWriter, r *http.Request, orgID int64) error {
	return s.repAction(w, r, func(id int64) (lessons.Rep, error) { return s.store.SetOptedOut(r.Context(), orgID, id, true) })
}

// optInRep answers POST /api/v1/reps/{id}/opt-in.
func (s *Server) optInRep(w http.ResponseWriter, r *http.Request, orgID int64) error {
	return s.repAction(w, r, func(id int64) (lessons.Rep, error) { return s.store.SetOptedOut(r.Context(), orgID, id, false) })
}

// repAction runs do on the rep named by the path and answers with the rep.
func (s *Server) repAction(w http.ResponseWriter, r *http.Request, do func(id int64) (lessons.Rep, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rep, err := do(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newRepJSON(rep))
	return nil
}

// importRepsRequest is the JSON form of a rep import.
type importRepsRequest struct {
	Reps []importRep `json:"reps"`
}

type importRep struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Email    string `json:"email"`
	Team     string `json:"team"`
	TimeZone string `json:"timezone"`
}

type importResultJSON struct {
	Created      int `json:"created"`
	Updated      int `json:"updated"`
	TeamsCreated int `json:"teams_created"`
}

// importReps answers POST /api/v1/reps/import: a rep CSV (text/csv) or JSON
// (application/json), all stored or, on any problem, none.
func (s *Server) importReps(w http.ResponseWriter, r *http.Request, orgID int64) error {
	s.allowUpload(w)
	q := newQuery(r)
	region := q.text("region", "US")
	if err := q.err(); err != nil {
		return err
	}
	release, err := s.imports.take(orgID)
	if err != nil {
		return err
	}
	defer release()
	var reps []lessons.RepInput
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "text/csv":
		reps, err = lessons.ParseRepsCSV(http.MaxBytesReader(w, r.Body, maxImportBody), region, nil)
	case "application/json":
		var body []byte
		if body, err = readBody(w, r, maxImportBody); err == nil {
			reps, err = parseRepsJSON(body, region)
		}
	default:
		return errs.InvalidInput("The request body must be a rep CSV or JSON.", []errs.Detail{{
			Path:    "Content-Type",
			Message: fmt.Sprintf("must be text/csv or application/json, got %q", r.Header.Get("Content-Type")),
		}})
	}
	if err != nil {
		return err
	}
	res, err := s.store.ImportReps(r.Context(), orgID, reps)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, importResultJSON{Created: res.Created, Updated: res.Updated, TeamsCreated: res.TeamsCreated})
	return nil
}

// csvLinePath matches the paths ParseRepsCSV gives its details.
var csvLinePath = regexp.MustCompile(`^line (\d+)(?:, column (\w+))?$`)

// parseRepsJSON validates JSON reps exactly as a rep CSV: it writes them as
// one and parses that, then names each problem by its JSON path, such as
// "reps[2].phone", instead of by CSV line.
func parseRepsJSON(body []byte, region string) ([]lessons.RepInput, error) {
	var req importRepsRequest
	if err := unmarshalStrict(body, &req); err != nil {
		return nil, err
	}
	if len(req.Reps) == 0 {
		return nil, errs.InvalidInput("There are no reps to import.", []errs.Detail{{Path: "reps", Message: "must have at least 1 rep"}})
	}
	var details []errs.Detail
	inputs := make([]lessons.RepInput, 0, len(req.Reps))
	lineToIndex := make(map[int]int, len(req.Reps))
	line := 2 // line 1 is the header
	for i, rep := range req.Reps {
		in := lessons.RepInput{Name: rep.Name, Phone: rep.Phone, Email: rep.Email, Team: rep.Team, TimeZone: rep.TimeZone}
		if strings.TrimSpace(in.Name+in.Phone+in.Email+in.Team+in.TimeZone) == "" {
			// The CSV parser skips blank rows; in JSON an empty rep is a mistake.
			details = append(details, errs.Detail{Path: fmt.Sprintf("reps[%d]", i), Message: "is empty; name, phone and timezone are required"})
			continue
		}
		lineToIndex[line] = i
		line += 1 + strings.Count(in.Name+in.Phone+in.Email+in.Team+in.TimeZone, "\n")
		inputs = append(inputs, in)
	}
	var csv bytes.Buffer
	if err := lessons.WriteRepsCSV(&csv, inputs); err != nil {
		return nil, err
	}
	reps, err := lessons.ParseRepsCSV(&csv, region, nil)
	e := errs.As(err)
	if err != nil && (e == nil || e.Code != errs.Invalid) {
		return nil, err
	}
	if e != nil {
		for _, d := range e.Details {
			if m := csvLinePath.FindStringSubmatch(d.Path); m != nil {
				n, _ := strconv.Atoi(m[1])
				if i, ok := lineToIndex[n]; ok {
					d.Path = fmt.Sprintf("reps[%d]", i)
					if m[2] != "" {
						d.Path += "." + m[2]
					}
				}
			}
			d.Message = csvLineRef.ReplaceAllStringFunc(d.Message, func(s string) string {
				n, _ := strconv.Atoi(csvLineRef.FindStringSubmatch(s)[1])
				if i, ok := lineToIndex[n]; ok {
					return fmt.Sprintf("as reps[%d]", i)
				}
				return s
			})
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		return nil, errs.InvalidInput("The reps to import are not valid.", details)
	}
	return reps, nil
}

// csvLineRef matches a reference to another row in a CSV problem, such as
// "is the same number as on line 3".
var csvLineRef = regexp.MustCompile(`as on line (\d+)`)
