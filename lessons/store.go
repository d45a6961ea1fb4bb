package lessons

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons/errs"
)

// Store keeps organisations, people, courses and enrollments in Postgres.
type Store struct {
	pool *pgxpool.Pool

	now   func() time.Time                                 // StoreConfig.Now
	sleep func(ctx context.Context, d time.Duration) error // StoreConfig.Sleep

	passwordCost int
	publicURL    string
	queue        Queue // nil: the writes queue nothing

	published versionCache
}

// StoreConfig is what a Store is built with. The zero value is valid: a store
// on the real clock that queues nothing, with lesson links relative to "/".
type StoreConfig struct {
	// PublicURL is where reps reach us, for the links in messages.
	PublicURL string
	// Queue takes the sends and reminders the store's writes cause, inside
	// their transactions (the scheduler's River queue). When nil, enrolling
	// schedules no first lesson and nothing is queued.
	Queue Queue
	// PasswordCost is the bcrypt cost for new passwords (default
	// bcrypt.DefaultCost).
	PasswordCost int
	// Now is the clock (default time.Now), read once per transaction; a
	// test passes one it can move.
	Now func() time.Time
	// Sleep waits for d or until ctx is done (ctx's error): how a sign-in
	// is slowed down (default a timer); a test passes one that records d.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Queue takes the work that the store's writes cause, inside the transaction
// that causes it, so that it commits with them or not at all: River's jobs,
// inserted with InsertTx (scheduler.Queue).
type Queue interface {
	// QueueSteps queues the send of each step, due at its time.
	QueueSteps(ctx context.Context, tx pgx.Tx, steps []Step) error
	// QueueReminders queues the due-date reminders and overdue flags.
	QueueReminders(ctx context.Context, tx pgx.Tx, reminders []Reminder) error
}

// NewStore returns a Store on pool, configured once by cfg.
func NewStore(pool *pgxpool.Pool, cfg StoreConfig) *Store {
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = bcrypt.DefaultCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepOnTimer
	}
	return &Store{pool: pool, now: cfg.Now, sleep: cfg.Sleep, passwordCost: cfg.PasswordCost,
		publicURL: cfg.PublicURL, queue: cfg.Queue}
}

// Now reads the store's clock, StoreConfig.Now: for a caller that needs the
// time the store's writes are stamped with (the dashboard's "today").
func (s *Store) Now() time.Time { return s.now() }

// sleepOnTimer waits for d or until ctx is done (ctx's error).
func sleepOnTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PublicURL returns where reps reach us, the start of the links in messages.
func (s *Store) PublicURL() string { return s.publicURL }

// queueSteps queues steps on the store's Queue, if it has one.
func (s *Store) queueSteps(ctx context.Context, tx pgx.Tx, steps []Step) error {
	if s.queue == nil || len(steps) == 0 {
		return nil
	}
	return s.queue.QueueSteps(ctx, tx, steps)
}

// inTx runs fn in one transaction and commits it if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// InTx runs fn in one transaction of the store's database, committed if fn
// returns nil: for the scheduler, whose jobs must commit or not with the
// store's writes they cause (fn calls the store's methods that take tx, and
// River's InsertTx and JobCompleteTx).
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error { return s.inTx(ctx, fn) }

// noRows reports whether err says a query found no row: the one place lessons
// knows pgx's way of saying so. Where no row means "nothing to do", callers
// test it; where it means the caller named something that is not there,
// dbError turns it into errs.NotFound.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// dbError maps the Postgres errors a caller can act on to the error vocabulary;
// what names the object for the message.
func dbError(err error, what string) error {
	if err == nil {
		return nil
	}
	if noRows(err) {
		return errs.Errorf(errs.NotFound, "%s not found", what)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505": // unique_violation
			return &errs.Error{Code: errs.Conflict, Message: what + " already exists"}
		case "23503": // foreign_key_violation
			return &errs.Error{Code: errs.NotFound, Message: what + " refers to something that does not exist"}
		case "23514": // check_violation
			if d, ok := constraintProblems[pg.ConstraintName]; ok {
				return errs.InvalidInput(fmt.Sprintf("The %s is not valid.", what), []errs.Detail{d})
			}
			return &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("The %s is not valid.", what)}
		case "22001", "22P02", "22021": // string too long, bad text representation, a character the encoding lacks (NUL)
			return &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("The %s is not valid: a value is too long or holds a character such as NUL.", what)}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// constraintProblems names, for the database's checks that input can fail,
// the field and what it must be: the driver's own text never reaches a client.
var constraintProblems = map[string]errs.Detail{
	"teams_name_check":                              {Path: "team", Message: "must be 1 to 200 characters"},
	"reps_name_check":                               {Path: "name", Message: "must be 1 to 200 characters"},
	"reps_phone_check":                              {Path: "phone", Message: "must be a phone number in E.164 form, e.g. +14155550123"},
	"users_name_check":                              {Path: "name", Message: "must be 1 to 200 characters"},
	"users_email_check":                             {Path: "email", Message: "must be an email address in lower case"},
	"api_keys_name_check":                           {Path: "name", Message: "must be 1 to 100 characters"},
	"organisations_slug_check":                      {Path: "slug", Message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"},
	"organisations_name_check":                      {Path: "name", Message: "must be 1 to 200 characters"},
	"organisations_help_text_check":                 {Path: "help_text", Message: "must be 1 to 320 characters"},
	"organisations_sms_from_check":                  {Path: "sms_from", Message: "must be a phone number in E.164 form, e.g. +14155550123"},
	"organisations_sms_messaging_service_sid_check": {Path: "sms_messaging_service_sid", Message: "must be MG and 32 hex digits"},
	"courses_slug_check":                            {Path: "slug", Message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"},
	"courses_title_check":                           {Path: "title", Message: "must be 1 to 200 characters"},
	"course_versions_text_completion_check":         {Path: "text_completion", Message: `must be "open" or "done_button"`},
	"course_versions_video_complete_percent_check":  {Path: "video_complete_percent", Message: "must be a whole number from 1 to 100"},
}

// version returns a course version, from the cache when it is published.
func (s *Store) version(ctx context.Context, tx pgx.Tx, id int64) (*CourseVersion, error) {
	if v, ok := s.published.get(id); ok {
		return v, nil
	}
	var orgID int64
	if err := tx.QueryRow(ctx, `SELECT org_id FROM course_versions WHERE id = $1`, id).Scan(&orgID); err != nil {
		return nil, dbError(err, fmt.Sprintf("course version %d", id))
	}
	v, err := courseVersion(ctx, tx, orgID, id)
	if err != nil {
		return nil, err
	}
	if v.Status == VersionPublished {
		s.published.put(&v)
	}
	return &v, nil
}

// lesson returns the version's lesson with the id, or nil.
func (v *CourseVersion) lesson(id int64) *Lesson {
	for i := range v.Spec.Lessons {
		if v.Spec.Lessons[i].ID == id {
			return &v.Spec.Lessons[i]
		}
	}
	return nil
}
