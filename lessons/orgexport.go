package lessons

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
)

// An organisation's export (`morsel export`) is JSON lines: a header
// {"type":"morsel-export","version":1,"org":SLUG,"org_id":ID}, then one
// {"type":KIND,"row":{...}} per row, each row as Postgres's row_to_json gives
// it, table after table in exportTables' order (parents before children) and
// each table in key order. Ids are kept: an import writes the rows with
// their own ids, so the file needs no remapping and exporting the imported
// organisation again gives the same file.
//
// Not exported: uploaded videos (large objects), sessions, sign-in limits,
// the event outbox and the analytics bookkeeping (ClickHouse is rebuilt from
// the rows with `morsel rebuild-analytics`), and River's jobs (sends and
// reminders queued at the time of the export).

// ExportVersion is the version of the export format this code writes and reads.
const ExportVersion = 1

// exportHeaderType is the type of an export's first line.
const exportHeaderType = "morsel-export"

// exportTable is one table of an export: the record type its rows carry, the
// query that reads the organisation's rows ($1 the organisation's id; t the
// table, ordered by its key), the columns a row must have, and whether the
// row has an org_id that must be the organisation's.
type exportTable struct {
	kind, table string
	query       string
	required    []string
	orgID       bool
	identity    bool // the table's id is an identity column: its sequence moves past an import's ids
}

// exportTables are the tables of an export, parents before children.
var exportTables = []exportTable{
	{kind: "org", table: "organisations", query: `SELECT row_to_json(t) FROM organisations t WHERE t.id = $1`,
		required: []string{"id", "slug"}, identity: true},
	{kind: "user", table: "users", query: `SELECT row_to_json(t) FROM users t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "email"}, orgID: true, identity: true},
	{kind: "team", table: "teams", query: `SELECT row_to_json(t) FROM teams t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id"}, orgID: true, identity: true},
	{kind: "team_manager", table: "team_managers",
		query:    `SELECT row_to_json(t) FROM team_managers t WHERE t.org_id = $1 ORDER BY t.team_id, t.user_id`,
		required: []string{"org_id", "team_id", "user_id"}, orgID: true},
	{kind: "rep", table: "reps", query: `SELECT row_to_json(t) FROM reps t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "phone"}, orgID: true, identity: true},
	{kind: "api_key", table: "api_keys", query: `SELECT row_to_json(t) FROM api_keys t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "hash"}, orgID: true, identity: true},
	{kind: "course", table: "courses", query: `SELECT row_to_json(t) FROM courses t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "slug"}, orgID: true, identity: true},
	{kind: "course_version", table: "course_versions",
		query:    `SELECT row_to_json(t) FROM course_versions t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "course_id"}, orgID: true, identity: true},
	{kind: "course_lesson", table: "course_lessons",
		query: `SELECT row_to_json(t) FROM course_lessons t JOIN course_versions v ON v.id = t.course_version_id
			WHERE v.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "course_version_id"}, identity: true},
	{kind: "quiz_question", table: "quiz_questions",
		query: `SELECT row_to_json(t) FROM quiz_questions t JOIN course_lessons l ON l.id = t.lesson_id
			JOIN course_versions v ON v.id = l.course_version_id WHERE v.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "lesson_id"}, identity: true},
	{kind: "enrollment", table: "enrollments",
		query:    `SELECT row_to_json(t) FROM enrollments t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "rep_id", "course_version_id"}, orgID: true, identity: true},
	{kind: "assignment", table: "assignments",
		query: `SELECT row_to_json(t) FROM assignments t JOIN enrollments e ON e.id = t.enrollment_id
			WHERE e.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "enrollment_id", "lesson_id"}, identity: true},
	{kind: "lesson_link", table: "lesson_links",
		query: `SELECT row_to_json(t) FROM lesson_links t JOIN reps r ON r.id = t.rep_id
			WHERE r.org_id = $1 ORDER BY t.token`,
		required: []string{"token", "assignment_id", "rep_id"}},
	// A message's reissued_as names a later message: an import writes it
	// once every message is in (see importer).
	{kind: "message", table: "messages", query: `SELECT row_to_json(t) FROM messages t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id"}, orgID: true, identity: true},
	{kind: "attempt", table: "attempts", query: `SELECT row_to_json(t) FROM attempts t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "rep_id", "assignment_id"}, orgID: true, identity: true},
	{kind: "video_progress", table: "video_progress",
		query: `SELECT row_to_json(t) FROM video_progress t JOIN assignments a ON a.id = t.assignment_id
			JOIN enrollments e ON e.id = a.enrollment_id WHERE e.org_id = $1 ORDER BY t.assignment_id`,
		required: []string{"assignment_id"}},
	{kind: "note", table: "notes", query: `SELECT row_to_json(t) FROM notes t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "rep_id"}, orgID: true, identity: true},
	{kind: "note_revision", table: "note_revisions",
		query: `SELECT row_to_json(t) FROM note_revisions t JOIN notes n ON n.id = t.note_id
			WHERE n.org_id = $1 ORDER BY t.note_id, t.version`,
		required: []string{"note_id", "version", "user_id"}},
	{kind: "note_mention", table: "note_mentions",
		query: `SELECT row_to_json(t) FROM note_mentions t JOIN notes n ON n.id = t.note_id
			WHERE n.org_id = $1 ORDER BY t.note_id, t.user_id`,
		required: []string{"note_id", "user_id"}},
	{kind: "event_correction", table: "event_corrections",
		query:    `SELECT row_to_json(t) FROM event_corrections t WHERE t.org_id = $1 ORDER BY t.id`,
		required: []string{"id", "org_id", "rep_id"}, orgID: true, identity: true},
}

// exportHeader is an export's first line.
type exportHeader struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	Org     string `json:"org"`
	OrgID   int64  `json:"org_id"`
}

// ExportOrg writes the organisation's Postgres rows to w as JSON lines (the
// format above), from one consistent snapshot, a row at a time as read.
// progress, if not nil, is told each table's row count when it is done.
func (s *Store) ExportOrg(ctx context.Context, o Org, w io.Writer, progress func(kind string, rows int)) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("export %s: %w", o.Slug, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only: nothing to undo
	// Times as UTC, whatever the server's zone: the same rows give the same file.
	if _, err := tx.Exec(ctx, `SET LOCAL TimeZone = 'UTC'`); err != nil {
		return fmt.Errorf("export %s: %w", o.Slug, err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	header, err := json.Marshal(exportHeader{Type: exportHeaderType, Version: ExportVersion, Org: o.Slug, OrgID: o.ID})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(bw, "%s\n", header); err != nil {
		return fmt.Errorf("export %s: write: %w", o.Slug, err)
	}
	for _, t := range exportTables {
		n, err := exportRows(ctx, tx, t, o.ID, bw)
		if err != nil {
			return fmt.Errorf("export %s: %s: %w", o.Slug, t.table, err)
		}
		if progress != nil {
			progress(t.kind, n)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: write: %w", o.Slug, err)
	}
	return nil
}

// exportRows writes the table's rows of the organisation and returns how many.
func exportRows(ctx context.Context, tx pgx.Tx, t exportTable, orgID int64, w io.Writer) (int, error) {
	rows, err := tx.Query(ctx, t.query, orgID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var row []byte
	for rows.Next() {
		if err := rows.Scan(&row); err != nil {
			return n, err
		}
		if _, err := fmt.Fprintf(w, `{"type":%q,"row":%s}`+"\n", t.kind, row); err != nil {
			return n, fmt.Errorf("write: %w", err)
		}
		n++
	}
	return n, rows.Err()
}
