package twilioemu

import "time"

// FaultKind is what goes wrong with a create request a Fault applies to.
type FaultKind int

// The kinds of fault. Those named after an HTTP status answer with it and a
// Twilio error body; the delivery ones accept the message (201) and change
// how its status callbacks end.
const (
	// FaultServerError answers 500 with code 20500.
	FaultServerError FaultKind = iota + 1
	// FaultUnavailable answers 503 with code 20503.
	FaultUnavailable
	// FaultBadGateway answers 502 with an HTML body, as a load balancer in
	// front of Twilio does; twilio-go then fails to decode it and returns
	// a plain error, not a *client.TwilioRestError.
	FaultBadGateway
	// FaultRateLimited answers 429 with code 20429.
	FaultRateLimited
	// FaultTimeout accepts the message (it counts as sent and gets its
	// callbacks), then holds the response for Fault.Delay before answering
	// 201; with no Delay it never answers and waits for the client to give
	// up. The client times out although Twilio sent the message. A Delay
	// shorter than the client's timeout injects latency instead.
	FaultTimeout
	// FaultDrop closes the connection without answering; no message is
	// created.
	FaultDrop
	// FaultAcceptThenDrop creates the message (it counts as sent and gets
	// its callbacks), then closes the connection without answering.
	FaultAcceptThenDrop
	// FaultUnsubscribed answers 400 with code 21610: the recipient replied
	// STOP.
	FaultUnsubscribed
	// FaultInvalidNumber answers 400 with code 21211: the To number is not a
	// valid phone number.
	FaultInvalidNumber
	// FaultNotMobile answers 400 with code 21614: the To number is not a
	// mobile number (a landline, say).
	FaultNotMobile
	// FaultRESTError answers Fault.HTTPStatus (400 when zero) with
	// Fault.Code and Fault.Message, for codes without a kind of their own.
	FaultRESTError
	// FaultUndelivered accepts the message; its callbacks are "sent", then
	// "undelivered" with Fault.Code (30003, unreachable handset, when zero).
	FaultUndelivered
	// FaultFailed accepts the message; its one callback is "failed" with
	// Fault.Code (30008, unknown error, when zero).
	FaultFailed
	// FaultGatewayTimeout creates the message (it counts as sent and gets
	// its callbacks), then answers 504 with an HTML body, as a load
	// balancer in front of Twilio does when Twilio answers it too late:
	// the client hears an error although Twilio sent the message.
	FaultGatewayTimeout
)

var faultNames = [...]string{
	FaultServerError:    "server-error",
	FaultUnavailable:    "unavailable",
	FaultBadGateway:     "bad-gateway",
	FaultRateLimited:    "rate-limited",
	FaultTimeout:        "timeout",
	FaultDrop:           "drop",
	FaultAcceptThenDrop: "accept-then-drop",
	FaultUnsubscribed:   "unsubscribed",
	FaultInvalidNumber:  "invalid-number",
	FaultNotMobile:      "not-mobile",
	FaultRESTError:      "rest-error",
	FaultUndelivered:    "undelivered",
	FaultFailed:         "failed",
	FaultGatewayTimeout: "gateway-timeout",
}

func (k FaultKind) String() string {
	if k > 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "unknown"
}

// Fault is a fault to inject into the next create requests: those that pass
// authentication and validation and, when To is set, are sent to To.
type Fault struct {
	Kind  FaultKind
	To    string // only requests to this number; any number when empty
	Times int    // how many requests it applies to; 1 when zero

	Delay time.Duration // FaultTimeout: how long to hold the response

	HTTPStatus int    // FaultRESTError: the HTTP status, 400 when zero
	Code       int    // FaultRESTError: the Twilio error code; delivery faults: the ErrorCode
	Message    string // FaultRESTError: the error message
}

// Fail queues f. Faults apply in the order they were queued: each create
// request takes the first queued fault that matches its To number. It panics
// if f.Kind is not one of the kinds above.
func (s *Server) Fail(f Fault) {
	if f.Kind <= 0 || int(f.Kind) >= len(faultNames) {
		panic("twilioemu: Fail: unknown FaultKind")
	}
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	s.faultCount.Store(int64(len(s.faults)))
}

// takeFault returns the fault the create request to to takes, if any.
func (s *Server) takeFault(to string) (Fault, bool) {
	if s.faultCount.Load() == 0 {
		return Fault{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.To != "" && f.To != to {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			s.faultCount.Store(int64(len(s.faults)))
		}
		return *f, true
	}
	return Fault{}, false
}

// outcome is how a message's delivery ends: its final status and error code.
type outcome struct {
	status string
	code   int
}

var delivered = outcome{status: "delivered"}

// outcomeOf returns how the delivery of a message that took f ends.
func outcomeOf(f Fault) outcome {
	switch f.Kind {
	case FaultUndelivered:
		return outcome{status: "undelivered", code: orDefault(f.Code, 30003)}
	case FaultFailed:
		return outcome{status: "failed", code: orDefault(f.Code, 30008)}
	}
	return delivered
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
