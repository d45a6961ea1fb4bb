package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/web/pages"
)

// The phone simulator stands in for reps' phones when no Twilio credentials
// are set (Deps.Simulator): its pages show each rep's conversation as their
// phone would, and a reply typed there reaches the Inbox exactly as one
// posted by Twilio's webhook does once its signature is checked.

// Simulator limits.
const (
	simulatorConversations = 50  // per organisation on the front page
	simulatorMessages      = 200 // the latest of a conversation
	maxSimulatorForm       = 64 << 10
)

// simulatorTo stands in for the deployment's default sender as the number a
// reply is sent to, when the organisation has no number of its own: any
// valid number would do, since such organisations are told apart by the
// rep's phone. It is Twilio's magic test number.
const simulatorTo = "+15005550006"

// simulatorPage serves fn to the admins and trainers of an organisation
// when the simulator is on; off, the simulator's paths are a 404.
func (s *Server) simulatorPage(fn pageFunc) http.Handler {
	signedIn := s.page(fn, lessons.RoleAdmin, lessons.RoleTrainer)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.simulator {
			s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
			return
		}
		signedIn.ServeHTTP(w, r)
	})
}

// simulatorHome answers GET /simulator: the latest conversations of the
// user's organisation.
func (s *Server) simulatorHome(w http.ResponseWriter, r *http.Request, u lessons.User) {
	o, err := s.store.Org(r.Context(), u.OrgID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	convs, err := s.store.Conversations(r.Context(), o.ID, simulatorConversations)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	view := pages.SimulatorOrg{Name: o.Name, Slug: o.Slug, Conversations: make([]pages.SimulatorConversation, len(convs))}
	for j, c := range convs {
		view.Conversations[j] = pages.SimulatorConversation{
			RepID: c.RepID, Name: c.Name, Phone: c.Phone,
			LastBody: c.LastBody, LastOutbound: c.LastOutbound, LastStatus: string(c.LastStatus),
			LastAt: phoneTime(c.LastAt, location(c.TimeZone)), Inbound: c.Inbound, Outbound: c.Outbound,
		}
	}
	s.render(w, r, http.StatusOK, pages.SimulatorHome(account(u), view))
}

// simulatorPhone answers GET /simulator/reps/{id}: the rep's phone.
func (s *Server) simulatorPhone(w http.ResponseWriter, r *http.Request, u lessons.User) {
	rep, org, err := s.simulatedRep(r.Context(), u.OrgID, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p, err := s.phone(r.Context(), rep, org)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, pages.SimulatorPhone(p))
}

// simulatorReply answers POST /simulator/reps/{id}/reply: the rep texts
// body. It goes to the Inbox as an inbound SMS, then back to the phone; a
// refused reply is shown above the form, as typed, with 400.
func (s *Server) simulatorReply(w http.ResponseWriter, r *http.Request, u lessons.User) {
	rep, org, err := s.simulatedRep(r.Context(), u.OrgID, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSimulatorForm)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, err)
		return
	}
	body := r.PostForm.Get("body")
	in, err := simulatedSMS(rep.Phone, org, body)
	if err == nil {
		in.OrgID, in.RepID = org.ID, rep.ID // the page knows the rep: no lookup by phone
		err = s.receive(r.Context(), in)
	}
	if e := errs.As(err); e != nil && e.Code == errs.Invalid {
		p, perr := s.phone(r.Context(), rep, org)
		if perr != nil {
			s.pageError(w, r, perr)
			return
		}
		p.Error, p.Draft = problem(e), body
		s.render(w, r, http.StatusBadRequest, pages.SimulatorPhone(p))
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/simulator/reps/"+strconv.FormatInt(rep.ID, 10), http.StatusSeeOther)
}

// receive hands an inbound message to the Inbox, if the server has one.
func (s *Server) receive(ctx context.Context, in lessons.InboundSMS) error {
	if s.inbox == nil {
		return errs.Errorf(errs.Unavailable, "Replies cannot be received: the server has no inbox.")
	}
	return s.inbox.Receive(ctx, in)
}

// simulatedSMS makes the inbound message of a reply typed in the simulator,
// checked as the webhook checks Twilio's: from the rep's phone to the
// organisation's sender, with a sid of its own ("SIM" and 32 hex digits).
func simulatedSMS(from string, sender lessons.Org, body string) (lessons.InboundSMS, error) {
	return replySMS("SIM", from, sender, body)
}

// replySMS makes the inbound message of a reply given other than by SMS, as
// simulatedSMS describes, with a sid of sidPrefix and 32 random hex digits.
func replySMS(sidPrefix, from string, sender lessons.Org, body string) (lessons.InboundSMS, error) {
	if !utf8.ValidString(body) || strings.TrimSpace(body) == "" || utf8.RuneCountInString(body) > maxBody {
		return lessons.InboundSMS{}, errs.InvalidInput("The reply is not valid.", []errs.Detail{{
			Path: "body", Message: fmt.Sprintf("must be 1 to %d characters of text", maxBody)}})
	}
	b := make([]byte, 16)
	rand.Read(b)
	to := sender.SMSFrom
	if to == "" {
		to = simulatorTo
	}
	form := url.Values{"MessageSid": {sidPrefix + hex.EncodeToString(b)}, "From": {from}, "To": {to}, "Body": {body}}
	if sender.SMSMessagingServiceSID != "" {
		form.Set("MessagingServiceSid", sender.SMSMessagingServiceSID)
	}
	return parseInboundSMS(form)
}

// problem says what is wrong with an input, naming each field.
func problem(e *errs.Error) string {
	if len(e.Details) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Path + ": " + d.Message
	}
	return strings.Join(parts, "; ")
}

// simulatedRep loads the rep of the organisation named by the path's id,
// with the organisation. A bad id, or one of another organisation's reps, is
// NotFound.
func (s *Server) simulatedRep(ctx context.Context, orgID int64, rawID string) (lessons.Rep, lessons.Org, error) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || id <= 0 {
		return lessons.Rep{}, lessons.Org{}, errs.Errorf(errs.NotFound, "There is no rep %q.", rawID)
	}
	rep, err := s.store.Rep(ctx, orgID, id)
	if err != nil {
		return lessons.Rep{}, lessons.Org{}, err
	}
	org, err := s.store.Org(ctx, orgID)
	return rep, org, err
}

// phone returns the rep's conversation as their phone shows it.
func (s *Server) phone(ctx context.Context, rep lessons.Rep, org lessons.Org) (pages.Phone, error) {
	msgs, err := s.store.Conversation(ctx, org.ID, rep.ID, simulatorMessages)
	if err != nil {
		return pages.Phone{}, err
	}
	loc := location(rep.TimeZone)
	p := pages.Phone{RepID: rep.ID, Name: rep.Name, Phone: rep.Phone, OrgName: org.Name, TimeZone: rep.TimeZone,
		Bubbles: make([]pages.Bubble, len(msgs))}
	if rep.Status == lessons.RepRemoved {
		p.Notes = append(p.Notes, "removed: nothing more is sent")
	}
	if rep.OptedOutAt != nil {
		p.Notes = append(p.Notes, "opted out: only the confirmation is sent")
	}
	for i, m := range msgs {
		at := bubbleTime(m)
		b := pages.Bubble{Outbound: m.Outbound, Purpose: string(m.Purpose), Body: m.Body,
			Time: phoneTime(at, loc), DateTime: at.UTC().Format(time.RFC3339)}
		if m.Outbound {
			b.Status = string(m.Status)
			if m.Status == lessons.MessageScheduled {
				b.Time = "due " + b.Time
			}
			switch {
			case m.ErrorCode != 0:
				b.Error = fmt.Sprintf("Error %d: %s", m.ErrorCode, m.ErrorMessage)
			case m.ErrorMessage != "":
				b.Error = m.ErrorMessage
			}
		}
		p.Bubbles[i] = b
	}
	return p, nil
}

// bubbleTime is when the phone shows a message happened: delivered, sent,
// due or received.
func bubbleTime(m lessons.Message) time.Time {
	switch {
	case m.DeliveredAt != nil:
		return *m.DeliveredAt
	case m.SentAt != nil:
		return *m.SentAt
	case !m.ScheduledAt.IsZero():
		return m.ScheduledAt
	}
	return m.CreatedAt
}

// location is the time zone named, or UTC.
func location(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// phoneTime shows t as a phone does, in loc: "Mon 2 Mar 10:04 EST".
func phoneTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 15:04 MST")
}
