package reports

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/morselhq/morsel/lessons/errs"
	"slices"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Column is a column of the rep table that rows sort by.
type Column string

// The columns.
const (
	ByName     Column = "name"
	ByTeam     Column = "team"
	ByCourse   Column = "course"
	ByProgress Column = "progress"
	ByQuiz     Column = "quiz"
	ByVideo    Column = "video"
	ByActivity Column = "activity"
	ByDue      Column = "due"
	ByStatus   Column = "status"
)

// Columns lists the columns in the table's order.
var Columns = []Column{ByName, ByTeam, ByCourse, ByProgress, ByQuiz, ByVideo, ByActivity, ByDue, ByStatus}

// sortKeys are the columns' sort keys in SQL: a String or an Int64, so that
// a page's last key is exact in a cursor. Ratios are in hundredths of a
// percent; a missing figure sorts first (-1), a missing due date last.
// ClickHouse computes both branches of if(): a divisor is never 0.
var sortKeys = map[Column]string{
	ByName:     `lowerUTF8(name)`,
	ByTeam:     `lowerUTF8(team_name)`,
	ByCourse:   `lowerUTF8(course_title)`,
	ByProgress: `toInt64(if(lessons_total = 0, 0, intDiv(lessons_done * 10000, greatest(lessons_total, 1))))`,
	ByQuiz:     `if(answers = 0, toInt64(-1), toInt64(intDiv(correct * 10000, greatest(answers, 1))))`,
	ByVideo:    `if(segments_total = 0, toInt64(-1), toInt64(least(10000, intDiv(segments_watched * 10000, greatest(segments_total, 1)))))`,
	ByActivity: `toInt64(toUInt32(last_activity_at))`,
	ByDue:      `if(toUInt32(due_at) = 0, toInt64(4294967295), toInt64(toUInt32(due_at)))`,
	ByStatus:   `toInt64(st)`,
}

func (c Column) text() bool { return c == ByName || c == ByTeam || c == ByCourse }

// ParseColumn reads a column's name; ok is false for anything else.
func ParseColumn(s string) (Column, bool) {
	c := Column(s)
	_, ok := sortKeys[c]
	return c, ok
}

// Filter narrows the rep table. The zero Filter is every row in scope.
type Filter struct {
	Team      int64 // 0: every team in scope; else one of them (HasTeam)
	Course    int64 // 0: every course
	Status    *Status
	DueWithin int // days; 0: any. Not done and due within so many days from now
}

// MaxDueWithin bounds Filter.DueWithin.
const MaxDueWithin = 366

// TableQuery is one page of the rep table.
type TableQuery struct {
	Filter
	Sort   Column // "": ByName
	Desc   bool
	After  *Cursor // the page after this row
	Before *Cursor // or the page before this one
	Limit  int     // 0: DefaultPageSize
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Cursor is where a page starts or ends: a row's sort key and its ids.
type Cursor struct {
	Text       string
	Number     int64
	Rep        int64
	Enrollment int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Number, 10) + "." +
		strconv.FormatInt(c.Rep, 10) + "." + strconv.FormatInt(c.Enrollment, 10) + "." + c.Text))
}

// ParseCursor reads a cursor from String; ok is false when s is not one.
func ParseCursor(s string) (Cursor, bool) {
	if len(s) > 2048 {
		return Cursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	parts := strings.SplitN(string(b), ".", 4)
	if len(parts) != 4 {
		return Cursor{}, false
	}
	var c Cursor
	var errs [3]error
	c.Number, errs[0] = strconv.ParseInt(parts[0], 10, 64)
	c.Rep, errs[1] = strconv.ParseInt(parts[1], 10, 64)
	c.Enrollment, errs[2] = strconv.ParseInt(parts[2], 10, 64)
	if errs[0] != nil || errs[1] != nil || errs[2] != nil || c.Rep < 0 || c.Enrollment < 0 {
		return Cursor{}, false
	}
	c.Text = parts[3]
	return c, true
}

// TablePage is one page of rows, with the cursors of its neighbours.
type TablePage struct {
	Rows       []Row
	Prev, Next *Cursor // nil: no such page
}

// Table reads one page of the rep table.
func (r *Reports) Table(ctx context.Context, s Scope, q TableQuery) (TablePage, error) {
	if q.Sort == "" {
		q.Sort = ByName
	}
	key, ok := sortKeys[q.Sort]
	if !ok {
		return TablePage{}, fmt.Errorf("sort by %q: no such column", q.Sort)
	}
	limit := q.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	now := r.now().UTC()
	args := []any{nowArg(now)}
	where := q.Filter.where(s)
	// Reading backwards (the page before) flips the order, then the rows.
	backwards := q.Before != nil && q.After == nil
	desc := q.Desc != backwards
	if c := from(q.After, q.Before); c != nil {
		op := ">"
		if desc {
			op = "<"
		}
		var v any = c.Number
		if q.Sort.text() {
			v = c.Text
		}
		where = append(where, fmt.Sprintf(`(k %[1]s @k OR (k = @k AND (rep_id %[1]s @rep OR (rep_id = @rep AND enrollment_id %[1]s @enrollment))))`, op))
		args = append(args, clickhouse.Named("k", v), clickhouse.Named("rep", uint64(c.Rep)), clickhouse.Named("enrollment", uint64(c.Enrollment)))
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	rows, err := r.query(ctx, "read the rep table", `
		SELECT `+rowColumns+`, `+key+` AS k
		FROM enrollment_progress FINAL
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY k`+dir+`, rep_id`+dir+`, enrollment_id`+dir+`
		LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return TablePage{}, err
	}
	defer rows.Close()
	var page TablePage
	var keys []Cursor
	for rows.Next() {
		var c Cursor
		var k any = &c.Number
		if q.Sort.text() {
			k = &c.Text
		}
		row, err := scanRow(rows, k)
		if err != nil {
			return TablePage{}, &Unavailable{fmt.Errorf("read the rep table: %w", err)}
		}
		c.Rep, c.Enrollment = row.RepID, row.EnrollmentID
		page.Rows, keys = append(page.Rows, row), append(keys, c)
	}
	if err := rows.Err(); err != nil {
		return TablePage{}, &Unavailable{fmt.Errorf("read the rep table: %w", err)}
	}
	more := len(page.Rows) > limit
	if more {
		page.Rows, keys = page.Rows[:limit], keys[:limit]
	}
	if backwards {
		slices.Reverse(page.Rows)
		slices.Reverse(keys)
	}
	if len(keys) > 0 {
		first, last := keys[0], keys[len(keys)-1]
		if (backwards && more) || (!backwards && q.After != nil) {
			page.Prev = &first
		}
		if (!backwards && more) || backwards {
			page.Next = &last
		}
	}
	return page, nil
}

// where is the filter's condition on enrollment_progress, in the scope; the
// query binds @now.
func (f Filter) where(s Scope) []string {
	where := []string{s.where(f.Team), liveSQL}
	if f.Course != 0 {
		where = append(where, fmt.Sprintf("course_id = %d", f.Course))
	}
	if f.Status != nil {
		where = append(where, fmt.Sprintf("st = %d", *f.Status))
	}
	if f.DueWithin > 0 {
		where = append(where, fmt.Sprintf("NOT %s AND toUInt32(due_at) > @now AND toUInt32(due_at) <= @now + %d",
			finishedSQL, min(f.DueWithin, MaxDueWithin)*86400))
	}
	return where
}

// MaxFilteredReps bounds the reps a filter gives RepIDs.
const MaxFilteredReps = 100_000

// RepIDs returns the distinct reps of the rows the filter keeps in the rep
// table, in the scope, ascending: the reps a manager picks by a filter. More
// than MaxFilteredReps is an error.
func (r *Reports) RepIDs(ctx context.Context, s Scope, f Filter) ([]int64, error) {
	rows, err := r.query(ctx, "read the filtered reps", `
		SELECT DISTINCT rep_id FROM (SELECT rep_id, `+statusSQL+` AS st FROM enrollment_progress FINAL
			WHERE `+strings.Join(f.where(s), " AND ")+`)
		ORDER BY rep_id LIMIT `+strconv.Itoa(MaxFilteredReps+1), nowArg(r.now().UTC()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			return nil, &Unavailable{fmt.Errorf("read the filtered reps: %w", err)}
		}
		ids = append(ids, int64(id))
	}
	if err := rows.Err(); err != nil {
		return nil, &Unavailable{fmt.Errorf("read the filtered reps: %w", err)}
	}
	if len(ids) > MaxFilteredReps {
		return nil, errs.InvalidInput("The filter shows too many reps.", []errs.Detail{{Path: "from",
			Message: fmt.Sprintf("keeps more than %d reps; narrow it by team or course", MaxFilteredReps)}})
	}
	return ids, nil
}

// from is the cursor a query continues from.
func from(after, before *Cursor) *Cursor {
	if after != nil {
		return after
	}
	return before
}
