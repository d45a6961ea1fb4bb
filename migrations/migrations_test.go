package migrations_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations"
	"github.com/morselhq/morsel/migrations/dbtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestPostgresTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The test database is cloned from a migrated template: a further run applies nothing.
	pool := dbtest.Postgres(t)
	n, err := migrations.MigratePostgres(ctx, pool, quiet)
	require.NoError(t, err)
	require.Zero(t, n)

	var version int
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(version) FROM morsel_migrations`).Scan(&version))
	require.Equal(t, len(migrations.Postgres()), version)
	var riverJobs bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('river_job') IS NOT NULL`).Scan(&riverJobs))
	require.True(t, riverJobs, "river's schema is migrated too")
}

func TestPostgresFromEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	// Empty the database, then migrate it from nothing, twice.
	_, err := pool.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`)
	require.NoError(t, err)
	n, err := migrations.MigratePostgres(ctx, pool, quiet)
	require.NoError(t, err)
	require.Equal(t, len(migrations.Postgres()), n)
	n, err = migrations.MigratePostgres(ctx, pool, quiet)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestPostgresNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	_, err := pool.Exec(ctx, `INSERT INTO morsel_migrations (version, name) VALUES (9999, '9999_future.sql')`)
	require.NoError(t, err)
	_, err = migrations.MigratePostgres(ctx, pool, quiet)
	require.ErrorContains(t, err, "the Postgres schema is at version 9999, newer than this morsel binary knows")
}

func TestClickHouseTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouse(t) // migrated once already
	n, err := migrations.MigrateClickHouse(ctx, conn, quiet)
	require.NoError(t, err)
	require.Zero(t, n)
	var tables uint64
	require.NoError(t, conn.QueryRow(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN ('events', 'reps')`).Scan(&tables))
	require.EqualValues(t, 2, tables)

	require.NoError(t, conn.Exec(ctx, `INSERT INTO morsel_migrations (version, name, applied_at) SELECT 9999, 'future', now()`))
	_, err = migrations.MigrateClickHouse(ctx, conn, quiet)
	require.ErrorContains(t, err, "the ClickHouse schema is at version 9999, newer than this morsel binary knows")
}

func TestStepNamesChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files fstest.MapFS
		err   string
	}{
		{"gap", fstest.MapFS{"pg/0001_a.sql": {}, "pg/0003_c.sql": {}}, "pg/0003_c.sql: expected version 2"},
		{"bad name", fstest.MapFS{"pg/first.sql": {}}, "pg/first.sql: name must be NNNN_what.sql"},
		{"not sql", fstest.MapFS{"pg/0001_a.txt": {}}, "name must be NNNN_what.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := migrations.ReadSteps(tt.files, "pg")
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestStatements(t *testing.T) {
	t.Parallel()
	got := migrations.Statements("-- a comment\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\nCREATE TABLE b (y UInt8) ENGINE = Memory;\n")
	require.Equal(t, []string{"CREATE TABLE a (x UInt8)\nENGINE = Memory", "CREATE TABLE b (y UInt8) ENGINE = Memory"}, got)
}
