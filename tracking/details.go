package tracking

import "encoding/json"

// Event details. An event's Detail is JSON for what has no column, one typed
// payload per kind, written by its String method through encodeDetail and
// read back with encoding/json into the same type (keys_test.go decodes every
// kind's). The JSON names are those of the events already stored: a renamed
// field would no longer read from them. Kinds without a payload have no
// detail: course_completed, opted_out, opted_in, and lesson_completed of a
// quiz (its score is the Value).
//
//	message_sent                          MessageSentDetail
//	message_delivered, message_failed     MessageStatusDetail
//	reply                                 ReplyDetail
//	graded                                GradedDetail
//	lesson_opened, lesson_completed       LessonDetail
//	segment_watched, video_paused, _ended VideoDetail (segments.go)
//	path_changed                          PathChangedDetail
//	rep_changed                           RepFacts (facts.go)
//	enrollment_changed                    EnrollmentFacts (facts.go)
//	a tombstone of any kind               VoidDetail

// encodeDetail writes a payload as a Detail: v as encoding/json writes it,
// so that any string (quotes, backslashes, control characters, any script)
// is valid JSON. Payloads hold strings, whole numbers and floats; a float
// that is not finite cannot be written, and makes no detail ("") rather
// than one no reader could decode.
func encodeDetail(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// MessageSentDetail is the Detail of message_sent: what the message was for,
// a lessons.MessagePurpose ("lesson", "question", "nudge"...).
type MessageSentDetail struct {
	Purpose string `json:"purpose"`
}

// String returns the detail as JSON.
func (d MessageSentDetail) String() string { return encodeDetail(d) }

// MessageStatusDetail is the Detail of message_delivered and message_failed:
// the provider's final status ("delivered", "undelivered", "failed"; none
// when the provider refused the message outright) and its error code, 0 for
// none.
type MessageStatusDetail struct {
	Status    string `json:"status,omitempty"`
	ErrorCode int    `json:"error_code"`
}

// String returns the detail as JSON.
func (d MessageStatusDetail) String() string { return encodeDetail(d) }

// ReplyDetail is the Detail of reply: the inbound message the rep sent.
type ReplyDetail struct {
	MessageID int64 `json:"message_id"`
}

// String returns the detail as JSON.
func (d ReplyDetail) String() string { return encodeDetail(d) }

// GradedDetail is the Detail of graded: the question of the quiz (from 0),
// the choice the answer was read as (from 0: A), and the purpose of the
// message that asked it ("question", or "review" when asked again later).
type GradedDetail struct {
	Question int    `json:"question"`
	Choice   int    `json:"choice"`
	Purpose  string `json:"purpose"`
}

// String returns the detail as JSON.
func (d GradedDetail) String() string { return encodeDetail(d) }

// LessonDetail is the Detail of lesson_opened, and of lesson_completed for a
// text or a video: the lesson's kind, a lessons.LessonKind ("text", "video", "quiz").
type LessonDetail struct {
	Kind string `json:"kind"`
}

// String returns the detail as JSON.
func (d LessonDetail) String() string { return encodeDetail(d) }

// PathChangedDetail is the Detail of path_changed: the change a quiz result
// made to the path (a lessons.ChangeKind) and the reason given to the rep and
// their manager.
type PathChangedDetail struct {
	Change string `json:"change"`
	Reason string `json:"reason"`
}

// String returns the detail as JSON.
func (d PathChangedDetail) String() string { return encodeDetail(d) }

// VoidDetail is the Detail of a tombstone (Void): why the event is void, and
// who said so.
type VoidDetail struct {
	Reason string `json:"void_reason"`
	By     string `json:"voided_by"`
}

// String returns the detail as JSON.
func (d VoidDetail) String() string { return encodeDetail(d) }
