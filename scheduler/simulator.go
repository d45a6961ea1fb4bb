package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Simulator is the sender used without Twilio credentials: messages stay in
// the app (they are rows already) and the phone simulator page shows them, so
// a demo works offline. Every message counts as delivered at once.
type Simulator struct{}

// Send accepts the message with a simulator sid ("SIM" and 32 hex digits).
func (Simulator) Send(context.Context, SMS) (Accepted, error) {
	b := make([]byte, 16)
	rand.Read(b)
	return Accepted{SID: "SIM" + hex.EncodeToString(b), Delivered: true}, nil
}

// Find never finds anything: the simulator never fails half-way.
func (Simulator) Find(context.Context, SMS, time.Time) ([]string, error) { return nil, nil }
