package twilioemu

import (
	"net/http"
	"strconv"
	"time"
)

// listMessages serves GET on the Messages resource: the accepted messages,
// newest first as Twilio lists them, filtered by To, From and DateSent>= (a
// date), in one page of at most PageSize (50 by default, 1,000 at most).
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to, from := q.Get("To"), q.Get("From")
	var since time.Time
	if d := q.Get("DateSent>"); d != "" {
		t, err := time.Parse(time.DateOnly, d[:min(len(d), 10)])
		if err != nil {
			writeError(w, http.StatusBadRequest, 20001, "DateSent> must be a date, YYYY-MM-DD")
			return
		}
		since = t
	}
	size := 50
	if p := q.Get("PageSize"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, 20001, "PageSize must be a positive number")
			return
		}
		size = min(n, 1000)
	}
	msgs := s.Messages()
	b := []byte(`{"messages": [`)
	n := 0
	for i := len(msgs) - 1; i >= 0 && n < size; i-- {
		m := &msgs[i]
		if (to != "" && m.To != to) || (from != "" && m.From != from) || m.DateCreated.Before(since) {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		b = s.appendMessage(b, m)
		n++
	}
	b = append(b, `], "end": `...)
	b = strconv.AppendInt(b, int64(max(n-1, 0)), 10)
	b = append(b, `, "first_page_uri": "", "next_page_uri": null, "page": 0, "page_size": `...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `, "previous_page_uri": null, "start": 0, "uri": ""}`...)
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
