package twilioemu_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

const (
	sender = "+15550001111"
	rep    = "+15550002222"
)

var sidPattern = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

type testBundle struct {
	emu *twilioemu.Server
	api *openapi.ApiService
}

// setup starts an emulator and a real twilio-go client pointed at it.
func setup(t testing.TB, opts twilioemu.Options) *testBundle {
	t.Helper()
	emu := twilioemu.New(opts)
	require.NoError(t, emu.Start())
	t.Cleanup(emu.Close)
	return &testBundle{emu: emu, api: newAPI(t, emu, emu.AccountSID(), emu.AuthToken(), 5*time.Second)}
}

// newAPI returns twilio-go's Messages API for sid and token, sending to emu
// through scheduler.RewriteTransport with the given client timeout.
func newAPI(t testing.TB, emu *twilioemu.Server, sid, token string, timeout time.Duration) *openapi.ApiService {
	t.Helper()
	target, err := url.Parse(emu.URL())
	require.NoError(t, err)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient: &http.Client{
			Transport:     scheduler.RewriteTransport(tr, target),
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(sid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}).Api
}

func sms(to, body string) *openapi.CreateMessageParams {
	return (&openapi.CreateMessageParams{}).SetTo(to).SetFrom(sender).SetBody(body)
}

// restError returns err as the *client.TwilioRestError twilio-go returns.
func restError(t *testing.T, err error) *client.TwilioRestError {
	t.Helper()
	require.Error(t, err)
	var rerr *client.TwilioRestError
	require.ErrorAs(t, err, &rerr)
	return rerr
}

func TestCreateMessage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 14, 5, 7, 0, time.FixedZone("CET", 3600))
	b := setup(t, twilioemu.Options{Now: func() time.Time { return now }})

	t.Run("from a number", func(t *testing.T) {
		t.Parallel()
		msg, err := b.api.CreateMessage(sms(rep, "Rep 1 of 5: what's the first question you ask?"))
		require.NoError(t, err)
		require.Regexp(t, sidPattern, *msg.Sid)
		require.Equal(t, "queued", *msg.Status)
		require.Equal(t, rep, *msg.To)
		require.Equal(t, sender, *msg.From)
		require.Equal(t, "Rep 1 of 5: what's the first question you ask?", *msg.Body)
		require.Equal(t, "1", *msg.NumSegments)
		require.Equal(t, "outbound-api", *msg.Direction)
		require.Equal(t, "2010-04-01", *msg.ApiVersion)
		require.Equal(t, twilioemu.DefaultAccountSID, *msg.AccountSid)
		require.Equal(t, "Mon, 09 Mar 2026 13:05:07 +0000", *msg.DateCreated)
		require.Nil(t, msg.Price)
		require.Nil(t, msg.ErrorCode)
		require.Nil(t, msg.ErrorMessage)
		require.Nil(t, msg.MessagingServiceSid)
		require.Equal(t, "/2010-04-01/Accounts/"+twilioemu.DefaultAccountSID+"/Messages/"+*msg.Sid+".json", *msg.Uri)

		var got twilioemu.Message
		for _, m := range b.emu.Messages() {
			if m.SID == *msg.Sid {
				got = m
			}
		}
		require.Equal(t, rep, got.To)
		require.Equal(t, now.UTC(), got.DateCreated)
		require.Equal(t, "delivered", got.Status, "without a callback the message is final at once")
	})

	t.Run("through a messaging service", func(t *testing.T) {
		t.Parallel()
		const service = "MG0123456789abcdef0123456789abcdef"
		params := (&openapi.CreateMessageParams{}).SetTo(rep).SetMessagingServiceSid(service).
			SetBody(strings.Repeat("Ask about budget before you pitch. ", 6)) // 210 characters: 2 segments
		msg, err := b.api.CreateMessage(params)
		require.NoError(t, err)
		require.Equal(t, "accepted", *msg.Status)
		require.Equal(t, service, *msg.MessagingServiceSid)
		require.Nil(t, msg.From)
		require.Equal(t, "0", *msg.NumSegments, "Twilio counts segments later for a messaging service")
	})

	t.Run("body is escaped and counted", func(t *testing.T) {
		t.Parallel()
		body := "Say \"no\" \\ with a smile 😀\n\tand \x01 move on"
		msg, err := b.api.CreateMessage(sms(rep, body))
		require.NoError(t, err)
		require.Equal(t, body, *msg.Body)
		require.Equal(t, "1", *msg.NumSegments)
	})
}

func TestCreateMessageValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})
	tests := []struct {
		name   string
		params *openapi.CreateMessageParams
		code   int
	}{
		{"no To", (&openapi.CreateMessageParams{}).SetFrom(sender).SetBody("hi"), 21604},
		{"To not E.164", sms("555-0100", "hi"), 21211},
		{"To with a leading zero", sms("+0155501000", "hi"), 21211},
		{"no From nor service", (&openapi.CreateMessageParams{}).SetTo(rep).SetBody("hi"), 21603},
		{"no Body", (&openapi.CreateMessageParams{}).SetTo(rep).SetFrom(sender), 21602},
		{"Body over 1600 characters", sms(rep, strings.Repeat("é", 1601)), 21617},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.api.CreateMessage(tt.params)
			rerr := restError(t, err)
			require.Equal(t, tt.code, rerr.Code)
			require.Equal(t, 400, rerr.Status)
			require.Equal(t, "https://www.twilio.com/docs/errors/"+itoa(tt.code), rerr.MoreInfo)
		})
	}
	require.Empty(t, b.emu.Messages())
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})

	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		api := newAPI(t, b.emu, b.emu.AccountSID(), "wrongtoken0000000000000000000000", 5*time.Second)
		_, err := api.CreateMessage(sms(rep, "hi"))
		rerr := restError(t, err)
		require.Equal(t, 20003, rerr.Code)
		require.Equal(t, 401, rerr.Status)
	})

	t.Run("another account in the path", func(t *testing.T) {
		t.Parallel()
		_, err := b.api.CreateMessage(sms(rep, "hi").SetPathAccountSid("AC99999999999999999999999999999999"))
		rerr := restError(t, err)
		require.Equal(t, 20404, rerr.Code)
		require.Equal(t, 404, rerr.Status)
	})

	t.Run("twilio-go refuses a token that is not letters and digits", func(t *testing.T) {
		t.Parallel()
		api := newAPI(t, b.emu, b.emu.AccountSID(), "tok-en", 5*time.Second)
		_, err := api.CreateMessage(sms(rep, "hi"))
		require.Equal(t, 21224, restError(t, err).Code)
	})

	require.Empty(t, b.emu.Messages())
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    twilioemu.Fault
		timeout  time.Duration // of the client; 5 s when zero
		code     int           // the TwilioRestError code; 0 for a plain error
		status   int
		accepted int // messages the emulator counts as sent
		check    func(t *testing.T, err error)
	}{
		{name: "500", fault: twilioemu.Fault{Kind: twilioemu.FaultServerError}, code: 20500, status: 500},
		{name: "503", fault: twilioemu.Fault{Kind: twilioemu.FaultUnavailable}, code: 20503, status: 503},
		{name: "429", fault: twilioemu.Fault{Kind: twilioemu.FaultRateLimited}, code: 20429, status: 429},
		{name: "unsubscribed", fault: twilioemu.Fault{Kind: twilioemu.FaultUnsubscribed}, code: 21610, status: 400},
		{name: "invalid number", fault: twilioemu.Fault{Kind: twilioemu.FaultInvalidNumber}, code: 21211, status: 400},
		{name: "not mobile", fault: twilioemu.Fault{Kind: twilioemu.FaultNotMobile}, code: 21614, status: 400},
		{
			name:  "any REST error",
			fault: twilioemu.Fault{Kind: twilioemu.FaultRESTError, HTTPStatus: 400, Code: 21408, Message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"},
			code:  21408, status: 400,
		},
		{
			name:  "502 from a load balancer",
			fault: twilioemu.Fault{Kind: twilioemu.FaultBadGateway},
			check: func(t *testing.T, err error) {
				require.ErrorContains(t, err, "error decoding the response for an HTTP error code: 502")
			},
		},
		{
			name:     "accepted, then 504 from a load balancer",
			fault:    twilioemu.Fault{Kind: twilioemu.FaultGatewayTimeout},
			accepted: 1,
			check: func(t *testing.T, err error) {
				require.ErrorContains(t, err, "error decoding the response for an HTTP error code: 504")
			},
		},
		{
			name:  "connection dropped",
			fault: twilioemu.Fault{Kind: twilioemu.FaultDrop},
			check: func(t *testing.T, err error) { require.ErrorContains(t, err, "EOF") },
		},
		{
			name:     "accepted, then connection dropped",
			fault:    twilioemu.Fault{Kind: twilioemu.FaultAcceptThenDrop},
			accepted: 1,
			check:    func(t *testing.T, err error) { require.ErrorContains(t, err, "EOF") },
		},
		{
			name:     "client times out, provider sent",
			fault:    twilioemu.Fault{Kind: twilioemu.FaultTimeout},
			timeout:  200 * time.Millisecond,
			accepted: 1,
			check: func(t *testing.T, err error) {
				var nerr net.Error
				require.ErrorAs(t, err, &nerr)
				require.True(t, nerr.Timeout())
			},
		},
		{
			name:     "client times out, provider answers later",
			fault:    twilioemu.Fault{Kind: twilioemu.FaultTimeout, Delay: 400 * time.Millisecond},
			timeout:  100 * time.Millisecond,
			accepted: 1,
			check: func(t *testing.T, err error) {
				var nerr net.Error
				require.ErrorAs(t, err, &nerr)
				require.True(t, nerr.Timeout())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, twilioemu.Options{})
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			api := newAPI(t, b.emu, b.emu.AccountSID(), b.emu.AuthToken(), timeout)
			// A first message opens a connection that the faulty request then
			// reuses, as a busy sender's does.
			_, err := api.CreateMessage(sms(rep, "warm up"))
			require.NoError(t, err)

			b.emu.Fail(tt.fault)
			_, err = api.CreateMessage(sms(rep, "faulty"))
			if tt.code != 0 {
				rerr := restError(t, err)
				require.Equal(t, tt.code, rerr.Code)
				require.Equal(t, tt.status, rerr.Status)
			} else {
				require.Error(t, err)
				var rerr *client.TwilioRestError
				require.False(t, errors.As(err, &rerr), "want a plain error, got %v", err)
				tt.check(t, err)
			}
			require.Len(t, b.emu.Messages(), 1+tt.accepted)

			// The fault is used up: the next message goes through.
			msg, err := api.CreateMessage(sms(rep, "after"))
			require.NoError(t, err)
			require.Regexp(t, sidPattern, *msg.Sid)
			require.Len(t, b.emu.Messages(), 2+tt.accepted)
		})
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultTimeout, Delay: 150 * time.Millisecond})
	start := time.Now()
	msg, err := b.api.CreateMessage(sms(rep, "slow"))
	require.NoError(t, err)
	require.Equal(t, "queued", *msg.Status)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
}

func TestFaultTargetsOneNumber(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})
	const stopped = "+15550009999"
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultUnsubscribed, To: stopped, Times: 2})

	_, err := b.api.CreateMessage(sms(rep, "to another rep"))
	require.NoError(t, err)
	for range 2 {
		_, err = b.api.CreateMessage(sms(stopped, "to the stopped rep"))
		require.Equal(t, 21610, restError(t, err).Code)
	}
	_, err = b.api.CreateMessage(sms(stopped, "after the fault"))
	require.NoError(t, err)

	msgs := b.emu.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, rep, msgs[0].To)
	require.Equal(t, stopped, msgs[1].To)
}

// callbackReceiver records the status callbacks posted to it.
type callbackReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []receivedCallback
}

type receivedCallback struct {
	url       string
	form      url.Values
	signature string
}

func newCallbackReceiver(t *testing.T) *callbackReceiver {
	cr := &callbackReceiver{}
	cr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cr.mu.Lock()
		cr.got = append(cr.got, receivedCallback{
			url:       "http://" + r.Host + r.URL.RequestURI(),
			form:      r.PostForm,
			signature: r.Header.Get("X-Twilio-Signature"),
		})
		cr.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(cr.srv.Close)
	return cr
}

func (cr *callbackReceiver) received() []receivedCallback {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return append([]receivedCallback(nil), cr.got...)
}

// statusesBySID returns the MessageStatus sequence each message received.
func statusesBySID(got []receivedCallback) map[string][]string {
	out := map[string][]string{}
	for _, c := range got {
		sid := c.form.Get("MessageSid")
		out[sid] = append(out[sid], c.form.Get("MessageStatus"))
	}
	return out
}

func TestStatusCallbacks(t *testing.T) {
	t.Parallel()
	cr := newCallbackReceiver(t)
	b := setup(t, twilioemu.Options{CallbackDelay: 10 * time.Millisecond})
	callbackURL := cr.srv.URL + "/twilio/status?tenant=7"

	const (
		unreachable = "+15550003333"
		failing     = "+15550004444"
	)
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultUndelivered, To: unreachable})
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultFailed, To: failing, Code: 30005})

	sids := map[string]string{}
	for _, to := range []string{rep, unreachable, failing} {
		msg, err := b.api.CreateMessage(sms(to, "rep").SetStatusCallback(callbackURL))
		require.NoError(t, err)
		sids[to] = *msg.Sid
	}

	require.Eventually(t, func() bool { return len(cr.received()) == 5 }, 5*time.Second, 10*time.Millisecond)
	got := cr.received()
	validator := client.NewRequestValidator(b.emu.AuthToken())
	for _, c := range got {
		require.Equal(t, callbackURL, c.url)
		params := map[string]string{}
		for k, v := range c.form {
			params[k] = v[0]
		}
		require.True(t, validator.Validate(c.url, params, c.signature), "signature of %v", c.form)
		require.False(t, validator.Validate(c.url+"&x=1", params, c.signature))
		require.Equal(t, c.form.Get("MessageSid"), c.form.Get("SmsSid"))
		require.Equal(t, c.form.Get("MessageStatus"), c.form.Get("SmsStatus"))
		require.Equal(t, b.emu.AccountSID(), c.form.Get("AccountSid"))
		require.Equal(t, sender, c.form.Get("From"))
		require.Equal(t, "2010-04-01", c.form.Get("ApiVersion"))
	}

	statuses := statusesBySID(got)
	require.Equal(t, []string{"sent", "delivered"}, statuses[sids[rep]])
	require.Equal(t, []string{"sent", "undelivered"}, statuses[sids[unreachable]])
	require.Equal(t, []string{"failed"}, statuses[sids[failing]])
	for _, c := range got {
		switch c.form.Get("MessageStatus") {
		case "undelivered":
			require.Equal(t, "30003", c.form.Get("ErrorCode"))
		case "failed":
			require.Equal(t, "30005", c.form.Get("ErrorCode"))
		default:
			require.False(t, c.form.Has("ErrorCode"))
		}
	}

	final := map[string]twilioemu.Message{}
	for _, m := range b.emu.Messages() {
		final[m.To] = m
	}
	require.Equal(t, "delivered", final[rep].Status)
	require.Equal(t, "undelivered", final[unreachable].Status)
	require.Equal(t, 30003, final[unreachable].ErrorCode)
	require.Equal(t, "failed", final[failing].Status)
	require.Equal(t, 30005, final[failing].ErrorCode)

	// The emulator records a callback once the receiver has answered it.
	require.Eventually(t, func() bool { return len(b.emu.Callbacks()) == 5 }, 5*time.Second, 10*time.Millisecond)
	for _, c := range b.emu.Callbacks() {
		require.NoError(t, c.Err)
		require.Equal(t, http.StatusNoContent, c.ResponseStatus)
	}
}

func TestStatusCallbacksOutOfOrder(t *testing.T) {
	t.Parallel()
	cr := newCallbackReceiver(t)
	b := setup(t, twilioemu.Options{CallbacksOutOfOrder: true})
	for range 3 {
		_, err := b.api.CreateMessage(sms(rep, "rep").SetStatusCallback(cr.srv.URL))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return len(cr.received()) == 6 }, 5*time.Second, 10*time.Millisecond)
	for sid, statuses := range statusesBySID(cr.received()) {
		require.Equal(t, []string{"delivered", "sent"}, statuses, sid)
	}
	for _, m := range b.emu.Messages() {
		require.Equal(t, "delivered", m.Status, "a late sent does not move the message back")
	}
}

func TestStatusCallbacksDisabled(t *testing.T) {
	t.Parallel()
	cr := newCallbackReceiver(t)
	b := setup(t, twilioemu.Options{DisableCallbacks: true})
	b.emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultUndelivered})
	_, err := b.api.CreateMessage(sms(rep, "rep").SetStatusCallback(cr.srv.URL))
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, cr.received())
	require.Empty(t, b.emu.Callbacks())
	msgs := b.emu.Messages()
	require.Equal(t, "undelivered", msgs[0].Status)
	require.Equal(t, 30003, msgs[0].ErrorCode)
}

func TestStatusCallbackUnreachable(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})
	_, err := b.api.CreateMessage(sms(rep, "rep").SetStatusCallback("http://127.0.0.1:1/status"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(b.emu.Callbacks()) == 2 }, 5*time.Second, 10*time.Millisecond)
	for _, c := range b.emu.Callbacks() {
		require.Error(t, c.Err)
		require.Zero(t, c.ResponseStatus)
	}
	require.Equal(t, "delivered", b.emu.Messages()[0].Status, "Twilio does not retry a callback")
}

func TestMessagesKeepOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})
	var want []string
	for i := range 50 {
		body := "rep " + itoa(i)
		want = append(want, body)
		_, err := b.api.CreateMessage(sms(rep, body))
		require.NoError(t, err)
	}
	var got []string
	for _, m := range b.emu.Messages() {
		got = append(got, m.Body)
	}
	require.Equal(t, want, got)
}

func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	cr := newCallbackReceiver(t)
	b := setup(t, twilioemu.Options{CallbackWorkers: 2})
	const n = 200
	var wg sync.WaitGroup
	sids := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			msg, err := b.api.CreateMessage(sms(rep, "rep "+itoa(i)).SetStatusCallback(cr.srv.URL))
			if err == nil {
				sids <- *msg.Sid
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.emu.WaitForMessages(ctx, n))
	wg.Wait()
	close(sids)

	seen := map[string]bool{}
	for sid := range sids {
		require.False(t, seen[sid], "duplicate SID %s", sid)
		seen[sid] = true
	}
	require.Len(t, seen, n)
	require.Eventually(t, func() bool { return len(cr.received()) == 2*n }, 10*time.Second, 10*time.Millisecond)
}

func TestWaitForMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, twilioemu.Options{})
	_, err := b.api.CreateMessage(sms(rep, "one"))
	require.NoError(t, err)
	require.NoError(t, b.emu.WaitForMessages(context.Background(), 1))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = b.emu.WaitForMessages(ctx, 2)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "1 of 2")

	done := make(chan error, 1)
	go func() { done <- b.emu.WaitForMessages(context.Background(), 3) }()
	for _, body := range []string{"two", "three"} {
		_, err = b.api.CreateMessage(sms(rep, body))
		require.NoError(t, err)
	}
	require.NoError(t, <-done)
}

func TestHandlerOnHTTPTest(t *testing.T) {
	t.Parallel()
	emu := twilioemu.New(twilioemu.Options{})
	ts := httptest.NewServer(emu.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(emu.Close) // runs first: it releases held requests

	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	c := &client.Client{
		Credentials: client.NewCredentials(emu.AccountSID(), emu.AuthToken()),
		HTTPClient:  &http.Client{Transport: scheduler.RewriteTransport(ts.Client().Transport, target), Timeout: 5 * time.Second},
	}
	c.SetAccountSid(emu.AccountSID())
	api := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}).Api

	emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultDrop})
	_, err = api.CreateMessage(sms(rep, "dropped"))
	require.Error(t, err)
	msg, err := api.CreateMessage(sms(rep, "through httptest"))
	require.NoError(t, err)
	require.Equal(t, "queued", *msg.Status)
	require.Len(t, emu.Messages(), 1)

	// A held request ends when the emulator closes.
	emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultTimeout})
	errc := make(chan error, 1)
	go func() {
		_, err := api.CreateMessage(sms(rep, "held"))
		errc <- err
	}()
	require.NoError(t, emu.WaitForMessages(context.Background(), 2))
	emu.Close()
	require.Error(t, <-errc)
}

func TestSignature(t *testing.T) {
	t.Parallel()
	// The vector of twilio-go's own request validator tests.
	const rawURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := url.Values{
		"Digits":                {"1234"},
		"CallSid":               {"CA1234567890ABCDE"},
		"To":                    {"+18005551212"},
		"Caller":                {"+14158675309"},
		"From":                  {"+14158675309"},
		"ReasonConferenceEnded": {"test"},
		"Reason":                {"Participant"},
	}
	require.Equal(t, "vOEb5UThFn24KEfnOFLQY2AE5FY=", twilioemu.Signature("12345", rawURL, params))

	emu := twilioemu.New(twilioemu.Options{AuthToken: "12345"})
	t.Cleanup(emu.Close)
	require.Equal(t, "vOEb5UThFn24KEfnOFLQY2AE5FY=", emu.Sign(rawURL, params))

	inbound := url.Values{"MessageSid": {"SM1"}, "From": {rep}, "To": {sender}, "Body": {"STOP"}}
	req, err := emu.SignedRequest("https://morsel.example/twilio/inbound", inbound)
	require.NoError(t, err)
	require.NoError(t, req.ParseForm())
	validator := client.NewRequestValidator("12345")
	body := req.PostForm.Encode()
	require.True(t, validator.ValidateBody("https://morsel.example/twilio/inbound", []byte(body), req.Header.Get("X-Twilio-Signature")))
}

func TestRewriteTransport(t *testing.T) {
	t.Parallel()
	var gotURL, gotHost string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotURL, gotHost = r.URL.String(), r.Host
	}))
	t.Cleanup(ts.Close)

	for _, tt := range []struct{ target, want string }{
		{ts.URL, "/2010-04-01/Accounts/AC1/Messages.json?x=1"},
		{ts.URL + "/twilio/", "/twilio/2010-04-01/Accounts/AC1/Messages.json?x=1"},
	} {
		target, err := url.Parse(tt.target)
		require.NoError(t, err)
		hc := &http.Client{Transport: scheduler.RewriteTransport(ts.Client().Transport, target)}
		req, err := http.NewRequest(http.MethodGet, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1", nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, tt.want, gotURL)
		require.Equal(t, strings.TrimPrefix(ts.URL, "http://"), gotHost)
		require.Equal(t, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1", req.URL.String(), "the caller's request is unchanged")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// Example points the real twilio-go client at the emulator.
func Example() {
	emu := twilioemu.New(twilioemu.Options{})
	if err := emu.Start(); err != nil {
		panic(err)
	}
	defer emu.Close()

	target, _ := url.Parse(emu.URL())
	c := &client.Client{
		Credentials: client.NewCredentials(emu.AccountSID(), emu.AuthToken()),
		HTTPClient: &http.Client{
			Transport: scheduler.RewriteTransport(nil, target),
			Timeout:   5 * time.Second, // twilio-go calls take no context
		},
	}
	c.SetAccountSid(emu.AccountSID())
	api := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}).Api

	emu.Fail(twilioemu.Fault{Kind: twilioemu.FaultUnsubscribed, To: "+15550009999"})
	_, err := api.CreateMessage((&openapi.CreateMessageParams{}).SetTo("+15550009999").SetFrom(sender).SetBody("Rep 1"))
	var rerr *client.TwilioRestError
	if errors.As(err, &rerr) {
		fmt.Println("refused:", rerr.Code)
	}
	msg, err := api.CreateMessage((&openapi.CreateMessageParams{}).SetTo(rep).SetFrom(sender).SetBody("Rep 1"))
	if err != nil {
		panic(err)
	}
	fmt.Println(*msg.Status, len(emu.Messages()))
	// Output:
	// refused: 21610
	// queued 1
}
