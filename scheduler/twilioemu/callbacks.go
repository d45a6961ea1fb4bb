package twilioemu

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stage is one status callback of a message.
type stage struct {
	status string
	code   int
	rank   int8 // how far the status is: 1 sent, 2 final
}

// callbackJob is the next status callback of a message, and the one after.
type callbackJob struct {
	idx    int       // the message's index in Server.messages
	due    time.Time // not posted before
	stages [2]stage
	n, at  int8 // how many stages, and which is next
}

// callbackQueue is an unbounded FIFO of callback jobs. Its memory grows
// with the messages, which the emulator keeps anyway; its goroutines do not.
// Every job waits CallbackDelay, so due times never decrease along it.
type callbackQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	jobs   []callbackJob
	head   int
	closed bool
}

func (q *callbackQueue) push(j callbackJob) {
	q.mu.Lock()
	if !q.closed {
		q.jobs = append(q.jobs, j)
		q.cond.Signal()
	}
	q.mu.Unlock()
}

// pop waits for a job; it returns false once the queue is closed.
func (q *callbackQueue) pop() (callbackJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.jobs) && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return callbackJob{}, false
	}
	j := q.jobs[q.head]
	q.jobs[q.head] = callbackJob{}
	q.head++
	if q.head == len(q.jobs) { // drained: reuse the array from its start
		q.jobs, q.head = q.jobs[:0], 0
	} else if q.head > 4096 && q.head*2 > len(q.jobs) {
		n := copy(q.jobs, q.jobs[q.head:])
		clear(q.jobs[n:])
		q.jobs, q.head = q.jobs[:n], 0
	}
	return j, true
}

func (q *callbackQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.jobs, q.head = nil, 0
	q.cond.Broadcast()
	q.mu.Unlock()
}

// accept stores m and schedules its status callbacks, which end in o.
func (s *Server) accept(m Message, o outcome) {
	if s.opts.DisableCallbacks || m.StatusCallback == "" {
		m.Status, m.ErrorCode = o.status, o.code
		s.store(m, 2)
		return
	}
	idx := s.store(m, 0)
	j := callbackJob{idx: idx, due: time.Now().Add(s.opts.CallbackDelay)}
	final := stage{status: o.status, code: o.code, rank: 2}
	switch {
	case o.status == "failed": // never sent
		j.stages[0], j.n = final, 1
	case s.opts.CallbacksOutOfOrder:
		j.stages, j.n = [2]stage{final, {status: "sent", rank: 1}}, 2
	default:
		j.stages, j.n = [2]stage{{status: "sent", rank: 1}, final}, 2
	}
	s.queue.push(j)
}

// postCallbacks is a callback worker: it posts each job's next callback
// when due, then queues the job's next stage.
func (s *Server) postCallbacks() {
	defer s.workers.Done()
	timer := time.NewTimer(0)
	<-timer.C
	for {
		j, ok := s.queue.pop()
		if !ok {
			return
		}
		if wait := time.Until(j.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.done:
				return
			}
		}
		s.postCallback(s.cbCtx, j.idx, j.stages[j.at])
		j.at++
		if j.at < j.n {
			j.due = time.Now().Add(s.opts.CallbackDelay)
			s.queue.push(j)
		}
	}
}

// postCallback posts st of message idx to its StatusCallback, signed, and
// records it. The message moves on to st whether the POST succeeds or not:
// Twilio does not retry status callbacks.
func (s *Server) postCallback(ctx context.Context, idx int, st stage) {
	s.mu.Lock()
	rec := &s.messages[idx]
	m := rec.Message // a copy: the slice may grow once mu is released
	if st.rank > rec.rank {
		rec.rank, rec.Status, rec.ErrorCode = st.rank, st.status, st.code
	}
	s.mu.Unlock()

	from := m.From
	if from == "" {
		from = poolSender
	}
	form := url.Values{
		"AccountSid":    {m.AccountSID},
		"ApiVersion":    {"2010-04-01"},
		"From":          {from},
		"MessageSid":    {m.SID},
		"MessageStatus": {st.status},
		"SmsSid":        {m.SID},
		"SmsStatus":     {st.status},
		"To":            {m.To},
	}
	if m.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if st.code != 0 {
		form.Set("ErrorCode", strconv.Itoa(st.code))
	}
	cb := Callback{MessageSID: m.SID, URL: m.StatusCallback, Status: st.status, ErrorCode: st.code}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.StatusCallback, strings.NewReader(form.Encode()))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", Signature(s.opts.AuthToken, m.StatusCallback, form))
		req.Header.Set("User-Agent", "TwilioProxy/1.1")
		var resp *http.Response
		resp, err = s.cbClient.Do(req)
		if err == nil {
			cb.ResponseStatus = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
	}
	if err != nil {
		cb.Err = err
		s.log.Warn("twilioemu: status callback failed", "sid", m.SID, "status", st.status, "url", m.StatusCallback, "err", err)
	}
	s.mu.Lock()
	s.callbacks = append(s.callbacks, cb)
	s.mu.Unlock()
}

// Signature returns the X-Twilio-Signature Twilio sends with a webhook to
// rawURL (exactly as configured, query included) carrying params:
// base64(HMAC-SHA1(authToken, rawURL + each key, sorted, followed by its
// value)). A key with several values is followed by each, sorted.
func Signature(authToken, rawURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	_, _ = io.WriteString(mac, rawURL)
	for _, k := range keys {
		vs := params[k]
		if len(vs) > 1 {
			vs = slices.Sorted(slices.Values(vs))
		}
		for _, v := range vs {
			_, _ = io.WriteString(mac, k)
			_, _ = io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Sign returns the X-Twilio-Signature of a webhook to rawURL carrying params,
// signed with the emulator's auth token: for tests that post inbound
// messages or status callbacks to our app themselves.
func (s *Server) Sign(rawURL string, params url.Values) string {
	return Signature(s.opts.AuthToken, rawURL, params)
}

// SignedRequest returns a POST to rawURL carrying params as a form, signed
// with the emulator's auth token as Twilio signs its webhooks: for tests that
// hand an inbound message to our app's handler.
func (s *Server) SignedRequest(rawURL string, params url.Values) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", s.Sign(rawURL, params))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	return req, nil
}
