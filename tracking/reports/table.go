package reports

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/morselhq/morsel/lessons/errs"
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

// Columns lists the columns in the table's order: a fresh slice each call,
// so no caller can change another's.
func Columns() []Column {
	return []Column{ByName, ByTeam, ByCourse, ByProgress, ByQuiz, ByVideo, ByActivity, ByDue, ByStatus}
}

// sortKey is a row's key in the column: a string for the texts (in lower
// case), else a number, so that a page's last key is exact in a cursor.
// Ratios are in hundredths of a percent; a missing figure sorts first (-1),
// a missing due date last.
func sortKey(c Column, p *progressRow, st Status) (string, int64) {
	switch c {
	case ByName:
		return p.name, 0
	case ByTeam:
		return p.team, 0
	case ByCourse:
		return p.course, 0
	case ByProgress:
		if p.Lessons == 0 {
			return "", 0
		}
		return "", int64(p.Done) * 10000 / int64(p.Lessons)
	case ByQuiz:
		if p.Answers == 0 {
			return "", -1
		}
		return "", int64(p.Correct) * 10000 / int64(p.Answers)
	case ByVideo:
		if p.Segments == 0 {
			return "", -1
		}
		return "", min(10000, int64(p.Watched)*10000/int64(p.Segments))
	case ByActivity:
		return "", unix(p.LastActivityAt)
	case ByDue:
		if p.DueAt.IsZero() {
			return "", math.MaxUint32
		}
		return "", unix(p.DueAt)
	}
	return "", int64(st)
}

// unix is t in Unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func (c Column) text() bool { return c == ByName || c == ByTeam || c == ByCourse }

// ParseColumn reads a column's name; ok is false for anything else.
func ParseColumn(s string) (Column, bool) {
	c := Column(s)
	return c, slices.Contains(Columns(), c)
}

// Filter narrows the rep table. The zero Filter is every row in scope.
type Filter struct {
	Team      int64 // 0: every team in scope; else one of them (HasTeam)
	Course    int64 // 0: every course
	Status    *Status
	DueWithin int // days; 0: any. Not done and due within so many days from now
	// Tags keeps the reps that have every one of these tags (lower case,
	// without the #); none: any rep.
	Tags []string
	// Untagged keeps the reps without any tag (the breakdown's NoTag row);
	// with Tags it keeps nothing.
	Untagged bool
	// Teams keeps the rows of these teams (a manager's, from the breakdown
	// by manager); nil: every team. Non-nil and empty keeps nothing.
	Teams []int64
	// ExceptTeams leaves out the rows of these teams: given the teams that
	// have a manager, it keeps the breakdown's NoManager row.
	ExceptTeams []int64
	// EnrolledFrom and EnrolledBefore keep the enrollments that started in
	// [from, before) (a cohort); zero: no bound.
	EnrolledFrom, EnrolledBefore time.Time
}

// MaxFilterTags bounds Filter.Tags.
const MaxFilterTags = 10

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
	limit := q.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	// Reading backwards (the page before) flips the order, then the rows.
	backwards := q.Before != nil && q.After == nil
	now := r.now().UTC()
	var rows []keyed
	err := r.tableRows(ctx, s, q, q.Desc != backwards, from(q.After, q.Before), now, func(k keyed) bool {
		rows = append(rows, k)
		return len(rows) <= limit
	})
	if err != nil {
		return TablePage{}, err
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	if backwards {
		slices.Reverse(rows)
	}
	var page TablePage
	for _, k := range rows {
		page.Rows = append(page.Rows, rowOf(k.p, now))
	}
	if len(rows) > 0 {
		first, last := rows[0].key, rows[len(rows)-1].key
		if (backwards && more) || (!backwards && q.After != nil) {
			page.Prev = &first
		}
		if (!backwards && more) || backwards {
			page.Next = &last
		}
	}
	return page, nil
}

// EachRow calls fn with every row of the rep table that the query's filter
// keeps, in the query's order, without pages (q.After, q.Before and q.Limit
// are ignored): an export. It stops at fn's first error and returns it. The
// rows are walked in the snapshot's sorted order, not copied: what it holds
// while it runs does not grow with their number.
func (r *Reports) EachRow(ctx context.Context, s Scope, q TableQuery, fn func(Row) error) error {
	now := r.now().UTC()
	var fnErr error
	err := r.tableRows(ctx, s, q, q.Desc, nil, now, func(k keyed) bool {
		fnErr = fn(rowOf(k.p, now))
		return fnErr == nil
	})
	return cmp.Or(err, fnErr)
}

// tableRows calls fn with the rows of the scope that the query's filter
// keeps and that come after start (nil: all), in the order of q.Sort,
// descending if desc, with their status at now, until fn returns false.
func (r *Reports) tableRows(ctx context.Context, s Scope, q TableQuery, desc bool, start *Cursor, now time.Time, fn func(keyed) bool) error {
	if q.Sort == "" {
		q.Sort = ByName
	}
	if !slices.Contains(Columns(), q.Sort) {
		return fmt.Errorf("sort by %q: no such column", q.Sort)
	}
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return err
	}
	sn.walk(s, q.Team, q.Sort, desc, start, now, func(k keyed) bool {
		return !q.Filter.keeps(k.p, k.st, now) || fn(k)
	})
	return nil
}

// keyed is a row with its status and its key in the table's order.
type keyed struct {
	p   *progressRow
	st  Status
	key Cursor
}

// compareKeys orders two keys of the rep table, ascending.
func compareKeys(a, b Cursor) int {
	switch {
	case a.Text != b.Text:
		return strings.Compare(a.Text, b.Text)
	case a.Number != b.Number:
		return cmp.Compare(a.Number, b.Number)
	case a.Rep != b.Rep:
		return cmp.Compare(a.Rep, b.Rep)
	}
	return cmp.Compare(a.Enrollment, b.Enrollment)
}

// rowOrders are a snapshot's live rows sorted by each column's key, then by
// rep and enrollment; for ByStatus, whose key changes with the time, by rep
// and enrollment alone. Each is sorted on the first read in its order and
// kept with the snapshot, so that pages and exports walk the rows in order
// instead of copying and sorting them on every read.
type rowOrders struct {
	mu       sync.Mutex
	byColumn map[Column][]*progressRow
}

// ordered returns the snapshot's live rows in c's order (see rowOrders).
func (sn *snapshot) ordered(c Column) []*progressRow {
	o := &sn.orders
	o.mu.Lock()
	defer o.mu.Unlock()
	if rows, ok := o.byColumn[c]; ok {
		return rows
	}
	rows := sortedLive(c, sn.all)
	if o.byColumn == nil {
		o.byColumn = map[Column][]*progressRow{}
	}
	o.byColumn[c] = rows
	return rows
}

// sortedLive returns the live rows of reps in c's order, sorted by their
// keys worked out once, not at each comparison.
func sortedLive(c Column, reps []*repRows) []*progressRow {
	type entry struct {
		key Cursor
		p   *progressRow
	}
	n := 0
	for _, r := range reps {
		n += len(r.rows)
	}
	entries := make([]entry, 0, n)
	for _, r := range reps {
		for i := range r.rows {
			if p := &r.rows[i]; p.live {
				entries = append(entries, entry{fixedKey(c, p), p})
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return compareKeys(a.key, b.key) })
	rows := make([]*progressRow, len(entries))
	for i, e := range entries {
		rows[i] = e.p
	}
	return rows
}

// carryOrders gives out, which is sn with the rows of the changed reps read
// again, every order sn had sorted, without sorting again: the other reps'
// rows (shared by both snapshots, and so keyed alike) keep their places,
// and the changed reps' new rows, sorted among themselves, are put in
// theirs by binary search. A write touches a few reps, so this costs a copy
// of each order instead of a sort of the whole organisation's rows.
func (sn *snapshot) carryOrders(out *snapshot, changed []int64) {
	sn.orders.mu.Lock()
	orders := maps.Clone(sn.orders.byColumn)
	sn.orders.mu.Unlock()
	if len(orders) == 0 {
		return
	}
	isChanged := make(map[int64]bool, len(changed))
	var reps []*repRows
	for _, id := range changed {
		if !isChanged[id] {
			isChanged[id] = true
			if r := out.reps[id]; r != nil {
				reps = append(reps, r)
			}
		}
	}
	out.orders.byColumn = make(map[Column][]*progressRow, len(orders))
	for c, old := range orders {
		added := sortedLive(c, reps)
		rows := make([]*progressRow, 0, len(old)+len(added))
		from := 0 // the next row of old to copy
		for _, p := range added {
			// Where p goes: after every row of old whose key is not
			// greater (old is sorted by its rows' keys, the changed reps'
			// old rows included, which are skipped).
			key := fixedKey(c, p)
			at := from + sort.Search(len(old)-from, func(i int) bool { return compareKeys(fixedKey(c, old[from+i]), key) > 0 })
			for ; from < at; from++ {
				if !isChanged[old[from].RepID] {
					rows = append(rows, old[from])
				}
			}
			rows = append(rows, p)
		}
		for ; from < len(old); from++ {
			if !isChanged[old[from].RepID] {
				rows = append(rows, old[from])
			}
		}
		out.orders.byColumn[c] = rows
	}
}

// fixedKey is p's key in c's order that rowOrders sorts by: without the
// status for ByStatus.
func fixedKey(c Column, p *progressRow) Cursor {
	k := Cursor{Rep: p.RepID, Enrollment: p.EnrollmentID}
	if c != ByStatus {
		k.Text, k.Number = sortKey(c, p, 0)
	}
	return k
}

// walk calls fn with each live row of the snapshot in the scope, narrowed to
// team unless it is 0, that comes after start (nil: all) in the rep table's
// order by c, descending if desc, with its status at now, until fn returns
// false. It sorts nothing and holds nothing per row: the rows by status are
// the rows by id, walked once for each status.
func (sn *snapshot) walk(s Scope, team int64, c Column, desc bool, start *Cursor, now time.Time, fn func(keyed) bool) {
	rows := sn.ordered(c)
	// run walks rows, whose keys with the status st ascend, keeping those
	// of the status only (any: nil); it returns false once fn did.
	run := func(only *Status, key func(*progressRow) Cursor) bool {
		i, step := 0, 1
		if desc {
			i, step = len(rows)-1, -1
		}
		if start != nil {
			if desc { // the last key before start
				i = sort.Search(len(rows), func(j int) bool { return compareKeys(key(rows[j]), *start) >= 0 }) - 1
			} else { // the first key after it
				i = sort.Search(len(rows), func(j int) bool { return compareKeys(key(rows[j]), *start) > 0 })
			}
		}
		for ; i >= 0 && i < len(rows); i += step {
			p := rows[i]
			if !s.inScope(p.TeamID, team) || !hasAll(p.Tags, s.tags) {
				continue
			}
			st := StatusOf(p.EnrollmentProgress, now)
			if only != nil && st != *only {
				continue
			}
			if !fn(keyed{p: p, st: st, key: key(p)}) {
				return false
			}
		}
		return true
	}
	if c != ByStatus {
		run(nil, func(p *progressRow) Cursor { return fixedKey(c, p) })
		return
	}
	for i := range int(Done) + 1 {
		st := Status(i)
		if desc {
			st = Done - Status(i)
		}
		key := func(p *progressRow) Cursor {
			return Cursor{Number: int64(st), Rep: p.RepID, Enrollment: p.EnrollmentID}
		}
		if !run(&st, key) {
			return
		}
	}
}

// smallest returns the n first of rows in order, sorted: a full sort only
// of what is left after a partial one, so that a page of 7,000 rows costs
// little more than reading them.
func smallest[T any](rows []T, n int, order func(a, b T) int) []T {
	if len(rows) > 4*n {
		// Keep a bounded sorted window: each row past it is compared with
		// its last element only.
		top := slices.Clone(rows[:n])
		slices.SortFunc(top, order)
		for _, r := range rows[n:] {
			if order(r, top[n-1]) >= 0 {
				continue
			}
			i, _ := slices.BinarySearchFunc(top, r, order)
			copy(top[i+1:], top[i:n-1])
			top[i] = r
		}
		return top
	}
	slices.SortFunc(rows, order)
	return rows[:min(len(rows), n)]
}

// keeps says whether the filter keeps the row, of status st at now.
func (f Filter) keeps(p *progressRow, st Status, now time.Time) bool {
	switch {
	case f.Course != 0 && p.CourseID != f.Course:
		return false
	case f.Status != nil && st != *f.Status:
		return false
	case len(f.Tags) > 0 && !hasAll(p.Tags, f.Tags):
		return false
	case f.Untagged && len(p.Tags) > 0:
		return false
	case f.Teams != nil && !slices.Contains(f.Teams, p.TeamID):
		return false
	case slices.Contains(f.ExceptTeams, p.TeamID):
		return false
	case !f.EnrolledFrom.IsZero() && p.EnrolledAt.Before(f.EnrolledFrom):
		return false
	case !f.EnrolledBefore.IsZero() && !p.EnrolledAt.Before(f.EnrolledBefore):
		return false
	case f.DueWithin > 0:
		due := unix(p.DueAt)
		return !p.Finished() && due > now.Unix() && due <= now.Unix()+int64(min(f.DueWithin, MaxDueWithin))*86400
	}
	return true
}

// hasAll says whether have holds every one of want.
func hasAll(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

// MaxFilteredReps bounds the reps a filter gives RepIDs.
const MaxFilteredReps = 100_000

// RepIDs returns the distinct reps of the rows the filter keeps in the rep
// table, in the scope, ascending: the reps a manager picks by a filter. More
// than MaxFilteredReps is an error.
func (r *Reports) RepIDs(ctx context.Context, s Scope, f Filter) ([]int64, error) {
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return nil, err
	}
	now := r.now().UTC()
	reps := map[int64]bool{}
	sn.rows(s, f.Team, func(p *progressRow) {
		if f.keeps(p, StatusOf(p.EnrollmentProgress, now), now) {
			reps[p.RepID] = true
		}
	})
	if len(reps) > MaxFilteredReps {
		return nil, errs.InvalidInput("The filter shows too many reps.", []errs.Detail{{Path: "from",
			Message: fmt.Sprintf("keeps more than %d reps; narrow it by team or course", MaxFilteredReps)}})
	}
	return slices.Sorted(maps.Keys(reps)), nil
}

// from is the cursor a query continues from.
func from(after, before *Cursor) *Cursor {
	if after != nil {
		return after
	}
	return before
}
