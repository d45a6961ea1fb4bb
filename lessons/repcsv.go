package lessons

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/mail"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/morselhq/morsel/lessons/errs"
)

// RepInput is one rep as imported: validated and normalised.
type RepInput struct {
	Name     string // trimmed, 1-200 chars
	Phone    string // E.164, e.g. "+14155550123"
	Email    string // lower-cased; may be empty
	Team     string // team name, trimmed; may be empty
	TimeZone string // IANA name as given canonical by time.LoadLocation, e.g. "America/Chicago"
}

const (
	repNameMax       = 200 // characters in a name
	repTeamMax       = 200 // characters in a team name
	repEmailMax      = 254 // bytes in an email address (RFC 5321)
	repPhoneMax      = 64  // bytes in a phone number as written; longer is never a number
	repCSVMaxDetails = 100 // problems listed before "and N more problems"
	repPhoneBatchLen = 256 // phone numbers checked per unit of work
	repProgressEvery = 64 << 10
)

// RepImportMaxRows is the most reps one import takes. A larger file is refused
// at its first row past the limit, before the rest is read: an import holds
// its rows in memory and in one transaction, so its size must be bounded.
const RepImportMaxRows = 100_000

// The columns of a rep CSV, in the order WriteRepsCSV writes them.
const (
	repColName = iota
	repColPhone
	repColEmail
	repColTeam
	repColTimeZone
	repNumCols
)

var (
	repColNames    = [repNumCols]string{"name", "phone", "email", "team", "timezone"}
	repColRequired = [repNumCols]bool{repColName: true, repColPhone: true, repColTimeZone: true}
	repHeader      = strings.Join(repColNames[:], ",")
	utf8BOM        = []byte{0xEF, 0xBB, 0xBF}
)

// ParseRepsCSV reads a rep CSV with the header name,phone,email,team,timezone
// (columns in any order, header names case-insensitive, extra columns an error;
// the email and team columns may be left out).
// Phone numbers without a leading + are read in defaultRegion (ISO 3166 code like "US",
// in any case). It reports every problem at once as an *errs.Error (errs.Invalid) whose Details
// name the line and column, e.g. Path "line 4, column phone", Message
// `"555-0199" is not a valid phone number for region US`. A phone repeated in the
// file is an error on the later line naming the first. Blank lines are skipped.
// progress, if not nil, is called now and then with the bytes read so far.
// An error reading r is returned wrapped, not as errs.Invalid.
func ParseRepsCSV(r io.Reader, defaultRegion string, progress func(bytesRead int64)) ([]RepInput, error) {
	reps, _, err := ParseRepsCSVLines(r, defaultRegion, progress)
	return reps, err
}

// ParseRepsCSVLines is ParseRepsCSV that also returns the line of the file
// each rep was on, for checks of its own that name the line.
func ParseRepsCSVLines(r io.Reader, defaultRegion string, progress func(bytesRead int64)) ([]RepInput, []int, error) {
	return parseRepsCSV(r, defaultRegion, progress, RepImportMaxRows)
}

// parseRepsCSV is ParseRepsCSVLines with a limit of maxRows reps.
func parseRepsCSV(r io.Reader, defaultRegion string, progress func(bytesRead int64), maxRows int) ([]RepInput, []int, error) {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, nil, errs.InvalidInput("The default phone region is not valid.", []errs.Detail{{
			Path:    "region",
			Message: fmt.Sprintf("%s is not a known region; expected an ISO 3166 code such as \"US\"", repQuote(defaultRegion)),
		}})
	}

	br := bufio.NewReaderSize(&repCountingReader{r: r, progress: progress, reported: -1}, 64<<10)
	b, err := br.Peek(len(utf8BOM))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("reading rep CSV: %w", err)
	}
	if bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, so that a bad row does not stop the rest
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, repCSVInvalid([]errs.Detail{{Path: "header", Message: "the file is empty; expected the header " + repHeader}}, 1)
	}
	if err != nil {
		d, err := repCSVReadError(err)
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, repCSVInvalid([]errs.Detail{d}, 1)
	}
	cols, details := repCSVHeader(header)
	if len(details) > 0 {
		return nil, nil, repCSVInvalid(details, len(details))
	}

	p := newRepParser(cols, region)
	defer p.stop()
	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d, err := repCSVReadError(err)
			if err != nil {
				return nil, nil, err
			}
			p.syntax = &d // the reader cannot resync after a syntax error
			break
		}
		line, _ := cr.FieldPos(0)
		if p.add(line, record) && len(p.rows) > maxRows {
			p.tooMany = line
			break
		}
	}
	return p.finish()
}

// repCountingReader counts the bytes read and reports them to progress at most
// every repProgressEvery bytes, and once at the end.
type repCountingReader struct {
	r        io.Reader
	progress func(int64)
	n        int64
	reported int64 // -1 before the first report
	done     bool
}

func (c *repCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && !c.done {
		c.done = err != nil
		if c.n-c.reported >= repProgressEvery || c.done && c.n != c.reported {
			c.reported = c.n
			c.progress(c.n)
		}
	}
	return n, err
}

// repCSVReadError turns a CSV syntax error into a detail naming its line; any
// other error is a failure to read and is returned wrapped.
func repCSVReadError(err error) (errs.Detail, error) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return errs.Detail{}, fmt.Errorf("reading rep CSV: %w", err)
	}
	msg := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = `a " is inside a field that does not start with one; quote the whole field and double the " inside it`
	case errors.Is(pe.Err, csv.ErrQuote):
		msg = `a quoted field is not closed, or a " inside it is not doubled`
	}
	if pe.StartLine != pe.Line {
		msg += fmt.Sprintf(" (in the row starting on line %d)", pe.StartLine)
	}
	return errs.Detail{Path: fmt.Sprintf("line %d", pe.Line), Message: msg}, nil
}

// repCSVHeader maps each field of the header to its column, and lists what is wrong.
func repCSVHeader(header []string) ([]int, []errs.Detail) {
	var details []errs.Detail
	bad := func(format string, args ...any) {
		details = append(details, errs.Detail{Path: "header", Message: fmt.Sprintf(format, args...) + "; expected " + repHeader})
	}
	cols := make([]int, len(header))
	var seen [repNumCols]bool
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		col := -1
		for c, n := range repColNames {
			if n == name {
				col = c
			}
		}
		switch {
		case name == "":
			bad("column %d has no name", i+1)
		case col < 0:
			bad("unknown column %s", repQuote(h))
		case seen[col]:
			bad("column %q appears more than once", name)
		}
		if col >= 0 {
			seen[col] = true
		}
		cols[i] = col
	}
	for c, n := range repColNames {
		if repColRequired[c] && !seen[c] {
			bad("missing column %q", n)
		}
	}
	return cols, details
}

// repCSVInvalid is the error for a rep file with total problems, of which
// details are the first ones.
func repCSVInvalid(details []errs.Detail, total int) *errs.Error {
	msg := "The rep file has 1 problem."
	if total != 1 {
		msg = fmt.Sprintf("The rep file has %d problems.", total)
	}
	return errs.InvalidInput(msg, errs.Capped(details, total, repCSVMaxDetails, ""))
}

// repRow is one data row as read, with what is wrong with it.
type repRow struct {
	line     int
	rep      RepInput // Phone is set from the phone check
	phone    int      // index of the phone in the checked batches; -1 if the row is not checked
	problem  string   // a problem with the whole row
	problems [repNumCols]string
}

// repPhoneBatch is a unit of work for the phone checkers: numbers as written in,
// E.164 or a problem out.
type repPhoneBatch struct {
	raw      []string
	e164     []string
	problems []string
}

// repParser collects the rows of a rep file. Phone numbers, the slow part, are
// checked by a pool of goroutines while the file is still being read.
type repParser struct {
	cols    []int
	region  string
	rows    []repRow
	syntax  *errs.Detail
	tooMany int // the line of the row past RepImportMaxRows; 0 if none
	zones   map[string]bool
	batches []*repPhoneBatch
	batch   *repPhoneBatch
	work    chan *repPhoneBatch
	wg      sync.WaitGroup
	stopped bool
}

func newRepParser(cols []int, region string) *repParser {
	p := &repParser{
		cols:   cols,
		region: region,
		zones:  make(map[string]bool),
		work:   make(chan *repPhoneBatch, 16),
	}
	for range runtime.GOMAXPROCS(0) {
		p.wg.Go(func() {
			for b := range p.work {
				b.check(region)
			}
		})
	}
	return p
}

// stop ends the phone checkers and waits for them. It is safe to call twice.
func (p *repParser) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	if p.batch != nil {
		p.work <- p.batch
		p.batch = nil
	}
	close(p.work)
	p.wg.Wait()
}

// add checks one record read on line, and says whether it was a row (not blank).
func (p *repParser) add(line int, record []string) bool {
	blank := true
	for _, f := range record {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank {
		return false
	}
	row := repRow{line: line, phone: -1}
	if len(record) != len(p.cols) {
		row.problem = fmt.Sprintf("has %d fields, the header has %d", len(record), len(p.cols))
		p.rows = append(p.rows, row)
		return true
	}
	var raw [repNumCols]string
	for i, c := range p.cols {
		raw[c] = strings.TrimSpace(record[i])
	}
	row.rep.Name, row.problems[repColName] = repCheckText(raw[repColName], repNameMax, true)
	row.rep.Email, row.problems[repColEmail] = repCheckEmail(raw[repColEmail])
	row.rep.Team, row.problems[repColTeam] = repCheckText(raw[repColTeam], repTeamMax, false)
	row.rep.TimeZone, row.problems[repColTimeZone] = p.checkZone(raw[repColTimeZone])
	row.phone = p.addPhone(raw[repColPhone])
	p.rows = append(p.rows, row)
	return true
}

// addPhone queues a phone number to be checked and returns its index.
func (p *repParser) addPhone(raw string) int {
	if p.batch == nil {
		p.batch = &repPhoneBatch{}
		p.batches = append(p.batches, p.batch)
	}
	p.batch.raw = append(p.batch.raw, raw)
	i := (len(p.batches)-1)*repPhoneBatchLen + len(p.batch.raw) - 1
	if len(p.batch.raw) == repPhoneBatchLen {
		p.work <- p.batch
		p.batch = nil
	}
	return i
}

// finish waits for the phone checks, finds repeated numbers, and returns the
// reps or every problem in file order.
func (p *repParser) finish() ([]RepInput, []int, error) {
	p.stop()
	var details []errs.Detail
	total := 0
	report := func(path, msg string) {
		total++
		if len(details) < repCSVMaxDetails {
			details = append(details, errs.Detail{Path: path, Message: msg})
		}
	}
	if p.tooMany > 0 {
		limit := len(p.rows) - 1
		report(fmt.Sprintf("line %d", p.tooMany), fmt.Sprintf("the file has more than %s reps, the most one import takes; "+
			"split it into files of at most %[1]s and import them one by one (nothing past this line was read)", thousands(limit)))
		p.rows = p.rows[:limit]
	}
	firstLine := make(map[string]int, len(p.rows))
	reps, lines := make([]RepInput, 0, len(p.rows)), make([]int, 0, len(p.rows))
	for i := range p.rows {
		row := &p.rows[i]
		if row.problem != "" {
			report(fmt.Sprintf("line %d", row.line), row.problem)
			continue
		}
		b := p.batches[row.phone/repPhoneBatchLen]
		j := row.phone % repPhoneBatchLen
		row.rep.Phone, row.problems[repColPhone] = b.e164[j], b.problems[j]
		if row.rep.Phone != "" {
			if first, ok := firstLine[row.rep.Phone]; ok {
				row.problems[repColPhone] = fmt.Sprintf("%s is the same number as on line %d", repQuote(b.raw[j]), first)
			} else {
				firstLine[row.rep.Phone] = row.line
			}
		}
		ok := true
		for _, c := range p.cols {
			if msg := row.problems[c]; msg != "" {
				report(fmt.Sprintf("line %d, column %s", row.line, repColNames[c]), msg)
				ok = false
			}
		}
		if ok {
			reps, lines = append(reps, row.rep), append(lines, row.line)
		}
	}
	if p.syntax != nil {
		report(p.syntax.Path, p.syntax.Message)
	}
	if total > 0 {
		return nil, nil, repCSVInvalid(details, total)
	}
	return reps, lines, nil
}

// thousands writes n with commas between groups of three digits: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// check fills in the E.164 form or the problem of each number in the batch.
func (b *repPhoneBatch) check(region string) {
	b.e164 = make([]string, len(b.raw))
	b.problems = make([]string, len(b.raw))
	for i, raw := range b.raw {
		b.e164[i], b.problems[i] = repCheckPhone(raw, region)
	}
}

// repCheckPhone returns raw as E.164, reading it in region unless it starts with +.
func repCheckPhone(raw, region string) (string, string) {
	if raw == "" {
		return "", "is required"
	}
	if len(raw) > repPhoneMax {
		return "", fmt.Sprintf("is too long to be a phone number (%d characters)", utf8.RuneCountInString(raw))
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		if strings.HasPrefix(raw, "+") {
			return "", fmt.Sprintf("%s is not a valid phone number", repQuote(raw))
		}
		return "", fmt.Sprintf("%s is not a valid phone number for region %s", repQuote(raw), region)
	}
	if num.GetExtension() != "" {
		return "", fmt.Sprintf("%s has an extension; expected a number that takes text messages", repQuote(raw))
	}
	return phonenumbers.Format(num, phonenumbers.E164), ""
}

// repCheckText checks a name or a team: printable text of at most max characters.
func repCheckText(s string, max int, required bool) (string, string) {
	switch {
	case s == "" && required:
		return "", "is required"
	case !utf8.ValidString(s):
		return "", "is not valid UTF-8 text"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", "contains a control character such as a tab or line break"
	case utf8.RuneCountInString(s) > max:
		return "", fmt.Sprintf("is longer than %d characters", max)
	}
	return s, ""
}

// repCheckEmail checks an optional email address and returns it lower-cased.
func repCheckEmail(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	if len(s) > repEmailMax {
		return "", fmt.Sprintf("is longer than %d characters", repEmailMax)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", fmt.Sprintf("%s is not a valid email address", repQuote(s))
	}
	return strings.ToLower(s), ""
}

// checkZone checks an IANA time zone name. Names are looked up once per file.
func (p *repParser) checkZone(s string) (string, string) {
	if s == "" {
		return "", "is required"
	}
	ok, seen := p.zones[s]
	if !seen {
		ok = repZoneName(s)
		if ok {
			_, err := time.LoadLocation(s)
			ok = err == nil
		}
		p.zones[s] = ok
	}
	if !ok {
		return "", fmt.Sprintf("%s is not a known time zone; expected an IANA name such as \"America/Chicago\"", repQuote(s))
	}
	return s, ""
}

// repZoneName reports whether s is shaped like an IANA time zone name: parts of
// ASCII letters, digits, '_', '-' and '+' joined by '/'. This keeps out "Local",
// names with spaces, and paths such as "America/./Chicago" that LoadLocation
// would accept.
func repZoneName(s string) bool {
	if s == "Local" {
		return false
	}
	for part := range strings.SplitSeq(s, "/") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '+') {
				return false
			}
		}
	}
	return true
}

// repQuote quotes s for a message, cut to 40 characters so that messages stay short.
func repQuote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}

// WriteRepsCSV writes reps as a rep CSV that ParseRepsCSV reads: the header
// name,phone,email,team,timezone and one row per rep.
func WriteRepsCSV(w io.Writer, reps []RepInput) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(repColNames[:]); err != nil {
		return fmt.Errorf("writing rep CSV header: %w", err)
	}
	for i, r := range reps {
		if err := cw.Write([]string{r.Name, r.Phone, r.Email, r.Team, r.TimeZone}); err != nil {
			return fmt.Errorf("writing rep CSV row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing rep CSV: %w", err)
	}
	return nil
}

// The values GenerateReps draws from.
var (
	repGenFirst = []string{"Ava", "Ben", "Chloe", "Dan", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack",
		"Kara", "Liam", "Maya", "Noah", "Olive", "Omar", "Priya", "Quinn", "Rosa", "Sam"}
	repGenLast = []string{"Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones",
		"Khan", "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Reyes", "Smith", "Taylor", "Walsh"}
	repGenTeams = []string{"North", "South", "West"}
	repGenZones = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}
	// Area codes whose every exchange 200-999 libphonenumber accepts as valid.
	repGenAreaCodes = []int{201, 212, 312, 415, 503, 617, 702, 718, 801, 917}
)

// GenerateReps returns n distinct valid reps, the same for the same seed, for
// tests, demos and benchmarks. Phones are US numbers +1 AAA EEE LLLL with an
// exchange EEE in 200-999 other than 555; teams and time zones take turns.
func GenerateReps(n int, seed int64) []RepInput {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6f7273656c))
	reps := make([]RepInput, 0, n)
	used := make(map[string]bool, n)
	for len(reps) < n {
		area := repGenAreaCodes[rng.IntN(len(repGenAreaCodes))]
		exchange := 200 + rng.IntN(800)
		if exchange == 555 {
			continue
		}
		phone := fmt.Sprintf("+1%d%d%04d", area, exchange, rng.IntN(10000))
		if used[phone] {
			continue
		}
		used[phone] = true
		first := repGenFirst[rng.IntN(len(repGenFirst))]
		last := repGenLast[rng.IntN(len(repGenLast))]
		k := len(reps)
		reps = append(reps, RepInput{
			Name:     first + " " + last,
			Phone:    phone,
			Email:    fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), k+1),
			Team:     repGenTeams[k%len(repGenTeams)],
			TimeZone: repGenZones[k%len(repGenZones)],
		})
	}
	return reps
}
