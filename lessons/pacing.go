package lessons

import (
	"context"
	"fmt"
	"time"
)

// SenderNextSlot returns when the sender (a From number or a messaging
// service) may next send, as its reservations stand: zero when it has none.
func (s *Store) SenderNextSlot(ctx context.Context, sender string) (time.Time, error) {
	var next time.Time
	err := s.pool.QueryRow(ctx, `SELECT next_slot FROM sender_pacing WHERE sender = $1`, sender).Scan(&next)
	if err != nil && !noRows(err) {
		return time.Time{}, fmt.Errorf("read pacing of %s: %w", sender, err)
	}
	return next, nil
}

// ReserveSendSlot reserves the sender's next slot, at now or after the last
// one reserved, each interval after the one before, in one statement (every
// sending process shares the reservations), and returns the slot's start.
func (s *Store) ReserveSendSlot(ctx context.Context, sender string, now time.Time, interval time.Duration) (time.Time, error) {
	var slot time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO sender_pacing (sender, next_slot) VALUES ($1, $2::timestamptz + $3::interval)
		ON CONFLICT (sender) DO UPDATE SET next_slot = greatest(sender_pacing.next_slot, $2) + $3::interval
		RETURNING next_slot - $3::interval`, sender, now, interval).Scan(&slot)
	if err != nil {
		return time.Time{}, fmt.Errorf("reserve a slot for %s: %w", sender, err)
	}
	return slot, nil
}
