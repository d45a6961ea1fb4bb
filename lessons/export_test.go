package lessons

import "github.com/jackc/pgx/v5/pgxpool"

// Pool returns the store's connection pool, for the tests to look at what
// the store wrote; outside the tests, callers go through the store's methods.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
