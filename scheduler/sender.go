package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SMS is one outbound text as a provider takes it.
type SMS struct {
	From                string // a From number, or
	MessagingServiceSID string // a messaging service
	To                  string
	Body                string
	StatusCallback      string // where the provider posts delivery statuses
}

// Accepted is the provider's answer to a message it took.
type Accepted struct {
	SID       string
	Delivered bool // the sender knows it was delivered (the simulator)
}

// Sender hands messages to an SMS provider.
type Sender interface {
	// Send hands over one message; its errors are *SendError.
	Send(ctx context.Context, m SMS) (Accepted, error)
	// Find looks for messages like m (the same text to the same number from
	// the same sender) that the provider accepted since `since`, for an
	// attempt we never heard the answer of (a timeout, a dropped connection),
	// so that a retry does not send it twice. It returns their sids, oldest
	// first (none: not sent): an identical text sent earlier the same day
	// (two answers both told "Correct!") is among them, and the scheduler
	// takes the first that no message has.
	Find(ctx context.Context, m SMS, since time.Time) ([]string, error)
}

// FailureKind says what a failed send means for the next attempt.
type FailureKind int

// The kinds of send failure.
const (
	// Transient: the provider did not take the message (5xx, 429, refused
	// connection); sending again is safe.
	Transient FailureKind = iota
	// Ambiguous: the provider may have taken the message (a timeout, a
	// connection dropped after the request went out); look before sending again.
	Ambiguous
	// Permanent: the provider refused the message for good (opted out, invalid
	// number); do not retry.
	Permanent
)

func (k FailureKind) String() string {
	return [...]string{"transient", "ambiguous", "permanent"}[k]
}

// SendError is a failed send.
type SendError struct {
	Kind    FailureKind
	Code    int // the provider's error code, when it gave one
	Message string
	Err     error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s send failure: error %d: %s", e.Kind, e.Code, e.Message)
	}
	return fmt.Sprintf("%s send failure: %s", e.Kind, e.Message)
}

func (e *SendError) Unwrap() error { return e.Err }

// failureOf classifies err; errors that are not *SendError are ambiguous.
func failureOf(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Kind: Ambiguous, Message: err.Error(), Err: err}
}
