package twilioemu

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// maxBodyChars is Twilio's limit on a message body, in characters.
const maxBodyChars = 1600

// poolSender is the From that callbacks carry for a message sent through a
// Messaging Service without From: the "sender pool" of the emulator.
const poolSender = "+15005550006"

var (
	contentTypeJSON = []string{"application/json; charset=utf-8"}
	contentTypeHTML = []string{"text/html"}
)

// bufPool holds response buffers, so that a create allocates little.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// serveHTTP authenticates every request, then serves the Messages resource;
// anything else is 404 (or 405 for another method on it), as Twilio answers.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != s.authHeader {
		user, pass, ok := r.BasicAuth()
		if !ok || user != s.opts.AccountSID || pass != s.opts.AuthToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
	}
	if r.URL.Path != s.messagesPath {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	switch r.Method {
	case http.MethodPost:
		s.createMessage(w, r)
	case http.MethodGet:
		s.listMessages(w, r)
	default:
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
}

// createMessage validates a create request as Twilio does, applies the
// fault it takes, if any, and answers.
func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Could not parse the request body: "+err.Error())
		return
	}
	form := r.PostForm
	m := Message{
		AccountSID:          s.opts.AccountSID,
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSID: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
		StatusCallback:      form.Get("StatusCallback"),
	}
	switch {
	case m.To == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !isE164(m.To):
		writeError(w, http.StatusBadRequest, 21211, "The 'To' number "+m.To+" is not a valid phone number.")
		return
	case m.From == "" && m.MessagingServiceSID == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case m.Body == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(m.Body) > maxBodyChars:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	f, faulted := s.takeFault(m.To)
	if faulted {
		s.log.Debug("twilioemu: fault", "kind", f.Kind, "to", m.To)
		switch f.Kind {
		case FaultServerError:
			writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
			return
		case FaultUnavailable:
			writeError(w, http.StatusServiceUnavailable, 20503, "Service Unavailable")
			return
		case FaultBadGateway:
			h := w.Header()
			h["Content-Type"] = contentTypeHTML
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n"))
			return
		case FaultRateLimited:
			writeError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			return
		case FaultUnsubscribed:
			writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
			return
		case FaultInvalidNumber:
			writeError(w, http.StatusBadRequest, 21211, "The 'To' number "+m.To+" is not a valid phone number.")
			return
		case FaultNotMobile:
			writeError(w, http.StatusBadRequest, 21614, "'To' number is not a valid mobile number")
			return
		case FaultRESTError:
			writeError(w, orDefault(f.HTTPStatus, http.StatusBadRequest), f.Code, f.Message)
			return
		case FaultDrop:
			drop(w)
			return
		}
	}

	m.SID = s.nextSID()
	m.DateCreated = s.now().UTC().Truncate(time.Second)
	m.NumSegments = segmentCount(m.Body)
	m.Status = "queued"
	if m.MessagingServiceSID != "" {
		m.Status = "accepted"
	}
	s.accept(m, outcomeOf(f))

	if faulted {
		switch f.Kind {
		case FaultAcceptThenDrop:
			drop(w)
			return
		case FaultGatewayTimeout:
			h := w.Header()
			h["Content-Type"] = contentTypeHTML
			w.WriteHeader(http.StatusGatewayTimeout)
			_, _ = w.Write([]byte("<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>\n"))
			return
		case FaultTimeout:
			if !s.hold(r, f.Delay) {
				return
			}
		}
	}
	s.writeMessage(w, &m)
}

// hold waits for delay, or with no delay until the client gives up. It
// reports whether the request should still be answered.
func (s *Server) hold(r *http.Request, delay time.Duration) bool {
	if delay <= 0 {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return false
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2, or a writer that cannot be hijacked: abort the response.
	panic(http.ErrAbortHandler)
}

// writeMessage answers 201 with m as Twilio's JSON: the fields twilio-go's
// ApiV2010Message decodes, with Twilio's types (num_segments a string,
// error_code null until a delivery error).
// appendMessage appends the Message resource as Twilio renders it.
func (s *Server) appendMessage(b []byte, m *Message) []byte {
	date := m.DateCreated.AppendFormat(make([]byte, 0, 32), time.RFC1123Z)
	uri := s.accountURI + "/Messages/" + m.SID

	b = append(b, `{"account_sid": `...)
	b = appendJSONString(b, m.AccountSID)
	b = append(b, `, "api_version": "2010-04-01", "body": `...)
	b = appendJSONString(b, m.Body)
	b = append(b, `, "date_created": "`...)
	b = append(b, date...)
	b = append(b, `", "date_sent": null, "date_updated": "`...)
	b = append(b, date...)
	b = append(b, `", "direction": "outbound-api", "error_code": null, "error_message": null, "from": `...)
	if m.From == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, m.From)
	}
	b = append(b, `, "messaging_service_sid": `...)
	segments := m.NumSegments
	if m.MessagingServiceSID == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, m.MessagingServiceSID)
		segments = 0 // Twilio assigns the sender, and counts, later
	}
	b = append(b, `, "num_media": "0", "num_segments": "`...)
	b = strconv.AppendInt(b, int64(segments), 10)
	b = append(b, `", "price": null, "price_unit": "USD", "sid": "`...)
	b = append(b, m.SID...)
	b = append(b, `", "status": "`...)
	b = append(b, m.Status...)
	b = append(b, `", "subresource_uris": {"media": `...)
	b = appendJSONString(b, uri+"/Media.json")
	b = append(b, `}, "to": `...)
	b = appendJSONString(b, m.To)
	b = append(b, `, "uri": `...)
	b = appendJSONString(b, uri+".json")
	b = append(b, "}"...)
	return b
}

func (s *Server) writeMessage(w http.ResponseWriter, m *Message) {
	bp := bufPool.Get().(*[]byte)
	b := s.appendMessage((*bp)[:0], m)

	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)

	*bp = b
	bufPool.Put(bp)
}

// writeError answers status with Twilio's error body, which twilio-go
// decodes into a *client.TwilioRestError.
func writeError(w http.ResponseWriter, status, code int, message string) {
	b := make([]byte, 0, 160+len(message))
	b = append(b, `{"code": `...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `, "message": `...)
	b = appendJSONString(b, message)
	b = append(b, `, "more_info": "https://www.twilio.com/docs/errors/`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `", "status": `...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, "}"...)

	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appendJSONString appends s to b as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// isE164 reports whether n is a phone number in E.164 form: "+", a nonzero
// digit, and at most 14 more digits.
func isE164(n string) bool {
	if len(n) < 3 || len(n) > 16 || n[0] != '+' || n[1] < '1' || n[1] > '9' {
		return false
	}
	for i := 2; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}
