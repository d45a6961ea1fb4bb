package tracking

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// TimedConn returns conn with each query, statement and batch sent timed:
// observe is told what ran ("query", "exec", "batch", or "rollup" for the
// work of recomputing the rollups) and how long ClickHouse took to answer
// (a query's rows, not their reading). The caller counts it (cmd/ in a
// Prometheus histogram).
func TimedConn(conn driver.Conn, observe func(op string, took time.Duration)) driver.Conn {
	return timedConn{Conn: conn, observe: observe}
}

type timedConn struct {
	driver.Conn
	observe func(op string, took time.Duration)
}

// opKey labels the ClickHouse work done under a context.
type opKey struct{}

// withOp labels the ClickHouse work done under ctx as op, for TimedConn.
func withOp(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, opKey{}, op)
}

func (c timedConn) done(ctx context.Context, op string, start time.Time) {
	if label, ok := ctx.Value(opKey{}).(string); ok {
		op = label
	}
	c.observe(op, time.Since(start))
}

func (c timedConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	defer c.done(ctx, "query", time.Now())
	return c.Conn.Query(ctx, query, args...)
}

func (c timedConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	defer c.done(ctx, "query", time.Now())
	return c.Conn.QueryRow(ctx, query, args...)
}

func (c timedConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	defer c.done(ctx, "query", time.Now())
	return c.Conn.Select(ctx, dest, query, args...)
}

func (c timedConn) Exec(ctx context.Context, query string, args ...any) error {
	defer c.done(ctx, "exec", time.Now())
	return c.Conn.Exec(ctx, query, args...)
}

func (c timedConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	if err != nil {
		return nil, err
	}
	return timedBatch{Batch: b, ctx: ctx, conn: c}, nil
}

// timedBatch times a batch's Send, where ClickHouse does the work.
type timedBatch struct {
	driver.Batch
	ctx  context.Context
	conn timedConn
}

func (b timedBatch) Send() error {
	defer b.conn.done(b.ctx, "batch", time.Now())
	return b.Batch.Send()
}
