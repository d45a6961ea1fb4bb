package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Twilio sends through Twilio's Messages API with twilio-go, or through a
// Twilio-compatible API (an emulator) when APIURL is set.
type Twilio struct {
	rest *twilio.RestClient
}

// TwilioConfig is what the Twilio sender needs.
type TwilioConfig struct {
	AccountSID string
	AuthToken  string
	APIURL     string        // "" for Twilio itself
	Timeout    time.Duration // per request; default 10 s
	// MaxConns is how many idle connections to the API are kept (default
	// 1,000, one per default send worker): a request that finds none dials
	// (and in production shakes hands) anew.
	MaxConns int
}

// NewTwilio returns a Twilio sender.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1000
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.MaxConns
	transport.MaxIdleConns = cfg.MaxConns
	var rt http.RoundTripper = transport
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("TWILIO_API_URL %q is not a URL", cfg.APIURL)
		}
		rt = RewriteTransport(transport, u)
	}
	rt = statusTransport{base: rt}
	c := &client.Client{
		Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken),
		HTTPClient:  &http.Client{Timeout: cfg.Timeout, Transport: rt},
	}
	c.SetAccountSid(cfg.AccountSID)
	return &Twilio{rest: twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})}, nil
}

// Send creates the message. twilio-go takes no context; the HTTP client's
// timeout bounds the call.
func (t *Twilio) Send(ctx context.Context, m SMS) (Accepted, error) {
	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(m.Body)
	if m.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(m.MessagingServiceSID)
	} else {
		p.SetFrom(m.From)
	}
	if m.StatusCallback != "" {
		p.SetStatusCallback(m.StatusCallback)
	}
	resp, err := t.rest.Api.CreateMessage(p)
	if err != nil {
		return Accepted{}, classifyTwilio(err)
	}
	if resp.Sid == nil || *resp.Sid == "" {
		return Accepted{}, &SendError{Kind: Ambiguous, Message: "Twilio answered without a message sid"}
	}
	return Accepted{SID: *resp.Sid}, nil
}

// Find lists the messages to the same number since `since` (Twilio filters
// by day) and returns the sids of those with the same body and sender,
// oldest first.
func (t *Twilio) Find(ctx context.Context, m SMS, since time.Time) ([]string, error) {
	p := &openapi.ListMessageParams{}
	p.SetTo(m.To)
	p.SetDateSentAfter(since.UTC().Truncate(24 * time.Hour))
	p.SetPageSize(100)
	p.SetLimit(500)
	msgs, err := t.rest.Api.ListMessage(p)
	if err != nil {
		return nil, classifyTwilio(err)
	}
	var sids []string
	for _, got := range slices.Backward(msgs) { // Twilio lists the newest first
		if got.Body == nil || *got.Body != m.Body || got.Sid == nil {
			continue
		}
		if m.From != "" && (got.From == nil || *got.From != m.From) {
			continue
		}
		sids = append(sids, *got.Sid)
	}
	return sids, nil
}

// classifyTwilio turns a twilio-go error into a *SendError, from the typed
// errors it wraps, never from its wording. An error answer (Twilio's own or a
// gateway's in front of it) is Transient when its status says the request was
// refused (5xx, 429) and Permanent when Twilio refused the message itself
// (4xx); a 504 is Ambiguous, as a gateway answers it when Twilio took too long,
// perhaps after taking the message. An attempt with no answer (a timeout, a
// dropped connection) is Ambiguous, one that never connected Transient.
func classifyTwilio(err error) *SendError {
	var re *client.TwilioRestError
	if errors.As(err, &re) {
		kind := Permanent
		switch {
		case re.Status == http.StatusGatewayTimeout:
			kind = Ambiguous
		case re.Status >= 500 || re.Status == http.StatusTooManyRequests || re.Code == 20429:
			kind = Transient
		}
		return &SendError{Kind: kind, Code: re.Code, Message: re.Message, Err: err}
	}
	var se *httpStatusError
	if errors.As(err, &se) {
		// Not Twilio's answer: which request it refused, and how far it got,
		// is unknown but for a server error that says it failed.
		kind := Ambiguous
		if se.Status >= 500 && se.Status != http.StatusGatewayTimeout {
			kind = Transient
		}
		return &SendError{Kind: kind, Message: se.Error(), Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &SendError{Kind: Ambiguous, Message: "Twilio did not answer in time", Err: err}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &SendError{Kind: Transient, Message: "cannot connect to Twilio: " + oe.Err.Error(), Err: err}
	}
	return &SendError{Kind: Ambiguous, Message: err.Error(), Err: err}
}

// httpStatusError is an error answer without a Twilio error body, such as a
// load balancer's HTML page for a 502. twilio-go reports one only in its
// error's wording ("... for an HTTP error code: 502"), so statusTransport
// returns this instead, for classifyTwilio to read the status as data.
type httpStatusError struct {
	Status int
	Body   string // the start of the answer's body
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("answered %d %s without a Twilio error body: %q", e.Status, http.StatusText(e.Status), e.Body)
}

// maxErrorBody bounds how much of an error answer statusTransport reads; a
// Twilio error body is a few hundred bytes.
const maxErrorBody = 64 << 10

// statusTransport passes Twilio's error answers on to twilio-go, which decodes
// them into a *client.TwilioRestError with the HTTP status, and turns any other
// error answer into an *httpStatusError (wrapped by http.Client in a
// *url.Error). It decodes a body as twilio-go does, and takes it for
// Twilio's only if the status in it is the answer's.
type statusTransport struct{ base http.RoundTripper }

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || (res.StatusCode >= 200 && res.StatusCode < 400) { // twilio-go's test of an error answer
		return res, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxErrorBody+1))
	_ = res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the body of a %d answer: %w", res.StatusCode, err)
	}
	var re client.TwilioRestError
	if len(body) <= maxErrorBody && json.NewDecoder(bytes.NewReader(body)).Decode(&re) == nil && re.Status == res.StatusCode {
		res.Body = io.NopCloser(bytes.NewReader(body))
		return res, nil
	}
	return nil, &httpStatusError{Status: res.StatusCode, Body: string(body[:min(len(body), 200)])}
}
