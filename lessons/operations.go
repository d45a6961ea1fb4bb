package lessons

import (
	"context"
	"fmt"
)

// What benchmarks and operators read and clear of an organisation's sends,
// so that the SQL on lessons' tables stays here.

// IssuedLink is a lesson link as issued: its token and the assignment it opens.
type IssuedLink struct {
	Token        string
	AssignmentID int64
}

// LessonLinks returns the lesson links issued to the organisation's reps, in
// assignment order: for a benchmark or an operator opening the lessons as the
// reps would.
func (s *Store) LessonLinks(ctx context.Context, orgID int64) ([]IssuedLink, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT k.token, k.assignment_id FROM lesson_links k
		JOIN assignments a ON a.id = k.assignment_id
		JOIN enrollments e ON e.id = a.enrollment_id
		WHERE e.org_id = $1 ORDER BY k.assignment_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("read the lesson links of organisation %d: %w", orgID, err)
	}
	defer rows.Close()
	var out []IssuedLink
	for rows.Next() {
		var l IssuedLink
		if err := rows.Scan(&l.Token, &l.AssignmentID); err != nil {
			return nil, fmt.Errorf("read the lesson links of organisation %d: %w", orgID, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the lesson links of organisation %d: %w", orgID, err)
	}
	return out, nil
}

// SendCounts are how many of an organisation's outbound messages wait to be
// sent and how many the provider accepted (their send recorded with its id).
type SendCounts struct {
	Scheduled int // status scheduled: not handed to the provider yet
	Recorded  int // outbound with the provider's message id stored
}

// SendCounts counts the organisation's outbound messages still scheduled and
// those whose send is recorded: for a benchmark waiting for its sends, or
// checking that each accepted send was stored.
func (s *Store) SendCounts(ctx context.Context, orgID int64) (SendCounts, error) {
	var c SendCounts
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'scheduled'),
			count(*) FILTER (WHERE direction = 'outbound' AND provider_sid IS NOT NULL)
		FROM messages WHERE org_id = $1`, orgID).Scan(&c.Scheduled, &c.Recorded)
	if err != nil {
		return SendCounts{}, fmt.Errorf("count the messages of organisation %d: %w", orgID, err)
	}
	return c, nil
}

// JobKinds names queue job kinds by the id their arguments carry: a job of a
// Message kind has args {"message_id": …}, and so on. Lessons does not know
// the queue's kinds; the scheduler, which defines them, says which they are.
type JobKinds struct {
	Message    []string // args carry message_id
	Assignment []string // args carry assignment_id
	Enrollment []string // args carry enrollment_id
}

// DeleteQueuedJobs deletes the queue's jobs (River's river_job rows, in any
// state) of the given kinds whose arguments name a message, an assignment or
// an enrollment of the organisation, and returns how many it deleted. It is
// for benchmarks and operations clearing an organisation's pending sends,
// nudges and reminders, so that no worker runs them later; the messages,
// assignments and enrollments themselves are left as they are.
func (s *Store) DeleteQueuedJobs(ctx context.Context, orgID int64, kinds JobKinds) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM river_job WHERE
			(kind = ANY($2) AND (args->>'message_id')::bigint IN (SELECT id FROM messages WHERE org_id = $1))
			OR (kind = ANY($3) AND (args->>'assignment_id')::bigint IN (
				SELECT a.id FROM assignments a JOIN enrollments e ON e.id = a.enrollment_id WHERE e.org_id = $1))
			OR (kind = ANY($4) AND (args->>'enrollment_id')::bigint IN (SELECT id FROM enrollments WHERE org_id = $1))`,
		orgID, kinds.Message, kinds.Assignment, kinds.Enrollment)
	if err != nil {
		return 0, fmt.Errorf("delete the queued jobs of organisation %d: %w", orgID, err)
	}
	return tag.RowsAffected(), nil
}
