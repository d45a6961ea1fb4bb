package migrations_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
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

// TestClickHouseStepRunsAgain: steps interrupted after some of their
// statements (their records missing) run again whole: the columns steps 3
// and 5 added are taken as there, step 4's rename as done, and its copy of
// the events keeps every row.
func TestClickHouseStepRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouse(t)
	for i := range 3 {
		insertEvent(t, conn, fmt.Sprintf("msg/%d", i))
	}
	last := len(migrations.ClickHouse())
	forgetSteps(t, conn, 3)
	n, err := migrations.MigrateClickHouse(ctx, conn, quiet)
	require.NoError(t, err)
	require.Equal(t, last-2, n)
	var columns uint64
	require.NoError(t, conn.QueryRow(ctx, `SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'reps' AND name = 'team_name'`).Scan(&columns))
	require.EqualValues(t, 1, columns)
	requireEvents(t, conn, 3)
}

// Step 4 copies the events into a table of finer granules while inserts
// go on: an insert during the copy lands in the copy, and one that reaches
// the old view after the rename fails (the outbox sends it again) rather
// than being lost.
func TestClickHouseEventsCopyKeepsInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouse(t)
	// Back to the events table of step 1.
	for _, q := range []string{
		`RENAME TABLE events TO events_new`,
		`CREATE TABLE events AS events_new ENGINE = ReplacingMergeTree(version) ORDER BY (org_id, rep_id, event_key)`,
		`DROP TABLE events_new`,
	} {
		require.NoError(t, conn.Exec(ctx, q), q)
	}
	insertEvent(t, conn, "before")
	steps := migrations.ClickHouse()
	require.Equal(t, "0004_events_granularity.sql", steps[3].Name)
	stmts := migrations.Statements(steps[3].SQL)
	for i, stmt := range stmts {
		require.NoError(t, conn.Exec(ctx, stmt), stmt)
		switch {
		case strings.HasPrefix(stmt, "CREATE MATERIALIZED VIEW"), strings.HasPrefix(stmt, "INSERT"):
			insertEvent(t, conn, fmt.Sprintf("during/%d", i))
		case strings.HasPrefix(stmt, "RENAME"):
			err := conn.Exec(ctx, `INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, version)
				SELECT 1, 5, 'after-rename', 'reply', now(), 1`)
			require.Error(t, err, "an insert through the old view must fail, not vanish")
		}
	}
	insertEvent(t, conn, "after")
	requireEvents(t, conn, 4) // before, during/1, during/2 and after; after-rename was refused
	var create string
	require.NoError(t, conn.QueryRow(ctx, `SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'events'`).Scan(&create))
	require.Contains(t, create, "index_granularity = 1024")
}

// forgetSteps removes the records of the steps from version on, as if they
// had been interrupted.
func forgetSteps(t *testing.T, conn driver.Conn, version int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, conn.Exec(ctx, `ALTER TABLE morsel_migrations DELETE WHERE version >= ?`, uint32(version)))
	require.Eventually(t, func() bool {
		var left uint64
		require.NoError(t, conn.QueryRow(ctx, `SELECT count() FROM morsel_migrations WHERE version >= ?`, uint32(version)).Scan(&left))
		return left == 0
	}, 30*time.Second, 20*time.Millisecond, "the mutation that forgets the steps")
}

// Step 6 gives the progress rows of the assignments watched before it their
// segments, from the newest version of each segment event: a voided one
// left out, one moved to another assignment counted there.
func TestClickHouseSegmentsBackfilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouse(t)
	require.Equal(t, "0006_segments_watched.sql", migrations.ClickHouse()[5].Name)
	event := func(key string, assignment, segment, version, deleted int) {
		t.Helper()
		require.NoError(t, conn.Exec(ctx, `INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, assignment_id, lesson_id, value, version, deleted)
			SELECT 1, 5, ?, 'segment_watched', now(), ?, 9, ?, ?, ?`, key, uint64(assignment), float64(segment), uint64(version), uint8(deleted)))
	}
	progress := func(assignment, watched, version int) { // as written before step 6: no segments
		t.Helper()
		require.NoError(t, conn.Exec(ctx, `INSERT INTO assignment_progress (org_id, rep_id, assignment_id, lesson_id, segments_watched, version, deleted)
			SELECT 1, 5, ?, 9, ?, ?, 0`, uint64(assignment), uint32(watched), uint64(version)))
	}
	for s := range 4 {
		event(fmt.Sprintf("seg/55/%d", s), 55, s, 1, 0)
	}
	event("seg/55/1", 55, 1, 2, 1) // voided
	event("seg/55/3", 56, 3, 2, 0) // moved to assignment 56
	progress(55, 4, 1)
	progress(55, 2, 3) // the newest: written after the void and the move
	progress(56, 1, 3)
	progress(57, 0, 3) // nothing watched: left alone
	forgetSteps(t, conn, 6)
	n, err := migrations.MigrateClickHouse(ctx, conn, quiet)
	require.NoError(t, err)
	require.Equal(t, len(migrations.ClickHouse())-5, n, "step 6 and those after it, run again")

	rows, err := conn.Query(ctx, `SELECT assignment_id, segments_watched, segments, version FROM assignment_progress FINAL ORDER BY assignment_id`)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var assignment, version uint64
		var watched uint32
		var segments []uint16
		require.NoError(t, rows.Scan(&assignment, &watched, &segments, &version))
		got = append(got, fmt.Sprintf("%d: %d %v v%d", assignment, watched, segments, version))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"55: 2 [0 2] v4", "56: 1 [3] v4", "57: 0 [] v3"}, got)
}

func insertEvent(t *testing.T, conn driver.Conn, key string) {
	t.Helper()
	require.NoError(t, conn.Exec(context.Background(), `INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, version)
		SELECT 1, 5, ?, 'reply', now(), 1`, key))
}

// requireEvents checks the events table holds n keys, and only the tables
// the migrations mean to leave.
func requireEvents(t *testing.T, conn driver.Conn, n int) {
	t.Helper()
	ctx := context.Background()
	var keys uint64
	require.NoError(t, conn.QueryRow(ctx, `SELECT uniqExact(event_key) FROM events`).Scan(&keys))
	require.EqualValues(t, n, keys)
	var left []string
	rows, err := conn.Query(ctx, `SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'events%' ORDER BY name`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		left = append(left, name)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"events"}, left)
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

// Step 2 rolls up the progress of the events stored before it, as
// tracking.RollUp does for those after.
func TestClickHouseProgressBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.ClickHouse(t)
	// Back to step 1, with events.
	for _, q := range []string{
		`DROP TABLE assignment_progress`,
		`TRUNCATE TABLE morsel_migrations`,
		`INSERT INTO morsel_migrations (version, name, applied_at) SELECT 1, '0001_events.sql', now()`,
		`INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, assignment_id, value, version, deleted)
		 SELECT 1, 5, 'grade/55/0', 'graded', toDateTime('2026-03-08 14:00:00', 'UTC'), 55, 1, 1, 0`,
		`INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, assignment_id, value, version, deleted)
		 SELECT 1, 5, 'grade/55/1', 'graded', toDateTime('2026-03-08 14:00:00', 'UTC'), 55, 1, 1, 0`,
		`INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, assignment_id, value, version, deleted)
		 SELECT 1, 5, 'grade/55/1', 'graded', toDateTime('2026-03-08 14:00:00', 'UTC'), 55, 0, 2, 0`, // corrected: wrong
		`INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, assignment_id, value, version, deleted)
		 SELECT 1, 5, 'seg/56/0', 'segment_watched', toDateTime('2026-03-08 14:00:00', 'UTC'), 56, 0, 1, 0`,
		`INSERT INTO events (org_id, rep_id, event_key, kind, occurred_at, assignment_id, value, version, deleted)
		 SELECT 1, 5, 'seg/56/0', 'segment_watched', toDateTime('2026-03-08 14:00:00', 'UTC'), 56, 0, 2, 1`, // voided
	} {
		require.NoError(t, conn.Exec(ctx, q), q)
	}
	n, err := migrations.MigrateClickHouse(ctx, conn, quiet)
	require.NoError(t, err)
	require.Equal(t, len(migrations.ClickHouse())-1, n)

	var assignment uint64
	var answers, correct uint32
	rows, err := conn.Query(ctx, `SELECT assignment_id, answers, correct FROM assignment_progress FINAL WHERE deleted = 0 ORDER BY assignment_id`)
	require.NoError(t, err)
	defer rows.Close()
	var got [][3]uint64
	for rows.Next() {
		require.NoError(t, rows.Scan(&assignment, &answers, &correct))
		got = append(got, [3]uint64{assignment, uint64(answers), uint64(correct)})
	}
	require.NoError(t, rows.Err())
	require.Equal(t, [][3]uint64{{55, 2, 1}}, got, "the corrected answer counts as wrong; the voided segment leaves no row")
}
