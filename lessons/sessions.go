package lessons

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons/errs"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// Password limits: bcrypt reads no more than 72 bytes.
const (
	minPassword = 8
	maxPassword = 72
)

// Session is a user's sign-in: Token goes in their browser's cookie.
type Session struct {
	Token   string
	User    User
	Expires time.Time
}

// StartSession signs the user in: it returns a fresh session for them.
func (s *Store) StartSession(ctx context.Context, u User) (Session, error) {
	now := s.Now()
	sess := Session{Token: randomToken(32), User: u, Expires: now.Add(SessionTTL)}
	hash := sha256.Sum256([]byte(sess.Token))
	_, err := s.pool.Exec(ctx, `INSERT INTO user_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hash[:], u.ID, now, sess.Expires)
	if err != nil {
		return Session{}, fmt.Errorf("start session of user %d: %w", u.ID, err)
	}
	return sess, nil
}

// SessionUser returns the signed-in user of token, with a manager's teams; an
// unknown or expired token is an Unauthorized error.
func (s *Store) SessionUser(ctx context.Context, token string) (User, error) {
	hash := sha256.Sum256([]byte(token))
	var u User
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.org_id, u.name, u.email, u.role, u.must_change_password, u.created_at,
			array(SELECT t.name FROM team_managers m JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id ORDER BY t.name, t.id),
			array(SELECT t.id FROM team_managers m JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id ORDER BY t.name, t.id)
		FROM user_sessions x JOIN users u ON u.id = x.user_id
		WHERE x.token_hash = $1 AND x.expires_at > $2`, hash[:], s.Now()).
		Scan(&u.ID, &u.OrgID, &u.Name, &u.Email, &u.Role, &u.MustChangePassword, &u.CreatedAt, &u.Teams, &u.TeamIDs)
	if noRows(err) {
		return User{}, errs.Errorf(errs.Unauthorized, "not signed in, or the sign-in has expired")
	}
	if err != nil {
		return User{}, fmt.Errorf("read session: %w", err)
	}
	return u, nil
}

// EndSession signs the session of token out; an unknown token is no error.
// It also forgets the expired sessions of the same user.
func (s *Store) EndSession(ctx context.Context, token string) error {
	hash := sha256.Sum256([]byte(token))
	_, err := s.pool.Exec(ctx, `
		WITH ended AS (DELETE FROM user_sessions WHERE token_hash = $1 RETURNING user_id)
		DELETE FROM user_sessions WHERE user_id IN (SELECT user_id FROM ended) AND expires_at <= $2`, hash[:], s.Now())
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// ChangePassword sets a signed-in user's password after checking their
// current one. Every other session of theirs ends; keep is the one that
// stays signed in.
func (s *Store) ChangePassword(ctx context.Context, u User, current, next, keep string) error {
	var old string
	if err := s.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&old); err != nil {
		return dbError(err, fmt.Sprintf("user %d", u.ID))
	}
	var d []errs.Detail
	if bcrypt.CompareHashAndPassword([]byte(old), []byte(current)) != nil {
		d = append(d, errs.Detail{Path: "current", Message: "is not your current password"})
	} else if next == current {
		d = append(d, errs.Detail{Path: "password", Message: "must differ from the current one"})
	}
	if p := checkPassword(next); p != "" {
		d = append(d, errs.Detail{Path: "password", Message: p})
	}
	if d != nil {
		return errs.InvalidInput("the password was not changed", d)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), s.passwordCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	keepHash := sha256.Sum256([]byte(keep))
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = false WHERE id = $1`, u.ID, string(hash)); err != nil {
			return fmt.Errorf("change password of user %d: %w", u.ID, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1 AND token_hash <> $2`, u.ID, keepHash[:]); err != nil {
			return fmt.Errorf("end the other sessions of user %d: %w", u.ID, err)
		}
		return nil
	})
}

// checkPassword says what is wrong with a new password, or "".
func checkPassword(p string) string {
	switch {
	case len(p) < minPassword:
		return fmt.Sprintf("must be at least %d characters", minPassword)
	case len(p) > maxPassword:
		return fmt.Sprintf("must be at most %d bytes", maxPassword)
	}
	return ""
}

// ResetPassword gives the organisation's user with the email a fresh one-time
// password, which it returns, and ends their sessions: for someone who
// forgot theirs, or whose account must be taken back.
func (s *Store) ResetPassword(ctx context.Context, orgID int64, email string) (string, error) {
	password := randomToken(10)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.passwordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $3, must_change_password = true
			WHERE org_id = $1 AND email = lower(btrim($2)) RETURNING id`, orgID, email, string(hash)).Scan(&id)
		if noRows(err) {
			return errs.Errorf(errs.NotFound, "no user %q in this organisation", email)
		}
		if err != nil {
			return fmt.Errorf("reset password of %q: %w", email, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("end the sessions of %q: %w", email, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return password, nil
}
