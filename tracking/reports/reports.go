// Package reports reads what the manager dashboard shows from ClickHouse:
// the per-(rep, enrollment) rollup enrollment_progress, the rep_summary
// rollup that search ranks, and a rep's raw events for their timeline. Each
// page is one or two queries over the rows of the reps in the user's scope,
// never over the raw events of many reps.
//
// Every query is bounded by the user's Scope, applied here and not by the
// caller: an organisation, and for a manager the teams they manage.
package reports

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
}

// HasTeam says whether the team is in the scope.
func (s Scope) HasTeam(id int64) bool {
	for _, t := range s.Teams {
		if t == id {
			return true
		}
	}
	return false
}

// where is the condition on a table sorted by (org_id, team_id, ...) that
// keeps the scope's rows, narrowed to one team unless team is 0. The team
// must be in the scope (HasTeam).
func (s Scope) where(team int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "org_id = %d", s.OrgID)
	switch {
	case team != 0:
		fmt.Fprintf(&b, " AND team_id = %d", team)
	case !s.All && len(s.Teams) == 0:
		b.WriteString(" AND 0")
	case !s.All:
		b.WriteString(" AND team_id IN (")
		for i, t := range s.Teams {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(t, 10))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Reports reads the reports from ClickHouse.
type Reports struct {
	ch  driver.Conn
	now func() time.Time
}

// New returns Reports on ch; now is the clock that decides what is overdue
// (nil: time.Now).
func New(ch driver.Conn, now func() time.Time) *Reports {
	if now == nil {
		now = time.Now
	}
	return &Reports{ch: ch, now: now}
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

// Statuses lists the statuses in order.
var Statuses = []Status{Done, OnTrack, Behind, Overdue, OptedOut, Undeliverable}

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

// StatusOf is p's status at now: what statusSQL computes, for recounts.
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

// The status of a row of enrollment_progress in SQL, as StatusOf; @now is a
// UInt32 of Unix seconds.
const (
	finishedSQL = `(lessons_total > 0 AND lessons_done >= lessons_total)`
	overdueSQL  = `(NOT ` + finishedSQL + ` AND toUInt32(due_at) > 0 AND toUInt32(due_at) <= @now)`
	statusSQL   = `multiIf(` + finishedSQL + `, 5, opted_out = 1, 3, phone_invalid = 1, 2, ` + overdueSQL + `, 0,
		lessons_sent >= lessons_done + 2 OR (toUInt32(oldest_open_sent_at) > 0 AND toUInt32(oldest_open_sent_at) <= @now - 259200), 1, 4)`
	// liveSQL keeps the rows a report counts: not a tombstone, the rep not
	// removed, the enrollment not cancelled.
	liveSQL = `deleted = 0 AND rep_status != 'removed' AND status != 'cancelled'`
)

// nowArg binds @now.
func nowArg(t time.Time) driver.NamedValue { return clickhouse.Named("now", uint32(t.Unix())) }

// querySettings suit the reports' queries: small reads, many at once. One
// thread each (many run side by side; a second thread only adds overhead),
// and the cache of uncompressed blocks, which the rollups' hot granules fit.
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

const rowColumns = `rep_id, enrollment_id, team_id, course_id, name, team_name, course_title, lessons_done, lessons_total,
	answers, correct, segments_watched, segments_total, last_activity_at, due_at, ` + statusSQL + ` AS st`

func scanRow(rows driver.Rows, extra ...any) (Row, error) {
	var rep, enrollment, team, course uint64
	var done, lessons, answers, correct, watched, segments uint32
	var st uint8
	var r Row
	dest := append([]any{&rep, &enrollment, &team, &course, &r.Name, &r.Team, &r.Course, &done, &lessons,
		&answers, &correct, &watched, &segments, &r.LastActivity, &r.DueAt, &st}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return Row{}, err
	}
	r.RepID, r.EnrollmentID, r.TeamID, r.CourseID = int64(rep), int64(enrollment), int64(team), int64(course)
	r.Done, r.Lessons, r.Answers, r.Correct = int(done), int(lessons), int(answers), int(correct)
	r.Watched, r.Segments, r.Status = int(watched), int(segments), Status(st)
	r.LastActivity, r.DueAt = zero(r.LastActivity), zero(r.DueAt)
	return r, nil
}

func zero(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}
