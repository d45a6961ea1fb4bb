package lessons

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The sign-in limits. Counted in Postgres, before the password is checked:
//   - per client address and email: maxPairAttempts, then refused until the
//     window has passed (an attacker guessing one user's password);
//   - per client address: maxAddressAttempts failures over any emails, then
//     refused (one client trying many users); a sign-in gives its attempt back;
//   - per email, from anywhere: after slowAfter failures each further attempt
//     waits, longer each time up to maxSlowDown, but is never refused, so
//     that guesses from elsewhere cannot lock the real user out.
const (
	SignInWindow       = 15 * time.Minute
	maxPairAttempts    = 5
	maxAddressAttempts = 50
	slowAfter          = 5
	maxSlowDown        = 8 * time.Second
)

// SignInRefused is the error of an attempt over a limit.
type SignInRefused struct {
	Wait   time.Duration // until the window ends
	Reason string        // which limit, for the person signing in
}

func (e *SignInRefused) Error() string { return e.Reason }

// SignIn checks a password under the sign-in limits: the attempt is counted
// first, in one statement that locks its counters, then held while the email
// is being guessed at, then the password checked. It returns the user, a
// *SignInRefused, or Authenticate's Unauthorized error.
func (s *Store) SignIn(ctx context.Context, address, email, password string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	keys := signInKeys(address, email)
	counts, now, err := s.countSignIn(ctx, keys)
	if err != nil {
		return User{}, err
	}
	wait := func(key string) time.Duration { return counts[key].start.Add(SignInWindow).Sub(now) }
	switch {
	case counts[keys.pair].n > maxPairAttempts:
		return User{}, &SignInRefused{wait(keys.pair), "Too many wrong passwords for " + email + " from your address"}
	case counts[keys.address].n > maxAddressAttempts:
		return User{}, &SignInRefused{wait(keys.address), "Too many wrong passwords from your address"}
	}
	if delay := slowDown(counts[keys.email].n); delay > 0 {
		if err := s.sleep(ctx, delay); err != nil {
			return User{}, err
		}
	}
	u, err := s.Authenticate(ctx, email, password)
	if err != nil {
		return User{}, err
	}
	// Signed in: the address gets its attempt back, and the email's and the
	// pair's counts start again.
	if _, err := s.pool.Exec(ctx, `
		WITH forget AS (DELETE FROM signin_limits WHERE key = ANY($2))
		UPDATE signin_limits SET attempts = greatest(attempts - 1, 0) WHERE key = $1`,
		keys.address, []string{keys.pair, keys.email}); err != nil {
		return User{}, fmt.Errorf("record the sign-in: %w", err)
	}
	return u, nil
}

type signInKeySet struct{ address, pair, email string }

func signInKeys(address, email string) signInKeySet {
	return signInKeySet{address: "address:" + address, pair: "pair:" + address + " " + email, email: "email:" + email}
}

type signInCount struct {
	n     int
	start time.Time
}

// countSignIn adds an attempt to each counter, starting a new window where
// the last one has passed, and deletes a few counters whose window has
// passed. The counters' rows are locked in one order, so that parallel
// attempts queue instead of deadlocking.
func (s *Store) countSignIn(ctx context.Context, keys signInKeySet) (map[string]signInCount, time.Time, error) {
	now := s.Now().UTC()
	counts := map[string]signInCount{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			INSERT INTO signin_limits AS l (key, attempts, window_start)
			SELECT k, 1, $2 FROM unnest($1::text[]) AS k ORDER BY k
			ON CONFLICT (key) DO UPDATE SET
				attempts = CASE WHEN l.window_start <= $2::timestamptz - $3::interval THEN 1 ELSE l.attempts + 1 END,
				window_start = CASE WHEN l.window_start <= $2::timestamptz - $3::interval THEN $2 ELSE l.window_start END
			RETURNING key, attempts, window_start`,
			[]string{keys.address, keys.pair, keys.email}, now, SignInWindow)
		if err != nil {
			return err
		}
		for rows.Next() {
			var key string
			var c signInCount
			if err := rows.Scan(&key, &c.n, &c.start); err != nil {
				return err
			}
			counts[key] = c
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			DELETE FROM signin_limits WHERE key IN (
				SELECT key FROM signin_limits WHERE window_start <= $1::timestamptz - $2::interval
				ORDER BY window_start LIMIT 100 FOR UPDATE SKIP LOCKED)`, now, SignInWindow)
		return err
	})
	if err != nil {
		return nil, now, fmt.Errorf("count the sign-in attempt: %w", err)
	}
	return counts, now, nil
}

// slowDown is how long an attempt waits that is the email's nth in the
// window: nothing for the first slowAfter+1, then 250 ms doubling.
func slowDown(n int) time.Duration {
	if n <= slowAfter+1 {
		return 0
	}
	return min(maxSlowDown, 250*time.Millisecond<<min(n-slowAfter-2, 10))
}
