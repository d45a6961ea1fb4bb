package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Received is a lesson or quiz question a rep's phone got: what a simulated
// rep (the demo's history) reacts to.
type Received struct {
	MessageID    int64
	RepID        int64
	Purpose      MessagePurpose
	Question     int // the question's index, for PurposeQuestion
	SentAt       time.Time
	Phone        string
	Token        string // the lesson link's, "" when it has none
	LessonID     int64
	Kind         LessonKind
	VideoSeconds int
}

// ReceivedSince lists the lessons and questions sent to the organisation's
// reps at or after since, in the order they were sent.
func (s *Store) ReceivedSince(ctx context.Context, orgID int64, since time.Time) ([]Received, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m.id, m.rep_id, m.purpose, coalesce(m.question, 0), m.sent_at, r.phone, coalesce(k.token, ''),
			coalesce(l.id, 0), coalesce(l.kind, ''), coalesce(l.video_seconds, 0)
		FROM messages m
		JOIN reps r ON r.id = m.rep_id
		LEFT JOIN assignments a ON a.id = m.assignment_id
		LEFT JOIN course_lessons l ON l.id = a.lesson_id
		LEFT JOIN lesson_links k ON k.assignment_id = m.assignment_id
		WHERE m.org_id = $1 AND m.direction = 'outbound' AND m.status IN ('sent', 'delivered')
			AND m.purpose IN ('lesson', 'question') AND m.sent_at >= $2
		ORDER BY m.id`, orgID, since)
	if err != nil {
		return nil, fmt.Errorf("read the messages sent since %s: %w", since.Format(time.RFC3339), err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Received, error) {
		var m Received
		return m, r.Scan(&m.MessageID, &m.RepID, &m.Purpose, &m.Question, &m.SentAt, &m.Phone, &m.Token, &m.LessonID, &m.Kind, &m.VideoSeconds)
	})
	if err != nil {
		return nil, fmt.Errorf("read the messages sent since %s: %w", since.Format(time.RFC3339), err)
	}
	return got, nil
}

// Unnudged lists up to limit sent and not yet done assignments of the
// organisation's active reps who can be texted and have had no nudge for it,
// oldest first: the ones a Nudge would text.
func (s *Store) Unnudged(ctx context.Context, orgID int64, limit int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT a.id FROM assignments a
		JOIN enrollments e ON e.id = a.enrollment_id
		JOIN reps r ON r.id = e.rep_id
		WHERE e.org_id = $1 AND a.status = 'sent' AND e.status = 'active' AND r.status = 'active'
			AND r.opted_out_at IS NULL AND r.phone_invalid_at IS NULL
			AND NOT EXISTS (SELECT FROM messages m WHERE m.assignment_id = a.id AND m.purpose = 'nudge')
		ORDER BY a.id LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list unnudged assignments: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list unnudged assignments: %w", err)
	}
	return ids, nil
}
