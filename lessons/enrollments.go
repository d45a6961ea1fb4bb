package lessons

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
)

// EnrollmentStatus is where a rep is in a course.
type EnrollmentStatus string

// The enrollment statuses.
const (
	EnrollmentActive    EnrollmentStatus = "active"
	EnrollmentPaused    EnrollmentStatus = "paused" // the rep gets nothing until it is resumed
	EnrollmentCompleted EnrollmentStatus = "completed"
	EnrollmentCancelled EnrollmentStatus = "cancelled"
)

// Enrollment is one rep taking one version of a course.
type Enrollment struct {
	ID              int64
	OrgID           int64
	RepID           int64
	CourseID        int64
	CourseVersionID int64
	Status          EnrollmentStatus
	EnrolledAt      time.Time
	DueOn           time.Time // a calendar date, at midnight UTC
	CompletedAt     *time.Time
	Score           *float64 // percent, once graded
	StartNow        bool     // as enrolled: the first step at once (not stored)
}

// AssignmentStatus is where one lesson of an enrollment is.
type AssignmentStatus string

// The assignment statuses, in the order a lesson goes through them.
const (
	AssignmentPending   AssignmentStatus = "pending"
	AssignmentScheduled AssignmentStatus = "scheduled"
	AssignmentSent      AssignmentStatus = "sent"
	AssignmentCompleted AssignmentStatus = "completed"
	AssignmentSkipped   AssignmentStatus = "skipped"
)

// Assignment is one lesson of an enrollment: the rep's path through the course.
type Assignment struct {
	ID           int64
	EnrollmentID int64
	LessonID     int64
	Position     int
	Status       AssignmentStatus
	ScheduledAt  *time.Time
	SentAt       *time.Time
	CompletedAt  *time.Time
	Score        *float64
	Attempt      int    // 1, or higher for a retake
	Reason       string // why a rule put this step in the path, e.g. "remedial lesson 4b because..."
}

// EnrollRequest enrolls reps, named one by one or by team, in a course's newest
// published version.
type EnrollRequest struct {
	CourseID int64
	RepIDs   []int64
	TeamIDs  []int64
	DueOn    time.Time // zero: the course's due_days from the start
	StartOn  time.Time // a calendar date: the first lesson goes out on or after it, in the rep's time zone; zero: now
	StartNow bool      // the first lesson at once if the send window is open, else when it opens; the rest at the cadence
	Limit    TeamLimit // reps outside it are refused
}

// EnrollResult says what an enrollment request did.
type EnrollResult struct {
	Enrollments     []Enrollment // the new ones
	AlreadyEnrolled int          // reps skipped because they were enrolled already
}

// Enroll enrolls the reps in the course's newest published version, with one
// assignment per lesson, in one transaction together with the first lessons'
// sends and the due-date reminders (on the store's Queue). Reps already
// enrolled in that version are skipped and counted. It returns NotFound for a
// rep or course the organisation does not have, Invalid for a removed rep or a
// due date in the past, and Conflict when the course has no published version.
func (s *Store) Enroll(ctx context.Context, orgID int64, req EnrollRequest) (EnrollResult, error) {
	var res EnrollResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = s.enroll(ctx, tx, orgID, req)
		return err
	})
	if err != nil {
		return EnrollResult{}, err
	}
	return res, nil
}

// ImportAndEnroll imports the reps (as ImportReps) and enrolls them with
// req's reps and the reps of its teams (as Enroll), in one
// transaction: a file of new hires is stored and enrolled, or nothing is.
// With a limit, every rep must name one of its teams, which exist already.
func (s *Store) ImportAndEnroll(ctx context.Context, orgID int64, reps []RepInput, req EnrollRequest) (ImportResult, EnrollResult, error) {
	var imported ImportResult
	var enrolled EnrollResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if req.Limit.Limited {
			if err := checkTeamNames(ctx, tx, orgID, reps, req.Limit); err != nil {
				return err
			}
		}
		var ids []int64
		var err error
		if imported, ids, err = s.importReps(ctx, tx, orgID, reps); err != nil {
			return err
		}
		req.RepIDs = append(req.RepIDs, ids...)
		enrolled, err = s.enroll(ctx, tx, orgID, req)
		return err
	})
	if err != nil {
		return ImportResult{}, EnrollResult{}, err
	}
	return imported, enrolled, nil
}

// checkTeamNames refuses reps whose team is not one of the limit's.
func checkTeamNames(ctx context.Context, tx pgx.Tx, orgID int64, reps []RepInput, limit TeamLimit) error {
	rows, err := tx.Query(ctx, `SELECT name FROM teams WHERE org_id = $1 AND id = ANY($2)`, orgID, limit.Teams)
	if err != nil {
		return fmt.Errorf("read teams: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read teams: %w", err)
	}
	var details []errs.Detail
	for i, r := range reps {
		if !slices.Contains(names, r.Team) {
			details = append(details, errs.Detail{Path: fmt.Sprintf("reps[%d].team", i),
				Message: fmt.Sprintf("%q is not one of your teams", r.Team)})
		}
	}
	if len(details) > 0 {
		return &errs.Error{Code: errs.Forbidden, Message: "Some reps are not in your teams.", Details: details}
	}
	return nil
}

// enroll is Enroll inside tx.
func (s *Store) enroll(ctx context.Context, tx pgx.Tx, orgID int64, req EnrollRequest) (EnrollResult, error) {
	var res EnrollResult
	if len(req.RepIDs) == 0 && len(req.TeamIDs) == 0 {
		return res, errs.InvalidInput("name the reps or teams to enroll", []errs.Detail{{Path: "rep_ids", Message: "give rep_ids or team_ids"}})
	}
	now := s.Now()
	versionID, err := publishedVersionID(ctx, tx, orgID, req.CourseID)
	if err != nil {
		return EnrollResult{}, err
	}
	var archived bool
	if err := tx.QueryRow(ctx, `SELECT archived_at IS NOT NULL FROM courses WHERE id = $1`, req.CourseID).Scan(&archived); err != nil {
		return EnrollResult{}, fmt.Errorf("read course: %w", err)
	}
	if archived {
		return EnrollResult{}, errs.Errorf(errs.Conflict, "The course is archived: restore it to enroll reps in it.")
	}
	today := now.UTC().Truncate(24 * time.Hour)
	start := dateOf(req.StartOn)
	if req.StartNow && start.After(today) {
		return EnrollResult{}, errs.InvalidInput("start now or on a later date, not both", []errs.Detail{{Path: "start_on", Message: "must be empty or today to start now"}})
	}
	if !start.IsZero() && start.Before(today) {
		return EnrollResult{}, errs.InvalidInput("the start date is in the past", []errs.Detail{{Path: "start_on", Message: start.Format(time.DateOnly) + " is before today"}})
	}
	due := dateOf(req.DueOn)
	if due.IsZero() {
		var days int
		if err := tx.QueryRow(ctx, `SELECT due_days FROM course_versions WHERE id = $1`, versionID).Scan(&days); err != nil {
			return EnrollResult{}, fmt.Errorf("read due days: %w", err)
		}
		due = dateOf(later(today, start).AddDate(0, 0, days))
	}
	if due.Before(today) {
		return EnrollResult{}, errs.InvalidInput("the due date is in the past", []errs.Detail{{Path: "due_on", Message: due.Format(time.DateOnly) + " is before today"}})
	}
	if due.Before(start) {
		return EnrollResult{}, errs.InvalidInput("the due date is before the start date", []errs.Detail{{Path: "due_on",
			Message: fmt.Sprintf("%s is before the start date %s", due.Format(time.DateOnly), start.Format(time.DateOnly))}})
	}
	if err := checkEnrollable(ctx, tx, orgID, req); err != nil {
		return EnrollResult{}, err
	}
	var startOn *time.Time
	if !start.IsZero() {
		startOn = &start
	}
	// A start date begins at midnight in the rep's time zone; today's is
	// no later than now.
	rows, err := tx.Query(ctx, `
		INSERT INTO enrollments (org_id, rep_id, course_version_id, enrolled_at, due_on, starts_at)
		SELECT $1, r.id, $4, $5, $6, CASE WHEN $7::date > ($5::timestamptz AT TIME ZONE r.time_zone)::date
			THEN $7::date::timestamp AT TIME ZONE r.time_zone END
		FROM reps r
		WHERE r.org_id = $1 AND r.status = 'active' AND (r.id = ANY($2) OR r.team_id = ANY($3))
		ORDER BY r.id
		ON CONFLICT (rep_id, course_version_id) DO NOTHING
		RETURNING id, rep_id`, orgID, req.RepIDs, req.TeamIDs, versionID, now, due, startOn)
	if err != nil {
		return EnrollResult{}, dbError(err, "enrollment")
	}
	res.Enrollments, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Enrollment, error) {
		e := Enrollment{OrgID: orgID, CourseID: req.CourseID, CourseVersionID: versionID,
			Status: EnrollmentActive, EnrolledAt: now, DueOn: due, StartNow: req.StartNow}
		return e, r.Scan(&e.ID, &e.RepID)
	})
	if err != nil {
		return EnrollResult{}, dbError(err, "enrollment")
	}
	var requested int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM reps WHERE org_id = $1 AND status = 'active' AND (id = ANY($2) OR team_id = ANY($3))`,
		orgID, req.RepIDs, req.TeamIDs).Scan(&requested)
	if err != nil {
		return EnrollResult{}, fmt.Errorf("count reps: %w", err)
	}
	res.AlreadyEnrolled = requested - len(res.Enrollments)
	ids := make([]int64, len(res.Enrollments))
	for i, e := range res.Enrollments {
		ids[i] = e.ID
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO assignments (enrollment_id, lesson_id, position)
		SELECT e, l.id, l.position FROM unnest($1::bigint[]) e, course_lessons l
		WHERE l.course_version_id = $2 AND NOT l.remedial`, ids, versionID)
	if err != nil {
		return EnrollResult{}, dbError(err, "assignment")
	}
	if err := appendEnrollmentFacts(ctx, tx, now, ids...); err != nil {
		return EnrollResult{}, err
	}
	if err := s.queueEnrolled(ctx, tx, res.Enrollments); err != nil {
		return EnrollResult{}, err
	}
	return res, nil
}

// queueEnrolled schedules the first lesson of each new enrollment and queues
// its send and its due-date reminders, in tx; without a Queue it does nothing.
func (s *Store) queueEnrolled(ctx context.Context, tx pgx.Tx, enrollments []Enrollment) error {
	if s.queue == nil || len(enrollments) == 0 {
		return nil
	}
	steps, err := s.scheduleFirstSteps(ctx, tx, enrollments)
	if err != nil {
		return err
	}
	if err := s.queueSteps(ctx, tx, steps); err != nil {
		return err
	}
	rs, err := s.dueReminders(ctx, tx, enrollments)
	if err != nil || len(rs) == 0 {
		return err
	}
	return s.queue.QueueReminders(ctx, tx, rs)
}

// dateOf is the calendar date of t, at midnight UTC; zero stays zero.
func dateOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// checkEnrollable names the requested reps and teams the organisation does not
// have, the reps that were removed, and those outside the request's limit.
func checkEnrollable(ctx context.Context, tx pgx.Tx, orgID int64, req EnrollRequest) error {
	var details []errs.Detail
	rows, err := tx.Query(ctx, `
		SELECT 'rep_ids', u.id, coalesce(r.status, ''), coalesce(r.team_id, 0)
		FROM unnest($2::bigint[]) u(id) LEFT JOIN reps r ON r.org_id = $1 AND r.id = u.id
		UNION ALL
		SELECT 'team_ids', u.id, CASE WHEN t.id IS NULL THEN '' ELSE 'active' END, u.id
		FROM unnest($3::bigint[]) u(id) LEFT JOIN teams t ON t.org_id = $1 AND t.id = u.id`, orgID, req.RepIDs, req.TeamIDs)
	if err != nil {
		return fmt.Errorf("check reps: %w", err)
	}
	defer rows.Close()
	code := errs.Invalid
	for rows.Next() {
		var field, status string
		var id, team int64
		if err := rows.Scan(&field, &id, &status, &team); err != nil {
			return fmt.Errorf("check reps: %w", err)
		}
		switch {
		case status != "" && !req.Limit.Allows(team) && field == "rep_ids":
			details = append(details, errs.Detail{Path: field, Message: fmt.Sprintf("rep %d is not in one of your teams", id)})
			code = errs.Forbidden
		case status != "" && !req.Limit.Allows(team):
			details = append(details, errs.Detail{Path: field, Message: fmt.Sprintf("team %d is not one of your teams", id)})
			code = errs.Forbidden
		case status == "" && field == "rep_ids":
			details = append(details, errs.Detail{Path: field, Message: fmt.Sprintf("rep %d not found", id)})
			code = errs.NotFound
		case status == "":
			details = append(details, errs.Detail{Path: field, Message: fmt.Sprintf("team %d not found", id)})
			code = errs.NotFound
		case status == string(RepRemoved):
			details = append(details, errs.Detail{Path: field, Message: fmt.Sprintf("rep %d was removed", id)})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check reps: %w", err)
	}
	if len(details) > 0 {
		return &errs.Error{Code: code, Message: "some reps cannot be enrolled", Details: details}
	}
	return nil
}

// EnrollmentFilter narrows an enrollment listing.
type EnrollmentFilter struct {
	RepID    int64
	CourseID int64
	AfterID  int64
	Limit    int // page size: 0 or less means 100, more than 1,000 means 1,000
}

// Enrollments lists the organisation's enrollments by id.
func (s *Store) Enrollments(ctx context.Context, orgID int64, f EnrollmentFilter) ([]Enrollment, error) {
	var c conditions
	c.and("e.org_id = $%d", orgID)
	if f.RepID != 0 {
		c.and("e.rep_id = $%d", f.RepID)
	}
	if f.CourseID != 0 {
		c.and("v.course_id = $%d", f.CourseID)
	}
	if f.AfterID != 0 {
		c.and("e.id > $%d", f.AfterID)
	}
	limit := c.param(pageLimit(f.Limit))
	rows, err := s.pool.Query(ctx, `
		SELECT e.id, e.org_id, e.rep_id, v.course_id, e.course_version_id, e.status, e.enrolled_at, e.due_on,
			e.completed_at, e.score::float8
		FROM enrollments e JOIN course_versions v ON v.id = e.course_version_id
		WHERE `+c.sql()+fmt.Sprintf(` ORDER BY e.id LIMIT $%d`, limit), c.args...)
	if err != nil {
		return nil, fmt.Errorf("list enrollments: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Enrollment, error) {
		var e Enrollment
		return e, r.Scan(&e.ID, &e.OrgID, &e.RepID, &e.CourseID, &e.CourseVersionID, &e.Status, &e.EnrolledAt, &e.DueOn, &e.CompletedAt, &e.Score)
	})
}

// Assignments returns the assignments of one of the organisation's enrollments
// in path order.
func (s *Store) Assignments(ctx context.Context, orgID, enrollmentID int64) ([]Assignment, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT a.id, a.enrollment_id, a.lesson_id, a.position, a.status, a.scheduled_at, a.sent_at, a.completed_at, a.score::float8,
			a.attempt, a.reason
		FROM assignments a JOIN enrollments e ON e.id = a.enrollment_id
		WHERE e.org_id = $1 AND a.enrollment_id = $2 ORDER BY a.position`, orgID, enrollmentID)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Assignment, error) {
		var a Assignment
		return a, r.Scan(&a.ID, &a.EnrollmentID, &a.LessonID, &a.Position, &a.Status, &a.ScheduledAt, &a.SentAt, &a.CompletedAt, &a.Score,
			&a.Attempt, &a.Reason)
	})
}
