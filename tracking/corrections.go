package tracking

// Corrections to events already recorded: a void, a correction, a backfill of
// history, and the removal of a rep's events. Each is a new row in ClickHouse,
// never an ALTER ... DELETE (an asynchronous mutation that reports would see
// late): a correction is the same (org, rep, key) with a higher version, a void
// is such a row with deleted = 1, and a report reading with FINAL and
// deleted = 0, or with argMax(..., version), sees it the moment the call returns.
//
// The rows go straight to ClickHouse with WriteClickHouse, not through the
// outbox (the change is recorded in Postgres's change log once they are
// there): the caller (an API request) is told the report has changed, so the
// write must be visible when the call returns, and if ClickHouse is down the
// call fails and nothing is half done. Each call is safe to repeat: a repeated
// void or correction writes the same content with a yet higher version, a
// repeated backfill the same rows with the same versions.
//
// Versions. Rows from the live path (Append) carry the time they were
// appended, in ns. A void or correction carries the time of the call in ns, or
// one more than the newest version of the key if that is higher (a clock
// behind, or a row written with a made-up version), so it replaces every row of
// the key written before it, shipped or still in the outbox. The newest version
// is read from the outbox first and ClickHouse second: the shipper inserts into
// ClickHouse before it deletes from the outbox, so a row cannot slip between the
// two reads. A backfilled row carries its occurred_at in ns, which no call can
// move later than the time of the backfill (occurred_at may not be in the
// future), so a backfill replayed later never replaces a void or correction
// made after the first run, nor a live row of the same key (appended at or
// after the time it occurred); it only fills keys that are missing, and a
// second identical backfill is the same rows again, which collapse.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/lessons/errs"
)

// Limits on corrections.
const (
	MaxBackfill     = 10_000 // events in one backfill
	MaxKeyLength    = 200    // characters in an event key
	MaxDetailBytes  = 1024   // bytes of an event's detail JSON
	MaxReasonLength = 500    // characters in the reason for a void
)

// kinds lists every kind of event; keep it in step with the constants in events.go.
var kinds = []string{
	KindMessageSent, KindMessageDelivered, KindMessageFailed, KindReply, KindGraded, KindLessonOpened,
	KindSegmentWatched, KindLessonCompleted, KindCourseCompleted, KindOptedOut, KindOptedIn, KindPathChanged,
}

// Kinds returns the kinds of event, for validation and documentation.
func Kinds() []string { return slices.Clone(kinds) }

// maxDetails bounds the problems a validation lists, so that 10,000 bad events
// do not make a megabyte of error.
const maxDetails = 100

// Problems lists what is wrong with e as an event a client sends (a backfill or
// a correction), each named by its field's JSON name prefixed with path (such
// as "events[12]."); now is the time against which occurred_at may not be in
// the future. The organisation, version and deleted flag are the server's and
// not checked.
func (e Event) Problems(path string, now time.Time) []errs.Detail {
	var out []errs.Detail
	bad := func(field, format string, args ...any) {
		out = append(out, errs.Detail{Path: path + field, Message: fmt.Sprintf(format, args...)})
	}
	if msg := keyProblem(e.Key); msg != "" {
		bad("key", "%s", msg)
	}
	if e.RepID <= 0 {
		bad("rep_id", "is required: a positive whole number")
	}
	if !slices.Contains(kinds, e.Kind) {
		if e.Kind == "" {
			bad("kind", "is required: one of %s", strings.Join(kinds, ", "))
		} else {
			bad("kind", "must be one of %s, got %q", strings.Join(kinds, ", "), e.Kind)
		}
	}
	switch {
	case e.OccurredAt.IsZero():
		bad("occurred_at", "is required: a time in RFC 3339, such as 2027-03-08T14:00:00Z")
	case !e.OccurredAt.After(time.Unix(0, 0)):
		bad("occurred_at", "must be after 1970-01-01T00:00:00Z, got %s", e.OccurredAt.UTC().Format(time.RFC3339))
	case e.OccurredAt.After(now):
		bad("occurred_at", "must not be in the future, got %s", e.OccurredAt.UTC().Format(time.RFC3339))
	}
	for _, id := range []struct {
		field string
		v     int64
	}{{"course_id", e.CourseID}, {"enrollment_id", e.EnrollmentID}, {"assignment_id", e.AssignmentID}, {"lesson_id", e.LessonID}} {
		if id.v < 0 {
			bad(id.field, "must be a positive whole number, or 0 or absent for none; got %d", id.v)
		}
	}
	if e.Detail != "" {
		switch {
		case len(e.Detail) > MaxDetailBytes:
			bad("detail", "is %d bytes of JSON; the most is %d", len(e.Detail), MaxDetailBytes)
		case !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{"):
			bad("detail", "must be a JSON object")
		}
	}
	return out
}

// keyProblem says what is wrong with an event key, or "".
func keyProblem(key string) string {
	switch n := utf8.RuneCountInString(key); {
	case key == "":
		return "is required: 1 to 200 characters, such as \"grade/55/0\""
	case n > MaxKeyLength:
		return fmt.Sprintf("is %d characters long; the most is %d", n, MaxKeyLength)
	case !utf8.ValidString(key):
		return "is not valid UTF-8"
	case strings.ContainsFunc(key, unicode.IsControl):
		return "has a control character (a NUL, a line break...); keys are printable text"
	}
	return ""
}

// ValidateEvents checks a backfill: 1 to MaxBackfill events, each valid by
// Problems at now, and no rep and key twice. The Invalid error it returns
// names each problem by path, such as "events[12].occurred_at", and lists at
// most the first 100.
func ValidateEvents(events []Event, now time.Time) error {
	if len(events) == 0 {
		return errs.InvalidInput("There are no events to backfill.", []errs.Detail{{Path: "events", Message: "must have at least 1 event"}})
	}
	if len(events) > MaxBackfill {
		return errs.InvalidInput("Too many events for one backfill.", []errs.Detail{{Path: "events",
			Message: fmt.Sprintf("has %d events; the most in one backfill is %d: send them in several", len(events), MaxBackfill)}})
	}
	type repKey struct {
		rep int64
		key string
	}
	first := make(map[repKey]int, len(events))
	var details []errs.Detail
	total := 0
	for i, e := range events {
		path := fmt.Sprintf("events[%d].", i)
		problems := e.Problems(path, now)
		if j, dup := first[repKey{e.RepID, e.Key}]; dup && e.Key != "" {
			problems = append(problems, errs.Detail{Path: path + "key",
				Message: fmt.Sprintf("repeats events[%d]: the same rep and key is the same event", j)})
		} else {
			first[repKey{e.RepID, e.Key}] = i
		}
		total += len(problems)
		details = append(details, problems[:min(len(problems), maxDetails-len(details))]...)
	}
	if total == 0 {
		return nil
	}
	msg := "The events are not valid."
	if total > len(details) {
		msg = fmt.Sprintf("The events are not valid: %d problems, the first %d listed.", total, len(details))
	}
	return errs.InvalidInput(msg, details)
}

// VoidProblems lists what is wrong with a void of the rep's event key for
// reason, each named by its JSON name: "key", "rep_id" or "reason", which is
// required (it stays on the tombstone, for whoever asks later why).
func VoidProblems(key string, repID int64, reason string) []errs.Detail {
	var out []errs.Detail
	if msg := keyProblem(key); msg != "" {
		out = append(out, errs.Detail{Path: "key", Message: msg})
	}
	if repID <= 0 {
		out = append(out, errs.Detail{Path: "rep_id", Message: "is required: a positive whole number"})
	}
	switch n := utf8.RuneCountInString(reason); {
	case strings.TrimSpace(reason) == "":
		out = append(out, errs.Detail{Path: "reason", Message: "is required: say why the event is void"})
	case n > MaxReasonLength:
		out = append(out, errs.Detail{Path: "reason", Message: fmt.Sprintf("is %d characters long; the most is %d", n, MaxReasonLength)})
	}
	return out
}

// Void writes a tombstone for the rep's event key: a copy of its newest row
// with deleted = 1, a higher version, and the reason in its detail as
// {"void_reason": ..., "voided_by": by}, so that reports stop counting it at once. It returns
// the tombstone; voiding an event already void writes nothing and returns its
// tombstone. It returns Invalid if VoidProblems finds any, and NotFound if
// the organisation's rep has no event with the key, in ClickHouse or in the
// outbox. The caller checks that the rep is the organisation's.
func Void(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, now time.Time, orgID int64, key string, repID int64, reason, by string) (Event, error) {
	if details := VoidProblems(key, repID, reason); len(details) > 0 {
		return Event{}, errs.InvalidInput("The void is not valid.", details)
	}
	rows, err := latestRows(ctx, pool, ch, orgID, repID, key)
	if err != nil {
		return Event{}, err
	}
	e, ok := rows[key]
	if !ok {
		return Event{}, errs.Errorf(errs.NotFound, "Rep %d has no event with key %q.", repID, key)
	}
	if e.Deleted {
		return e, nil
	}
	e.Deleted, e.Detail, e.Version = true, VoidDetail{Reason: reason, By: by}.String(), nextVersion(e.Version, now)
	if err := logCorrections(ctx, pool, []Event{e}); err != nil {
		return Event{}, err
	}
	if err := WriteClickHouse(ctx, pool, ch, []Event{e}); err != nil {
		return Event{}, fmt.Errorf("void event %q of rep %d: %w", key, repID, err)
	}
	return e, nil
}

// Correct replaces an event of the organisation with e, the whole event as it
// should be (fields left zero become zero), as a new version that reports
// read at once. The event is named by e.RepID and e.Key, which a correction
// cannot change: to move an event to another rep, void it and backfill it
// under the other. A void event corrected comes back. It returns the row
// written; NotFound if the rep has no event with the key, Invalid if e is not
// valid (Problems).
func Correct(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, now time.Time, orgID int64, e Event) (Event, error) {
	if details := e.Problems("", now); len(details) > 0 {
		return Event{}, errs.InvalidInput("The corrected event is not valid.", details)
	}
	rows, err := latestRows(ctx, pool, ch, orgID, e.RepID, e.Key)
	if err != nil {
		return Event{}, err
	}
	old, ok := rows[e.Key]
	if !ok {
		return Event{}, errs.Errorf(errs.NotFound, "Rep %d has no event with key %q; to add one, backfill it.", e.RepID, e.Key)
	}
	e.OrgID, e.Deleted, e.Version = orgID, false, nextVersion(old.Version, now)
	if err := logCorrections(ctx, pool, []Event{e}); err != nil {
		return Event{}, err
	}
	if old.CourseID != e.CourseID && strings.HasPrefix(old.Key, gradeKeyPrefix) {
		// The answer leaves its course, under which question_attempts sorts
		// it: end its row there, before WriteClickHouse logs the change
		// that tells the reports to read again.
		gone := old
		gone.OrgID, gone.Deleted, gone.Version = orgID, true, e.Version
		if err := writeAttempts(ctx, ch, []Event{gone}); err != nil {
			return Event{}, fmt.Errorf("correct event %q of rep %d: %w", e.Key, e.RepID, err)
		}
	}
	if err := WriteClickHouse(ctx, pool, ch, []Event{e}); err != nil {
		return Event{}, fmt.Errorf("correct event %q of rep %d: %w", e.Key, e.RepID, err)
	}
	if old.AssignmentID != e.AssignmentID && old.AssignmentID != 0 {
		// The event left the old assignment, whose progress WriteClickHouse
		// did not recompute, nor that of the enrollment it belongs to.
		old.OrgID = orgID
		err := RollUp(ctx, ch, []Event{old})
		if err == nil {
			err = RollUpReps(ctx, ch, []Event{old})
		}
		if err == nil {
			err = recordChanges(ctx, pool, []Event{old})
		}
		if err != nil {
			return Event{}, fmt.Errorf("correct event %q of rep %d: %w", e.Key, e.RepID, err)
		}
	}
	return e, nil
}

// Backfill writes historical events of the organisation, each with its
// occurred_at in ns as its version (see the top of this file): replayed, it
// changes no report, and it never replaces a live row, a void or a correction
// of the same key. It validates the events with ValidateEvents, sets their
// OrgID to orgID, and returns how many it wrote. The caller checks that the
// reps are the organisation's.
func Backfill(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, now time.Time, orgID int64, events []Event) (int, error) {
	if err := ValidateEvents(events, now); err != nil {
		return 0, err
	}
	rows := make([]Event, len(events))
	for i, e := range events {
		e.OrgID, e.Deleted, e.Version = orgID, false, uint64(e.OccurredAt.UnixNano())
		rows[i] = e
	}
	if err := logCorrections(ctx, pool, rows); err != nil {
		return 0, err
	}
	if err := WriteClickHouse(ctx, pool, ch, rows); err != nil {
		return 0, fmt.Errorf("backfill: %w", err)
	}
	return len(rows), nil
}

// deleteChunk bounds each ClickHouse insert of DeleteRep.
const deleteChunk = 50_000

// DeleteRep voids every live event of the organisation's rep, in ClickHouse or
// still in the outbox, so that reports stop counting the rep at once, and
// returns how many it voided; a second call voids none. Events the rep causes
// afterwards are counted again: remove the rep first (lessons.RemoveRep) so
// that nothing more is sent. The caller checks that the rep is the
// organisation's.
func DeleteRep(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, now time.Time, orgID, repID int64) (int, error) {
	rows, err := latestRows(ctx, pool, ch, orgID, repID, "")
	if err != nil {
		return 0, err
	}
	var tombstones []Event
	for _, e := range rows {
		if e.Deleted || isFact(e.Kind) { // the rep's and enrollments' facts are not things the rep did
			continue
		}
		e.Deleted, e.Version = true, nextVersion(e.Version, now)
		tombstones = append(tombstones, e)
	}
	for chunk := range slices.Chunk(tombstones, deleteChunk) {
		if err := logCorrections(ctx, pool, chunk); err != nil {
			return 0, err
		}
		if err := WriteClickHouse(ctx, pool, ch, chunk); err != nil {
			return 0, fmt.Errorf("delete the events of rep %d: %w", repID, err)
		}
	}
	return len(tombstones), nil
}

// nextVersion is the version of a row that must replace one of version latest:
// now in ns, or latest+1 if that is higher.
func nextVersion(latest uint64, now time.Time) uint64 {
	return max(uint64(now.UnixNano()), latest+1)
}

// latestRows returns the newest row of each of the rep's event keys, or of
// key alone when it is not "", whether deleted or not, from the outbox (its
// rows, then its batches) and from ClickHouse, the newer where both have it.
// The outbox is read first: a row the shipper moves meanwhile is in
// ClickHouse before it leaves the outbox. The outbox has no index on the rep,
// and its batches are read whole; it is small while the shipper keeps up.
func latestRows(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, orgID, repID int64, key string) (map[string]Event, error) {
	latest := map[string]Event{}
	keep := func(e Event) {
		if old, ok := latest[e.Key]; !ok || e.Version >= old.Version {
			latest[e.Key] = e
		}
	}

	pgRows, err := pool.Query(ctx, `
		SELECT DISTINCT ON (event_key) event_key, kind, occurred_at, course_id, enrollment_id, assignment_id,
			lesson_id, value, detail, version, deleted
		FROM event_outbox
		WHERE org_id = $1 AND rep_id = $2 AND ($3 = '' OR event_key = $3)
		ORDER BY event_key, version DESC, id DESC`, orgID, repID, key)
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	outbox, err := pgx.CollectRows(pgRows, func(row pgx.CollectableRow) (Event, error) {
		e := Event{OrgID: orgID, RepID: repID}
		var version int64
		err := row.Scan(&e.Key, &e.Kind, &e.OccurredAt, &e.CourseID, &e.EnrollmentID, &e.AssignmentID,
			&e.LessonID, &e.Value, &e.Detail, &version, &e.Deleted)
		e.Version = uint64(version)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	batched, err := batchedEvents(ctx, pool, orgID)
	if err != nil {
		return nil, err
	}
	for _, e := range batched {
		if e.RepID == repID && (key == "" || e.Key == key) {
			outbox = append(outbox, e)
		}
	}

	query := `SELECT event_key, kind, occurred_at, course_id, enrollment_id, assignment_id, lesson_id, value, detail,
		version, deleted
		FROM events FINAL WHERE org_id = ? AND rep_id = ?`
	args := []any{uint64(orgID), uint64(repID)}
	if key != "" {
		query += ` AND event_key = ?`
		args = append(args, key)
	}
	chRows, err := ch.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read events from clickhouse: %w", err)
	}
	defer chRows.Close()
	for chRows.Next() {
		var (
			e                                    Event
			course, enrollment, assignment, less uint64
			deleted                              uint8
		)
		if err := chRows.Scan(&e.Key, &e.Kind, &e.OccurredAt, &course, &enrollment, &assignment, &less, &e.Value,
			&e.Detail, &e.Version, &deleted); err != nil {
			return nil, fmt.Errorf("read events from clickhouse: %w", err)
		}
		e.OrgID, e.RepID = orgID, repID
		e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID = int64(course), int64(enrollment), int64(assignment), int64(less)
		e.Deleted = deleted == 1
		keep(e)
	}
	if err := chRows.Err(); err != nil {
		return nil, fmt.Errorf("read events from clickhouse: %w", err)
	}
	for _, e := range outbox {
		keep(e)
	}
	return latest, nil
}
