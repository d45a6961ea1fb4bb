package lessons

import (
	"slices"
	"time"
)

// maxSearch bounds every search for a day, so that no input can loop forever.
const maxSearch = 400

// FirstStepTime returns when the first step of an enrollment made at enrolled
// goes out: the first cadence slot at or after enrolled, moved into the send
// window. A slot earlier today has passed, so the search moves on. For an
// every-N-days cadence the slot days are counted from the local date of
// enrolled. The result is in UTC.
func FirstStepTime(c Cadence, w SendWindow, loc *time.Location, enrolled time.Time) time.Time {
	return newSchedule(c, w, loc, enrolled).next(enrolled, true)
}

// NextStepTime returns when the step after one sent at prev goes out: the
// first cadence slot strictly after prev, in loc, moved into the send window.
// A weekday cadence uses the listed weekdays; an every-N-days cadence uses the
// Times on days start+k*N, where start is the local date of anchor (the
// enrollment time). The result is in UTC.
func NextStepTime(c Cadence, w SendWindow, loc *time.Location, anchor, prev time.Time) time.Time {
	return newSchedule(c, w, loc, anchor).next(prev, false)
}

// InWindow moves t to the next moment inside the send window, in loc: t itself
// if it is inside, else the window start of the same day if t is before it,
// else the next day's window start. The result is in UTC.
func InWindow(w SendWindow, loc *time.Location, t time.Time) time.Time {
	loc = orUTC(loc)
	return fitWindow(validWindow(w), loc, t, func(time.Time) bool { return true }).UTC()
}

// schedule is a Cadence made safe to compute with. All arithmetic is on the
// rep's wall clock: a day is a local calendar date (held as midnight UTC) and
// a slot is a number of minutes after local midnight.
type schedule struct {
	weekdays [7]bool // a weekday cadence: the days listed
	every    int     // an interval cadence: days between slot days; 0 for a weekday cadence
	start    int64   // an interval cadence: the day number of the first slot day
	times    []int   // minutes after midnight, ascending, at least one
	window   SendWindow
	loc      *time.Location
}

// newSchedule reads c without trusting it: weekdays out of range and times
// outside the day are dropped; a cadence with no weekdays and no interval
// goes out every day; one with no times goes out at the window start. An
// empty or inverted window is DefaultSendWindow; a nil loc is UTC.
func newSchedule(c Cadence, w SendWindow, loc *time.Location, anchor time.Time) schedule {
	s := schedule{window: validWindow(w), loc: orUTC(loc)}
	for _, d := range c.Weekdays {
		if d >= time.Sunday && d <= time.Saturday {
			s.weekdays[d] = true
		}
	}
	if !slices.Contains(s.weekdays[:], true) {
		s.every = max(c.EveryDays, 1)
		s.start = dayNumber(localDate(anchor, s.loc))
	}
	for _, t := range c.Times {
		if t >= 0 && t < 24*60 {
			s.times = append(s.times, int(t))
		}
	}
	if len(s.times) == 0 {
		s.times = []int{int(s.window.Start)}
	}
	slices.Sort(s.times)
	s.times = slices.Compact(s.times)
	return s
}

// next returns the first slot, moved into the window, after t (or at t, if
// inclusive), in UTC.
func (s schedule) next(t time.Time, inclusive bool) time.Time {
	// A slot on the last slot day before t's date may have been moved past t
	// by the window, so the search starts there.
	back := 7
	if s.every > 0 {
		back = s.every
	}
	day := s.slotDayFrom(localDate(t, s.loc).AddDate(0, 0, -back))
	for range maxSearch {
		for _, m := range s.times {
			slot := fitWindow(s.window, s.loc, wallTime(day, m, s.loc), s.windowDay)
			if slot.After(t) || inclusive && slot.Equal(t) {
				return slot.UTC()
			}
		}
		day = s.slotDayFrom(day.AddDate(0, 0, 1))
	}
	// Not reached for any schedule newSchedule builds; a safe answer anyway.
	return InWindow(s.window, s.loc, t.Add(24*time.Hour))
}

// slotDayFrom returns the first slot day on or after day.
func (s schedule) slotDayFrom(day time.Time) time.Time {
	if s.every > 0 {
		late := (dayNumber(day) - s.start) % int64(s.every)
		if late < 0 {
			late += int64(s.every)
		}
		if late == 0 {
			return day
		}
		return day.AddDate(0, 0, s.every-int(late))
	}
	for range 7 {
		if s.weekdays[day.Weekday()] {
			return day
		}
		day = day.AddDate(0, 0, 1)
	}
	return day
}

// windowDay reports whether a slot moved by the window may land on day: a
// weekday cadence keeps to its weekdays; an interval cadence may move to the
// next day.
func (s schedule) windowDay(day time.Time) bool {
	return s.every > 0 || s.weekdays[day.Weekday()]
}

// fitWindow moves t to the next moment inside w, in loc, on a day dayOK
// accepts: t itself, the window start of t's day, or the window start of the
// next accepted day. The window start is checked again after it is placed,
// since it may fall in a daylight-saving gap.
func fitWindow(w SendWindow, loc *time.Location, t time.Time, dayOK func(day time.Time) bool) time.Time {
	for range maxSearch {
		local := t.In(loc)
		day := localDate(t, loc)
		m := ClockTime(local.Hour()*60 + local.Minute())
		ok := dayOK(day)
		if ok && m >= w.Start && m < w.End {
			return t
		}
		if !ok || m >= w.End {
			day = day.AddDate(0, 0, 1)
			for i := 0; i < 7 && !dayOK(day); i++ {
				day = day.AddDate(0, 0, 1)
			}
		}
		t = wallTime(day, int(w.Start), loc)
	}
	return t
}

// wallTime returns the instant at which the wall clock in loc reads minutes
// after midnight on day. A wall time skipped by a daylight-saving change
// becomes the first instant after the gap; a repeated one is its first
// occurrence.
func wallTime(day time.Time, minutes int, loc *time.Location) time.Time {
	want := day.Add(time.Duration(minutes) * time.Minute)
	t := time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), 0, 0, loc)
	got := wallClock(t)
	switch {
	case got.Equal(want):
		// If the previous zone period also reads want, it did so first.
		start, _ := t.ZoneBounds()
		if start.IsZero() {
			return t
		}
		_, offset := start.Add(-time.Nanosecond).Zone()
		first := want.Add(-time.Duration(offset) * time.Second).In(loc)
		if first.Before(start) && wallClock(first).Equal(want) {
			return first
		}
		return t
	case got.After(want):
		// want is in a gap and t is past it: the gap ends where t's period starts.
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			return start
		}
		return t
	default:
		// want is in a gap and t is before it: the gap ends where t's period ends.
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
		return t
	}
}

// wallClock returns what the wall clock reads at t, in t's location, as a
// time in UTC, so that wall clock readings can be compared.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// localDate returns t's calendar date in loc, as midnight UTC.
func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dayNumber returns the days from 1970-01-01 to day, a date at midnight UTC
// (so the division is exact).
func dayNumber(day time.Time) int64 { return day.Unix() / 86400 }

// validWindow returns w, or DefaultSendWindow if w is empty, inverted or not
// within a day.
func validWindow(w SendWindow) SendWindow {
	if w.Start < 0 || w.End > 24*60 || w.Start >= w.End {
		return DefaultSendWindow()
	}
	return w
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
