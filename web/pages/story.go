package pages

import (
	"fmt"
	"strconv"

	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

// errorReasons says what Twilio's error codes mean for a manager.
var errorReasons = map[int]string{
	21211: "not a valid phone number",
	21610: "the rep texted STOP to the carrier",
	21614: "not a mobile number",
	30003: "the phone is unreachable (off or out of coverage)",
	30004: "blocked by the carrier",
	30005: "unknown or inactive number",
	30006: "a landline, or a carrier that cannot take SMS",
	30007: "filtered by the carrier as spam",
	30008: "not delivered, for a reason the carrier did not give",
}

func errorReason(code int) string {
	if r, ok := errorReasons[code]; ok {
		return fmt.Sprintf("%s (error %d)", r, code)
	}
	if code == 0 {
		return "no reason given"
	}
	return fmt.Sprintf("error %d", code)
}

func number(d map[string]any, key string) (int, bool) {
	f, ok := d[key].(float64)
	return int(f), ok
}

func word(d map[string]any, key string) string {
	s, _ := d[key].(string)
	return s
}

// describe says what one timeline entry was, and what more there is to say.
func describe(e reports.Entry, lessons map[int64]LessonInfo) (string, string) {
	lesson := ""
	if l, ok := lessons[e.LessonID]; ok {
		lesson = "“" + l.Title + "”"
	}
	d := e.Detail
	switch e.Kind {
	case tracking.KindMessageSent:
		what := word(d, "purpose")
		if what == "" {
			what = "message"
		}
		return "Sent a " + what + " by SMS", lesson
	case tracking.KindMessageDelivered:
		return "Message delivered", ""
	case tracking.KindMessageFailed:
		code, _ := number(d, "error_code")
		return "Message not delivered", errorReason(code)
	case tracking.KindReply:
		return "Replied by SMS", ""
	case tracking.KindGraded:
		q, _ := number(d, "question")
		verdict := "wrong"
		if e.Value > 0 {
			verdict = "right"
		}
		text := fmt.Sprintf("Answered question %d: %s", q+1, verdict)
		if c, ok := number(d, "choice"); ok && c >= 0 && c < 26 {
			text += " (" + string(rune('A'+c)) + ")"
		}
		return text, lesson
	case tracking.KindLessonOpened:
		return "Opened the lesson", lesson
	case tracking.KindLessonCompleted:
		return "Completed the lesson", lesson
	case tracking.KindCourseCompleted:
		return "Completed the course", ""
	case tracking.KindOptedOut:
		return "Opted out (texted STOP)", "no more messages are sent"
	case tracking.KindOptedIn:
		return "Opted back in (texted START)", ""
	case tracking.KindPathChanged:
		change := word(d, "change")
		if change == "" {
			change = "change"
		}
		return "Path adapted: " + change, joinNonEmpty(lesson, word(d, "reason"))
	}
	return e.Kind, strconv.FormatFloat(e.Value, 'g', -1, 64)
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " — " + b
}

// replacedText says what an earlier version of an entry said.
func replacedText(v reports.Version) string {
	return fmt.Sprintf("was %s, value %s; corrected %s", stamp(v.At), strconv.FormatFloat(v.Value, 'g', -1, 64), stamp(v.Replaced))
}

func voidText(c reports.Change) string {
	s := "voided " + stamp(c.At)
	if c.By != "" {
		s += " by " + c.By
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}
