package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/morselhq/morsel/lessons"
)

// ReplyArgs is the job that acts on one inbound message: keywords, grading,
// feedback. Webhooks only store the message and insert this job.
type ReplyArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind names the job for River.
func (ReplyArgs) Kind() string { return "process_reply" }

// InsertOpts puts replies on their own queue, so a backlog of sends does not
// delay feedback.
func (ReplyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReplies, MaxAttempts: 10}
}

// Receive stores an inbound message and queues its processing in one
// transaction. A replayed message (same sid) changes nothing.
func (s *Scheduler) Receive(ctx context.Context, in lessons.InboundSMS) error {
	return s.store.InTx(ctx, func(tx pgx.Tx) error {
		id, isNew, err := s.store.RecordInbound(ctx, tx, in)
		if err != nil || !isNew {
			return err
		}
		if _, err := s.client.InsertTx(ctx, tx, ReplyArgs{MessageID: id}, nil); err != nil {
			return fmt.Errorf("queue reply %d: %w", id, err)
		}
		return nil
	})
}

type replyWorker struct {
	river.WorkerDefaults[ReplyArgs]
	s *Scheduler
}

func (w *replyWorker) Timeout(*river.Job[ReplyArgs]) time.Duration { return 30 * time.Second }

func (w *replyWorker) Work(ctx context.Context, job *river.Job[ReplyArgs]) error {
	return inJobTx(w.s, ctx, job, func(tx pgx.Tx) ([]lessons.Step, error) {
		return w.s.store.ProcessReply(ctx, tx, job.Args.MessageID)
	})
}
