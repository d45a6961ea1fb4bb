package web

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkPingEvents measures turning checked pings into events (their keys
// and details), which /t/pings does for every ping: one segment ping, a
// request of a segment, a pause and an end, and a full request of segments.
func BenchmarkPingEvents(b *testing.B) {
	links := requestLinks{{token: fuzzToken, found: true,
		info: linkInfo{OrgID: 1, RepID: 2, CourseID: 3, EnrollmentID: 4, AssignmentID: 123456, LessonID: 6, VideoSeconds: 3600}}}
	const session = "0f3a9c2b7d1e4a5b6c7d8e9f"
	full := make([]ping, maxPingsPerPost)
	for i := range full {
		full[i] = ping{Token: fuzzToken, Segment: i, Position: float64(i*15) + 14.75, Rate: 1.25, Session: session, Event: pingSegment}
	}
	for _, c := range []struct {
		name string
		ps   []ping
	}{
		{"segment", full[:1]},
		{"segment+pause+ended", []ping{full[2],
			{Token: fuzzToken, Segment: 3, Position: 50.5, Rate: 1, Session: session, Event: pingPause},
			{Token: fuzzToken, Segment: 4, Position: 62, Rate: 1, Session: session, Event: pingEnded}}},
		{strconv.Itoa(len(full)) + "segments", full},
	} {
		b.Run(c.name, func(b *testing.B) {
			now := time.Unix(1_800_000_000, 0)
			b.ReportAllocs()
			for b.Loop() {
				pingEvents(c.ps, links, now)
			}
		})
	}
}

// BenchmarkParsePings measures reading a ping body, which /t/pings does for
// every request: the single ping a page sends (the fast path), one the fast
// path leaves to encoding/json (an unknown field), and lists of 3 and 100.
func BenchmarkParsePings(b *testing.B) {
	const one = `{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"0f3a9c2b7d1e4a5b6c7d8e9f","event":"segment"}`
	list := func(n int) string {
		s := `{"pings":[`
		for i := range n {
			if i > 0 {
				s += ","
			}
			s += `{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":` + strconv.Itoa(i) + `,"position":` + strconv.Itoa(i*15) + `.75,"rate":1.25,"session":"0f3a9c2b7d1e4a5b6c7d8e9f","event":"segment"}`
		}
		return s + `]}`
	}
	for _, c := range []struct{ name, body string }{
		{"flat", one},
		{"json", one[:len(one)-1] + `,"extra":1}`},
		{"3pings", list(3)},
		{"100pings", list(100)},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := parsePings(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
