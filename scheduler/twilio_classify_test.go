package scheduler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"

	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// The Twilio sender's failures, as the emulator produces them, classified
// from the typed errors they carry: an answer that refuses the request is
// Transient, one that refuses the message Permanent, and one after which the
// message may have been taken (no answer, a gateway's 504) Ambiguous.
func TestClassifyTwilioEmulatorFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    twilioemu.Fault
		kind     FailureKind
		code     int
		accepted int // messages the emulator took
	}{
		{"500", twilioemu.Fault{Kind: twilioemu.FaultServerError}, Transient, 20500, 0},
		{"503", twilioemu.Fault{Kind: twilioemu.FaultUnavailable}, Transient, 20503, 0},
		{"500 in other words", twilioemu.Fault{Kind: twilioemu.FaultRESTError, HTTPStatus: 500, Code: 20001, Message: "upstream exploded"}, Transient, 20001, 0},
		{"429", twilioemu.Fault{Kind: twilioemu.FaultRateLimited}, Transient, 20429, 0},
		{"502 from a load balancer", twilioemu.Fault{Kind: twilioemu.FaultBadGateway}, Transient, 0, 0},
		{"accepted, then 504 from a load balancer", twilioemu.Fault{Kind: twilioemu.FaultGatewayTimeout}, Ambiguous, 0, 1},
		{"400 unsubscribed", twilioemu.Fault{Kind: twilioemu.FaultUnsubscribed}, Permanent, 21610, 0},
		{"400 region not enabled", twilioemu.Fault{Kind: twilioemu.FaultRESTError, HTTPStatus: 400, Code: 21408, Message: "Permission to send an SMS has not been enabled"}, Permanent, 21408, 0},
		{"connection dropped", twilioemu.Fault{Kind: twilioemu.FaultDrop}, Ambiguous, 0, 0},
		{"accepted, then the connection dropped", twilioemu.Fault{Kind: twilioemu.FaultAcceptThenDrop}, Ambiguous, 0, 1},
		{"accepted, no answer in time", twilioemu.Fault{Kind: twilioemu.FaultTimeout}, Ambiguous, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := twilioemu.New(twilioemu.Options{DisableCallbacks: true})
			require.NoError(t, emu.Start())
			t.Cleanup(emu.Close)
			tw, err := NewTwilio(TwilioConfig{AccountSID: emu.AccountSID(), AuthToken: emu.AuthToken(),
				APIURL: emu.URL(), Timeout: 300 * time.Millisecond})
			require.NoError(t, err)
			m := SMS{From: "+15005550006", To: "+12125550123", Body: "Lesson 1"}

			emu.Fail(tt.fault)
			_, err = tw.Send(context.Background(), m)
			var se *SendError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.kind, se.Kind, "%v", err)
			require.Equal(t, tt.code, se.Code)
			require.Len(t, emu.Messages(), tt.accepted)

			// The sender's transport passes a good answer on untouched.
			acc, err := tw.Send(context.Background(), m)
			require.NoError(t, err)
			require.NotEmpty(t, acc.SID)
			require.Len(t, emu.Messages(), tt.accepted+1)
		})
	}
}

// The classifier reads the status from typed errors, never from an error's
// wording.
func TestClassifyTwilioErrors(t *testing.T) {
	t.Parallel()
	post := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", Err: err}
	}
	tests := []struct {
		name string
		err  error
		kind FailureKind
		code int
	}{
		{"Twilio's 500", &client.TwilioRestError{Status: 500, Code: 20500, Message: "Internal Server Error"}, Transient, 20500},
		{"Twilio's 503, wrapped", fmt.Errorf("create message: %w", &client.TwilioRestError{Status: 503, Code: 20503, Message: "Service Unavailable"}), Transient, 20503},
		{"Twilio's 429", &client.TwilioRestError{Status: 429, Code: 20429, Message: "Too Many Requests"}, Transient, 20429},
		{"Twilio's 504", &client.TwilioRestError{Status: 504, Code: 20504, Message: "Gateway Timeout"}, Ambiguous, 20504},
		{"Twilio's 400", &client.TwilioRestError{Status: 400, Code: 21211, Message: "The 'To' number is not a valid phone number."}, Permanent, 21211},
		{"Twilio's 404", &client.TwilioRestError{Status: 404, Code: 20404, Message: "The requested resource was not found"}, Permanent, 20404},
		{"a proxy's 502", post(&httpStatusError{Status: 502, Body: "<html>Bad Gateway</html>"}), Transient, 0},
		{"a proxy's 503", post(&httpStatusError{Status: 503}), Transient, 0},
		{"a proxy's 504", post(&httpStatusError{Status: 504}), Ambiguous, 0},
		{"a proxy's 403", post(&httpStatusError{Status: 403}), Ambiguous, 0},
		{"a 5xx in words only", errors.New("error decoding the response for an HTTP error code: 500: invalid character '<'"), Ambiguous, 0},
		{"connection refused", post(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), Transient, 0},
		{"connection reset", post(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), Ambiguous, 0},
		{"timeout", post(timeoutError{}), Ambiguous, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			se := classifyTwilio(tt.err)
			require.Equal(t, tt.kind, se.Kind)
			require.Equal(t, tt.code, se.Code)
			require.ErrorIs(t, se, tt.err)
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
