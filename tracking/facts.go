package tracking

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Facts are what the reports know of reps and enrollments beside their
// events: a rep's team, name and reachability, an enrollment's course, due
// date and path length. Postgres owns them; every change writes the new facts
// to the outbox as an event (rep_changed, enrollment_changed) in its own
// transaction, and the shipper writes them to the reps and enrollments tables
// of ClickHouse, where the rollups join them to the progress. The newest
// version wins, so facts shipped twice or late never replace newer ones.

// RepFacts is a rep as the reports see them.
type RepFacts struct {
	OrgID        int64  `json:"-"`
	RepID        int64  `json:"-"`
	TeamID       int64  `json:"-"` // 0: in no team; the event's Value
	Team         string `json:"team"`
	Status       string `json:"status"` // "active" or "removed", as lessons.RepStatus
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	TimeZone     string `json:"time_zone"`
	OptedOut     bool   `json:"opted_out"`
	PhoneInvalid bool   `json:"phone_invalid"` // the provider said the number cannot take SMS
	// Tags are the #tags of the notes on the rep, sorted, each once.
	Tags []string `json:"tags,omitempty"`
	// Version orders a rep's facts: the newest wins. 0: the time of writing.
	Version uint64 `json:"-"`
}

// Event is the rep_changed event that ships f, keyed by the rep; its detail
// is f as JSON (strings and bools only: it cannot fail).
func (f RepFacts) Event(at time.Time) Event {
	return Event{OrgID: f.OrgID, RepID: f.RepID, Key: RepKey(f.RepID), Kind: KindRepChanged, OccurredAt: at,
		Value: float64(f.TeamID), Detail: encodeDetail(f), Version: f.Version}
}

// repFactsOf reads the facts a rep_changed event carries. Events written
// before the facts were JSON carry the status alone as their detail.
func repFactsOf(e Event) (RepFacts, error) {
	f := RepFacts{Status: e.Detail}
	if strings.HasPrefix(e.Detail, "{") {
		if err := json.Unmarshal([]byte(e.Detail), &f); err != nil {
			return RepFacts{}, fmt.Errorf("rep_changed event of rep %d: %w", e.RepID, err)
		}
	}
	f.OrgID, f.RepID, f.TeamID, f.Version = e.OrgID, e.RepID, int64(e.Value), e.Version
	return f, nil
}

// EnrollmentFacts is an enrollment as the reports see it.
type EnrollmentFacts struct {
	OrgID           int64     `json:"-"`
	RepID           int64     `json:"-"`
	EnrollmentID    int64     `json:"-"`
	CourseID        int64     `json:"-"`
	CourseVersionID int64     `json:"course_version_id"`
	CourseTitle     string    `json:"course_title"`
	Status          string    `json:"status"` // "active", "completed" or "cancelled", as lessons.EnrollmentStatus
	EnrolledAt      time.Time `json:"enrolled_at"`
	DueOn           string    `json:"due_on"`   // a date, 2006-01-02
	Lessons         int       `json:"lessons"`  // steps of the path, skipped ones left out
	Segments        int       `json:"segments"` // 15-second segments of its video steps
	// Version orders an enrollment's facts: the newest wins. 0: the time of writing.
	Version uint64 `json:"-"`
}

// Event is the enrollment_changed event that ships f, keyed by the
// enrollment; its detail is f as JSON (no floats, no maps: it cannot fail).
func (f EnrollmentFacts) Event(at time.Time) Event {
	return Event{OrgID: f.OrgID, RepID: f.RepID, Key: EnrollmentKey(f.EnrollmentID), Kind: KindEnrollmentChanged,
		OccurredAt: at, CourseID: f.CourseID, EnrollmentID: f.EnrollmentID, Detail: encodeDetail(f), Version: f.Version}
}

func enrollmentFactsOf(e Event) (EnrollmentFacts, error) {
	var f EnrollmentFacts
	if err := json.Unmarshal([]byte(e.Detail), &f); err != nil {
		return EnrollmentFacts{}, fmt.Errorf("enrollment_changed event of enrollment %d: %w", e.EnrollmentID, err)
	}
	if _, err := time.Parse(time.DateOnly, f.DueOn); err != nil {
		return EnrollmentFacts{}, fmt.Errorf("enrollment_changed event of enrollment %d: due_on: %w", e.EnrollmentID, err)
	}
	f.OrgID, f.RepID, f.EnrollmentID, f.CourseID, f.Version = e.OrgID, e.RepID, e.EnrollmentID, e.CourseID, e.Version
	return f, nil
}

// isFact says whether an event carries facts rather than something a rep did.
func isFact(kind string) bool { return kind == KindRepChanged || kind == KindEnrollmentChanged }

// The facts tables' columns, spelled out: ClickHouse 18.16 needs them.
const (
	insertRepFacts = `INSERT INTO reps (org_id, rep_id, team_id, status, team_name, name, phone, email, time_zone,
		opted_out, phone_invalid, tags, version, deleted)`
	insertEnrollmentFacts = `INSERT INTO enrollments (org_id, rep_id, enrollment_id, course_id, course_version_id,
		course_title, status, enrolled_at, due_on, lessons_total, segments_total, version, deleted)`
)

// SyncReps writes the reps' facts to ClickHouse as new versions of their
// rows; facts without a Version get the time of writing. Writing the same
// facts again is safe. Rows are never deleted: a removed rep keeps a row with
// status "removed", and reports filter on it. It does not roll up: the
// shipper calls it, then RollUpReps.
func SyncReps(ctx context.Context, ch driver.Conn, reps []RepFacts) error {
	if len(reps) == 0 {
		return nil
	}
	now := uint64(time.Now().UnixNano())
	batch, err := ch.PrepareBatch(ctx, insertRepFacts)
	if err != nil {
		return fmt.Errorf("sync reps to clickhouse: %w", err)
	}
	for _, r := range reps {
		version := r.Version
		if version == 0 {
			version = now
		}
		if err := batch.Append(uint64(r.OrgID), uint64(r.RepID), uint64(r.TeamID), r.Status, r.Team, r.Name, r.Phone, r.Email,
			r.TimeZone, boolByte(r.OptedOut), boolByte(r.PhoneInvalid), nonNil(r.Tags), version, uint8(0)); err != nil {
			batch.Abort()
			return fmt.Errorf("sync reps to clickhouse: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("sync %d reps to clickhouse: %w", len(reps), err)
	}
	return nil
}

// syncEnrollments writes enrollments' facts to ClickHouse, as SyncReps does reps'.
func syncEnrollments(ctx context.Context, ch driver.Conn, enrollments []EnrollmentFacts) error {
	if len(enrollments) == 0 {
		return nil
	}
	now := uint64(time.Now().UnixNano())
	batch, err := ch.PrepareBatch(ctx, insertEnrollmentFacts)
	if err != nil {
		return fmt.Errorf("sync enrollments to clickhouse: %w", err)
	}
	for _, f := range enrollments {
		version := f.Version
		if version == 0 {
			version = now
		}
		due, _ := time.Parse(time.DateOnly, f.DueOn) // checked by enrollmentFactsOf
		if err := batch.Append(uint64(f.OrgID), uint64(f.RepID), uint64(f.EnrollmentID), uint64(f.CourseID), uint64(f.CourseVersionID),
			f.CourseTitle, f.Status, f.EnrolledAt.UTC(), due, uint32(f.Lessons), uint32(f.Segments), version, uint8(0)); err != nil {
			batch.Abort()
			return fmt.Errorf("sync enrollments to clickhouse: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("sync %d enrollments to clickhouse: %w", len(enrollments), err)
	}
	return nil
}

// writeFacts writes the facts that events carry to their tables. A fact
// event that cannot be read is an error: it would leave a report behind.
func writeFacts(ctx context.Context, ch driver.Conn, events []Event) error {
	var reps []RepFacts
	var enrollments []EnrollmentFacts
	for _, e := range events {
		if e.Deleted {
			continue
		}
		switch e.Kind {
		case KindRepChanged:
			f, err := repFactsOf(e)
			if err != nil {
				return err
			}
			reps = append(reps, f)
		case KindEnrollmentChanged:
			f, err := enrollmentFactsOf(e)
			if err != nil {
				return err
			}
			enrollments = append(enrollments, f)
		}
	}
	if err := SyncReps(ctx, ch, reps); err != nil {
		return err
	}
	return syncEnrollments(ctx, ch, enrollments)
}

// nonNil is s, or an empty slice for nil: ClickHouse's arrays are never
// NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nilIfEmpty is s, or nil when it is empty: what a fact read back from
// ClickHouse compares equal to one read from its JSON.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
