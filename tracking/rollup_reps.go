package tracking

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// EnrollmentProgress is a rep's progress in one enrollment with the facts of
// both beside it, as enrollment_progress holds it (migrations/clickhouse/0003):
// what the rep table and the overview read.
type EnrollmentProgress struct {
	OrgID, TeamID, RepID, EnrollmentID, CourseID int64
	CourseTitle, Team, Name                      string
	Tags                                         []string // the rep's, sorted; nil: none
	RepStatus                                    string   // the rep's: "active" or "removed"
	OptedOut, PhoneInvalid                       bool
	Status                                       string    // the enrollment's: "active", "completed" or "cancelled"
	EnrolledAt                                   time.Time // when it started
	DueAt                                        time.Time // the start of the day after the due date, in the rep's zone: overdue from then
	Lessons, Sent, Opened, Done                  int       // steps on the path; of them sent, opened (or done), done
	Answers, Correct                             int       // quiz answers graded, and correct
	Segments, Watched                            int       // video segments on the path, and watched
	CompletedAt                                  time.Time // when the last step was done, once every step is; zero: not done
	LastActivityAt                               time.Time // zero: none yet
	OldestOpenSentAt                             time.Time // the earliest step sent and not done; zero: none
}

// Finished says whether every step of the path is done.
func (p EnrollmentProgress) Finished() bool { return p.Lessons > 0 && p.Done >= p.Lessons }

// RepSummary is one rep, as rep_summary holds them: what search reads.
type RepSummary struct {
	OrgID, TeamID, RepID   int64
	Team, Name, Phone      string
	Email, RepStatus       string
	OptedOut, PhoneInvalid bool
	Enrollments, Done      int // enrollments not cancelled, and of them finished
	LastActivityAt         time.Time
}

// composeProgress puts the reps' facts, their enrollments' facts and their
// assignments' progress together into the rows of enrollment_progress and
// rep_summary. A rep or enrollment without facts has no row: the reports do
// not know it yet.
func composeProgress(reps map[int64]RepFacts, enrollments []EnrollmentFacts, progress []Progress) ([]EnrollmentProgress, []RepSummary) {
	byEnrollment := map[int64][]Progress{}
	for _, p := range progress {
		byEnrollment[p.EnrollmentID] = append(byEnrollment[p.EnrollmentID], p)
	}
	summaries := map[int64]*RepSummary{}
	for _, r := range reps {
		summaries[r.RepID] = &RepSummary{OrgID: r.OrgID, TeamID: r.TeamID, RepID: r.RepID, Team: r.Team, Name: r.Name,
			Phone: r.Phone, Email: r.Email, RepStatus: r.Status, OptedOut: r.OptedOut, PhoneInvalid: r.PhoneInvalid}
	}
	var rows []EnrollmentProgress
	for _, e := range enrollments {
		r, ok := reps[e.RepID]
		if !ok {
			continue
		}
		p := EnrollmentProgress{OrgID: e.OrgID, TeamID: r.TeamID, RepID: e.RepID, EnrollmentID: e.EnrollmentID, CourseID: e.CourseID,
			CourseTitle: e.CourseTitle, Team: r.Team, Name: r.Name, Tags: nilIfEmpty(r.Tags), RepStatus: r.Status, OptedOut: r.OptedOut, PhoneInvalid: r.PhoneInvalid,
			Status: e.Status, EnrolledAt: e.EnrolledAt.UTC(), DueAt: dueAt(e.DueOn, r.TimeZone), Lessons: e.Lessons, Segments: e.Segments}
		var lastDone time.Time
		for _, a := range byEnrollment[e.EnrollmentID] {
			if !a.SentAt.IsZero() {
				p.Sent++
			}
			if !a.OpenedAt.IsZero() || !a.CompletedAt.IsZero() {
				p.Opened++
			}
			if a.CompletedAt.IsZero() {
				if !a.SentAt.IsZero() && (p.OldestOpenSentAt.IsZero() || a.SentAt.Before(p.OldestOpenSentAt)) {
					p.OldestOpenSentAt = a.SentAt
				}
			} else {
				p.Done++
				lastDone = later(lastDone, a.CompletedAt)
			}
			p.Answers += a.Answers
			p.Correct += a.Correct
			p.Watched += a.SegmentsWatched
			p.LastActivityAt = later(p.LastActivityAt, a.LastActivityAt)
		}
		if p.Finished() {
			p.CompletedAt = lastDone
		}
		rows = append(rows, p)
		s := summaries[e.RepID]
		s.LastActivityAt = later(s.LastActivityAt, p.LastActivityAt)
		if e.Status != "cancelled" {
			s.Enrollments++
			if p.Finished() {
				s.Done++
			}
		}
	}
	slices.SortFunc(rows, func(a, b EnrollmentProgress) int {
		return cmp.Or(cmp.Compare(a.RepID, b.RepID), cmp.Compare(a.EnrollmentID, b.EnrollmentID))
	})
	out := make([]RepSummary, 0, len(summaries))
	for _, id := range slices.Sorted(maps.Keys(summaries)) {
		out = append(out, *summaries[id])
	}
	return rows, out
}

// dueAt is when an enrollment due on the date becomes overdue: the start of
// the next day in the rep's time zone (UTC for a zone that does not load).
func dueAt(dueOn, zone string) time.Time {
	day, err := time.Parse(time.DateOnly, dueOn)
	if err != nil {
		return time.Time{}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		loc = time.UTC
	}
	next := day.AddDate(0, 0, 1)
	return time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, loc).UTC()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// rollupReps bounds the reps of one recomputation: their ids are part of
// the queries' text.
const rollupReps = 5000

// RollUpReps recomputes enrollment_progress and rep_summary for every rep
// that events are about, from assignment_progress and the facts as they are
// now: WriteClickHouse calls it after RollUp. A row whose key is gone (the
// rep moved to another team) gets a tombstone.
func RollUpReps(ctx context.Context, ch driver.Conn, events []Event) error {
	byOrg := repsByOrg(events)
	for _, org := range slices.Sorted(maps.Keys(byOrg)) {
		for reps := range slices.Chunk(byOrg[org], rollupReps) {
			if err := rollUpReps(ctx, ch, org, reps); err != nil {
				return err
			}
		}
	}
	return nil
}

// repsByOrg returns the reps that events are about, ascending, by
// organisation.
func repsByOrg(events []Event) map[int64][]int64 {
	sets := map[int64]map[int64]bool{}
	for _, e := range events {
		if e.RepID == 0 {
			continue
		}
		if sets[e.OrgID] == nil {
			sets[e.OrgID] = map[int64]bool{}
		}
		sets[e.OrgID][e.RepID] = true
	}
	out := make(map[int64][]int64, len(sets))
	for org, reps := range sets {
		out[org] = slices.Sorted(maps.Keys(reps))
	}
	return out
}

// RollUpOrg recomputes every rollup of the reps (all of the organisation's
// that a bulk load wrote) from their raw events, as WriteClickHouse does for
// the reps a write touches: after InsertEvents, the rollups are then what
// the live path would have produced, and the change is recorded in db (every
// rep may have changed). progress, if set, hears how many reps are done.
func RollUpOrg(ctx context.Context, db Beginner, ch driver.Conn, orgID int64, repIDs []int64, progress func(done int)) error {
	repIDs = slices.Sorted(slices.Values(repIDs))
	done := 0
	for chunk := range slices.Chunk(repIDs, recountReps) {
		if err := rollUp(ctx, ch, orgID, chunk, nil); err != nil {
			return err
		}
		if err := rollUpReps(ctx, ch, orgID, chunk); err != nil {
			return err
		}
		done += len(chunk)
		if progress != nil {
			progress(done)
		}
	}
	return RecordOrgChanged(ctx, db, orgID)
}

func rollUpReps(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) error {
	version := uint64(time.Now().UnixNano()) // before reading: a later recomputation has seen more
	rows, summaries, err := ComposedProgress(ctx, ch, orgID, repIDs)
	if err != nil {
		return err
	}
	storedRows, storedSummaries, err := storedKeys(ctx, ch, orgID, repIDs)
	if err != nil {
		return err
	}
	for _, p := range rows {
		delete(storedRows, progressKey{p.TeamID, p.RepID, p.EnrollmentID})
	}
	for _, s := range summaries {
		delete(storedSummaries, progressKey{s.TeamID, s.RepID, 0})
	}
	if err := insertEnrollmentProgress(ctx, ch, orgID, rows, slices.Collect(maps.Keys(storedRows)), version); err != nil {
		return err
	}
	return insertRepSummaries(ctx, ch, orgID, summaries, slices.Collect(maps.Keys(storedSummaries)), version)
}

// ComposedProgress computes the reps' rows of enrollment_progress and
// rep_summary from assignment_progress and the facts tables: what
// RollUpReps writes.
func ComposedProgress(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) ([]EnrollmentProgress, []RepSummary, error) {
	if len(repIDs) == 0 {
		return nil, nil, nil
	}
	reps, err := readRepFacts(ctx, ch, orgID, repIDs)
	if err != nil {
		return nil, nil, err
	}
	enrollments, err := readEnrollmentFacts(ctx, ch, orgID, repIDs)
	if err != nil {
		return nil, nil, err
	}
	progress, err := StoredProgress(ctx, ch, orgID, repIDs, nil)
	if err != nil {
		return nil, nil, err
	}
	rows, summaries := composeProgress(reps, enrollments, progress)
	return rows, summaries, nil
}

func readRepFacts(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) (map[int64]RepFacts, error) {
	rows, err := ch.Query(ctx, `
		SELECT rep_id, argMax(team_id, version), argMax(status, version), argMax(team_name, version), argMax(name, version),
			argMax(phone, version), argMax(email, version), argMax(time_zone, version), argMax(opted_out, version),
			argMax(phone_invalid, version), argMax(tags, version)
		FROM reps WHERE org_id = ? AND rep_id IN (`+IDList(repIDs)+`) AND deleted = 0
		GROUP BY rep_id`, uint64(orgID))
	if err != nil {
		return nil, fmt.Errorf("read rep facts: %w", err)
	}
	defer rows.Close()
	out := map[int64]RepFacts{}
	for rows.Next() {
		var rep, team uint64
		var optedOut, invalid uint8
		f := RepFacts{OrgID: orgID}
		if err := rows.Scan(&rep, &team, &f.Status, &f.Team, &f.Name, &f.Phone, &f.Email, &f.TimeZone, &optedOut, &invalid, &f.Tags); err != nil {
			return nil, fmt.Errorf("read rep facts: %w", err)
		}
		f.RepID, f.TeamID, f.OptedOut, f.PhoneInvalid = int64(rep), int64(team), optedOut == 1, invalid == 1
		f.Tags = nilIfEmpty(f.Tags)
		out[f.RepID] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rep facts: %w", err)
	}
	return out, nil
}

func readEnrollmentFacts(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) ([]EnrollmentFacts, error) {
	rows, err := ch.Query(ctx, `
		SELECT rep_id, enrollment_id, argMax(course_id, version), argMax(course_version_id, version),
			argMax(course_title, version), argMax(status, version), argMax(enrolled_at, version), argMax(due_on, version),
			argMax(lessons_total, version), argMax(segments_total, version)
		FROM enrollments WHERE org_id = ? AND rep_id IN (`+IDList(repIDs)+`) AND deleted = 0
		GROUP BY rep_id, enrollment_id`, uint64(orgID))
	if err != nil {
		return nil, fmt.Errorf("read enrollment facts: %w", err)
	}
	defer rows.Close()
	var out []EnrollmentFacts
	for rows.Next() {
		var rep, enrollment, course, version uint64
		var lessons, segments uint32
		var due time.Time
		f := EnrollmentFacts{OrgID: orgID}
		if err := rows.Scan(&rep, &enrollment, &course, &version, &f.CourseTitle, &f.Status, &f.EnrolledAt, &due, &lessons, &segments); err != nil {
			return nil, fmt.Errorf("read enrollment facts: %w", err)
		}
		f.RepID, f.EnrollmentID, f.CourseID, f.CourseVersionID = int64(rep), int64(enrollment), int64(course), int64(version)
		f.DueOn, f.Lessons, f.Segments = due.Format(time.DateOnly), int(lessons), int(segments)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read enrollment facts: %w", err)
	}
	return out, nil
}

// progressKey is the sorting key of a row of enrollment_progress, or of
// rep_summary with enrollment 0.
type progressKey struct{ team, rep, enrollment int64 }

// storedKeys returns the keys of the reps' live rows in enrollment_progress
// and rep_summary.
func storedKeys(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) (map[progressKey]bool, map[progressKey]bool, error) {
	read := func(query string) (map[progressKey]bool, error) {
		rows, err := ch.Query(ctx, query, uint64(orgID))
		if err != nil {
			return nil, fmt.Errorf("read stored rollup: %w", err)
		}
		defer rows.Close()
		out := map[progressKey]bool{}
		for rows.Next() {
			var team, rep, enrollment uint64
			if err := rows.Scan(&team, &rep, &enrollment); err != nil {
				return nil, fmt.Errorf("read stored rollup: %w", err)
			}
			out[progressKey{int64(team), int64(rep), int64(enrollment)}] = true
		}
		return out, rows.Err()
	}
	in := IDList(repIDs)
	progress, err := read(`SELECT team_id, rep_id, enrollment_id FROM enrollment_progress FINAL
		WHERE org_id = ? AND rep_id IN (` + in + `) AND deleted = 0`)
	if err != nil {
		return nil, nil, err
	}
	summaries, err := read(`SELECT team_id, rep_id, toUInt64(0) FROM rep_summary FINAL
		WHERE org_id = ? AND rep_id IN (` + in + `) AND deleted = 0`)
	return progress, summaries, err
}

const insertEnrollmentProgressSQL = `INSERT INTO enrollment_progress (org_id, team_id, rep_id, enrollment_id, course_id,
	course_title, team_name, name, rep_status, opted_out, phone_invalid, status, enrolled_at, due_at, lessons_total,
	lessons_sent, lessons_opened, lessons_done, answers, correct, segments_total, segments_watched, completed_at,
	last_activity_at, oldest_open_sent_at, tags, version, deleted)`

func insertEnrollmentProgress(ctx context.Context, ch driver.Conn, orgID int64, rows []EnrollmentProgress, gone []progressKey, version uint64) error {
	if len(rows)+len(gone) == 0 {
		return nil
	}
	batch, err := ch.PrepareBatch(ctx, insertEnrollmentProgressSQL)
	if err != nil {
		return fmt.Errorf("roll up enrollment progress: %w", err)
	}
	add := func(p EnrollmentProgress, deleted uint8) error {
		return batch.Append(uint64(orgID), uint64(p.TeamID), uint64(p.RepID), uint64(p.EnrollmentID), uint64(p.CourseID),
			p.CourseTitle, p.Team, p.Name, p.RepStatus, boolByte(p.OptedOut), boolByte(p.PhoneInvalid), p.Status,
			p.EnrolledAt.UTC(), p.DueAt.UTC(), uint32(p.Lessons), uint32(p.Sent), uint32(p.Opened), uint32(p.Done),
			uint32(p.Answers), uint32(p.Correct), uint32(p.Segments), uint32(p.Watched), p.CompletedAt.UTC(),
			p.LastActivityAt.UTC(), p.OldestOpenSentAt.UTC(), nonNil(p.Tags), version, deleted)
	}
	for _, p := range rows {
		err = cmp.Or(err, add(p, 0))
	}
	for _, k := range gone {
		err = cmp.Or(err, add(EnrollmentProgress{TeamID: k.team, RepID: k.rep, EnrollmentID: k.enrollment}, 1))
	}
	if err != nil {
		batch.Abort()
		return fmt.Errorf("roll up enrollment progress: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("roll up the enrollment progress of %d rows: %w", len(rows)+len(gone), err)
	}
	return nil
}

const insertRepSummarySQL = `INSERT INTO rep_summary (org_id, team_id, rep_id, team_name, name, phone, email, rep_status,
	opted_out, phone_invalid, enrollments, done, last_activity_at, version, deleted)`

func insertRepSummaries(ctx context.Context, ch driver.Conn, orgID int64, rows []RepSummary, gone []progressKey, version uint64) error {
	if len(rows)+len(gone) == 0 {
		return nil
	}
	batch, err := ch.PrepareBatch(ctx, insertRepSummarySQL)
	if err != nil {
		return fmt.Errorf("roll up rep summaries: %w", err)
	}
	add := func(s RepSummary, deleted uint8) error {
		return batch.Append(uint64(orgID), uint64(s.TeamID), uint64(s.RepID), s.Team, s.Name, s.Phone, s.Email, s.RepStatus,
			boolByte(s.OptedOut), boolByte(s.PhoneInvalid), uint32(s.Enrollments), uint32(s.Done), s.LastActivityAt.UTC(), version, deleted)
	}
	for _, s := range rows {
		err = cmp.Or(err, add(s, 0))
	}
	for _, k := range gone {
		err = cmp.Or(err, add(RepSummary{TeamID: k.team, RepID: k.rep}, 1))
	}
	if err != nil {
		batch.Abort()
		return fmt.Errorf("roll up rep summaries: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("roll up %d rep summaries: %w", len(rows)+len(gone), err)
	}
	return nil
}

// recountReps bounds the reps of one query of RecountProgress.
const recountReps = 1000

// RecountProgress computes the organisation's rows of enrollment_progress
// and rep_summary straight from the raw events, the newest version of each
// key with tombstones left out, and the facts from the rep_changed and
// enrollment_changed events themselves: what the rollups must equal, for
// tests and for `morsel check-analytics`.
func RecountProgress(ctx context.Context, ch driver.Conn, orgID int64) ([]EnrollmentProgress, []RepSummary, error) {
	rows, err := ch.Query(ctx, `
		SELECT rep_id, event_key, argMax(kind, version), argMax(value, version), argMax(detail, version),
			argMax(course_id, version), argMax(enrollment_id, version), max(version), argMax(deleted, version)
		FROM events WHERE org_id = ? AND kind IN ('`+KindRepChanged+`', '`+KindEnrollmentChanged+`')
		GROUP BY rep_id, event_key`, uint64(orgID))
	if err != nil {
		return nil, nil, fmt.Errorf("recount facts: %w", err)
	}
	defer rows.Close()
	reps := map[int64]RepFacts{}
	var enrollments []EnrollmentFacts
	for rows.Next() {
		var rep, course, enrollment uint64
		var deleted uint8
		e := Event{OrgID: orgID}
		if err := rows.Scan(&rep, &e.Key, &e.Kind, &e.Value, &e.Detail, &course, &enrollment, &e.Version, &deleted); err != nil {
			return nil, nil, fmt.Errorf("recount facts: %w", err)
		}
		if deleted == 1 {
			continue
		}
		e.RepID, e.CourseID, e.EnrollmentID = int64(rep), int64(course), int64(enrollment)
		if e.Kind == KindRepChanged {
			f, err := repFactsOf(e)
			if err != nil {
				return nil, nil, err
			}
			reps[f.RepID] = f
			continue
		}
		f, err := enrollmentFactsOf(e)
		if err != nil {
			return nil, nil, err
		}
		enrollments = append(enrollments, f)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("recount facts: %w", err)
	}
	var progress []Progress
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(reps)), recountReps) {
		p, err := RecomputeProgress(ctx, ch, orgID, chunk, nil)
		if err != nil {
			return nil, nil, err
		}
		progress = append(progress, p...)
	}
	out, summaries := composeProgress(reps, enrollments, progress)
	return out, summaries, nil
}

// StoredRepProgress reads the organisation's live rows (no tombstones) of
// enrollment_progress and rep_summary as the rollups hold them, in the order
// RecountProgress returns them: every rep's, or with repIDs those reps'
// only (an empty list: none).
func StoredRepProgress(ctx context.Context, ch driver.Conn, orgID int64, repIDs []int64) ([]EnrollmentProgress, []RepSummary, error) {
	if repIDs != nil && len(repIDs) == 0 {
		return nil, nil, nil
	}
	if len(repIDs) > rollupReps {
		var progress []EnrollmentProgress
		var summaries []RepSummary
		for chunk := range slices.Chunk(slices.Sorted(slices.Values(repIDs)), rollupReps) {
			p, s, err := StoredRepProgress(ctx, ch, orgID, chunk)
			if err != nil {
				return nil, nil, err
			}
			progress, summaries = append(progress, p...), append(summaries, s...)
		}
		return progress, summaries, nil
	}
	reps := ""
	if repIDs != nil {
		reps = " AND rep_id IN (" + IDList(repIDs) + ")"
	}
	rows, err := ch.Query(ctx, `
		SELECT team_id, rep_id, enrollment_id, course_id, course_title, team_name, name, rep_status, opted_out, phone_invalid,
			status, enrolled_at, due_at, lessons_total, lessons_sent, lessons_opened, lessons_done, answers, correct,
			segments_total, segments_watched, completed_at, last_activity_at, oldest_open_sent_at, tags
		FROM enrollment_progress FINAL WHERE org_id = ? AND deleted = 0`+reps+`
		ORDER BY rep_id, enrollment_id`, uint64(orgID))
	if err != nil {
		return nil, nil, fmt.Errorf("read enrollment progress: %w", err)
	}
	defer rows.Close()
	var progress []EnrollmentProgress
	for rows.Next() {
		var team, rep, enrollment, course uint64
		var optedOut, invalid uint8
		var lessons, sent, opened, done, answers, correct, segments, watched uint32
		p := EnrollmentProgress{OrgID: orgID}
		if err := rows.Scan(&team, &rep, &enrollment, &course, &p.CourseTitle, &p.Team, &p.Name, &p.RepStatus, &optedOut, &invalid,
			&p.Status, &p.EnrolledAt, &p.DueAt, &lessons, &sent, &opened, &done, &answers, &correct, &segments, &watched,
			&p.CompletedAt, &p.LastActivityAt, &p.OldestOpenSentAt, &p.Tags); err != nil {
			return nil, nil, fmt.Errorf("read enrollment progress: %w", err)
		}
		p.TeamID, p.RepID, p.EnrollmentID, p.CourseID = int64(team), int64(rep), int64(enrollment), int64(course)
		p.OptedOut, p.PhoneInvalid = optedOut == 1, invalid == 1
		p.Lessons, p.Sent, p.Opened, p.Done = int(lessons), int(sent), int(opened), int(done)
		p.Answers, p.Correct, p.Segments, p.Watched = int(answers), int(correct), int(segments), int(watched)
		p.EnrolledAt, p.DueAt, p.CompletedAt = zeroTime(p.EnrolledAt), zeroTime(p.DueAt), zeroTime(p.CompletedAt)
		p.LastActivityAt, p.OldestOpenSentAt = zeroTime(p.LastActivityAt), zeroTime(p.OldestOpenSentAt)
		p.Tags = nilIfEmpty(p.Tags)
		progress = append(progress, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read enrollment progress: %w", err)
	}
	summaries, err := storedSummaries(ctx, ch, orgID, reps)
	return progress, summaries, err
}

// storedSummaries reads the live rows of rep_summary; reps is the
// condition on rep_id that StoredRepProgress built.
func storedSummaries(ctx context.Context, ch driver.Conn, orgID int64, reps string) ([]RepSummary, error) {
	rows, err := ch.Query(ctx, `
		SELECT team_id, rep_id, team_name, name, phone, email, rep_status, opted_out, phone_invalid, enrollments, done, last_activity_at
		FROM rep_summary FINAL WHERE org_id = ? AND deleted = 0`+reps+` ORDER BY rep_id`, uint64(orgID))
	if err != nil {
		return nil, fmt.Errorf("read rep summaries: %w", err)
	}
	defer rows.Close()
	var out []RepSummary
	for rows.Next() {
		var team, rep uint64
		var optedOut, invalid uint8
		var enrollments, done uint32
		s := RepSummary{OrgID: orgID}
		if err := rows.Scan(&team, &rep, &s.Team, &s.Name, &s.Phone, &s.Email, &s.RepStatus, &optedOut, &invalid,
			&enrollments, &done, &s.LastActivityAt); err != nil {
			return nil, fmt.Errorf("read rep summaries: %w", err)
		}
		s.TeamID, s.RepID, s.OptedOut, s.PhoneInvalid = int64(team), int64(rep), optedOut == 1, invalid == 1
		s.Enrollments, s.Done, s.LastActivityAt = int(enrollments), int(done), zeroTime(s.LastActivityAt)
		out = append(out, s)
	}
	return out, rows.Err()
}
