package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/morselhq/morsel/tracking"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
)

// CourseSummary is a course with the state of its versions, for listings.
type CourseSummary struct {
	Course
	LatestVersion    int // 0 when there is none
	PublishedVersion int // the newest published version number; 0 when none is
	HasDraft         bool
	LessonCount      int // in the newest version
}

// SaveCourse stores spec as the draft of the organisation's course with the
// spec's slug, creating the course if needed and replacing the content of an
// existing draft; with publish it then publishes that version. All in one
// transaction: on any error nothing is written. Completion settings left at
// zero take their defaults.
func (s *Store) SaveCourse(ctx context.Context, orgID int64, spec CourseSpec, publish bool) (CourseVersion, error) {
	var v CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var courseID int64
		err := tx.QueryRow(ctx, `
			INSERT INTO courses (org_id, slug, title, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (org_id, slug) DO UPDATE SET title = excluded.title
			RETURNING id`, orgID, spec.Slug, spec.Title, s.Now()).Scan(&courseID)
		if err != nil {
			return dbError(err, fmt.Sprintf("course %q", spec.Slug))
		}
		v, err = s.saveDraft(ctx, tx, orgID, courseID, spec, publish)
		return err
	})
	return v, err
}

// saveDraft stores spec as the draft of the course, a new version when there
// is no draft yet, and with publish publishes it.
func (s *Store) saveDraft(ctx context.Context, tx pgx.Tx, orgID, courseID int64, spec CourseSpec, publish bool) (CourseVersion, error) {
	now := s.Now()
	textCompletion, videoPercent := spec.completionOrDefault()
	var versionID int64
	var number int
	err := tx.QueryRow(ctx, `SELECT id, number FROM course_versions WHERE course_id = $1 AND status = 'draft' FOR UPDATE`, courseID).Scan(&versionID, &number)
	switch {
	case noRows(err):
		err = tx.QueryRow(ctx, `
			INSERT INTO course_versions (org_id, course_id, number, title, description, pass_mark, due_days,
				cadence_weekdays, cadence_every_days, cadence_times, window_start, window_end, rules, created_at,
				text_completion, video_complete_percent)
			SELECT $1, $2, coalesce(max(number), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
			FROM course_versions WHERE course_id = $2
			RETURNING id, number`,
			orgID, courseID, spec.Title, spec.Description, spec.PassMark, spec.DueDays,
			weekdaysToDB(spec.Cadence.Weekdays), spec.Cadence.EveryDays, clockTimesToDB(spec.Cadence.Times),
			int(spec.SendWindow.Start), int(spec.SendWindow.End), spec.Rules, now, textCompletion, videoPercent).Scan(&versionID, &number)
		if err != nil {
			return CourseVersion{}, dbError(err, "course version")
		}
	case err != nil:
		return CourseVersion{}, fmt.Errorf("find draft: %w", err)
	default:
		if _, err := tx.Exec(ctx, `DELETE FROM course_lessons WHERE course_version_id = $1`, versionID); err != nil {
			return CourseVersion{}, fmt.Errorf("clear draft: %w", err)
		}
		_, err := tx.Exec(ctx, `
			UPDATE course_versions SET title = $2, description = $3, pass_mark = $4, due_days = $5,
				cadence_weekdays = $6, cadence_every_days = $7, cadence_times = $8, window_start = $9, window_end = $10,
				rules = $11, text_completion = $12, video_complete_percent = $13
			WHERE id = $1`,
			versionID, spec.Title, spec.Description, spec.PassMark, spec.DueDays,
			weekdaysToDB(spec.Cadence.Weekdays), spec.Cadence.EveryDays, clockTimesToDB(spec.Cadence.Times),
			int(spec.SendWindow.Start), int(spec.SendWindow.End), spec.Rules, textCompletion, videoPercent)
		if err != nil {
			return CourseVersion{}, dbError(err, "course version")
		}
	}
	if err := insertLessons(ctx, tx, versionID, spec.Lessons); err != nil {
		return CourseVersion{}, err
	}
	if publish {
		if _, err := tx.Exec(ctx, `UPDATE course_versions SET status = 'published', published_at = $2 WHERE id = $1`, versionID, now); err != nil {
			return CourseVersion{}, dbError(err, "course version")
		}
	}
	return courseVersion(ctx, tx, orgID, versionID)
}

func insertLessons(ctx context.Context, tx pgx.Tx, versionID int64, lessons []Lesson) error {
	for i, l := range lessons {
		var lessonID int64
		err := tx.QueryRow(ctx, `
			INSERT INTO course_lessons (course_version_id, position, key, kind, title, body, video_url, video_seconds, optional, remedial)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			versionID, i, l.Key, l.Kind, l.Title, l.Body, l.VideoURL, l.VideoSeconds, l.Optional, l.Remedial).Scan(&lessonID)
		if err != nil {
			return dbError(err, fmt.Sprintf("lesson %q", l.Key))
		}
		for j, q := range l.Questions {
			_, err := tx.Exec(ctx, `
				INSERT INTO quiz_questions (lesson_id, position, prompt, choices, correct, explanation)
				VALUES ($1, $2, $3, $4, $5, $6)`, lessonID, j, q.Prompt, q.Choices, q.Correct, q.Explanation)
			if err != nil {
				return dbError(err, fmt.Sprintf("lesson %q question %d", l.Key, j+1))
			}
		}
	}
	return nil
}

// PublishCourse publishes the course's draft; a published version never changes.
func (s *Store) PublishCourse(ctx context.Context, orgID, courseID int64) (CourseVersion, error) {
	var v CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			UPDATE course_versions SET status = 'published', published_at = $3
			WHERE org_id = $1 AND course_id = $2 AND status = 'draft' RETURNING id`, orgID, courseID, s.Now()).Scan(&id)
		if noRows(err) {
			if _, err := course(ctx, tx, orgID, courseID); err != nil {
				return err
			}
			return errs.Errorf(errs.Conflict, "course %d has no draft to publish", courseID)
		}
		if err != nil {
			return dbError(err, "course version")
		}
		v, err = courseVersion(ctx, tx, orgID, id)
		return err
	})
	return v, err
}

// Courses lists the organisation's courses by title.
func (s *Store) Courses(ctx context.Context, orgID int64) ([]CourseSummary, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.id, c.org_id, c.slug, c.title, c.created_at, c.archived_at,
			coalesce(max(v.number), 0),
			coalesce(max(v.number) FILTER (WHERE v.status = 'published'), 0),
			bool_or(v.status = 'draft') IS TRUE,
			(SELECT count(*) FROM course_lessons l WHERE l.course_version_id =
				(SELECT id FROM course_versions WHERE course_id = c.id ORDER BY number DESC LIMIT 1))
		FROM courses c LEFT JOIN course_versions v ON v.course_id = c.id
		WHERE c.org_id = $1 GROUP BY c.id ORDER BY c.title, c.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CourseSummary, error) {
		var c CourseSummary
		return c, r.Scan(&c.ID, &c.OrgID, &c.Slug, &c.Title, &c.CreatedAt, &c.ArchivedAt, &c.LatestVersion, &c.PublishedVersion, &c.HasDraft, &c.LessonCount)
	})
}

func course(ctx context.Context, q pgx.Tx, orgID, id int64) (Course, error) {
	var c Course
	err := q.QueryRow(ctx, `SELECT id, org_id, slug, title, created_at, archived_at FROM courses WHERE org_id = $1 AND id = $2`, orgID, id).
		Scan(&c.ID, &c.OrgID, &c.Slug, &c.Title, &c.CreatedAt, &c.ArchivedAt)
	return c, dbError(err, fmt.Sprintf("course %d", id))
}

// CourseVersions returns the course and all its versions, newest first.
func (s *Store) CourseVersions(ctx context.Context, orgID, courseID int64) (Course, []CourseVersion, error) {
	var c Course
	var versions []CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = course(ctx, tx, orgID, courseID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM course_versions WHERE course_id = $1 ORDER BY number DESC`, courseID)
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		for _, id := range ids {
			v, err := courseVersion(ctx, tx, orgID, id)
			if err != nil {
				return err
			}
			versions = append(versions, v)
		}
		return nil
	})
	return c, versions, err
}

// CourseVersion returns one version of one of the organisation's courses, with
// its lessons and questions.
func (s *Store) CourseVersion(ctx context.Context, orgID, versionID int64) (CourseVersion, error) {
	var v CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = courseVersion(ctx, tx, orgID, versionID)
		return err
	})
	return v, err
}

// PublishedVersion returns the newest published version of the course, or a
// Conflict error when there is none.
func (s *Store) PublishedVersion(ctx context.Context, orgID, courseID int64) (CourseVersion, error) {
	var v CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := publishedVersionID(ctx, tx, orgID, courseID)
		if err != nil {
			return err
		}
		v, err = courseVersion(ctx, tx, orgID, id)
		return err
	})
	return v, err
}

func publishedVersionID(ctx context.Context, tx pgx.Tx, orgID, courseID int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		SELECT id FROM course_versions WHERE org_id = $1 AND course_id = $2 AND status = 'published'
		ORDER BY number DESC LIMIT 1`, orgID, courseID).Scan(&id)
	if noRows(err) {
		c, err := course(ctx, tx, orgID, courseID)
		if err != nil {
			return 0, err
		}
		return 0, errs.Errorf(errs.Conflict, "course %q has no published version yet: publish it first", c.Slug)
	}
	return id, dbError(err, "course version")
}

func courseVersion(ctx context.Context, tx pgx.Tx, orgID, id int64) (CourseVersion, error) {
	var v CourseVersion
	var weekdays, times []int16
	var start, end int16
	err := tx.QueryRow(ctx, `
		SELECT v.id, v.course_id, v.number, v.status, v.published_at, c.slug, v.title, v.description,
			v.pass_mark, v.due_days, v.cadence_weekdays, v.cadence_every_days, v.cadence_times, v.window_start, v.window_end,
			v.rules, v.text_completion, v.video_complete_percent
		FROM course_versions v JOIN courses c ON c.id = v.course_id
		WHERE v.org_id = $1 AND v.id = $2`, orgID, id).
		Scan(&v.ID, &v.CourseID, &v.Number, &v.Status, &v.PublishedAt, &v.Spec.Slug, &v.Spec.Title, &v.Spec.Description,
			&v.Spec.PassMark, &v.Spec.DueDays, &weekdays, &v.Spec.Cadence.EveryDays, &times, &start, &end, &v.Spec.Rules,
			&v.Spec.TextCompletion, &v.Spec.VideoCompletePercent)
	if err != nil {
		return CourseVersion{}, dbError(err, fmt.Sprintf("course version %d", id))
	}
	for _, d := range weekdays {
		v.Spec.Cadence.Weekdays = append(v.Spec.Cadence.Weekdays, time.Weekday(d))
	}
	for _, t := range times {
		v.Spec.Cadence.Times = append(v.Spec.Cadence.Times, ClockTime(t))
	}
	v.Spec.SendWindow = SendWindow{Start: ClockTime(start), End: ClockTime(end)}

	rows, err := tx.Query(ctx, `
		SELECT id, key, kind, title, body, video_url, video_seconds, optional, remedial
		FROM course_lessons WHERE course_version_id = $1 ORDER BY position`, id)
	if err != nil {
		return CourseVersion{}, fmt.Errorf("load lessons: %w", err)
	}
	v.Spec.Lessons, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Lesson, error) {
		var l Lesson
		return l, r.Scan(&l.ID, &l.Key, &l.Kind, &l.Title, &l.Body, &l.VideoURL, &l.VideoSeconds, &l.Optional, &l.Remedial)
	})
	if err != nil {
		return CourseVersion{}, fmt.Errorf("load lessons: %w", err)
	}
	byID := make(map[int64]*Lesson, len(v.Spec.Lessons))
	for i := range v.Spec.Lessons {
		byID[v.Spec.Lessons[i].ID] = &v.Spec.Lessons[i]
	}
	rows, err = tx.Query(ctx, `
		SELECT q.lesson_id, q.id, q.prompt, q.choices, q.correct, q.explanation
		FROM quiz_questions q JOIN course_lessons l ON l.id = q.lesson_id
		WHERE l.course_version_id = $1 ORDER BY l.position, q.position`, id)
	if err != nil {
		return CourseVersion{}, fmt.Errorf("load questions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lessonID int64
		var q Question
		if err := rows.Scan(&lessonID, &q.ID, &q.Prompt, &q.Choices, &q.Correct, &q.Explanation); err != nil {
			return CourseVersion{}, fmt.Errorf("load questions: %w", err)
		}
		byID[lessonID].Questions = append(byID[lessonID].Questions, q)
	}
	return v, rows.Err()
}

func weekdaysToDB(days []time.Weekday) []int16 {
	out := make([]int16, len(days))
	for i, d := range days {
		out[i] = int16(d)
	}
	return out
}

func clockTimesToDB(times []ClockTime) []int16 {
	out := make([]int16, len(times))
	for i, t := range times {
		out[i] = int16(t)
	}
	return out
}

// LessonName is what a report needs to name a lesson.
type LessonName struct {
	Title    string
	Kind     LessonKind
	Segments int // the video's 15-second segments; 0 for a lesson without video
}

// LessonNames returns the names of the organisation's lessons among ids
// (course_lessons ids, as events carry them); ids of other organisations are
// left out.
func (s *Store) LessonNames(ctx context.Context, orgID int64, ids []int64) (map[int64]LessonName, error) {
	out := map[int64]LessonName{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT l.id, l.title, l.kind, l.video_seconds
		FROM course_lessons l JOIN course_versions v ON v.id = l.course_version_id
		WHERE l.id = ANY($2) AND v.org_id = $1`, orgID, ids)
	if err != nil {
		return nil, fmt.Errorf("read lesson names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var seconds int
		var n LessonName
		if err := rows.Scan(&id, &n.Title, &n.Kind, &seconds); err != nil {
			return nil, fmt.Errorf("read lesson names: %w", err)
		}
		n.Segments = tracking.SegmentCount(seconds)
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read lesson names: %w", err)
	}
	return out, nil
}
