package tracking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Event batches: the Ingester's group commits, one row of event_batches each,
// its events as lines of text (see migrations/postgres/0006). A row costs
// Postgres about as much to write as three rows of event_outbox, whatever the
// number of events in it, and the shipper moves a batch as it moves an outbox
// row.

// appendBatchLine appends e as a line of a batch, with version for a zero
// Version.
func appendBatchLine(b []byte, e Event, version uint64) []byte {
	if e.Version != 0 {
		version = e.Version
	}
	b = strconv.AppendInt(b, e.OrgID, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.RepID, 10)
	b = append(b, '\t')
	b = appendBatchText(b, e.Key)
	b = append(b, '\t')
	b = appendBatchText(b, e.Kind)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.OccurredAt.UnixMicro(), 10)
	for _, id := range [...]int64{e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID} {
		b = append(b, '\t')
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, '\t')
	b = strconv.AppendFloat(b, e.Value, 'g', -1, 64)
	b = append(b, '\t')
	b = appendBatchText(b, e.Detail)
	b = append(b, '\t')
	b = strconv.AppendUint(b, version, 10)
	if e.Deleted {
		b = append(b, "\t1\n"...)
	} else {
		b = append(b, "\t0\n"...)
	}
	return b
}

// appendBatchText appends s with its backslashes, tabs, newlines and
// carriage returns escaped.
func appendBatchText(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// errBatchLine is the error of a line that is not an event.
var errBatchLine = errors.New("not an event line")

// parseBatchLines appends the events of a batch's lines to out.
func parseBatchLines(lines string, out []Event) ([]Event, error) {
	for n := 1; lines != ""; n++ {
		line, rest, ok := strings.Cut(lines, "\n")
		if !ok {
			return out, fmt.Errorf("line %d: %w: no end of line", n, errBatchLine)
		}
		lines = rest
		e, err := parseBatchLine(line)
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseBatchLine reads one line, without its newline.
func parseBatchLine(line string) (Event, error) {
	var f [13]string
	for i := range f {
		if i == len(f)-1 {
			f[i] = line
			break
		}
		var ok bool
		if f[i], line, ok = strings.Cut(line, "\t"); !ok {
			return Event{}, fmt.Errorf("%w: %d fields, not 13", errBatchLine, i+1)
		}
	}
	var e Event
	var ints [7]int64 // org, rep, occurred_at, course, enrollment, assignment, lesson
	for i, field := range [...]string{f[0], f[1], f[4], f[5], f[6], f[7], f[8]} {
		v, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return Event{}, fmt.Errorf("%w: %w", errBatchLine, err)
		}
		ints[i] = v
	}
	e.OrgID, e.RepID, e.OccurredAt = ints[0], ints[1], time.UnixMicro(ints[2])
	e.CourseID, e.EnrollmentID, e.AssignmentID, e.LessonID = ints[3], ints[4], ints[5], ints[6]
	var err error
	if e.Value, err = strconv.ParseFloat(f[9], 64); err != nil {
		return Event{}, fmt.Errorf("%w: %w", errBatchLine, err)
	}
	if e.Version, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return Event{}, fmt.Errorf("%w: %w", errBatchLine, err)
	}
	switch f[12] {
	case "0":
	case "1":
		e.Deleted = true
	default:
		return Event{}, fmt.Errorf("%w: deleted is %q, not 0 or 1", errBatchLine, f[12])
	}
	for i, dst := range [...]*string{&e.Key, &e.Kind, &e.Detail} {
		if *dst, err = unescapeBatchText([...]string{f[2], f[3], f[10]}[i]); err != nil {
			return Event{}, err
		}
	}
	return e, nil
}

// unescapeBatchText undoes appendBatchText.
func unescapeBatchText(s string) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		if i++; i == len(s) {
			return "", fmt.Errorf("%w: a backslash ends a field", errBatchLine)
		}
		switch s[i] {
		case '\\':
			b = append(b, '\\')
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		default:
			return "", fmt.Errorf("%w: unknown escape \\%c", errBatchLine, s[i])
		}
	}
	return string(b), nil
}

// insertBatch writes events as one row of event_batches, in a statement of
// its own: committed, and so durable, when it returns. Events without a
// Version get the time of writing. buf is reused for the lines; it returns it.
func insertBatch(ctx context.Context, pool *pgxpool.Pool, events []Event, buf []byte) ([]byte, error) {
	if len(events) == 0 {
		return buf, nil
	}
	now := uint64(time.Now().UnixNano())
	buf = buf[:0]
	for _, e := range events {
		buf = appendBatchLine(buf, e, now)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO event_batches (events, lines) VALUES ($1, $2)`, len(events), string(buf)); err != nil {
		return buf, fmt.Errorf("append a batch of %d events: %w", len(events), err)
	}
	return buf, nil
}

// lockBatches locks the oldest batches that are not locked, up to limit
// events (at least one batch), and returns their ids and events, in order.
func lockBatches(ctx context.Context, tx pgx.Tx, limit int) ([]int64, []Event, error) {
	rows, err := tx.Query(ctx, `
		SELECT id, lines FROM event_batches
		WHERE id IN (
			SELECT id FROM (
				SELECT id, sum(events) OVER (ORDER BY id) - events AS before
				FROM event_batches ORDER BY id LIMIT $1
			) b WHERE before < $1)
		ORDER BY id FOR UPDATE SKIP LOCKED`, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("read event batches: %w", err)
	}
	return scanBatches(rows, 0)
}

// batchedEvents returns the events of every batch not yet shipped, in order,
// those of the organisation only when orgID is not 0.
func batchedEvents(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, orgID int64) ([]Event, error) {
	rows, err := db.Query(ctx, `SELECT id, lines FROM event_batches ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read event batches: %w", err)
	}
	_, events, err := scanBatches(rows, orgID)
	return events, err
}

// scanBatches reads rows of (id, lines): the batches' ids and their events,
// those of the organisation only when orgID is not 0.
func scanBatches(rows pgx.Rows, orgID int64) ([]int64, []Event, error) {
	defer rows.Close()
	var ids []int64
	var events []Event
	for rows.Next() {
		var id int64
		var lines string
		if err := rows.Scan(&id, &lines); err != nil {
			return nil, nil, fmt.Errorf("read event batches: %w", err)
		}
		n := len(events)
		var err error
		if events, err = parseBatchLines(lines, events); err != nil {
			return nil, nil, fmt.Errorf("read event batch %d: %w", id, err)
		}
		if orgID != 0 {
			kept := slices.DeleteFunc(events[n:], func(e Event) bool { return e.OrgID != orgID })
			events = events[:n+len(kept)]
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read event batches: %w", err)
	}
	return ids, events, nil
}
