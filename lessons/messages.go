package lessons

import (
	"time"

	"github.com/morselhq/morsel/lessons/sms"
	"github.com/morselhq/morsel/tracking"
)

// MessagePurpose says why a message was sent or what a received one is.
type MessagePurpose string

// The purposes.
const (
	PurposeLesson       MessagePurpose = "lesson"       // a text or video lesson with its link
	PurposeQuestion     MessagePurpose = "question"     // one quiz question
	PurposeFeedback     MessagePurpose = "feedback"     // the grade of an answer
	PurposeHint         MessagePurpose = "hint"         // an answer we could not read: the question again
	PurposeReview       MessagePurpose = "review"       // a missed question asked again days later
	PurposeNudge        MessagePurpose = "nudge"        // a sent lesson not yet done
	PurposeReminder     MessagePurpose = "reminder"     // the due date is near
	PurposeHelp         MessagePurpose = "help"         // the answer to HELP
	PurposeConfirmation MessagePurpose = "confirmation" // the answer to STOP or START
	PurposeReply        MessagePurpose = "reply"        // a message the rep sent us
)

// MessageStatus is a message's fate. Outbound messages move forward only:
// scheduled, queued (accepted by the provider), sent, then delivered,
// undelivered or failed; or cancelled before sending.
type MessageStatus string

// The statuses.
const (
	MessageScheduled   MessageStatus = "scheduled"
	MessageQueued      MessageStatus = "queued"
	MessageSent        MessageStatus = "sent"
	MessageDelivered   MessageStatus = "delivered"
	MessageUndelivered MessageStatus = "undelivered"
	MessageFailed      MessageStatus = "failed"
	MessageCancelled   MessageStatus = "cancelled"
	MessageReceived    MessageStatus = "received"
)

// statusRank orders outbound statuses; a status never moves to a lower rank.
var statusRank = map[MessageStatus]int{
	MessageScheduled: 0, MessageQueued: 1, MessageSent: 2,
	MessageDelivered: 3, MessageUndelivered: 3, MessageFailed: 3, MessageCancelled: 3,
}

// rankSQL is statusRank in SQL.
const rankSQL = `(CASE status WHEN 'scheduled' THEN 0 WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 ELSE 3 END)`

// Message is one SMS, in or out.
type Message struct {
	ID           int64
	OrgID        int64
	RepID        int64
	EnrollmentID int64 // 0 when not about an enrollment
	AssignmentID int64 // 0 when not about a lesson
	Question     int   // the question's index for PurposeQuestion
	Outbound     bool
	Purpose      MessagePurpose
	Body         string
	Encoding     sms.Encoding
	Segments     int
	Status       MessageStatus
	ProviderSID  string
	ErrorCode    int
	ErrorMessage string
	ScheduledAt  time.Time
	CreatedAt    time.Time
	SentAt       *time.Time
	DeliveredAt  *time.Time
}

// messageEvent is the event of a message's fate, keyed by message and kind.
func messageEvent(kind string, id, orgID, repID int64, enrollmentID, assignmentID *int64, at time.Time, detail string) tracking.Event {
	e := tracking.Event{OrgID: orgID, RepID: repID, Key: tracking.MessageKey(id, kind), Kind: kind, OccurredAt: at, Detail: detail}
	if enrollmentID != nil {
		e.EnrollmentID = *enrollmentID
	}
	if assignmentID != nil {
		e.AssignmentID = *assignmentID
	}
	return e
}
