package tracking

import (
	"strconv"
	"time"
)

// Event keys. Each fact has one key, built by the functions here and nowhere
// else: with the organisation and the rep, the key is what the events table
// (a ReplacingMergeTree) deduplicates on, so a key whose shape changed would
// count again every event already stored under the old one. keys_test.go
// holds each function to its literal format.

// maxShortKey fits every key but a pause's or an end's: the longest prefix
// ("enrollment/") and two 20-character numbers with their separators.
const maxShortKey = 64

// idKey is prefix followed by id, built in one allocation.
func idKey(prefix string, id int64) string {
	var b [maxShortKey]byte
	return string(strconv.AppendInt(append(b[:0], prefix...), id, 10))
}

// MessageKey is the key of a message's fate of kind (message_sent,
// message_delivered, message_failed): "msg/<message>/<kind>".
func MessageKey(messageID int64, kind string) string {
	var b [maxShortKey]byte
	k := strconv.AppendInt(append(b[:0], "msg/"...), messageID, 10)
	return string(append(append(k, '/'), kind...))
}

// ReplyKey is the key of a reply the rep sent, by its inbound message:
// "reply/<message>".
func ReplyKey(messageID int64) string { return idKey("reply/", messageID) }

// GradeKey is the key of the grading of a quiz question's answer:
// "grade/<assignment>/<question>/<asked>", asked being the message that asked
// it (a question asked again for review is graded again).
func GradeKey(assignmentID int64, question int, askedID int64) string {
	var b [maxShortKey]byte
	k := strconv.AppendInt(append(b[:0], "grade/"...), assignmentID, 10)
	k = strconv.AppendInt(append(k, '/'), int64(question), 10)
	return string(strconv.AppendInt(append(k, '/'), askedID, 10))
}

// OpenKey is the key of an assignment's lesson opened, one however often it
// is: "open/<assignment>".
func OpenKey(assignmentID int64) string { return idKey("open/", assignmentID) }

// SegmentKey is the key of a video segment watched, one however often it is:
// "seg/<assignment>/<segment>". Pings make one each: it allocates the string
// alone.
func SegmentKey(assignmentID int64, segment int) string {
	var b [maxShortKey]byte
	k := strconv.AppendInt(append(b[:0], "seg/"...), assignmentID, 10)
	return string(strconv.AppendInt(append(k, '/'), int64(segment), 10))
}

// PlayerKey is the key of a video paused or ended (kind KindVideoPaused or
// KindVideoEnded) in one page visit, the last of which counts:
// "<kind>/<assignment>/<session>". Pings make one each: it allocates the
// string alone for a session of up to 64 characters.
func PlayerKey(kind string, assignmentID int64, session string) string {
	var b [128]byte
	k := strconv.AppendInt(append(append(b[:0], kind...), '/'), assignmentID, 10)
	return string(append(append(k, '/'), session...))
}

// DoneKey is the key of an assignment's lesson completed: "done/<assignment>".
func DoneKey(assignmentID int64) string { return idKey("done/", assignmentID) }

// CourseKey is the key of an enrollment's course completed: "course/<enrollment>".
func CourseKey(enrollmentID int64) string { return idKey("course/", enrollmentID) }

// PathKey is the key of the change-th change (from 0) a quiz result made to
// the path: "path/<assignment>/<change>".
func PathKey(assignmentID int64, change int) string {
	var b [maxShortKey]byte
	k := strconv.AppendInt(append(b[:0], "path/"...), assignmentID, 10)
	return string(strconv.AppendInt(append(k, '/'), int64(change), 10))
}

// OptKey is the key of a rep's opt-out or opt-in (kind KindOptedOut or
// KindOptedIn) at a moment: "<kind>/<rep>/<unix ns>"; each is its own event.
func OptKey(kind string, repID int64, at time.Time) string {
	var b [maxShortKey]byte
	k := strconv.AppendInt(append(append(b[:0], kind...), '/'), repID, 10)
	return string(strconv.AppendInt(append(k, '/'), at.UnixNano(), 10))
}

// RepKey is the key of a rep's facts: "rep/<rep>".
func RepKey(repID int64) string { return idKey("rep/", repID) }

// EnrollmentKey is the key of an enrollment's facts: "enrollment/<enrollment>".
func EnrollmentKey(enrollmentID int64) string { return idKey("enrollment/", enrollmentID) }
