package main

import (
	"math/rand/v2"
	"time"

	"github.com/morselhq/morsel/cmd/morsel/bench"
	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// A generated history: what reps did in their courses over the past weeks,
// as the events the live path writes (the same kinds, keys and details),
// for the demo and for data at scale.

// historyCourse is a published course as the generator walks it.
type historyCourse struct {
	id, versionID int64
	title         string
	dueDays       int
	steps         []historyStep
	segments      int // of its videos
}

type historyStep struct {
	lessonID  int64
	kind      lessons.LessonKind
	segments  int // video: 15-second segments
	questions int // quiz
	complete  int // video: segments that complete it
}

func historyCourseOf(v lessons.CourseVersion) historyCourse {
	c := historyCourse{id: v.CourseID, versionID: v.ID, title: v.Spec.Title, dueDays: max(v.Spec.DueDays, 7)}
	percent := v.Spec.VideoCompletePercent
	if percent == 0 {
		percent = lessons.DefaultVideoCompletePercent
	}
	for _, l := range v.Spec.Lessons {
		if l.Remedial {
			continue
		}
		s := historyStep{lessonID: l.ID, kind: l.Kind, questions: len(l.Questions)}
		if l.Kind == lessons.KindVideo {
			s.segments = max(1, (l.VideoSeconds+tracking.SegmentSeconds-1)/tracking.SegmentSeconds)
			s.complete = max(1, (s.segments*percent+99)/100)
			c.segments += s.segments
		}
		c.steps = append(c.steps, s)
	}
	return c
}

// historyRep is one rep and their enrollments, with the ids the generator
// writes: those of Postgres for the demo, made up for data at scale.
type historyRep struct {
	id, teamID  int64
	team        string
	in          lessons.RepInput
	enrollments []historyEnrollment
}

type historyEnrollment struct {
	id          int64
	course      int // index into history.courses
	assignments []int64
	enrolledAt  time.Time
}

// persona is how a rep goes about their training.
type persona struct {
	name             string
	share            float64 // of the reps
	doProb           float64 // that they do a step they were sent
	delay            time.Duration
	optOut, badPhone bool
}

var personas = []persona{
	{"diligent", 0.42, 0.98, 2 * time.Hour, false, false},
	{"steady", 0.25, 0.95, 9 * time.Hour, false, false},
	{"slow", 0.15, 0.8, 30 * time.Hour, false, false},
	{"idle", 0.11, 0.3, 48 * time.Hour, false, false},
	{"opted out", 0.04, 0.8, 5 * time.Hour, true, false},
	{"bad phone", 0.03, 0, 0, false, true},
}

func pickPersona(rng *rand.Rand) persona {
	x := rng.Float64()
	for _, p := range personas {
		if x < p.share {
			return p
		}
		x -= p.share
	}
	return personas[0]
}

// history writes reps' histories ending at now.
type history struct {
	org     int64
	now     time.Time
	courses []historyCourse
	// tips is how many daily-tip messages each rep was sent over the
	// years before their enrollments (each one sent and delivered: two
	// events of their own keys): the knob that sizes the history with rows
	// that stay rows, as years of a rep's messages would.
	tips   int
	nextID int64 // for messages and replies
	seq    uint64
}

// rep emits every event of one rep, their facts first, in time order within
// each enrollment.
func (h *history) rep(rng *rand.Rand, r historyRep, emit func(tracking.Event)) {
	p := pickPersona(rng)
	first := h.now
	for _, e := range r.enrollments {
		first = minTime(first, e.enrolledAt)
	}
	facts := tracking.RepFacts{OrgID: h.org, RepID: r.id, TeamID: r.teamID, Team: r.team, Status: "active", Name: r.in.Name,
		Phone: r.in.Phone, Email: r.in.Email, TimeZone: r.in.TimeZone, Tags: bench.TagsOf(r.id)} // as notes would tag them (the scale generator writes no notes)
	h.emit(emit, facts.Event(first.Add(-time.Hour)))
	for i := range h.tips {
		at := first.Add(-time.Duration(h.tips-i) * tipYears / time.Duration(h.tips))
		h.message(emit, tracking.Event{OrgID: h.org, RepID: r.id}, at, lessons.PurposeLesson, tracking.KindMessageDelivered)
	}
	var stopped time.Time // when the rep opted out or the phone failed
	for _, e := range r.enrollments {
		if end := h.enrollment(rng, r, e, p, emit); !end.IsZero() && (stopped.IsZero() || end.Before(stopped)) {
			stopped = end
		}
	}
	if !stopped.IsZero() {
		facts.OptedOut, facts.PhoneInvalid = p.optOut, p.badPhone
		h.emit(emit, facts.Event(stopped))
	}
}

// enrollment emits one enrollment's events and returns when the rep opted
// out or their phone failed, if they did.
func (h *history) enrollment(rng *rand.Rand, r historyRep, e historyEnrollment, p persona, emit func(tracking.Event)) time.Time {
	c := h.courses[e.course]
	zone, err := time.LoadLocation(r.in.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	local := e.enrolledAt.In(zone)
	due := time.Date(local.Year(), local.Month(), local.Day()+c.dueDays, 0, 0, 0, 0, zone)
	facts := tracking.EnrollmentFacts{OrgID: h.org, RepID: r.id, EnrollmentID: e.id, CourseID: c.id, CourseVersionID: c.versionID,
		CourseTitle: c.title, Status: "active", EnrolledAt: e.enrolledAt.UTC(), DueOn: due.Format(time.DateOnly),
		Lessons: len(c.steps), Segments: c.segments}
	h.emit(emit, facts.Event(e.enrolledAt))
	base := tracking.Event{OrgID: h.org, RepID: r.id, CourseID: c.id, EnrollmentID: e.id}
	// One step every spacing, so that the path ends a day or two before the due date.
	spacing := time.Duration(float64(c.dueDays-2) / float64(len(c.steps)) * float64(24*time.Hour))
	optOutAt := -1
	if p.optOut {
		optOutAt = rng.IntN(len(c.steps))
	}
	done, lastDone := 0, time.Time{}
	for i, s := range c.steps {
		sent := e.enrolledAt.Add(time.Duration(i)*spacing + time.Duration(rng.IntN(3600))*time.Second)
		if sent.After(h.now) {
			break
		}
		ev := base
		ev.AssignmentID, ev.LessonID = e.assignments[i], s.lessonID
		if p.badPhone {
			h.message(emit, ev, sent, lessons.PurposeLesson, tracking.KindMessageFailed)
			return sent.Add(time.Minute)
		}
		if i == optOutAt {
			at := sent.Add(time.Duration(rng.IntN(7200)) * time.Second)
			h.emit(emit, tracking.Event{OrgID: h.org, RepID: r.id, Key: tracking.OptKey(tracking.KindOptedOut, r.id, at),
				Kind: tracking.KindOptedOut, OccurredAt: at})
			return at
		}
		purpose := lessons.PurposeLesson
		if s.kind == lessons.KindQuiz {
			purpose = lessons.PurposeQuestion
		}
		sentID := h.message(emit, ev, sent, purpose, tracking.KindMessageDelivered)
		does := rng.Float64() < p.doProb
		at := sent.Add(time.Duration(rng.Int64N(int64(p.delay) + 1)))
		if at.After(h.now) {
			does = false
		}
		switch s.kind {
		case lessons.KindText:
			if does {
				h.step(emit, ev, tracking.KindLessonOpened, tracking.OpenKey(ev.AssignmentID), at, 0,
					tracking.LessonDetail{Kind: string(lessons.KindText)}.String())
				h.step(emit, ev, tracking.KindLessonCompleted, tracking.DoneKey(ev.AssignmentID), at, 0,
					tracking.LessonDetail{Kind: string(lessons.KindText)}.String())
			}
		case lessons.KindVideo:
			watched := s.segments
			if !does {
				if rng.IntN(3) > 0 {
					continue // never opened
				}
				watched = rng.IntN(s.complete) // opened, and left before the end
			}
			h.step(emit, ev, tracking.KindLessonOpened, tracking.OpenKey(ev.AssignmentID), at, 0,
				tracking.LessonDetail{Kind: string(lessons.KindVideo)}.String())
			for seg := range watched {
				segAt := at.Add(time.Duration(seg+1) * tracking.SegmentSeconds * time.Second)
				h.step(emit, ev, tracking.KindSegmentWatched, tracking.SegmentKey(ev.AssignmentID, seg), segAt, float64(seg), "")
			}
			if watched >= s.complete {
				h.step(emit, ev, tracking.KindLessonCompleted, tracking.DoneKey(ev.AssignmentID), at.Add(time.Duration(s.complete)*tracking.SegmentSeconds*time.Second), 0,
					tracking.LessonDetail{Kind: string(lessons.KindVideo)}.String())
			} else {
				does = false
			}
		case lessons.KindQuiz:
			if !does {
				continue
			}
			right := 0
			for q := range s.questions {
				msg := sentID // the first question came with the step
				if q > 0 {
					msg = h.message(emit, ev, at, lessons.PurposeQuestion, tracking.KindMessageDelivered)
				}
				reply := h.id()
				h.emit(emit, tracking.Event{OrgID: h.org, RepID: r.id, Key: tracking.ReplyKey(reply), Kind: tracking.KindReply,
					OccurredAt: at.Add(time.Minute), EnrollmentID: e.id, Detail: tracking.ReplyDetail{MessageID: reply}.String()})
				score, choice := 0.0, 0 // wrong: A; right: B
				if rng.Float64() < 0.8 {
					score, choice, right = 1, 1, right+1
				}
				h.step(emit, ev, tracking.KindGraded, tracking.GradeKey(ev.AssignmentID, q, msg), at.Add(time.Minute), score,
					tracking.GradedDetail{Question: q, Choice: choice, Purpose: string(lessons.PurposeQuestion)}.String())
				h.message(emit, ev, at.Add(time.Minute+5*time.Second), lessons.PurposeFeedback, tracking.KindMessageDelivered)
				at = at.Add(2 * time.Minute)
			}
			h.step(emit, ev, tracking.KindLessonCompleted, tracking.DoneKey(ev.AssignmentID), at, float64(right)/float64(max(1, s.questions)), "")
		}
		if does {
			done++
			lastDone = at
		}
	}
	if done == len(c.steps) {
		h.emit(emit, tracking.Event{OrgID: h.org, RepID: r.id, Key: tracking.CourseKey(e.id), Kind: tracking.KindCourseCompleted,
			OccurredAt: lastDone, CourseID: c.id, EnrollmentID: e.id})
		facts.Status = "completed"
		h.emit(emit, facts.Event(lastDone))
	}
	return time.Time{}
}

// message emits a message sent about ev's assignment and its fate
// (delivered or failed), and returns the message's id.
func (h *history) message(emit func(tracking.Event), ev tracking.Event, at time.Time, purpose lessons.MessagePurpose, fate string) int64 {
	id := h.id()
	m := tracking.Event{OrgID: ev.OrgID, RepID: ev.RepID, EnrollmentID: ev.EnrollmentID, AssignmentID: ev.AssignmentID}
	m.Kind, m.Key, m.OccurredAt = tracking.KindMessageSent, tracking.MessageKey(id, tracking.KindMessageSent), at
	m.Detail = tracking.MessageSentDetail{Purpose: string(purpose)}.String()
	h.emit(emit, m)
	m.Kind, m.Key, m.OccurredAt = fate, tracking.MessageKey(id, fate), at.Add(4*time.Second)
	status := tracking.MessageStatusDetail{Status: string(lessons.MessageDelivered)}
	if fate == tracking.KindMessageFailed {
		status = tracking.MessageStatusDetail{Status: string(lessons.MessageUndelivered), ErrorCode: 30003}
	}
	m.Detail = status.String()
	h.emit(emit, m)
	return id
}

func (h *history) step(emit func(tracking.Event), ev tracking.Event, kind, key string, at time.Time, value float64, detail string) {
	ev.Kind, ev.Key, ev.OccurredAt, ev.Value, ev.Detail = kind, key, at, value, detail
	h.emit(emit, ev)
}

// emit gives e a version that orders it as the live path would (later
// events, later versions) and hands it on.
func (h *history) emit(emit func(tracking.Event), e tracking.Event) {
	h.seq++
	if e.Version == 0 {
		e.Version = uint64(e.OccurredAt.UnixNano()) + h.seq%1000
	}
	emit(e)
}

func (h *history) id() int64 {
	h.nextID++
	return h.nextID
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// tipYears is how far back the tips go before a rep's first enrollment.
const tipYears = 3 * 365 * 24 * time.Hour

// tipsFor is the tips per rep that bring a history of base events over reps
// to about target events.
func tipsFor(base, reps, target int) int {
	if target <= base || reps == 0 {
		return 0
	}
	return (target - base + reps) / (2 * reps)
}
