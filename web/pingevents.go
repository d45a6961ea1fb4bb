package web

import (
	"time"

	"github.com/morselhq/morsel/tracking"
)

// pingEvents turns checked pings into events; pings with the same key in one
// request become one event, the last.
func pingEvents(ps []ping, links requestLinks, now time.Time) []tracking.Event {
	out := make([]tracking.Event, 0, len(ps))
	var at map[string]int // keys to their event, for a request of many pings
	if len(ps) > 8 {
		at = make(map[string]int, len(ps))
	}
	for _, p := range ps {
		info, _ := links.get(p.Token)
		e := tracking.Event{OrgID: info.OrgID, RepID: info.RepID, OccurredAt: now, CourseID: info.CourseID,
			EnrollmentID: info.EnrollmentID, AssignmentID: info.AssignmentID, LessonID: info.LessonID}
		d := tracking.VideoDetail{Position: p.Position, Rate: p.Rate, Session: p.Session}
		switch p.Event {
		case pingSegment:
			e.Kind, e.Key, e.Value = tracking.KindSegmentWatched, tracking.SegmentKey(info.AssignmentID, p.Segment), float64(p.Segment)
		default:
			e.Kind = tracking.KindVideoPaused
			if p.Event == pingEnded {
				e.Kind = tracking.KindVideoEnded
			}
			e.Key, e.Value = tracking.PlayerKey(e.Kind, info.AssignmentID, p.Session), p.Position
			d.Segment = &p.Segment
		}
		e.Detail = d.String()
		if i := eventWithKey(out, at, e.Key); i >= 0 {
			out[i] = e
			continue
		}
		if at != nil {
			at[e.Key] = len(out)
		}
		out = append(out, e)
	}
	return out
}

// eventWithKey returns the index of the event with key among events, or -1;
// at, when not nil, indexes them by key.
func eventWithKey(events []tracking.Event, at map[string]int, key string) int {
	if at != nil {
		if i, ok := at[key]; ok {
			return i
		}
		return -1
	}
	for i := range events {
		if events[i].Key == key {
			return i
		}
	}
	return -1
}
