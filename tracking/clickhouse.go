// Package tracking records what reps do (messages, replies, grades, video
// segments watched) as events, and keeps them in ClickHouse for the reports.
package tracking

import (
	"context"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// OpenClickHouse connects to the ClickHouse server at rawURL
// (clickhouse://user:password@host:9000/database) over the native protocol, the
// one that works with both ClickHouse 18.16 and current releases, and checks
// that it answers.
func OpenClickHouse(ctx context.Context, rawURL string) (driver.Conn, error) {
	opts, err := clickhouse.ParseDSN(rawURL)
	if err != nil {
		return nil, fmt.Errorf("CLICKHOUSE_URL %s is not a ClickHouse URL: %w", Redact(rawURL), errors.New(RedactIn(err.Error(), rawURL)))
	}
	if opts.Protocol != clickhouse.Native {
		return nil, fmt.Errorf("CLICKHOUSE_URL %s: use the native protocol (clickhouse://host:9000/db)", Redact(rawURL))
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse at CLICKHOUSE_URL %s: %w", Redact(rawURL), errors.New(RedactIn(err.Error(), rawURL)))
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot reach ClickHouse at CLICKHOUSE_URL %s: %w", Redact(rawURL), errors.New(RedactIn(err.Error(), rawURL)))
	}
	return conn, nil
}
