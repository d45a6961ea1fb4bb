package web

import (
	"net/http"

	"github.com/morselhq/morsel/lessons"
)

// messageJSON is one SMS to or from a rep, with its fate.
type messageJSON struct {
	ID           int64      `json:"id"`
	RepID        int64      `json:"rep_id"`
	EnrollmentID *int64     `json:"enrollment_id"`
	AssignmentID *int64     `json:"assignment_id"`
	Direction    string     `json:"direction"`
	Purpose      string     `json:"purpose"`
	Body         string     `json:"body"`
	Encoding     string     `json:"encoding"`
	Segments     int        `json:"segments"`
	Status       string     `json:"status"`
	ProviderSID  *string    `json:"provider_sid"`
	ErrorCode    *int       `json:"error_code"`
	ErrorMessage string     `json:"error_message"`
	ScheduledAt  *timestamp `json:"scheduled_at"`
	CreatedAt    timestamp  `json:"created_at"`
	SentAt       *timestamp `json:"sent_at"`
	DeliveredAt  *timestamp `json:"delivered_at"`
}

func newMessageJSON(m lessons.Message) messageJSON {
	j := messageJSON{
		ID: m.ID, RepID: m.RepID, EnrollmentID: optionalID(m.EnrollmentID), AssignmentID: optionalID(m.AssignmentID),
		Direction: "inbound", Purpose: string(m.Purpose), Body: m.Body, Encoding: string(m.Encoding), Segments: m.Segments,
		Status: string(m.Status), ErrorMessage: m.ErrorMessage,
		CreatedAt: timestamp(m.CreatedAt), SentAt: optionalTime(m.SentAt), DeliveredAt: optionalTime(m.DeliveredAt),
	}
	if m.Outbound {
		j.Direction = "outbound"
	}
	if m.ProviderSID != "" {
		j.ProviderSID = &m.ProviderSID
	}
	if m.ErrorCode != 0 {
		j.ErrorCode = &m.ErrorCode
	}
	if !m.ScheduledAt.IsZero() {
		j.ScheduledAt = optionalTime(&m.ScheduledAt)
	}
	return j
}

// listRepMessages answers GET /api/v1/reps/{id}/messages: a page of the
// rep's messages, in and out, by id, each with its status and any error.
func (s *Server) listRepMessages(w http.ResponseWriter, r *http.Request, orgID int64) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := newQuery(r)
	f := lessons.MessageFilter{AfterID: q.id("after"), Limit: q.limit(defaultLimit, maxLimit)}
	if err := q.err(); err != nil {
		return err
	}
	msgs, err := s.store.RepMessages(r.Context(), orgID, id, f)
	if err != nil {
		return err
	}
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = newMessageJSON(m)
	}
	writeJSON(w, http.StatusOK, page(out, f.Limit, func(m messageJSON) int64 { return m.ID }))
	return nil
}
