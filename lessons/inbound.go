package lessons

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/sms"
	"github.com/morselhq/morsel/tracking"
)

// InboundSMS is a message a rep (or anyone) sent to one of our numbers.
type InboundSMS struct {
	SID                 string // the provider's, unique: a replayed webhook has the same
	From                string // E.164
	To                  string // our number
	MessagingServiceSID string // set when the number belongs to a messaging service
	Body                string
	// OrgID and RepID, when set, name the rep a page that knew them took the
	// reply from (the lesson page, the simulator): no lookup by phone.
	OrgID, RepID int64
}

// RecordInbound stores an inbound message once per sid and reports whether
// it is new. It joins tx, the receiver's (scheduler's Receive), which queues
// the reply's processing with River's InsertTx in it: a stored reply is
// processed, and a replayed one is not queued again. The sender is the rep with that phone in the organisation
// that owns the To number or messaging service; where organisations share the
// default sender, the one that last wrote to that phone (ProcessReply then
// decides whom the reply is for). Unknown senders are stored too, without a
// rep. A message naming its rep (in.RepID) is stored as that rep's.
func (s *Store) RecordInbound(ctx context.Context, tx pgx.Tx, in InboundSMS) (int64, bool, error) {
	var orgID, repID *int64
	known := in.RepID != 0
	var err error
	if known {
		err = tx.QueryRow(ctx, `SELECT org_id, id FROM reps WHERE org_id = $1 AND id = $2 AND phone = $3`, in.OrgID, in.RepID, in.From).
			Scan(&orgID, &repID)
		if noRows(err) {
			return 0, false, errs.Errorf(errs.NotFound, "rep %d of organisation %d with phone %s not found", in.RepID, in.OrgID, in.From)
		}
	} else {
		err = tx.QueryRow(ctx, `
		SELECT o.id, r.id
		FROM organisations o
		LEFT JOIN reps r ON r.org_id = o.id AND r.phone = $1
		WHERE o.sms_from = $2 OR o.sms_messaging_service_sid = $3
			OR (o.sms_from IS NULL AND o.sms_messaging_service_sid IS NULL AND r.id IS NOT NULL)
		ORDER BY (o.sms_from = $2 OR o.sms_messaging_service_sid = $3) IS TRUE DESC,
			r.id IS NOT NULL DESC,
			(SELECT max(m.id) FROM messages m WHERE m.rep_id = r.id) DESC NULLS LAST
		LIMIT 1`, in.From, in.To, in.MessagingServiceSID).Scan(&orgID, &repID)
	}
	if err != nil && !noRows(err) {
		return 0, false, fmt.Errorf("find the sender of %s: %w", in.SID, err)
	}
	now := s.Now()
	enc, segments := sms.Segments(in.Body)
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO messages (org_id, rep_id, direction, purpose, from_number, to_number, body, encoding, segments,
			status, provider_sid, created_at, updated_at, known_sender)
		VALUES ($1, $2, 'inbound', 'reply', $3, $4, $5, $6, $7, 'received', $8, $9, $9, $10)
		ON CONFLICT (provider_sid) DO NOTHING
		RETURNING id`, orgID, repID, in.From, in.To, in.Body, enc, segments, in.SID, now, known).Scan(&id)
	if noRows(err) {
		return 0, false, nil // a replay: stored already
	}
	if err != nil {
		return 0, false, dbError(err, "inbound message")
	}
	if repID != nil {
		err := tracking.Append(ctx, tx, tracking.Event{OrgID: *orgID, RepID: *repID, Key: tracking.ReplyKey(id),
			Kind: tracking.KindReply, OccurredAt: now, Detail: tracking.ReplyDetail{MessageID: id}.String()})
		if err != nil {
			return 0, false, err
		}
	}
	return id, true, nil
}
