package lessons

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/morselhq/morsel/lessons/errs"
)

// MaxExportLine bounds one line of an export an import reads.
const MaxExportLine = 1 << 20

// ExportRecord is one row line of an export: its type and the row's columns
// as JSON.
type ExportRecord struct {
	Kind  string
	Row   json.RawMessage
	table *exportTable
	orgID int64 // the row's org_id, for tables that have one
}

// exportTablesByKind finds a record type's table.
var exportTablesByKind = func() map[string]*exportTable {
	m := map[string]*exportTable{}
	for i := range exportTables {
		m[exportTables[i].kind] = &exportTables[i]
	}
	return m
}()

// ParseExportLine reads one row line of an export and checks it: a known
// type, a row object with the table's required columns, ids that are
// positive integers.
func ParseExportLine(line []byte) (ExportRecord, error) {
	var raw struct {
		Type string          `json:"type"`
		Row  json.RawMessage `json:"row"`
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return ExportRecord{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if raw.Type == "" {
		return ExportRecord{}, errors.New(`no "type"`)
	}
	t, ok := exportTablesByKind[raw.Type]
	if !ok {
		return ExportRecord{}, fmt.Errorf("unknown type %q", truncate(raw.Type, 40))
	}
	var cols map[string]json.RawMessage
	if len(raw.Row) == 0 || raw.Row[0] != '{' {
		return ExportRecord{}, fmt.Errorf(`%s: "row" is not an object`, t.kind)
	}
	if err := json.Unmarshal(raw.Row, &cols); err != nil {
		return ExportRecord{}, fmt.Errorf(`%s: "row": %w`, t.kind, err)
	}
	rec := ExportRecord{Kind: t.kind, Row: raw.Row, table: t}
	for _, c := range t.required {
		v, ok := cols[c]
		if !ok || string(v) == "null" {
			return ExportRecord{}, fmt.Errorf("%s: no %s", t.kind, c)
		}
		if c == "id" || c == "org_id" || len(c) > 3 && c[len(c)-3:] == "_id" {
			id, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || id <= 0 {
				return ExportRecord{}, fmt.Errorf("%s: %s %s is not a positive integer", t.kind, c, truncate(string(v), 40))
			}
			if c == "org_id" {
				rec.orgID = id
			}
		}
	}
	return rec, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ImportOrg reads an export (ExportOrg's format) and writes its
// organisation, with every row's own id, in one transaction: all or nothing.
// It refuses, naming the line, a line it cannot read, an organisation whose
// slug exists, a row whose id exists. Identity sequences are moved past the
// ids written. progress, if not nil, is told each record type's row count
// when its rows are done. It returns the organisation written.
func (s *Store) ImportOrg(ctx context.Context, r io.Reader, progress func(kind string, rows int)) (Org, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxExportLine)
	lineNo := 0
	invalid := func(format string, args ...any) error {
		return errs.Errorf(errs.Invalid, "line %d: %s", lineNo, fmt.Sprintf(format, args...))
	}

	// The header.
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return Org{}, errs.Errorf(errs.Invalid, "line 1: %v", err)
		}
		return Org{}, errs.Errorf(errs.Invalid, "empty file: no export header")
	}
	lineNo = 1
	var h exportHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Type != exportHeaderType {
		return Org{}, invalid(`not a Morsel export: the first line must be {"type":"morsel-export",...}`)
	}
	if h.Version != ExportVersion {
		return Org{}, invalid("export version %d: this Morsel reads version %d", h.Version, ExportVersion)
	}
	if h.Org == "" || h.OrgID <= 0 {
		return Org{}, invalid("the header names no organisation (org and org_id)")
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit, a no-op
	if _, err := tx.Exec(ctx, `SET LOCAL TimeZone = 'UTC'`); err != nil {
		return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE slug = $1)`, h.Org).Scan(&exists); err != nil {
		return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
	}
	if exists {
		return Org{}, errs.Errorf(errs.Conflict, "organisation %q already exists: import into a database without it", h.Org)
	}

	refs, err := foreignKeys(ctx, tx)
	if err != nil {
		return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
	}
	written := map[string]map[int64]bool{} // table -> ids this import wrote

	// Rows come table by table in exportTables' order; a table may be empty
	// but never comes back once left.
	at, count := -1, 0
	var reissued [][2]int64 // messages' (id, reissued_as), written once every message is in
	done := func() {
		if at >= 0 && progress != nil {
			progress(exportTables[at].kind, count)
		}
	}
	for sc.Scan() {
		lineNo++
		rec, err := ParseExportLine(sc.Bytes())
		if err != nil {
			return Org{}, invalid("%v", err)
		}
		i := tableIndex(rec.table)
		if i < at {
			return Org{}, invalid("%s after %s: the rows must come in the export's order", rec.Kind, exportTables[at].kind)
		}
		if at == -1 && rec.Kind != "org" || at >= 0 && rec.Kind == "org" {
			return Org{}, invalid("the organisation's row must come first, once")
		}
		if i > at {
			done()
			at, count = i, 0
			if err := lessonTriggers(ctx, tx, rec.table, "DISABLE"); err != nil {
				return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
			}
		}
		if rec.Kind == "org" {
			var o struct {
				ID   int64  `json:"id"`
				Slug string `json:"slug"`
			}
			if err := json.Unmarshal(rec.Row, &o); err != nil || o.ID != h.OrgID || o.Slug != h.Org {
				return Org{}, invalid("the organisation's row is not the header's organisation %q (id %d)", h.Org, h.OrgID)
			}
		}
		if rec.table.orgID && rec.orgID != h.OrgID {
			return Org{}, invalid("%s of organisation %d in the export of organisation %d", rec.Kind, rec.orgID, h.OrgID)
		}
		id, err := checkReferences(rec, refs, written)
		if err != nil {
			return Org{}, invalid("%s: %v", rec.Kind, err)
		}
		if rec.Kind == "message" {
			var m struct {
				ID         int64  `json:"id"`
				ReissuedAs *int64 `json:"reissued_as"`
			}
			if err := json.Unmarshal(rec.Row, &m); err != nil {
				return Org{}, invalid("message: %v", err)
			}
			if m.ReissuedAs != nil {
				reissued = append(reissued, [2]int64{m.ID, *m.ReissuedAs})
			}
		}
		if err := insertExportRow(ctx, tx, rec); err != nil {
			return Org{}, errs.Errorf(errs.Invalid, "line %d: %s: %v", lineNo, rec.table.table, err)
		}
		if rec.table.identity {
			if written[rec.table.table] == nil {
				written[rec.table.table] = map[int64]bool{}
			}
			written[rec.table.table][id] = true
		}
		count++
	}
	if err := sc.Err(); err != nil {
		return Org{}, errs.Errorf(errs.Invalid, "line %d: %v (a line may be at most %d bytes)", lineNo+1, err, MaxExportLine)
	}
	if at == -1 {
		return Org{}, errs.Errorf(errs.Invalid, "line %d: the export ends before the organisation's row", lineNo)
	}
	done()
	for _, m := range reissued {
		if !written["messages"][m[1]] {
			return Org{}, errs.Errorf(errs.Invalid, "message %d: reissued_as %d is not a message of this export", m[0], m[1])
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET reissued_as = $2 WHERE id = $1`, m[0], m[1]); err != nil {
			return Org{}, fmt.Errorf("import %s: message %d reissued as %d: %w", h.Org, m[0], m[1], err)
		}
	}
	for i := range exportTables {
		if err := lessonTriggers(ctx, tx, &exportTables[i], "ENABLE"); err != nil {
			return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
		}
	}
	for _, t := range exportTables {
		if !t.identity {
			continue
		}
		// Table names are this file's constants, never input.
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'),
			GREATEST((SELECT max(id) FROM %[1]s), (SELECT last_value FROM %[2]s)))`, t.table, t.table+"_id_seq")
		if _, err := tx.Exec(ctx, q); err != nil {
			return Org{}, fmt.Errorf("import %s: move %s's ids on: %w", h.Org, t.table, err)
		}
	}
	o, err := scanOrg(tx.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = $1`, h.OrgID))
	if err != nil {
		return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Org{}, fmt.Errorf("import %s: %w", h.Org, err)
	}
	return o, nil
}

// A foreignKey is a single-column reference of an exported table to another
// table's id ((org_id, x) references are the organisation's by their org_id,
// which is checked against the header).
type foreignKey struct{ table, column, references string }

// foreignKeys reads the exported tables' single-column references from the
// catalogue, so that a column added later is checked without a list here to
// keep.
func foreignKeys(ctx context.Context, tx pgx.Tx) (map[string][]foreignKey, error) {
	tables := make([]string, len(exportTables))
	for i, t := range exportTables {
		tables[i] = t.table
	}
	rows, err := tx.Query(ctx, `
		SELECT t.relname, a.attname, r.relname
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_class r ON r.oid = c.confrelid
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
		  AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)`, tables)
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (foreignKey, error) {
		var fk foreignKey
		return fk, r.Scan(&fk.table, &fk.column, &fk.references)
	})
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	m := map[string][]foreignKey{}
	for _, fk := range fks {
		m[fk.table] = append(m[fk.table], fk)
	}
	return m, nil
}

// checkReferences refuses a row that references a row this import has not
// written (a lesson of another organisation's course version, a link to
// another organisation's rep): an export names only its own rows, and its
// file may have been edited. A message's reissued_as, naming a later message, is
// checked once every message is in. It returns the row's id (0 for a table
// without one).
func checkReferences(rec ExportRecord, refs map[string][]foreignKey, written map[string]map[int64]bool) (int64, error) {
	var cols map[string]json.RawMessage
	if err := json.Unmarshal(rec.Row, &cols); err != nil {
		return 0, err
	}
	var id int64
	if rec.table.identity {
		if err := json.Unmarshal(cols["id"], &id); err != nil {
			return 0, fmt.Errorf("id: %w", err)
		}
	}
	for _, fk := range refs[rec.table.table] {
		v, ok := cols[fk.column]
		if !ok || string(v) == "null" || rec.Kind == "message" && fk.column == "reissued_as" {
			continue
		}
		ref, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %s is not an id", fk.column, truncate(string(v), 40))
		}
		if !written[fk.references][ref] {
			return 0, fmt.Errorf("%s %d is not a row of this export (%s)", fk.column, ref, fk.references)
		}
	}
	return id, nil
}

func tableIndex(t *exportTable) int {
	for i := range exportTables {
		if &exportTables[i] == t {
			return i
		}
	}
	return -1
}

// insertExportRow writes the row with its own id (a message without its
// reissued_as, written later). An id that exists is named.
func insertExportRow(ctx context.Context, tx pgx.Tx, rec ExportRecord) error {
	t := rec.table
	override := ""
	if t.identity {
		override = " OVERRIDING SYSTEM VALUE"
	}
	q := fmt.Sprintf(`INSERT INTO %[1]s%[2]s SELECT * FROM json_populate_record(null::%[1]s, $1::json)`, t.table, override)
	row := []byte(rec.Row)
	if t.kind == "message" {
		q = `INSERT INTO messages OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_record(null::messages,
			($1::jsonb - 'reissued_as')::json)`
	}
	_, err := tx.Exec(ctx, q, string(row))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%s already exists (%s): import into a database without it", pgErr.Detail, pgErr.ConstraintName)
	}
	return err
}

// lessonTriggers disables (or enables again) the trigger that keeps a
// published version's lessons and questions from changing, for the table's
// rows of an import: they are the rows of versions published already. The
// ALTER holds the table's lock until the import commits, so no other
// transaction writes (or reads) it meanwhile, and the trigger is enabled
// again before the commit.
func lessonTriggers(ctx context.Context, tx pgx.Tx, t *exportTable, action string) error {
	if t.table != "course_lessons" && t.table != "quiz_questions" {
		return nil
	}
	// Names and action are this file's constants, never input.
	if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE %[1]s %[2]s TRIGGER %[1]s_immutable`, t.table, action)); err != nil {
		return fmt.Errorf("%s %s's immutability trigger: %w", strings.ToLower(action), t.table, err)
	}
	return nil
}
