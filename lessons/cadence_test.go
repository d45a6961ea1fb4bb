package lessons

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the host has installed
)

var (
	weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	allDay   = SendWindow{Start: 0, End: 24 * 60}
)

// at returns the ClockTimes for "HH:MM" strings.
func at(t *testing.T, hm ...string) []ClockTime {
	t.Helper()
	var times []ClockTime
	for _, s := range hm {
		c, err := ParseClockTime(s)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, c)
	}
	return times
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// instant reads an RFC 3339 time; the offset in it says which side of a
// daylight-saving change it is on.
func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkTime(t *testing.T, got time.Time, want string) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("got a time in %s, want UTC", got.Location())
	}
	if w := instant(t, want); !got.Equal(w) {
		t.Errorf("got %s, want %s", got.In(w.Location()).Format(time.RFC3339), want)
	}
}

func TestNextStepTime(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		zone    string
		cadence Cadence
		window  SendWindow // the zero window means DefaultSendWindow
		anchor  string     // the enrollment; matters for an every-N-days cadence
		prev    string
		want    string
	}{
		{
			name: "weekday cadence skips the weekend", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-10T09:00:00-05:00", // Fri
			want: "2025-01-13T09:00:00-05:00", // Mon
		},
		{
			name: "second time of the day", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00", "14:00")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-14T09:00:00-05:00",
			want: "2025-01-14T14:00:00-05:00",
		},
		{
			name: "last time of the day moves to the next day", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00", "14:00")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-14T14:00:00-05:00",
			want: "2025-01-15T09:00:00-05:00",
		},
		{
			name: "a late send between slots", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00", "14:00")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-14T11:23:45-05:00",
			want: "2025-01-14T14:00:00-05:00",
		},
		{
			name: "times out of order", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "14:00", "09:00")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-14T09:00:00-05:00",
			want: "2025-01-14T14:00:00-05:00",
		},
		{
			name: "every 2 days", zone: "America/New_York",
			cadence: Cadence{EveryDays: 2, Times: at(t, "09:00")},
			anchor:  "2025-01-06T10:00:00-05:00", prev: "2025-01-08T09:00:00-05:00",
			want: "2025-01-10T09:00:00-05:00",
		},
		{
			name: "every 2 days, counted from the enrollment date, not prev", zone: "America/New_York",
			cadence: Cadence{EveryDays: 2, Times: at(t, "09:00")},
			anchor:  "2025-01-06T10:00:00-05:00", prev: "2025-01-09T09:00:00-05:00",
			want: "2025-01-10T09:00:00-05:00",
		},
		{
			name: "every 3 days, two times", zone: "America/New_York",
			cadence: Cadence{EveryDays: 3, Times: at(t, "09:00", "14:00")},
			anchor:  "2025-01-06T10:00:00-05:00", prev: "2025-01-06T14:00:00-05:00",
			want: "2025-01-09T09:00:00-05:00",
		},
		{
			name: "every 2 days, the enrollment date is local", zone: "America/New_York",
			cadence: Cadence{EveryDays: 2, Times: at(t, "09:00")},
			// 2025-01-07 02:00 UTC is still the 6th in New York.
			anchor: "2025-01-07T02:00:00Z", prev: "2025-01-06T09:00:00-05:00",
			want: "2025-01-08T09:00:00-05:00",
		},
		{
			name: "slot before the window starts moves to the window start", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "07:30")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-13T08:00:00-05:00",
			want: "2025-01-14T08:00:00-05:00",
		},
		{
			name: "slot after the window ends moves to the next listed weekday", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "20:30")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-10T08:00:00-05:00", // Fri
			want: "2025-01-13T08:00:00-05:00", // Mon
		},
		{
			name: "slot after the window ends, every 2 days, moves to the next day", zone: "America/New_York",
			cadence: Cadence{EveryDays: 2, Times: at(t, "21:00")},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-07T08:00:00-05:00",
			want: "2025-01-09T08:00:00-05:00",
		},
		{
			name: "narrow window", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00", "14:00")},
			window:  SendWindow{Start: NewClockTime(10, 0), End: NewClockTime(12, 0)},
			anchor:  "2025-01-06T07:00:00-05:00", prev: "2025-01-14T10:00:00-05:00",
			want: "2025-01-15T10:00:00-05:00", // 14:00 moves to tomorrow's 10:00
		},

		// Daylight saving in New York, 2025: spring forward on 9 March at
		// 02:00, fall back on 2 November at 02:00.
		{
			name: "spring forward: 09:00 stays 09:00 local", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "09:00")},
			anchor:  "2025-03-01T07:00:00-05:00", prev: "2025-03-08T09:00:00-05:00",
			want: "2025-03-09T09:00:00-04:00",
		},
		{
			name: "spring forward over a weekend", zone: "America/New_York",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			anchor:  "2025-03-01T07:00:00-05:00", prev: "2025-03-07T09:00:00-05:00",
			want: "2025-03-10T09:00:00-04:00",
		},
		{
			name: "fall back: 09:00 stays 09:00 local", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "09:00")},
			anchor:  "2025-10-01T07:00:00-04:00", prev: "2025-11-01T09:00:00-04:00",
			want: "2025-11-02T09:00:00-05:00",
		},
		{
			name: "a slot in the spring-forward gap moves to the end of the gap", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "02:30")}, window: allDay,
			anchor: "2025-03-01T00:00:00-05:00", prev: "2025-03-08T02:30:00-05:00",
			want: "2025-03-09T03:00:00-04:00",
		},
		{
			name: "the day after the gap is back to 02:30", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "02:30")}, window: allDay,
			anchor: "2025-03-01T00:00:00-05:00", prev: "2025-03-09T03:00:00-04:00",
			want: "2025-03-10T02:30:00-04:00",
		},
		{
			name: "a window start in the gap moves to the end of the gap", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "01:00")},
			window:  SendWindow{Start: NewClockTime(2, 0), End: NewClockTime(20, 0)},
			anchor:  "2025-03-01T00:00:00-05:00", prev: "2025-03-08T02:00:00-05:00",
			want: "2025-03-09T03:00:00-04:00",
		},
		{
			name: "a window wholly in the gap skips the day", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "02:00")},
			window:  SendWindow{Start: NewClockTime(2, 0), End: NewClockTime(2, 30)},
			anchor:  "2025-03-01T00:00:00-05:00", prev: "2025-03-08T02:00:00-05:00",
			want: "2025-03-10T02:00:00-04:00",
		},
		{
			name: "a repeated wall time uses its first occurrence", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "01:30")}, window: allDay,
			anchor: "2025-10-01T00:00:00-04:00", prev: "2025-11-01T01:30:00-04:00",
			want: "2025-11-02T01:30:00-04:00",
		},
		{
			name: "the second occurrence of a repeated wall time is not a slot", zone: "America/New_York",
			cadence: Cadence{EveryDays: 1, Times: at(t, "01:30")}, window: allDay,
			anchor: "2025-10-01T00:00:00-04:00", prev: "2025-11-02T01:30:00-04:00",
			want: "2025-11-03T01:30:00-05:00",
		},

		{
			name: "Los Angeles: spring forward over a weekend", zone: "America/Los_Angeles",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			anchor:  "2025-03-01T07:00:00-08:00", prev: "2025-03-07T09:00:00-08:00",
			want: "2025-03-10T09:00:00-07:00",
		},
		{
			name: "London: spring forward", zone: "Europe/London",
			cadence: Cadence{EveryDays: 1, Times: at(t, "09:00")},
			anchor:  "2025-03-01T07:00:00Z", prev: "2025-03-29T09:00:00Z",
			want: "2025-03-30T09:00:00+01:00",
		},
		{
			name: "London: fall back", zone: "Europe/London",
			cadence: Cadence{EveryDays: 1, Times: at(t, "09:00")},
			anchor:  "2025-10-01T07:00:00+01:00", prev: "2025-10-25T09:00:00+01:00",
			want: "2025-10-26T09:00:00Z",
		},
		{
			name: "London: a slot in the gap", zone: "Europe/London",
			cadence: Cadence{EveryDays: 1, Times: at(t, "01:30")}, window: allDay,
			anchor: "2025-03-01T00:00:00Z", prev: "2025-03-29T01:30:00Z",
			want: "2025-03-30T02:00:00+01:00",
		},
		{
			name: "Kolkata: half-hour offset over a weekend", zone: "Asia/Kolkata",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			anchor:  "2025-01-06T07:00:00+05:30", prev: "2025-01-10T09:00:00+05:30",
			want: "2025-01-13T09:00:00+05:30",
		},
		{
			name: "Kolkata: slot before the window", zone: "Asia/Kolkata",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "07:30")},
			anchor:  "2025-01-06T07:00:00+05:30", prev: "2025-01-13T08:00:00+05:30",
			want: "2025-01-14T08:00:00+05:30",
		},

		// Sydney, 2025: fall back on 6 April at 03:00, spring forward on 5
		// October at 02:00.
		{
			name: "Sydney: weekend in the southern summer", zone: "Australia/Sydney",
			cadence: Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			anchor:  "2025-01-06T07:00:00+11:00", prev: "2025-01-10T09:00:00+11:00",
			want: "2025-01-13T09:00:00+11:00",
		},
		{
			name: "Sydney: spring forward in October", zone: "Australia/Sydney",
			cadence: Cadence{EveryDays: 1, Times: at(t, "09:00")},
			anchor:  "2025-10-01T07:00:00+10:00", prev: "2025-10-04T09:00:00+10:00",
			want: "2025-10-05T09:00:00+11:00",
		},
		{
			name: "Sydney: fall back in April", zone: "Australia/Sydney",
			cadence: Cadence{EveryDays: 1, Times: at(t, "09:00")},
			anchor:  "2025-04-01T07:00:00+11:00", prev: "2025-04-05T09:00:00+11:00",
			want: "2025-04-06T09:00:00+10:00",
		},
		{
			name: "Sydney: a slot in the gap", zone: "Australia/Sydney",
			cadence: Cadence{EveryDays: 1, Times: at(t, "02:30")}, window: allDay,
			anchor: "2025-10-01T00:00:00+10:00", prev: "2025-10-04T02:30:00+10:00",
			want: "2025-10-05T03:00:00+11:00",
		},
		{
			name: "Sydney: a repeated wall time uses its first occurrence", zone: "Australia/Sydney",
			cadence: Cadence{EveryDays: 1, Times: at(t, "02:30")}, window: allDay,
			anchor: "2025-04-01T00:00:00+11:00", prev: "2025-04-05T02:30:00+11:00",
			want: "2025-04-06T02:30:00+11:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.window
			if w == (SendWindow{}) {
				w = DefaultSendWindow()
			}
			got := NextStepTime(tt.cadence, w, mustZone(t, tt.zone), instant(t, tt.anchor), instant(t, tt.prev))
			checkTime(t, got, tt.want)
		})
	}
}

func TestFirstStepTime(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		zone     string
		cadence  Cadence
		enrolled string
		want     string
	}{
		{
			name: "enrolled before today's slot", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			enrolled: "2025-01-14T08:00:00-05:00", want: "2025-01-14T09:00:00-05:00",
		},
		{
			name: "enrolled after today's slot", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			enrolled: "2025-01-14T10:00:00-05:00", want: "2025-01-15T09:00:00-05:00",
		},
		{
			name: "enrolled at the slot", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			enrolled: "2025-01-14T09:00:00-05:00", want: "2025-01-14T09:00:00-05:00",
		},
		{
			name: "enrolled between two slots", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00", "14:00")},
			enrolled: "2025-01-14T10:00:00-05:00", want: "2025-01-14T14:00:00-05:00",
		},
		{
			name: "enrolled on Saturday", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			enrolled: "2025-01-11T10:00:00-05:00", want: "2025-01-13T09:00:00-05:00",
		},
		{
			name: "enrolled on Friday evening", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			enrolled: "2025-01-10T21:00:00-05:00", want: "2025-01-13T09:00:00-05:00",
		},
		{
			name: "every 2 days, enrolled before the slot", zone: "America/New_York",
			cadence:  Cadence{EveryDays: 2, Times: at(t, "09:00")},
			enrolled: "2025-01-06T08:00:00-05:00", want: "2025-01-06T09:00:00-05:00",
		},
		{
			name: "every 2 days, enrolled after the slot", zone: "America/New_York",
			cadence:  Cadence{EveryDays: 2, Times: at(t, "09:00")},
			enrolled: "2025-01-06T10:00:00-05:00", want: "2025-01-08T09:00:00-05:00",
		},
		{
			name: "a slot moved to the window start still counts", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "07:30")},
			enrolled: "2025-01-14T07:45:00-05:00", want: "2025-01-14T08:00:00-05:00",
		},
		{
			name: "enrolled inside the window, slot before it", zone: "America/New_York",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "07:30")},
			enrolled: "2025-01-14T08:01:00-05:00", want: "2025-01-15T08:00:00-05:00",
		},
		{
			name: "Kolkata: enrolled after the slot", zone: "Asia/Kolkata",
			cadence:  Cadence{Weekdays: weekdays, Times: at(t, "09:00")},
			enrolled: "2025-01-14T10:00:00+05:30", want: "2025-01-15T09:00:00+05:30",
		},
		{
			name: "Sydney: enrolled the night before spring forward", zone: "Australia/Sydney",
			cadence:  Cadence{EveryDays: 1, Times: at(t, "09:00")},
			enrolled: "2025-10-04T22:00:00+10:00", want: "2025-10-05T09:00:00+11:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FirstStepTime(tt.cadence, DefaultSendWindow(), mustZone(t, tt.zone), instant(t, tt.enrolled))
			checkTime(t, got, tt.want)
		})
	}
}

func TestInWindow(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		zone   string
		window SendWindow
		t      string
		want   string
	}{
		{"before the window", "America/New_York", DefaultSendWindow(), "2025-01-14T07:59:00-05:00", "2025-01-14T08:00:00-05:00"},
		{"at midnight", "America/New_York", DefaultSendWindow(), "2025-01-14T00:00:00-05:00", "2025-01-14T08:00:00-05:00"},
		{"at the window start", "America/New_York", DefaultSendWindow(), "2025-01-14T08:00:00-05:00", "2025-01-14T08:00:00-05:00"},
		{"inside, seconds kept", "America/New_York", DefaultSendWindow(), "2025-01-14T12:34:56-05:00", "2025-01-14T12:34:56-05:00"},
		{"just before the end", "America/New_York", DefaultSendWindow(), "2025-01-14T19:59:59-05:00", "2025-01-14T19:59:59-05:00"},
		{"the end is exclusive", "America/New_York", DefaultSendWindow(), "2025-01-14T20:00:00-05:00", "2025-01-15T08:00:00-05:00"},
		{"a retry at 20:15", "America/New_York", DefaultSendWindow(), "2025-01-14T20:15:00-05:00", "2025-01-15T08:00:00-05:00"},
		{"Saturday evening moves to Sunday", "America/New_York", DefaultSendWindow(), "2025-01-11T20:15:00-05:00", "2025-01-12T08:00:00-05:00"},
		{
			"next window start after spring forward", "America/New_York",
			SendWindow{Start: NewClockTime(2, 0), End: NewClockTime(20, 0)},
			"2025-03-08T21:00:00-05:00", "2025-03-09T03:00:00-04:00",
		},
		{"next morning across fall back", "America/New_York", DefaultSendWindow(), "2025-11-01T21:00:00-04:00", "2025-11-02T08:00:00-05:00"},
		{"Kolkata", "Asia/Kolkata", DefaultSendWindow(), "2025-01-14T07:00:00+05:30", "2025-01-14T08:00:00+05:30"},
		{"local, not UTC, decides", "Australia/Sydney", DefaultSendWindow(), "2025-01-14T12:00:00Z", "2025-01-15T08:00:00+11:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkTime(t, InWindow(tt.window, mustZone(t, tt.zone), instant(t, tt.t)), tt.want)
		})
	}
}

// TestStepTimeBadInput checks that input the course validation should have
// refused still gives a sensible time rather than a panic or a loop.
func TestStepTimeBadInput(t *testing.T) {
	t.Parallel()

	ny := mustZone(t, "America/New_York")
	tuesday := instant(t, "2025-01-14T07:00:00-05:00")
	tests := []struct {
		name    string
		cadence Cadence
		window  SendWindow
		loc     *time.Location
		want    string
	}{
		{"zero window is the default", Cadence{EveryDays: 1, Times: at(t, "06:00")}, SendWindow{}, ny, "2025-01-14T08:00:00-05:00"},
		{"inverted window is the default", Cadence{EveryDays: 1, Times: at(t, "06:00")}, SendWindow{Start: 20 * 60, End: 8 * 60}, ny, "2025-01-14T08:00:00-05:00"},
		{"no times means the window start", Cadence{Weekdays: weekdays}, DefaultSendWindow(), ny, "2025-01-14T08:00:00-05:00"},
		{"times outside the day are dropped", Cadence{EveryDays: 1, Times: []ClockTime{-5, 9 * 60, 24 * 60}}, DefaultSendWindow(), ny, "2025-01-14T09:00:00-05:00"},
		{"no weekdays and no interval means every day", Cadence{Times: at(t, "09:00")}, DefaultSendWindow(), ny, "2025-01-14T09:00:00-05:00"},
		{"weekdays out of range are dropped", Cadence{Weekdays: []time.Weekday{9}, Times: at(t, "09:00")}, DefaultSendWindow(), ny, "2025-01-14T09:00:00-05:00"},
		{"a negative interval means every day", Cadence{EveryDays: -3, Times: at(t, "09:00")}, DefaultSendWindow(), ny, "2025-01-14T09:00:00-05:00"},
		{"nil location is UTC", Cadence{Weekdays: weekdays, Times: at(t, "09:00")}, DefaultSendWindow(), nil, "2025-01-15T09:00:00Z"}, // 07:00 in New York is 12:00 UTC
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkTime(t, FirstStepTime(tt.cadence, tt.window, tt.loc, tuesday), tt.want)
		})
	}
}

// FuzzStepTime checks, for any cadence, window, zone and times, that a step
// time is later than the previous one, inside the window in local time, on an
// allowed day, and the earliest such time.
func FuzzStepTime(f *testing.F) {
	zones := []*time.Location{time.UTC}
	for _, name := range []string{
		"America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Kolkata",
		"Australia/Sydney", "Australia/Lord_Howe", // a 30-minute daylight-saving shift
	} {
		zones = append(zones, mustZone(f, name))
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	const span = 10 * 365 * 24 * 3600 // seconds of anchors to choose from

	f.Add(uint8(1), uint8(0b0111110), uint8(0), uint16(9*60), uint16(14*60), uint16(8*60), uint16(12*60), int64(0), uint32(86400))
	f.Add(uint8(1), uint8(0), uint8(2), uint16(150), uint16(90), uint16(0), uint16(1439), int64(163_000_000), uint32(3600))
	f.Add(uint8(5), uint8(0b1000001), uint8(0), uint16(120), uint16(150), uint16(120), uint16(29), int64(182_000_000), uint32(7))
	f.Fuzz(func(t *testing.T, zone, days, every uint8, t1, t2, start, length uint16, anchorSec int64, gapSec uint32) {
		loc := zones[int(zone)%len(zones)]
		var c Cadence
		for d := time.Sunday; d <= time.Saturday; d++ {
			if days&(1<<d) != 0 {
				c.Weekdays = append(c.Weekdays, d)
			}
		}
		if len(c.Weekdays) == 0 {
			c.EveryDays = 1 + int(every)%14
		}
		c.Times = []ClockTime{ClockTime(t1 % (24 * 60)), ClockTime(t2 % (24 * 60))}
		w := SendWindow{Start: ClockTime(start % (24 * 60))}
		w.End = w.Start + 1 + ClockTime(int(length)%(24*60-int(w.Start)))

		anchor := base.Add(time.Duration((anchorSec%span+span)%span) * time.Second)
		prev := anchor.Add(time.Duration(gapSec%(2*365*24*3600)) * time.Second)

		slotDay := func(got time.Time) bool {
			y, m, d := got.In(loc).Date()
			day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			if c.EveryDays == 0 {
				for _, wd := range c.Weekdays {
					if day.Weekday() == wd {
						return true
					}
				}
				return false
			}
			// A slot after the window may move to the next day, or further
			// when that day's window is lost to a daylight-saving gap.
			ay, am, ad := anchor.In(loc).Date()
			first := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
			for back := range 3 {
				n := int(day.AddDate(0, 0, -back).Sub(first).Hours()/24 + 0.5)
				if n%c.EveryDays == 0 {
					return true
				}
			}
			return false
		}
		inWindow := func(got time.Time) bool {
			l := got.In(loc)
			m := ClockTime(l.Hour()*60 + l.Minute())
			return got.Location() == time.UTC && m >= w.Start && m < w.End
		}

		next := NextStepTime(c, w, loc, anchor, prev)
		if !next.After(prev) || !inWindow(next) || !slotDay(next) {
			t.Fatalf("NextStepTime(%+v, %v, %s, %s, %s) = %s", c, w, loc, anchor, prev, next.In(loc))
		}
		if next.Sub(prev) > time.Duration(c.EveryDays+8)*24*time.Hour {
			t.Fatalf("NextStepTime(%+v, %v, %s, %s, %s) = %s, too late", c, w, loc, anchor, prev, next.In(loc))
		}
		// Every time from prev up to the answer has the same answer: there
		// is no slot in between.
		mid := prev.Add(next.Sub(prev) * time.Duration(gapSec%97) / 97)
		for _, after := range []time.Time{mid, next.Add(-time.Nanosecond)} {
			if again := NextStepTime(c, w, loc, anchor, after); !again.Equal(next) {
				t.Fatalf("NextStepTime after %s = %s, after %s = %s", prev.In(loc), next.In(loc), after.In(loc), again.In(loc))
			}
		}

		first := FirstStepTime(c, w, loc, anchor)
		if first.Before(anchor) || !inWindow(first) || !slotDay(first) {
			t.Fatalf("FirstStepTime(%+v, %v, %s, %s) = %s", c, w, loc, anchor, first.In(loc))
		}
		if want := NextStepTime(c, w, loc, anchor, anchor.Add(-time.Nanosecond)); !first.Equal(want) {
			t.Fatalf("FirstStepTime = %s, NextStepTime just before = %s", first.In(loc), want.In(loc))
		}

		fit := InWindow(w, loc, prev)
		if fit.Before(prev) || !inWindow(fit) || !InWindow(w, loc, fit).Equal(fit) {
			t.Fatalf("InWindow(%v, %s, %s) = %s", w, loc, prev.In(loc), fit.In(loc))
		}
		if inWindow(prev.UTC()) && !fit.Equal(prev) {
			t.Fatalf("InWindow(%v, %s, %s) = %s, moved a time inside", w, loc, prev.In(loc), fit.In(loc))
		}
	})
}
