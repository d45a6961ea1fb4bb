package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twilio/twilio-go/client"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

// Twilio's webhooks: delivery status callbacks, and (with the replies issue)
// inbound messages. Each request is checked against its X-Twilio-Signature,
// computed over the public URL Twilio called (PUBLIC_URL plus the path and
// query, also behind a proxy) and the form fields.

// maxWebhookBody bounds a Twilio form post; real ones are a few KB.
const maxWebhookBody = 64 << 10

// twilioForm reads and authenticates a Twilio webhook: a bad or missing
// signature is a Forbidden error, and nothing else is done with the request.
func (s *Server) twilioForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
	if err := r.ParseForm(); err != nil {
		return nil, errs.Errorf(errs.Invalid, "the webhook body is not a form: %v", err)
	}
	if s.twilioToken == "" {
		// A caller learns nothing of the server's settings; the log says why.
		s.log.WarnContext(r.Context(), "Twilio webhook refused: no TWILIO_AUTH_TOKEN is set, so no signature can be checked")
		return nil, errs.Errorf(errs.Forbidden, "Forbidden.")
	}
	signature := r.Header.Get("X-Twilio-Signature")
	if signature == "" {
		return nil, errs.Errorf(errs.Forbidden, "the X-Twilio-Signature header is missing")
	}
	signedURL := s.publicURL + r.URL.RequestURI()
	validator := client.NewRequestValidator(s.twilioToken)
	if !validator.Validate(signedURL, formParams(r.PostForm), signature) {
		return nil, errs.Errorf(errs.Forbidden, "the X-Twilio-Signature does not match the request")
	}
	return r.PostForm, nil
}

// formParams flattens a form for the validator, which takes one value per key.
func formParams(form url.Values) map[string]string {
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	return params
}

// writeTwiML answers a webhook with empty TwiML, or with the error as plain
// text and its status (Twilio logs it in the console).
func (s *Server) writeTwiML(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		status, body := s.apiError(r, err)
		msg := body.Error.Message
		for _, d := range body.Error.Details {
			msg += "\n" + d.String()
		}
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
}

// twilioStatuses maps Twilio's MessageStatus values to ours.
var twilioStatuses = map[string]lessons.MessageStatus{
	"accepted":            lessons.MessageQueued,
	"scheduled":           lessons.MessageQueued,
	"queued":              lessons.MessageQueued,
	"sending":             lessons.MessageQueued,
	"sent":                lessons.MessageSent,
	"delivered":           lessons.MessageDelivered,
	"read":                lessons.MessageDelivered,
	"undelivered":         lessons.MessageUndelivered,
	"failed":              lessons.MessageFailed,
	"canceled":            lessons.MessageFailed,
	"partially_delivered": lessons.MessageUndelivered,
}

// statusCallback is a validated delivery status callback.
type statusCallback struct {
	SID          string
	Status       lessons.MessageStatus
	ErrorCode    int
	ErrorMessage string
}

// sidPattern matches a message sid: Twilio's (SM, MM), or ours for a reply
// typed in the simulator (SIM) or answered on a lesson page (WEB).
var sidPattern = regexp.MustCompile(`^(SM|MM|SIM|WEB)[0-9a-fA-F]{32}$`)

// parseStatusCallback validates the fields of a status callback.
func parseStatusCallback(form url.Values) (statusCallback, error) {
	var d []errs.Detail
	cb := statusCallback{SID: form.Get("MessageSid"), ErrorMessage: form.Get("ErrorMessage")}
	if cb.SID == "" {
		cb.SID = form.Get("SmsSid")
	}
	if !sidPattern.MatchString(cb.SID) {
		d = append(d, errs.Detail{Path: "MessageSid", Message: fmt.Sprintf("%q is not a message sid", cb.SID)})
	}
	raw := form.Get("MessageStatus")
	if raw == "" {
		raw = form.Get("SmsStatus")
	}
	status, ok := twilioStatuses[raw]
	if !ok {
		d = append(d, errs.Detail{Path: "MessageStatus", Message: fmt.Sprintf("%q is not a Twilio message status", raw)})
	}
	cb.Status = status
	if code := form.Get("ErrorCode"); code != "" {
		n, err := strconv.Atoi(code)
		if err != nil || n < 0 || n > 99999 {
			d = append(d, errs.Detail{Path: "ErrorCode", Message: fmt.Sprintf("%q is not a Twilio error code", code)})
		}
		cb.ErrorCode = n
	}
	cb.ErrorMessage = cleanText(cb.ErrorMessage, 500)
	if d != nil {
		return statusCallback{}, errs.InvalidInput("the status callback is not valid", d)
	}
	return cb, nil
}

// twilioStatus handles POST /webhooks/twilio/status: it records the message's
// new status, which never moves a message backwards.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	form, err := s.twilioForm(w, r)
	if err != nil {
		s.writeTwiML(w, r, err)
		return
	}
	cb, err := parseStatusCallback(form)
	if err != nil {
		s.writeTwiML(w, r, err)
		return
	}
	_, err = s.store.RecordStatus(r.Context(), cb.SID, cb.Status, cb.ErrorCode, cb.ErrorMessage)
	s.writeTwiML(w, r, err)
}

// Inbox takes inbound messages: from Twilio's webhook and from the phone
// simulator, by the same path.
type Inbox interface {
	Receive(ctx context.Context, in lessons.InboundSMS) error
}

var (
	e164Pattern       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// maxBody is the longest message Twilio takes: 1,600 characters.
const maxBody = 1600

// parseInboundSMS validates the fields of an inbound message webhook.
func parseInboundSMS(form url.Values) (lessons.InboundSMS, error) {
	in := lessons.InboundSMS{SID: form.Get("MessageSid"), From: form.Get("From"), To: form.Get("To"),
		MessagingServiceSID: form.Get("MessagingServiceSid"), Body: form.Get("Body")}
	if in.SID == "" {
		in.SID = form.Get("SmsMessageSid")
	}
	var d []errs.Detail
	if !sidPattern.MatchString(in.SID) {
		d = append(d, errs.Detail{Path: "MessageSid", Message: fmt.Sprintf("%q is not a message sid", in.SID)})
	}
	if !e164Pattern.MatchString(in.From) {
		d = append(d, errs.Detail{Path: "From", Message: fmt.Sprintf("%q is not an E.164 phone number", in.From)})
	}
	if !e164Pattern.MatchString(in.To) {
		d = append(d, errs.Detail{Path: "To", Message: fmt.Sprintf("%q is not an E.164 phone number", in.To)})
	}
	if in.MessagingServiceSID != "" && !serviceSIDPattern.MatchString(in.MessagingServiceSID) {
		d = append(d, errs.Detail{Path: "MessagingServiceSid", Message: fmt.Sprintf("%q is not a messaging service sid", in.MessagingServiceSID)})
	}
	if utf8.RuneCountInString(in.Body) > maxBody {
		d = append(d, errs.Detail{Path: "Body", Message: fmt.Sprintf("must be at most %d characters", maxBody)})
	}
	in.Body = cleanText(in.Body, 4*maxBody) // what a phone sent is kept, as text Postgres takes
	if d != nil {
		return lessons.InboundSMS{}, errs.InvalidInput("the inbound message is not valid", d)
	}
	return in, nil
}

// twilioSMS handles POST /webhooks/twilio/sms: it stores the message and
// queues its processing, idempotently by MessageSid, and answers empty TwiML
// at once; grading happens in the job.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) {
	form, err := s.twilioForm(w, r)
	if err != nil {
		s.writeTwiML(w, r, err)
		return
	}
	in, err := parseInboundSMS(form)
	if err != nil {
		s.writeTwiML(w, r, err)
		return
	}
	s.writeTwiML(w, r, s.inbox.Receive(r.Context(), in))
}

// cleanText makes s storable text: invalid UTF-8 replaced, NUL bytes dropped,
// at most limit bytes, cut at a character boundary.
func cleanText(s string, limit int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
