package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

// SendArgs is the job that sends one outbound message.
type SendArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind names the job for River.
func (SendArgs) Kind() string { return "send_sms" }

// InsertOpts puts sends on the SMS queue.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSMS, MaxAttempts: 20}
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	s *Scheduler
}

// Timeout bounds one attempt: the provider call has its own, shorter timeout.
func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return 45 * time.Second }

// NextRetry retries three times quickly (2 s apart), then backs off
// exponentially from 15 s up to an hour.
func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return w.s.cfg.Now().Add(retryDelay(job.Attempt))
}

func retryDelay(attempt int) time.Duration {
	if attempt <= 3 {
		return 2 * time.Second
	}
	d := 15 * time.Second * time.Duration(math.Pow(2, float64(min(attempt-4, 12))))
	return min(d, time.Hour)
}

// sendMetaKey is the key of a send job's metadata under which an attempt that
// ends without the message recorded leaves a sendRecord for the next one.
const sendMetaKey = "send"

// sendRecord is what an attempt that ended without recording its message knew
// of the provider's copy, kept in the job's metadata (River merges it in the
// write that ends the attempt, at no cost of its own) for the next attempt to
// read: typed state, where the text of the job's errors is for people.
type sendRecord struct {
	Attempt int `json:"attempt"` // the attempt that left it
	// MaybeSent: an attempt called the provider and was not told that the
	// provider refused the message; look it up before sending again.
	MaybeSent bool `json:"maybe_sent"`
	// SID: the provider accepted the message with this sid, but recording
	// that failed.
	SID string `json:"sid,omitempty"`
}

// earlierSend returns what the attempts before this one knew of the
// provider's copy of the message. The first attempt knows there is none
// (a snoozed attempt runs again with the same number). An attempt that ends
// leaves a record; when the last one left none, its worker died mid-send and
// River rescued the job, so it may have reached the provider.
func earlierSend(job *river.Job[SendArgs]) sendRecord {
	if job.Attempt <= 1 {
		return sendRecord{}
	}
	var meta struct {
		Send *sendRecord `json:"send"`
	}
	if err := json.Unmarshal(job.Metadata, &meta); err != nil || meta.Send == nil || meta.Send.Attempt < job.Attempt-1 {
		return sendRecord{Attempt: job.Attempt - 1, MaybeSent: true}
	}
	return *meta.Send
}

// Work sends the message, unless an earlier attempt may have reached the
// provider and the provider has it. An attempt that ends without the message
// recorded says in the job's metadata whether it (or one before it) may have
// reached the provider, and with what sid if the provider answered, for the
// next attempt to look before it sends.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	earlier := earlierSend(job)
	rec := sendRecord{Attempt: job.Attempt, MaybeSent: earlier.MaybeSent, SID: earlier.SID}
	err := w.s.send(ctx, job.Args.MessageID, earlier, &rec)
	if err != nil {
		if merr := river.MetadataSet(ctx, sendMetaKey, rec); merr != nil {
			// The next attempt, finding no record of this one, looks first.
			w.s.log.Warn("record what a send attempt knew", "message", job.Args.MessageID, "err", merr)
		}
	}
	return err
}

// send is one attempt at sending the message; it keeps rec up to date with
// what the attempt knows of the provider's copy.
func (s *Scheduler) send(ctx context.Context, id int64, earlier sendRecord, rec *sendRecord) error {
	o, err := s.loads.do(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if o.Status != lessons.MessageScheduled {
		return nil // sent, failed or cancelled by an earlier attempt
	}
	if ok, why := o.Sendable(); !ok {
		return s.store.CancelMessage(ctx, o.ID, why)
	}
	now := s.cfg.Now()
	loc, err := lessons.Location(o.TimeZone)
	if err != nil {
		return river.JobCancel(fmt.Errorf("rep %d time zone %q: %w", o.RepID, o.TimeZone, err))
	}
	if next := lessons.InWindow(o.Window, loc, now); next.After(now) {
		return river.JobSnooze(next.Sub(now)) // a retry ran past the send window: wait for the next one
	}
	msg := s.sms(o)
	pass, wait := s.brk.admit(msg.From+msg.MessagingServiceSID, now)
	if wait > 0 {
		return river.JobSnooze(wait) // the provider is failing this sender: wait for a probe to get through
	}
	defer pass.done(s.cfg.Now(), outcomeNone, nil) // unless the provider was called, below
	if wait, err := s.pace(ctx, msg, o.SMSMPS); err != nil {
		return err
	} else if wait > 0 {
		return river.JobSnooze(wait)
	}

	sid := earlier.SID
	if sid == "" && earlier.MaybeSent {
		// An earlier attempt may have reached the provider without our hearing.
		sids, err := s.sender.Find(ctx, msg, o.CreatedAt)
		pass.done(s.cfg.Now(), outcomeOf(err), err)
		if err != nil {
			return fmt.Errorf("look for an earlier send of message %d: %w", o.ID, err)
		}
		// The same text sent earlier today is another message's.
		if sid, err = s.store.UnrecordedSID(ctx, sids); err != nil {
			return fmt.Errorf("look for an earlier send of message %d: %w", o.ID, err)
		}
	}
	delivered := false
	if sid == "" {
		rec.MaybeSent = true // from here on, the provider may take it
		acc, err := s.sender.Send(ctx, msg)
		pass.done(s.cfg.Now(), outcomeOf(err), err) // unless Find reported already
		if err != nil {
			f := failureOf(err)
			s.cfg.Metrics.failed(f)
			switch f.Kind {
			case Permanent:
				if err := s.store.MarkFailed(ctx, o.ID, f.Code, f.Message); err != nil {
					return err
				}
				return river.JobCancel(f) // no retry: the provider said no for good
			case Transient:
				rec.MaybeSent = earlier.MaybeSent // the provider did not take it from this attempt
			}
			return err // retried by River: NextRetry
		}
		sid, delivered = acc.SID, acc.Delivered
		s.cfg.Metrics.sent()
	}
	if _, err := s.accepts.do(ctx, acceptance{o: o, sid: sid, loc: loc}); err != nil {
		rec.MaybeSent, rec.SID = true, sid // the retry records it without sending again
		return fmt.Errorf("the provider accepted message %d as %s, but recording it failed: %w", o.ID, sid, err)
	}
	if delivered {
		if _, err := s.store.RecordStatus(ctx, sid, lessons.MessageDelivered, 0, ""); err != nil {
			s.log.Warn("record simulated delivery", "sid", sid, "err", err)
		}
	}
	return nil
}

// loadOutbound reads the messages that send jobs are about, in one query.
func (s *Scheduler) loadOutbound(ctx context.Context, ids []int64) ([]lessons.Outbound, []error) {
	outs, fails := make([]lessons.Outbound, len(ids)), make([]error, len(ids))
	found, err := s.store.OutboundMessages(ctx, ids)
	for i, id := range ids {
		o, ok := found[id]
		switch {
		case err != nil:
			fails[i] = err
		case !ok:
			fails[i] = errs.Errorf(errs.NotFound, "message %d not found", id)
		default:
			outs[i] = o
		}
	}
	return outs, fails
}

// acceptance is a message the provider accepted, about to be recorded.
type acceptance struct {
	o   lessons.Outbound
	sid string
	loc *time.Location // the rep's
}

// recordAccepted records messages the provider accepted, the steps that
// follow them and their nudges, in one transaction (group commit). Should that
// fail, it records each on its own, so that one bad message holds back no
// other.
func (s *Scheduler) recordAccepted(ctx context.Context, as []acceptance) ([]struct{}, []error) {
	fails := make([]error, len(as))
	err := s.finish(ctx, func(tx pgx.Tx) error { return s.markAccepted(ctx, tx, as) })
	if err != nil && len(as) > 1 {
		s.log.Warn("recording a batch of sent messages failed; recording them one by one", "messages", len(as), "err", err)
		for i := range as {
			fails[i] = s.finish(ctx, func(tx pgx.Tx) error { return s.markAccepted(ctx, tx, as[i:i+1]) })
		}
	} else {
		for i := range fails {
			fails[i] = err
		}
	}
	return make([]struct{}, len(as)), fails
}

func (s *Scheduler) markAccepted(ctx context.Context, tx pgx.Tx, as []acceptance) error {
	accepted := make([]lessons.Accepted, len(as))
	for i, a := range as {
		accepted[i] = lessons.Accepted{ID: a.o.ID, SID: a.sid}
	}
	steps, late, err := s.store.MarkAcceptedMany(ctx, tx, accepted)
	if err != nil {
		return err
	}
	if len(late) > 0 {
		// Cancelled (the rep opted out, say) while the provider took them.
		s.log.Warn("the provider accepted messages that were no longer scheduled", "messages", late)
		as = slices.DeleteFunc(slices.Clone(as), func(a acceptance) bool { return slices.Contains(late, a.o.ID) })
	}
	if err := s.jobs.QueueSteps(ctx, tx, steps); err != nil {
		return err
	}
	return s.queueNudges(ctx, tx, as)
}

// finish runs fn in one transaction. River completes the job after Work
// returns, in its batches; should the process die in between, the retry finds
// the message no longer scheduled and does nothing.
func (s *Scheduler) finish(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.store.InTx(ctx, fn)
}

// sms is the provider's view of the message: the organisation's sender, or
// the deployment's default.
func (s *Scheduler) sms(o lessons.Outbound) SMS {
	m := SMS{To: o.To, Body: o.Body, StatusCallback: s.cfg.StatusCallback,
		From: o.SMSFrom, MessagingServiceSID: o.SMSService}
	if m.From == "" && m.MessagingServiceSID == "" {
		m.From, m.MessagingServiceSID = s.cfg.DefaultFrom, s.cfg.DefaultMessagingServiceSID
	}
	return m
}

// pace enforces a sender's messages-per-second limit across every worker
// process with one row per sender in Postgres: it reserves the sender's next
// free slot and waits for it when it is near, or says how long to snooze when
// it is not. The limit is the organisation's, else the default for a From
// number; 0 means none.
func (s *Scheduler) pace(ctx context.Context, m SMS, orgMPS float64) (time.Duration, error) {
	mps := orgMPS
	if mps < 0 {
		mps = 0
		if m.MessagingServiceSID == "" {
			mps = s.cfg.DefaultMPS
		}
	}
	if mps <= 0 {
		return 0, nil
	}
	sender := m.From + m.MessagingServiceSID
	interval := time.Duration(float64(time.Second) / mps)
	now := s.cfg.Now()
	next, err := s.store.SenderNextSlot(ctx, sender)
	if err != nil {
		return 0, err
	}
	if wait := next.Sub(now); wait > 2*time.Second {
		return wait, nil // far off: give the worker back
	}
	slot, err := s.store.ReserveSendSlot(ctx, sender, now, interval)
	if err != nil {
		return 0, err
	}
	if wait := slot.Sub(s.cfg.Now()); wait > 0 { // now again: the reservation itself took time
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return 0, nil
}
