package lessons

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

	// Now is the clock, read once per transaction.
	Now func() time.Time
	// PasswordCost is the bcrypt cost for new passwords.
	PasswordCost int
	// PublicURL is where reps reach us, for the links in messages.
	PublicURL string
	// OnEnroll, when set, runs inside the transaction that creates enrollments,
	// so that what they cause (the first send) commits with them or not at all.
	OnEnroll func(ctx context.Context, tx pgx.Tx, enrollments []Enrollment) error
	// QueueSteps, when set, queues the sends of steps that a change outside
	// the scheduler causes (an enrollment resumed), inside its transaction.
	QueueSteps func(ctx context.Context, tx pgx.Tx, steps []Step) error

	// published caches published course versions, which never change.
	published sync.Map // version id -> *CourseVersion
}

// NewStore returns a Store on pool with the real clock.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Now: time.Now, PasswordCost: bcrypt.DefaultCost}
}

// Pool returns the store's connection pool, for packages that add their own
// work to lessons' transactions.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// queue queues steps through QueueSteps, if set.
func (s *Store) queue(ctx context.Context, tx pgx.Tx, steps []Step) error {
	if s.QueueSteps == nil || len(steps) == 0 {
		return nil
	}
	return s.QueueSteps(ctx, tx, steps)
}

// inTx runs fn in one transaction and commits it if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// dbError maps the Postgres errors a caller can act on to the error vocabulary;
// what names the object for the message.
func dbError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.Errorf(errs.NotFound, "%s not found", what)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505": // unique_violation
			return &errs.Error{Code: errs.Conflict, Message: what + " already exists"}
		case "23503": // foreign_key_violation
			return &errs.Error{Code: errs.NotFound, Message: what + " refers to something that does not exist"}
		case "23514", "22001", "22P02": // check_violation, string too long, bad text representation
			return &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("%s is not valid: %s", what, pg.Message)}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// version returns a course version, from the cache when it is published.
func (s *Store) version(ctx context.Context, tx pgx.Tx, id int64) (*CourseVersion, error) {
	if v, ok := s.published.Load(id); ok {
		return v.(*CourseVersion), nil
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
		s.published.Store(id, &v)
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
