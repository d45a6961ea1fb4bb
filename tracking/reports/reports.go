// Package reports reads from ClickHouse everything the manager dashboard and
// the trainers' reports show: the overview, the rep table (with its filters,
// CSV rows and at-risk list), search over the reps, a rep's timeline, the
// breakdowns by team, manager, course, cohort or tag, the question report and
// the video report. They read the rollups (enrollment_progress per rep and
// enrollment, rep_summary for search, assignment_progress for the videos,
// question_attempts for the questions), the timeline a rep's raw events; the
// audit checks the rollups against a recount of the raw events.
//
// The rollups' rows of an organisation are kept in memory as a snapshot
// (snapshot.go), current through the change log that their writers keep in
// Postgres (tracking.Changes): a page asks the log, reads again the reps it
// names, and counts in Go. Only a rep's timeline reads ClickHouse each time.
//
// Every read is bounded by the user's Scope, applied here and not by the
// caller: an organisation, and for a manager the teams they manage.
package reports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/morselhq/morsel/tracking"
)

// ErrNotFound is a rep or team outside the scope, or that does not exist:
// the two look the same to the user.
var ErrNotFound = errors.New("not found")

// Unavailable wraps a failure of ClickHouse: the reports cannot be read now,
// and nothing is lost.
type Unavailable struct{ Err error }

func (e *Unavailable) Error() string { return "reports are unavailable: " + e.Err.Error() }
func (e *Unavailable) Unwrap() error { return e.Err }

// Scope is what one user may see.
type Scope struct {
	OrgID    int64
	All      bool    // the whole organisation (admins, trainers)
	Teams    []int64 // the teams they may pick: with All the organisation's, else those they manage (none: nothing)
	Contacts bool    // phone numbers and email addresses may be shown
	// tags narrows every report to the reps with each of these tags (Tagged).
	tags []string
}

// Tagged is the scope narrowed to the reps that have every one of the tags
// (lower case, without the #): any report read with it counts those reps
// alone. No tags: s itself.
func (s Scope) Tagged(tags ...string) Scope {
	s.tags = tags
	return s
}

// Tags are the tags the scope is narrowed to.
func (s Scope) Tags() []string { return s.tags }

// HasTeam says whether the team is in the scope.
func (s Scope) HasTeam(id int64) bool {
	for _, t := range s.Teams {
		if t == id {
			return true
		}
	}
	return false
}

// Reports reads the reports from ClickHouse.
type Reports struct {
	ch        driver.Conn
	now       func() time.Time
	snapshots *snapshots          // nil: each page reads the rollups whole
	videos    repsCache[videoRow] // the video report's rows, kept by rep and brought up to each snapshot
	questions repsCache[attempt]  // the question report's first attempts, likewise
}

// New returns Reports on ch; now is the clock that decides what is overdue
// (nil: time.Now). With log, the Postgres change log of the rollups
// (tracking.Changes), Reports keeps each organisation's rollups in memory
// and reads again only what the log says changed; without, every page reads
// them whole (what an audit wants).
func New(ch driver.Conn, log tracking.Querier, now func() time.Time) *Reports {
	if now == nil {
		now = time.Now
	}
	r := &Reports{ch: ch, now: now}
	if log != nil {
		r.snapshots = newSnapshots(ch, log)
	}
	return r
}

// snapshot returns the organisation's rollups as they stand.
func (r *Reports) snapshot(ctx context.Context, orgID int64) (*snapshot, error) {
	if r.snapshots == nil {
		return loadSnapshot(ctx, r.ch, orgID, 0)
	}
	return r.snapshots.current(ctx, orgID)
}

// Status is where one rep stands in one enrollment, from the most urgent.
type Status uint8

const (
	Overdue       Status = iota // not done, and the due date has passed
	Behind                      // two steps sent and not done, or one open for three days
	Undeliverable               // the phone number cannot receive SMS
	OptedOut                    // the rep texted STOP
	OnTrack
	Done // every step of the path done
)

// Statuses lists the statuses in the order the rep table's filter offers
// them: a fresh slice each call, so no caller can change another's.
func Statuses() []Status {
	return []Status{Done, OnTrack, Behind, Overdue, OptedOut, Undeliverable}
}

var statusSlugs = [...]string{"overdue", "behind", "undeliverable", "opted_out", "on_track", "done"}
var statusLabels = [...]string{"Overdue", "Behind", "Undeliverable", "Opted out", "On track", "Done"}

// String is the status's slug, as in URLs: "on_track".
func (s Status) String() string { return statusSlugs[s] }

// Label is the status for people: "On track".
func (s Status) Label() string { return statusLabels[s] }

// ParseStatus reads a slug; ok is false for anything else.
func ParseStatus(slug string) (Status, bool) {
	for i, s := range statusSlugs {
		if s == slug {
			return Status(i), true
		}
	}
	return 0, false
}

// How long a step may stay open before its rep counts as behind.
const behindAfter = 3 * 24 * time.Hour

// StatusOf is p's status at now, as the rep table shows it.
func StatusOf(p tracking.EnrollmentProgress, now time.Time) Status {
	switch {
	case p.Finished():
		return Done
	case p.OptedOut:
		return OptedOut
	case p.PhoneInvalid:
		return Undeliverable
	case isOverdue(p, now):
		return Overdue
	case p.Sent >= p.Done+2 || (!p.OldestOpenSentAt.IsZero() && !p.OldestOpenSentAt.After(now.Add(-behindAfter))):
		return Behind
	}
	return OnTrack
}

func isOverdue(p tracking.EnrollmentProgress, now time.Time) bool {
	return !p.Finished() && !p.DueAt.IsZero() && !p.DueAt.After(now)
}

// querySettings suit the reports' queries: small reads, many at once. One
// thread each (many run side by side; a second thread only adds overhead),
// and the cache of uncompressed blocks, which the hot granules fit.
var querySettings = clickhouse.Settings{"max_threads": 1, "use_uncompressed_cache": 1}

// query runs a query, wrapping a failure as Unavailable.
func (r *Reports) query(ctx context.Context, what, sql string, args ...any) (driver.Rows, error) {
	rows, err := r.ch.Query(clickhouse.Context(ctx, clickhouse.WithSettings(querySettings)), sql, args...)
	if err != nil {
		return nil, &Unavailable{fmt.Errorf("%s: %w", what, err)}
	}
	return rows, nil
}

// Row is one rep in one enrollment, as the rep table and the at-risk list
// show them.
type Row struct {
	RepID, EnrollmentID, TeamID, CourseID int64
	Name, Team, Course                    string
	Tags                                  []string // the rep's #tags, without the #
	Done, Lessons                         int
	Answers, Correct                      int
	Watched, Segments                     int
	LastActivity, DueAt                   time.Time // zero: none
	Status                                Status
}

// QuizPercent is the share of quiz answers that were right; ok is false
// before any answer.
func (r Row) QuizPercent() (int, bool) {
	if r.Answers == 0 {
		return 0, false
	}
	return r.Correct * 100 / r.Answers, true
}

// VideoPercent is the share of the path's video segments watched; ok is
// false for a path without video.
func (r Row) VideoPercent() (int, bool) {
	if r.Segments == 0 {
		return 0, false
	}
	return min(100, r.Watched*100/r.Segments), true
}

// DueOn is the due date: the day before DueAt, in UTC (DueAt is the start
// of the next day in the rep's zone, so this is the date as the rep counts).
func (r Row) DueOn() (time.Time, bool) {
	if r.DueAt.IsZero() {
		return time.Time{}, false
	}
	d := r.DueAt.Add(-time.Hour * 12).UTC()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), true
}

// rowOf is the row a rep table shows of p, with its status at now.
func rowOf(p *progressRow, now time.Time) Row {
	return Row{RepID: p.RepID, EnrollmentID: p.EnrollmentID, TeamID: p.TeamID, CourseID: p.CourseID,
		Name: p.Name, Team: p.Team, Course: p.CourseTitle, Tags: p.Tags, Done: p.Done, Lessons: p.Lessons,
		Answers: p.Answers, Correct: p.Correct, Watched: p.Watched, Segments: p.Segments,
		LastActivity: p.LastActivityAt, DueAt: p.DueAt, Status: StatusOf(p.EnrollmentProgress, now)}
}
