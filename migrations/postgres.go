package migrations

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// lockID serialises concurrent migrators on one database.
const lockID = 0x6d6f7273656c // "morsel"

// MigratePostgres applies the Postgres steps not yet applied, each in its own
// transaction, then River's schema. It returns how many of Morsel's steps it
// applied. A database whose recorded version is newer than this binary's last
// step is refused and left untouched.
func MigratePostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (int, error) {
	applied, err := migratePostgres(ctx, pool, Postgres(), log)
	if err != nil {
		return applied, err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return applied, fmt.Errorf("river migrator: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return applied, fmt.Errorf("migrate river schema: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("applied river migration", "version", v.Version, "name", v.Name)
	}
	return applied, nil
}

func migratePostgres(ctx context.Context, pool *pgxpool.Pool, steps []Step, log *slog.Logger) (int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return 0, fmt.Errorf("lock for migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID) //nolint:errcheck // released with the session anyway

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS morsel_migrations (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("create morsel_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM morsel_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if latest := len(steps); current > latest {
		return 0, fmt.Errorf("the Postgres schema is at version %d, newer than this morsel binary knows (%d): run a newer morsel", current, latest)
	}
	applied := 0
	for _, s := range steps[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO morsel_migrations (version, name) VALUES ($1, $2)`, s.Version, s.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply postgres migration %s: %w", s.Name, err)
		}
		log.Info("applied postgres migration", "name", s.Name)
		applied++
	}
	return applied, nil
}
