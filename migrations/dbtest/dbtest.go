// Package dbtest gives each test its own fresh, migrated database: a Postgres
// database cloned from a migrated template, and a ClickHouse database with the
// schema applied. Both are dropped when the test ends, so tests run in parallel.
// DATABASE_URL and CLICKHOUSE_URL name the servers (`make test` sets them).
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/morselhq/morsel/migrations"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run `make test`, which starts the databases, or export %s", name, name)
	}
	return v
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

var template struct {
	once sync.Once
	name string
	err  error
}

// templateName names the template by the migrations it holds, so a changed
// migration makes a new template rather than reusing a stale one.
func templateName() string {
	h := sha256.New()
	for _, s := range migrations.Postgres() {
		io.WriteString(h, s.Name)
		io.WriteString(h, s.SQL)
	}
	return "morsel_tpl_" + hex.EncodeToString(h.Sum(nil))[:12]
}

// PostgresURL creates a fresh migrated database for the test and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := env(t, "DATABASE_URL")
	template.once.Do(func() { template.name, template.err = ensureTemplate(context.Background(), base) })
	if template.err != nil {
		t.Fatalf("prepare template database: %v", template.err)
	}
	return createDatabase(t, base, "TEMPLATE "+template.name)
}

// EmptyPostgresURL creates a fresh database with nothing in it, for tests of
// migrating from scratch, and returns its URL.
func EmptyPostgresURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, env(t, "DATABASE_URL"), "")
}

// createDatabase creates a database with the options, dropped when the test ends.
func createDatabase(t testing.TB, base, options string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	name := randomName("morsel_test_")
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s %s`, name, options)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer admin.Close(ctx)
		// FORCE may need to end an autovacuum worker, which a role without
		// pg_signal_backend may not: then wait for it a little.
		var err2 error
		for range 20 {
			if _, err2 = admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err2 == nil {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Errorf("drop test database %s: %v", name, err2)
	})
	return postgresWithDatabase(base, name)
}

// postgresWithDatabase points a Postgres URL or keyword/value string at db.
func postgresWithDatabase(base, db string) string {
	if u, err := neturl.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	return base + " dbname=" + db
}

// Postgres returns a pool on a fresh migrated database, closed when the test ends.
func Postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// ensureTemplate makes the template database once per server: test binaries of
// several packages race for it, so it is built under an advisory lock.
func ensureTemplate(ctx context.Context, base string) (string, error) {
	name := templateName()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(72001)`); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, `SELECT pg_advisory_unlock(72001)`) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		return "", err
	}
	cfg.ConnConfig.Database = building
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	_, err = migrations.MigratePostgres(ctx, pool, quiet)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

// ClickHouse returns a connection to a fresh ClickHouse database with the schema
// applied, dropped when the test ends.
func ClickHouse(t testing.TB) driver.Conn {
	t.Helper()
	conn, _ := clickHouse(t)
	return conn
}

// ClickHouseURL is ClickHouse but returns the database's URL, for code under test
// that opens its own connection.
func ClickHouseURL(t testing.TB) string {
	t.Helper()
	_, url := clickHouse(t)
	return url
}

func clickHouse(t testing.TB) (driver.Conn, string) {
	t.Helper()
	if os.Getenv("MORSEL_TEST_CLICKHOUSE") == "cluster" {
		// Asked for by name: a missing cluster fails the test, never skips it.
		if reason := ClusterSkipReason(); reason != "" {
			t.Fatalf("MORSEL_TEST_CLICKHOUSE=cluster: %s", reason)
		}
		return clickHouseCluster(t)
	}
	return clickHouseOn(t, env(t, "CLICKHOUSE_URL"), "")
}

// clickHouseOn makes the fresh database on the server at base, or on every
// server of the cluster named cluster when it is not empty.
func clickHouseOn(t testing.TB, base, cluster string) (driver.Conn, string) {
	t.Helper()
	opts, err := clickhouse.ParseDSN(base)
	if err != nil {
		t.Fatalf("parse CLICKHOUSE_URL: %v", err)
	}
	// A wedged server must fail the test with a message, not hang it.
	opts.DialTimeout, opts.ReadTimeout = 5*time.Second, time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatalf("open CLICKHOUSE_URL: %v", err)
	}
	name := randomName("morsel_test_")
	onCluster := ""
	if cluster != "" {
		onCluster = " ON CLUSTER " + cluster
		if opts.Settings == nil {
			opts.Settings = clickhouse.Settings{}
		}
		for k, v := range migrations.ClusterSettings() {
			opts.Settings[k] = v
		}
	}
	if err := admin.Exec(ctx, "CREATE DATABASE "+name+onCluster); err != nil {
		admin.Close()
		t.Fatalf("create clickhouse test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+onCluster); err != nil {
			t.Errorf("drop clickhouse test database %s: %v", name, err)
		}
		admin.Close()
	})
	opts.Auth.Database = name
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatalf("open clickhouse test database: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if cluster == "" {
		_, err = migrations.MigrateClickHouse(ctx, conn, quiet)
	} else {
		_, err = migrations.MigrateClickHouseCluster(ctx, conn, cluster, quiet)
	}
	if err != nil {
		t.Fatalf("migrate clickhouse test database: %v", err)
	}
	return conn, withDatabase(base, name, cluster)
}

// withDatabase returns the ClickHouse URL with its path set to the database,
// and on a cluster with the settings a cluster's connections need.
func withDatabase(raw, db, cluster string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + db
	if cluster != "" {
		q := u.Query()
		for k, v := range migrations.ClusterSettings() {
			q.Set(k, fmt.Sprint(v))
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
