package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// RecordStatus applies a provider status callback. Callbacks arrive out of
// order: a status never replaces one that is further along. A callback for a
// sid not yet recorded (it can overtake the send's own commit) is kept and
// applied when the sid is (lockSIDs says why none is left behind). It
// reports whether the message changed.
func (s *Store) RecordStatus(ctx context.Context, sid string, status MessageStatus, code int, reason string) (bool, error) {
	rank, ok := statusRank[status]
	if !ok || status == MessageScheduled || status == MessageCancelled {
		return false, errs.Errorf(errs.Invalid, "%q is not a delivery status", status)
	}
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		if err := lockSIDs(ctx, tx, sid); err != nil {
			return err
		}
		var d delivery
		err := tx.QueryRow(ctx, `
			UPDATE messages SET status = $2, error_code = nullif($3, 0), error_message = $4, updated_at = $5,
				delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
			WHERE provider_sid = $1 AND `+rankSQL+` < $6
			RETURNING `+deliveryColumns, sid, status, code, reason, now, rank).Scan(d.dest()...)
		if noRows(err) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM messages WHERE provider_sid = $1)`, sid).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				_, err := tx.Exec(ctx, `
					INSERT INTO early_statuses (provider_sid, status, error_code, error_message, rank, received_at)
					VALUES ($1, $2, $3, $4, $5, $6)
					ON CONFLICT (provider_sid) DO UPDATE SET status = excluded.status, error_code = excluded.error_code,
						error_message = excluded.error_message, rank = excluded.rank
					WHERE early_statuses.rank < excluded.rank`, sid, status, code, reason, rank, now)
				return err
			}
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		return d.record(ctx, tx, status, code, reason, now)
	})
	if err != nil {
		return false, fmt.Errorf("record status of %s: %w", sid, err)
	}
	return changed, nil
}

// lockSIDs takes a transaction-long lock on each provider sid, in one order.
// The send that records a sid and a status callback for it take the same
// lock, so that the callback either commits first and is parked, where the
// send's next statement finds it, or waits for the send to commit and then
// finds the message. Without it a callback arriving between the two parks
// itself after the send looked and is never applied.
func lockSIDs(ctx context.Context, tx pgx.Tx, sids ...string) error {
	_, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(hashtextextended(s, 0)))
		FROM (SELECT DISTINCT s FROM unnest($1::text[]) s ORDER BY s) q`, sids)
	if err != nil {
		return fmt.Errorf("lock %d provider sids: %w", len(sids), err)
	}
	return nil
}

// applyEarlyStatuses applies the status callbacks that arrived before their
// sids were stored.
func applyEarlyStatuses(ctx context.Context, tx pgx.Tx, sids []string) error {
	rows, err := tx.Query(ctx, `DELETE FROM early_statuses WHERE provider_sid = ANY($1)
		RETURNING provider_sid, status, error_code, error_message, received_at`, sids)
	if err != nil {
		return fmt.Errorf("read early statuses: %w", err)
	}
	type early struct {
		sid, reason string
		status      MessageStatus
		code        int
		at          time.Time
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (early, error) {
		var e early
		return e, r.Scan(&e.sid, &e.status, &e.code, &e.reason, &e.at)
	})
	if err != nil {
		return fmt.Errorf("read early statuses: %w", err)
	}
	for _, e := range found {
		var d delivery
		err = tx.QueryRow(ctx, `
			UPDATE messages SET status = $2, error_code = nullif($3, 0), error_message = $4, updated_at = $5,
				delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
			WHERE provider_sid = $1 RETURNING `+deliveryColumns, e.sid, e.status, e.code, e.reason, e.at).Scan(d.dest()...)
		if err != nil {
			return fmt.Errorf("apply early status of %s: %w", e.sid, err)
		}
		if err := d.record(ctx, tx, e.status, e.code, e.reason, e.at); err != nil {
			return err
		}
	}
	return nil
}

// delivery is a message whose delivery status changed.
type delivery struct {
	id, orgID, repID           int64
	enrollmentID, assignmentID *int64
}

const deliveryColumns = `id, org_id, rep_id, enrollment_id, assignment_id`

func (d *delivery) dest() []any {
	return []any{&d.id, &d.orgID, &d.repID, &d.enrollmentID, &d.assignmentID}
}

// record writes the event of a final delivery status and what it means for the rep.
func (d *delivery) record(ctx context.Context, tx pgx.Tx, status MessageStatus, code int, reason string, at time.Time) error {
	kind := tracking.KindMessageFailed
	switch status {
	case MessageDelivered:
		kind = tracking.KindMessageDelivered
	case MessageUndelivered, MessageFailed:
	default:
		return nil // not final yet
	}
	detail := tracking.MessageStatusDetail{Status: string(status), ErrorCode: code}.String()
	if err := tracking.Append(ctx, tx, messageEvent(kind, d.id, d.orgID, d.repID, d.enrollmentID, d.assignmentID, at, detail)); err != nil {
		return err
	}
	return repUnreachable(ctx, tx, d.repID, code, reason, at)
}
