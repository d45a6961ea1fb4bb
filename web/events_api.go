package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// maxBackfillBody bounds a backfill: 10,000 events with details of up to
// 1 KiB each fit.
const maxBackfillBody = 16 << 20

// eventInput is an event as a client sends it, to backfill or correct.
type eventInput struct {
	Key          string          `json:"key"`
	RepID        int64           `json:"rep_id"`
	Kind         string          `json:"kind"`
	OccurredAt   string          `json:"occurred_at"` // RFC 3339
	CourseID     int64           `json:"course_id"`
	EnrollmentID int64           `json:"enrollment_id"`
	AssignmentID int64           `json:"assignment_id"`
	LessonID     int64           `json:"lesson_id"`
	Value        float64         `json:"value"`
	Detail       json.RawMessage `json:"detail"` // a JSON object, or null
}

// event converts in, naming a problem of form (a time that is not RFC 3339)
// by path plus the field; the rules of an event are tracking's (Problems).
func (in eventInput) event(path string) (tracking.Event, *errs.Detail) {
	e := tracking.Event{Key: in.Key, RepID: in.RepID, Kind: in.Kind, CourseID: in.CourseID, EnrollmentID: in.EnrollmentID,
		AssignmentID: in.AssignmentID, LessonID: in.LessonID, Value: in.Value}
	if in.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339, in.OccurredAt)
		if err != nil {
			return e, &errs.Detail{Path: path + "occurred_at",
				Message: fmt.Sprintf("must be a time in RFC 3339, such as 2027-03-08T14:00:00Z, got %q", in.OccurredAt)}
		}
		e.OccurredAt = t
	}
	if d := bytes.TrimSpace(in.Detail); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		var compact bytes.Buffer
		if err := json.Compact(&compact, d); err != nil {
			return e, &errs.Detail{Path: path + "detail", Message: "must be a JSON object"}
		}
		e.Detail = compact.String()
	}
	return e, nil
}

// eventJSON is an event as the reports now read it.
type eventJSON struct {
	Key          string          `json:"key"`
	RepID        int64           `json:"rep_id"`
	Kind         string          `json:"kind"`
	OccurredAt   timestamp       `json:"occurred_at"`
	CourseID     *int64          `json:"course_id"`
	EnrollmentID *int64          `json:"enrollment_id"`
	AssignmentID *int64          `json:"assignment_id"`
	LessonID     *int64          `json:"lesson_id"`
	Value        float64         `json:"value"`
	Detail       json.RawMessage `json:"detail"`
	Deleted      bool            `json:"deleted"`
}

func newEventJSON(e tracking.Event) eventJSON {
	j := eventJSON{Key: e.Key, RepID: e.RepID, Kind: e.Kind, OccurredAt: timestamp(e.OccurredAt),
		CourseID: optionalID(e.CourseID), EnrollmentID: optionalID(e.EnrollmentID), AssignmentID: optionalID(e.AssignmentID),
		LessonID: optionalID(e.LessonID), Value: e.Value, Detail: json.RawMessage("null"), Deleted: e.Deleted}
	switch {
	case e.Detail == "":
	case json.Valid([]byte(e.Detail)):
		j.Detail = json.RawMessage(e.Detail)
	default: // written by something other than this API; shown as it is
		j.Detail, _ = json.Marshal(e.Detail)
	}
	return j
}

// needClickHouse says why the event corrections cannot run without ClickHouse.
func (s *Server) needClickHouse() error {
	if s.ch == nil {
		return errs.Errorf(errs.Unavailable, "Event corrections are not available: this server has no ClickHouse connection.")
	}
	return nil
}

type voidRequest struct {
	Key    string `json:"key"`
	RepID  int64  `json:"rep_id"`
	Reason string `json:"reason"`
}

// voidEvent answers POST /api/v1/events/void: reports stop counting the
// rep's event at once. It answers with the event as void.
func (s *Server) voidEvent(w http.ResponseWriter, r *http.Request, orgID int64) error {
	if err := s.needClickHouse(); err != nil {
		return err
	}
	var req voidRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if details := tracking.VoidProblems(req.Key, req.RepID, req.Reason); len(details) > 0 {
		return errs.InvalidInput("The void is not valid.", details)
	}
	if _, err := s.store.Rep(r.Context(), orgID, req.RepID); err != nil {
		return err
	}
	e, err := tracking.Void(r.Context(), s.pool, s.ch, s.store.Now(), orgID, req.Key, req.RepID, req.Reason, caller(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newEventJSON(e))
	return nil
}

// correctEvent answers POST /api/v1/events/correct: the event named by its
// rep_id and key becomes the one sent, in every report at once.
func (s *Server) correctEvent(w http.ResponseWriter, r *http.Request, orgID int64) error {
	if err := s.needClickHouse(); err != nil {
		return err
	}
	var in eventInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, problem := in.event("")
	if problem != nil {
		return errs.InvalidInput("The corrected event is not valid.", []errs.Detail{*problem})
	}
	now := s.store.Now() // once for the request
	if details := e.Problems("", now); len(details) > 0 {
		return errs.InvalidInput("The corrected event is not valid.", details)
	}
	if err := s.checkRefs(r, orgID, []tracking.Event{e}, func(int) string { return "" }); err != nil {
		return err
	}
	row, err := tracking.Correct(r.Context(), s.pool, s.ch, now, orgID, e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newEventJSON(row))
	return nil
}

type backfillRequest struct {
	Events []json.RawMessage `json:"events"`
}

type backfillResultJSON struct {
	Backfilled int `json:"backfilled"`
}

// backfillEvents answers POST /api/v1/events/backfill: up to 10,000 past
// events, all written or, on any problem, none. Sent again, they change no
// report.
func (s *Server) backfillEvents(w http.ResponseWriter, r *http.Request, orgID int64) error {
	if err := s.needClickHouse(); err != nil {
		return err
	}
	body, err := readBody(w, r, maxBackfillBody)
	if err != nil {
		return err
	}
	var req backfillRequest
	if err := unmarshalStrict(body, &req); err != nil {
		return err
	}
	events, err := decodeEvents(req.Events)
	if err != nil {
		return err
	}
	now := s.store.Now() // once for the request
	if err := tracking.ValidateEvents(events, now); err != nil {
		return err
	}
	if err := s.checkRefs(r, orgID, events, func(i int) string { return fmt.Sprintf("events[%d].", i) }); err != nil {
		return err
	}
	n, err := tracking.Backfill(r.Context(), s.pool, s.ch, now, orgID, events)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, backfillResultJSON{Backfilled: n})
	return nil
}

// maxDecodeProblems bounds the problems of form a backfill lists.
const maxDecodeProblems = 100

// decodeEvents decodes a backfill's events, naming the first problem of form
// of each by its path, such as "events[3].rep_id". Their rules are checked
// after, by tracking.ValidateEvents.
func decodeEvents(raws []json.RawMessage) ([]tracking.Event, error) {
	if len(raws) > tracking.MaxBackfill {
		return nil, errs.InvalidInput("Too many events for one backfill.", []errs.Detail{{Path: "events",
			Message: fmt.Sprintf("has %d events; the most in one backfill is %d: send them in several", len(raws), tracking.MaxBackfill)}})
	}
	events := make([]tracking.Event, len(raws))
	var details []errs.Detail
	problems := 0
	for i, raw := range raws {
		path := fmt.Sprintf("events[%d]", i)
		var in eventInput
		problem := decodeElement(raw, path, &in)
		if problem == nil {
			events[i], problem = in.event(path + ".")
		}
		if problem != nil {
			problems++
			if len(details) < maxDecodeProblems {
				details = append(details, *problem)
			}
		}
	}
	if problems == 0 {
		return events, nil
	}
	msg := "The events are not valid."
	if problems > len(details) {
		msg = fmt.Sprintf("The events are not valid: %d problems, the first %d listed.", problems, len(details))
	}
	return nil, errs.InvalidInput(msg, details)
}

// decodeElement decodes raw, one element of a list already read as JSON, into
// v, and names its first problem: a value of the wrong type or an unknown
// field, by path plus the field.
func decodeElement(raw []byte, path string, v any) *errs.Detail {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ) && typ.Field == "":
		return &errs.Detail{Path: path, Message: fmt.Sprintf("must be a JSON object, got %s", typ.Value)}
	case errors.As(err, &typ):
		return &errs.Detail{Path: path + "." + typ.Field, Message: fmt.Sprintf("must be %s, got %s", jsonTypeName(typ.Type.Kind().String()), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &errs.Detail{Path: path + "." + name, Message: "unknown field"}
	}
	return &errs.Detail{Path: path, Message: fmt.Sprintf("is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))}
}

// checkRefs checks that every id the events name is the organisation's (and
// an enrollment or an assignment the rep's): a NotFound error names each
// that is not, at path(i) and the field.
func (s *Server) checkRefs(r *http.Request, orgID int64, events []tracking.Event, path func(int) string) error {
	refs := make([]lessons.EventRefs, len(events))
	for i, e := range events {
		refs[i] = lessons.EventRefs{RepID: e.RepID, CourseID: e.CourseID, EnrollmentID: e.EnrollmentID, AssignmentID: e.AssignmentID, LessonID: e.LessonID}
	}
	details, err := s.store.EventRefProblems(r.Context(), orgID, refs, path)
	if err != nil {
		return err
	}
	if len(details) > 0 {
		return &errs.Error{Code: errs.NotFound, Message: "Some of the events name what this organisation does not have.", Details: details}
	}
	return nil
}

type deleteRepEventsJSON struct {
	RepID  int64 `json:"rep_id"`
	Voided int   `json:"voided"`
}

// deleteRepEvents answers DELETE /api/v1/reps/{id}/events: every event of
// the rep is voided, and reports stop counting the rep at once. The rep
// itself stays (DELETE /api/v1/reps/{id} removes them).
func (s *Server) deleteRepEvents(w http.ResponseWriter, r *http.Request, orgID int64) error {
	if err := s.needClickHouse(); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.Rep(r.Context(), orgID, id); err != nil {
		return err
	}
	n, err := tracking.DeleteRep(r.Context(), s.pool, s.ch, s.store.Now(), orgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleteRepEventsJSON{RepID: id, Voided: n})
	return nil
}
