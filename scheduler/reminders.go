package scheduler

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/morselhq/morsel/lessons"
)

// NudgeArgs is the job that nudges a rep about a sent lesson not yet done.
type NudgeArgs struct {
	AssignmentID int64 `json:"assignment_id"`
}

// Kind names the job for River.
func (NudgeArgs) Kind() string { return "nudge" }

// InsertOpts: one nudge job per assignment, however many questions it sends.
func (NudgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RemindArgs is the job that reminds a rep of a near due date, or with
// DaysBefore 0 flags the enrollment overdue.
type RemindArgs struct {
	EnrollmentID int64 `json:"enrollment_id"`
	DaysBefore   int   `json:"days_before"`
}

// Kind names the job for River.
func (RemindArgs) Kind() string { return "remind_due" }

// InsertOpts puts reminders on the maintenance queue.
func (RemindArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 10}
}

// queueNudges queues the nudges for the lessons and questions just sent: after
// NudgeAfter, moved into the send window.
func (s *Scheduler) queueNudges(ctx context.Context, tx pgx.Tx, sent []acceptance) error {
	if s.cfg.NudgeAfter <= 0 {
		return nil
	}
	var params []river.InsertManyParams
	queued := map[int64]bool{} // a quiz's questions go out together: one nudge for them
	for _, a := range sent {
		if a.o.AssignmentID == 0 || (a.o.Purpose != lessons.PurposeLesson && a.o.Purpose != lessons.PurposeQuestion) || queued[a.o.AssignmentID] {
			continue
		}
		queued[a.o.AssignmentID] = true
		at := lessons.InWindow(a.o.Window, a.loc, s.cfg.Now().Add(s.cfg.NudgeAfter))
		params = append(params, river.InsertManyParams{Args: NudgeArgs{AssignmentID: a.o.AssignmentID},
			InsertOpts: &river.InsertOpts{ScheduledAt: at}})
	}
	// A quiz's second question finds the first one's nudge queued: NudgeArgs
	// is unique, and insert skips the one that exists.
	return s.jobs.insert(ctx, tx, params, "nudge")
}

type nudgeWorker struct {
	river.WorkerDefaults[NudgeArgs]
	s *Scheduler
}

func (w *nudgeWorker) Work(ctx context.Context, job *river.Job[NudgeArgs]) error {
	return inJobTx(w.s, ctx, job, func(tx pgx.Tx) ([]lessons.Step, error) {
		return w.s.store.Nudge(ctx, tx, job.Args.AssignmentID)
	})
}

type remindWorker struct {
	river.WorkerDefaults[RemindArgs]
	s *Scheduler
}

func (w *remindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	return inJobTx(w.s, ctx, job, func(tx pgx.Tx) ([]lessons.Step, error) {
		return w.s.store.RemindDue(ctx, tx, lessons.Reminder{EnrollmentID: job.Args.EnrollmentID, DaysBefore: job.Args.DaysBefore})
	})
}

// inJobTx runs fn, queues the messages it returns and completes the job, all
// in one transaction.
func inJobTx[T river.JobArgs](s *Scheduler, ctx context.Context, job *river.Job[T], fn func(pgx.Tx) ([]lessons.Step, error)) error {
	return s.store.InTx(ctx, func(tx pgx.Tx) error {
		steps, err := fn(tx)
		if err != nil {
			return err
		}
		if err := s.jobs.QueueSteps(ctx, tx, steps); err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}
