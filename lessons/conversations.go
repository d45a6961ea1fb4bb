package lessons

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
)

// A conversation is every message between Morsel and one rep, in and out,
// in the order the rep's phone shows them: by when each went out (or, until
// then, is due to), or for a reply, when it arrived.

// conversationColumns are the columns scanConversationMessage reads, from messages m.
const conversationColumns = `m.id, coalesce(m.org_id, 0), coalesce(m.rep_id, 0), coalesce(m.enrollment_id, 0),
	coalesce(m.assignment_id, 0), coalesce(m.question, 0), m.direction = 'outbound', m.purpose, m.body,
	m.encoding, m.segments, m.status, coalesce(m.provider_sid, ''), coalesce(m.error_code, 0), m.error_message,
	m.scheduled_at, m.created_at, m.sent_at, m.delivered_at`

// conversationTimeSQL is when a message happened, as the conversation orders them.
const conversationTimeSQL = `coalesce(m.sent_at, m.scheduled_at, m.created_at)`

func scanConversationMessage(row pgx.Row) (Message, error) {
	var m Message
	var scheduledAt *time.Time
	err := row.Scan(&m.ID, &m.OrgID, &m.RepID, &m.EnrollmentID, &m.AssignmentID, &m.Question, &m.Outbound,
		&m.Purpose, &m.Body, &m.Encoding, &m.Segments, &m.Status, &m.ProviderSID, &m.ErrorCode, &m.ErrorMessage,
		&scheduledAt, &m.CreatedAt, &m.SentAt, &m.DeliveredAt)
	if scheduledAt != nil {
		m.ScheduledAt = *scheduledAt
	}
	return m, err
}

// Conversation returns the last limit (at most 1,000) of the rep's messages,
// in and out, oldest first. A rep of another organisation is NotFound.
func (s *Store) Conversation(ctx context.Context, orgID, repID int64, limit int) ([]Message, error) {
	limit = min(max(limit, 1), 1000)
	msgs, err := s.repMessageRows(ctx, orgID, repID, `SELECT `+conversationColumns+` FROM messages m
		WHERE m.org_id = $1 AND m.rep_id = $2
		ORDER BY `+conversationTimeSQL+` DESC, m.id DESC LIMIT $3`, orgID, repID, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// MessageFilter pages through a rep's messages by id.
type MessageFilter struct {
	AfterID int64 // only messages with a larger id
	Limit   int   // page size: 0 or less means 100, more than 1,000 means 1,000
}

// RepMessages returns a page of the rep's messages, in and out, by id: the
// order they were created in. A rep of another organisation is NotFound.
func (s *Store) RepMessages(ctx context.Context, orgID, repID int64, f MessageFilter) ([]Message, error) {
	return s.repMessageRows(ctx, orgID, repID, `SELECT `+conversationColumns+` FROM messages m
		WHERE m.org_id = $1 AND m.rep_id = $2 AND m.id > $3
		ORDER BY m.id LIMIT $4`, orgID, repID, f.AfterID, pageLimit(f.Limit))
}

// repMessageRows runs a query for messages of the rep; when it finds none, it
// tells an unknown rep (NotFound) from one without messages.
func (s *Store) repMessageRows(ctx context.Context, orgID, repID int64, sql string, args ...any) ([]Message, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read the messages of rep %d: %w", repID, err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) { return scanConversationMessage(r) })
	if err != nil {
		return nil, fmt.Errorf("read the messages of rep %d: %w", repID, err)
	}
	if len(msgs) > 0 {
		return msgs, nil
	}
	var exists bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM reps WHERE org_id = $1 AND id = $2)`, orgID, repID).Scan(&exists)
	if err != nil {
		return nil, fmt.Errorf("find rep %d: %w", repID, err)
	}
	if !exists {
		return nil, errs.Errorf(errs.NotFound, "rep %d not found", repID)
	}
	return []Message{}, nil
}

// ConversationSummary is a rep with the last message of their conversation.
type ConversationSummary struct {
	RepID    int64
	OrgID    int64
	Name     string
	Phone    string
	TimeZone string
	// The last message, as the end of Conversation shows it.
	LastBody     string
	LastOutbound bool
	LastStatus   MessageStatus
	LastAt       time.Time
	// How many messages the rep sent (Inbound) and was sent or is due to be
	// sent (Outbound).
	Inbound  int
	Outbound int
}

// Conversations lists the organisation's reps who have messages, with the
// last of them, newest first: at most limit (1 to 1,000) of them.
func (s *Store) Conversations(ctx context.Context, orgID int64, limit int) ([]ConversationSummary, error) {
	limit = min(max(limit, 1), 1000)
	rows, err := s.pool.Query(ctx, `
		SELECT r.id, r.org_id, r.name, r.phone, r.time_zone, last.body, last.outbound, last.status, last.at,
			counts.inbound, counts.outbound
		FROM reps r
		JOIN LATERAL (
			SELECT count(*) FILTER (WHERE m.direction = 'inbound') AS inbound,
				count(*) FILTER (WHERE m.direction = 'outbound') AS outbound
			FROM messages m WHERE m.org_id = r.org_id AND m.rep_id = r.id
		) counts ON counts.inbound + counts.outbound > 0
		JOIN LATERAL (
			SELECT m.body, m.direction = 'outbound' AS outbound, m.status, `+conversationTimeSQL+` AS at
			FROM messages m WHERE m.org_id = r.org_id AND m.rep_id = r.id
			ORDER BY `+conversationTimeSQL+` DESC, m.id DESC LIMIT 1
		) last ON true
		WHERE r.org_id = $1
		ORDER BY last.at DESC, r.id DESC
		LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConversationSummary, error) {
		var c ConversationSummary
		return c, r.Scan(&c.RepID, &c.OrgID, &c.Name, &c.Phone, &c.TimeZone, &c.LastBody, &c.LastOutbound, &c.LastStatus,
			&c.LastAt, &c.Inbound, &c.Outbound)
	})
}
