package lessons

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
)

// What the course editor changes: a course is created with one lesson to
// start from, edited as its draft (a published version never changes),
// duplicated, archived, and priced by the organisation's cost of a segment.

// Price is an amount of money in millionths of a currency unit: SMS segments
// cost fractions of a cent.
type Price struct {
	Micros   int64
	Currency string // ISO 4217, e.g. "USD"
}

// Times returns the price of n units.
func (p Price) Times(n int) Price { return Price{Micros: p.Micros * int64(n), Currency: p.Currency} }

// String writes the price with as many decimals as it needs, at least two:
// "USD 0.0079", "USD 1.58".
func (p Price) String() string {
	units, frac := p.Micros/1_000_000, p.Micros%1_000_000
	digits := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	for len(digits) < 2 {
		digits += "0"
	}
	return fmt.Sprintf("%s %d.%s", p.Currency, units, digits)
}

// maxSegmentPriceMicros bounds the price of a segment: 10 currency units.
const maxSegmentPriceMicros = 10_000_000

// ParsePriceMicros reads a decimal amount such as "0.0079" as millionths.
func ParsePriceMicros(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	bad := fmt.Errorf("%q is not an amount such as 0.0079 (digits, at most 6 after the point)", s)
	if whole == "" && frac == "" || len(frac) > 6 || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 7 {
		return 0, bad
	}
	w, err := strconv.ParseInt("0"+whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return w*1_000_000 + f, nil
}

// SetSegmentPrice sets what one SMS segment costs the organisation.
func (s *Store) SetSegmentPrice(ctx context.Context, orgID int64, p Price) error {
	var d []errs.Detail
	if p.Micros < 0 || p.Micros > maxSegmentPriceMicros {
		d = append(d, errs.Detail{Path: "segment_price", Message: "must be between 0 and 10 a segment"})
	}
	if len(p.Currency) != 3 || strings.Trim(p.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		d = append(d, errs.Detail{Path: "currency", Message: fmt.Sprintf("%q is not a three-letter currency code such as USD", p.Currency)})
	}
	if d != nil {
		return errs.InvalidInput("The price is not valid.", d)
	}
	_, err := s.pool.Exec(ctx, `UPDATE organisations SET sms_segment_price_micros = $2, sms_currency = $3 WHERE id = $1`,
		orgID, p.Micros, p.Currency)
	return dbError(err, "organisation")
}

// StarterCourse is the spec a new course starts from: the defaults of the
// course file format and one welcome lesson, so that it is a course from the
// first minute (a course has at least one lesson).
func StarterCourse(slug, title string) CourseSpec {
	return CourseSpec{
		Slug: slug, Title: title, PassMark: coursePassMarkDef, DueDays: courseDueDaysDef,
		Cadence: defaultCadence(), SendWindow: DefaultSendWindow(), Rules: DefaultRules(),
		TextCompletion: TextCompleteOnOpen, VideoCompletePercent: DefaultVideoCompletePercent,
		Lessons: []Lesson{{Key: "welcome", Kind: KindText, Title: "Welcome",
			Body: "Welcome to " + title + ". One short lesson a day, each a couple of minutes."}},
	}
}

// CreateCourse stores spec as the first draft of a new course: a Conflict
// error when the organisation has a course with the slug already.
func (s *Store) CreateCourse(ctx context.Context, orgID int64, spec CourseSpec) (CourseVersion, error) {
	var v CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var courseID int64
		err := tx.QueryRow(ctx, `INSERT INTO courses (org_id, slug, title, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			orgID, spec.Slug, spec.Title, s.Now()).Scan(&courseID)
		if err != nil {
			return dbError(err, fmt.Sprintf("a course with the slug %q", spec.Slug))
		}
		v, err = s.saveDraft(ctx, tx, orgID, courseID, spec, false)
		return err
	})
	return v, err
}

// SaveDraft stores spec as the draft of the course, starting one when the
// course has none; the course keeps its slug and takes the spec's title.
// It is a Conflict error to edit an archived course.
func (s *Store) SaveDraft(ctx context.Context, orgID, courseID int64, spec CourseSpec) (CourseVersion, error) {
	var v CourseVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockCourse(ctx, tx, orgID, courseID)
		if err != nil {
			return err
		}
		if c.ArchivedAt != nil {
			return errs.Errorf(errs.Conflict, "The course %q is archived: restore it to edit it.", c.Title)
		}
		spec.Slug = c.Slug
		if _, err := tx.Exec(ctx, `UPDATE courses SET title = $2 WHERE id = $1`, courseID, spec.Title); err != nil {
			return dbError(err, "course")
		}
		v, err = s.saveDraft(ctx, tx, orgID, courseID, spec, false)
		return err
	})
	return v, err
}

// DiscardDraft deletes the course's draft, leaving its published versions;
// a Conflict error when there is no published version to go back to.
func (s *Store) DiscardDraft(ctx context.Context, orgID, courseID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockCourse(ctx, tx, orgID, courseID); err != nil {
			return err
		}
		var published bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM course_versions WHERE course_id = $1 AND status = 'published')`, courseID).Scan(&published)
		if err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		if !published {
			return errs.Errorf(errs.Conflict, "The course has never been published: its draft is all there is.")
		}
		_, err = tx.Exec(ctx, `DELETE FROM course_versions WHERE course_id = $1 AND status = 'draft'`, courseID)
		return dbError(err, "draft")
	})
}

// DuplicateCourse makes a new course, as a draft, of the content of the
// course's newest version, under a new slug and title.
func (s *Store) DuplicateCourse(ctx context.Context, orgID, courseID int64, slug, title string) (CourseVersion, error) {
	_, versions, err := s.CourseVersions(ctx, orgID, courseID)
	if err != nil {
		return CourseVersion{}, err
	}
	if len(versions) == 0 {
		return CourseVersion{}, errs.Errorf(errs.Conflict, "course %d has no content to copy", courseID)
	}
	spec := versions[0].Spec
	spec.Slug, spec.Title = slug, title
	for i := range spec.Lessons {
		spec.Lessons[i].ID = 0
		for j := range spec.Lessons[i].Questions {
			spec.Lessons[i].Questions[j].ID = 0
		}
	}
	return s.CreateCourse(ctx, orgID, spec)
}

// ArchiveCourse archives the course, or with archived false restores it.
// Enrollments under way carry on either way.
func (s *Store) ArchiveCourse(ctx context.Context, orgID, courseID int64, archived bool) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE courses SET archived_at = CASE WHEN $3 THEN coalesce(archived_at, $4) END
		WHERE org_id = $1 AND id = $2`, orgID, courseID, archived, s.Now())
	if err != nil {
		return dbError(err, "course")
	}
	if tag.RowsAffected() == 0 {
		return errs.Errorf(errs.NotFound, "course %d not found", courseID)
	}
	return nil
}

// lockCourse reads the course for update, so that edits of one course queue.
func lockCourse(ctx context.Context, tx pgx.Tx, orgID, courseID int64) (Course, error) {
	var c Course
	err := tx.QueryRow(ctx, `SELECT id, org_id, slug, title, created_at, archived_at FROM courses
		WHERE org_id = $1 AND id = $2 FOR UPDATE`, orgID, courseID).
		Scan(&c.ID, &c.OrgID, &c.Slug, &c.Title, &c.CreatedAt, &c.ArchivedAt)
	return c, dbError(err, fmt.Sprintf("course %d", courseID))
}
