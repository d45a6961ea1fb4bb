package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/errs"
)

// repFixture returns a file from testdata/reps.
func repFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "reps", name))
	require.NoError(t, err)
	return data
}

func TestParseRepsCSV(t *testing.T) {
	t.Parallel()

	tests := []struct {
		file   string
		region string
		want   []RepInput
	}{
		{
			// blank lines and a row of empty fields skipped, fields trimmed,
			// quoted comma, numbers without + read in US, email lower-cased
			file:   "good.csv",
			region: "US",
			want: []RepInput{
				{Name: "Ava Adams", Phone: "+12012345678", Email: "ava.adams@example.com", Team: "North", TimeZone: "America/New_York"},
				{Name: "Ben Brown", Phone: "+13122345678", Team: "South", TimeZone: "America/Chicago"},
				{Name: "Diaz, Chloe", Phone: "+14152345678", Email: "chloe@example.com", TimeZone: "America/Los_Angeles"},
				{Name: "Dan Evans", Phone: "+17022345678", Email: "dan@example.com", Team: "West", TimeZone: "America/Denver"},
			},
		},
		{
			// columns in another order, header in mixed case, a foreign number
			file:   "good_reordered.csv",
			region: "US",
			want: []RepInput{
				{Name: "Ella Fischer", Phone: "+12012345679", Email: "ella@example.com", Team: "South", TimeZone: "America/Chicago"},
				{Name: "Finn Garcia", Phone: "+447911123456", TimeZone: "UTC"},
			},
		},
		{
			file:   "good_no_optional.csv",
			region: "US",
			want:   []RepInput{{Name: "Grace Hughes", Phone: "+12012345680", TimeZone: "America/Denver"}},
		},
		{
			file:   "good_bom_crlf.csv",
			region: "US",
			want: []RepInput{
				{Name: "Hugo Ito", Phone: "+12012345681", Email: "hugo@example.com", Team: "West", TimeZone: "America/Los_Angeles"},
				{Name: "Jones, Isla", Phone: "+12012345682", TimeZone: "Europe/London"},
			},
		},
		{
			file:   "good_gb.csv",
			region: "gb",
			want: []RepInput{
				{Name: "Jack Khan", Phone: "+447911123456", Team: "North", TimeZone: "Europe/London"},
				{Name: "Kara Lopez", Phone: "+442079460958", Team: "North", TimeZone: "Europe/London"},
				{Name: "Liam Miller", Phone: "+12012345683", Team: "West", TimeZone: "America/New_York"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRepsCSV(bytes.NewReader(repFixture(t, tt.file)), tt.region, nil)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// The BOM and CRLF fixture must keep its bytes, or its test proves nothing.
func TestParseRepsCSVFixtureBytes(t *testing.T) {
	t.Parallel()
	data := repFixture(t, "good_bom_crlf.csv")
	require.True(t, bytes.HasPrefix(data, []byte("\xef\xbb\xbfname,")), "starts with a BOM")
	require.Equal(t, bytes.Count(data, []byte("\n")), bytes.Count(data, []byte("\r\n")), "every line ends in CRLF")
}

func TestParseRepsCSVInvalid(t *testing.T) {
	t.Parallel()

	const header = "; expected name,phone,email,team,timezone"
	const tzHint = `; expected an IANA name such as "America/Chicago"`
	tests := []struct {
		name        string
		file        string // a fixture, or
		data        string // the file itself
		region      string
		wantMessage string
		wantDetails []errs.Detail
	}{
		{
			name: "bad phone",
			file: "bad_phone.csv",
			wantDetails: []errs.Detail{
				{Path: "line 2, column phone", Message: `"555-0199" is not a valid phone number for region US`},
				{Path: "line 3, column phone", Message: `"+1 555" is not a valid phone number`},
				{Path: "line 4, column phone", Message: "is required"},
				{Path: "line 5, column phone", Message: `"+1 201 234 5684 ext. 12" has an extension; expected a number that takes text messages`},
				{Path: "line 6, column phone", Message: `"07911 123456" is not a valid phone number for region US`},
			},
		},
		{
			name: "bad time zone",
			file: "bad_timezone.csv",
			wantDetails: []errs.Detail{
				{Path: "line 2, column timezone", Message: `"America/Chicgo" is not a known time zone` + tzHint},
				{Path: "line 3, column timezone", Message: `"Local" is not a known time zone` + tzHint},
				{Path: "line 4, column timezone", Message: `"America/New York" is not a known time zone` + tzHint},
				{Path: "line 5, column timezone", Message: "is required"},
				{Path: "line 6, column timezone", Message: `"America/./Chicago" is not a known time zone` + tzHint},
				{Path: "line 7, column timezone", Message: `"america/chicago" is not a known time zone` + tzHint},
			},
		},
		{
			name: "bad email",
			file: "bad_email.csv",
			wantDetails: []errs.Detail{
				{Path: "line 2, column email", Message: `"dan@" is not a valid email address`},
				{Path: "line 3, column email", Message: `"Ella <ella@example.com>" is not a valid email address`},
				{Path: "line 4, column email", Message: `"finn example.com" is not a valid email address`},
			},
		},
		{
			name: "bad name",
			file: "bad_name.csv",
			wantDetails: []errs.Detail{
				{Path: "line 2, column name", Message: "is required"},
				{Path: "line 3, column name", Message: "is required"},
				{Path: "line 4, column name", Message: "contains a control character such as a tab or line break"},
				{Path: "line 5, column name", Message: "is longer than 200 characters"},
			},
		},
		{
			name: "duplicate phone",
			file: "bad_duplicate.csv",
			wantDetails: []errs.Detail{
				{Path: "line 4, column phone", Message: `"+1 201 234 5698" is the same number as on line 2`},
				{Path: "line 5, column phone", Message: `"2012345698" is the same number as on line 2`},
			},
		},
		{
			name: "wrong field count",
			file: "bad_fields.csv",
			wantDetails: []errs.Detail{
				{Path: "line 3", Message: "has 4 fields, the header has 5"},
				{Path: "line 4", Message: "has 6 fields, the header has 5"},
			},
		},
		{
			name: "missing header column",
			file: "bad_header_missing.csv",
			wantDetails: []errs.Detail{
				{Path: "header", Message: `unknown column "time zone"` + header},
				{Path: "header", Message: `missing column "phone"` + header},
				{Path: "header", Message: `missing column "timezone"` + header},
			},
		},
		{
			name: "unknown header column",
			file: "bad_header_unknown.csv",
			wantDetails: []errs.Detail{
				{Path: "header", Message: `unknown column "manager"` + header},
				{Path: "header", Message: "column 7 has no name" + header},
			},
		},
		{
			name:        "repeated header column",
			file:        "bad_header_repeated.csv",
			wantMessage: "The rep file has 1 problem.",
			wantDetails: []errs.Detail{{Path: "header", Message: `column "phone" appears more than once` + header}},
		},
		{
			name: "bare quote stops the reading",
			file: "bad_quote.csv",
			wantDetails: []errs.Detail{
				{Path: "line 2, column phone", Message: `"555" is not a valid phone number for region US`},
				{Path: "line 3", Message: `a " is inside a field that does not start with one; quote the whole field and double the " inside it`},
			},
		},
		{
			name: "unterminated quote",
			file: "bad_unterminated.csv",
			wantDetails: []errs.Detail{
				{Path: "line 3", Message: `a quoted field is not closed, or a " inside it is not doubled (in the row starting on line 2)`},
			},
		},
		{
			name:        "many kinds of problem at once",
			file:        "bad_mixed.csv",
			wantMessage: "The rep file has 5 problems.",
			wantDetails: []errs.Detail{
				{Path: "line 2, column phone", Message: `"555-0100" is not a valid phone number for region US`},
				{Path: "line 2, column email", Message: `"chloe@" is not a valid email address`},
				{Path: "line 2, column timezone", Message: `"Mars/Olympus" is not a known time zone` + tzHint},
				{Path: "line 4, column name", Message: "is required"},
				{Path: "line 4, column phone", Message: `"+12012345709" is the same number as on line 3`},
			},
		},
		{
			name:        "empty file",
			file:        "empty.csv",
			wantMessage: "The rep file has 1 problem.",
			wantDetails: []errs.Detail{{Path: "header", Message: "the file is empty; expected the header name,phone,email,team,timezone"}},
		},
		{
			name:        "only a BOM and blank lines",
			data:        "\xef\xbb\xbf\r\n\n",
			wantDetails: []errs.Detail{{Path: "header", Message: "the file is empty; expected the header name,phone,email,team,timezone"}},
		},
		{
			name:        "unknown region",
			file:        "good.csv",
			region:      "XX",
			wantMessage: "The default phone region is not valid.",
			wantDetails: []errs.Detail{{Path: "region", Message: `"XX" is not a known region; expected an ISO 3166 code such as "US"`}},
		},
		{
			name:        "no region",
			file:        "good.csv",
			region:      " ",
			wantDetails: []errs.Detail{{Path: "region", Message: `" " is not a known region; expected an ISO 3166 code such as "US"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.data)
			if tt.file != "" {
				data = repFixture(t, tt.file)
			}
			region := tt.region
			if region == "" {
				region = "US"
			}
			reps, err := ParseRepsCSV(bytes.NewReader(data), region, nil)
			require.Nil(t, reps)
			e := errs.As(err)
			require.NotNil(t, e, "want an *errs.Error, got %v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.Equal(t, tt.wantDetails, e.Details)
			if tt.wantMessage != "" {
				require.Equal(t, tt.wantMessage, e.Message)
			}
		})
	}
}

func TestParseRepsCSVCapsProblems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("name,phone,email,team,timezone\n")
	for i := range 150 {
		fmt.Fprintf(&b, "Rep %d,123,,North,America/Chicago\n", i)
	}
	_, err := ParseRepsCSV(strings.NewReader(b.String()), "US", nil)
	e := errs.As(err)
	require.NotNil(t, e)
	require.Equal(t, "The rep file has 150 problems.", e.Message)
	require.Len(t, e.Details, 101)
	require.Equal(t, errs.Detail{Path: "line 2, column phone", Message: `"123" is not a valid phone number for region US`}, e.Details[0])
	require.Equal(t, "line 101, column phone", e.Details[99].Path)
	require.Equal(t, errs.Detail{Message: "and 50 more problems"}, e.Details[100])
}

func TestParseRepsCSVRowLimit(t *testing.T) {
	t.Parallel()
	const limit = 1000
	var buf bytes.Buffer
	require.NoError(t, WriteRepsCSV(&buf, GenerateReps(limit+1, 3)))
	data := buf.Bytes()
	atLimit := data[:bytes.LastIndexByte(data[:len(data)-1], '\n')+1]

	reps, _, err := parseRepsCSV(bytes.NewReader(atLimit), "US", nil, limit)
	require.NoError(t, err, "a file of exactly the limit is taken")
	require.Len(t, reps, limit)

	// One row more, and a large bad tail behind it: refused at that row,
	// and the tail is never read (its problems are not collected).
	tail := strings.Repeat("Rep,123,,North,America/Chicago\n", 100_000)
	var read int64
	_, _, err = parseRepsCSV(io.MultiReader(bytes.NewReader(data), strings.NewReader(tail)), "US", func(n int64) { read = n }, limit)
	e := errs.As(err)
	require.NotNil(t, e, "%v", err)
	require.Equal(t, "The rep file has 1 problem.", e.Message)
	require.Equal(t, []errs.Detail{{Path: fmt.Sprintf("line %d", limit+2), Message: "the file has more than 1,000 reps, " +
		"the most one import takes; split it into files of at most 1,000 and import them one by one (nothing past this line was read)"}}, e.Details)
	require.Less(t, read, int64(len(data))+256<<10, "the parser stopped reading near the limit")

	// The import's own limit, with rows that are cheap to check.
	_, err = ParseRepsCSV(strings.NewReader("name,phone,timezone\n"+strings.Repeat("Rep,,UTC\n", RepImportMaxRows+1)), "US", nil)
	e = errs.As(err)
	require.NotNil(t, e, "%v", err)
	require.Equal(t, fmt.Sprintf("line %d", RepImportMaxRows+2), e.Details[0].Path)
	require.Contains(t, e.Details[0].Message, "more than 100,000 reps")
	require.Equal(t, "line 2, column phone", e.Details[1].Path, "the problems before the limit are listed after it")
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100_000: "100,000", 1_234_567: "1,234,567", -1000: "-1,000"} {
		require.Equal(t, want, thousands(n))
	}
}

func TestParseRepsCSVReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	tests := []struct {
		name string
		r    io.Reader
	}{
		{name: "at once", r: iotest.ErrReader(boom)},
		{name: "after the header", r: io.MultiReader(strings.NewReader("name,phone,timezone\n"), iotest.ErrReader(boom))},
		{name: "after a row", r: io.MultiReader(strings.NewReader("name,phone,timezone\nAva Adams,+12012345678,UTC\n"), iotest.ErrReader(boom))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRepsCSV(tt.r, "US", nil)
			require.ErrorIs(t, err, boom)
			require.Equal(t, errs.Internal, errs.CodeOf(err))
		})
	}
}

func TestParseRepsCSVRoundTrip(t *testing.T) {
	t.Parallel()
	reps := GenerateReps(10_000, 1)
	var buf bytes.Buffer
	require.NoError(t, WriteRepsCSV(&buf, reps))

	start := time.Now()
	got, err := ParseRepsCSV(&buf, "US", nil)
	t.Logf("parsed 10,000 reps in %v", time.Since(start))
	require.NoError(t, err)
	require.Len(t, got, 10_000)
	require.Equal(t, reps[0], got[0])
	require.Equal(t, reps[9_999], got[9_999])
	require.Equal(t, reps, got)
}

func TestParseRepsCSVProgress(t *testing.T) {
	t.Parallel()
	var big bytes.Buffer // about 120 kB, so read in two pieces
	require.NoError(t, WriteRepsCSV(&big, GenerateReps(2_000, 2)))

	tests := []struct {
		name      string
		data      []byte
		small     bool // read a few bytes at a time
		wantCalls int  // at least
	}{
		{name: "2,000 rows", data: big.Bytes(), wantCalls: 2},
		{name: "2,000 rows in small pieces", data: big.Bytes(), small: true, wantCalls: 2},
		{name: "header only", data: []byte("name,phone,timezone\n"), wantCalls: 1},
		{name: "empty", data: nil, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r io.Reader = bytes.NewReader(tt.data)
			if tt.small {
				r = iotest.HalfReader(r)
			}
			var calls []int64
			_, err := ParseRepsCSV(r, "US", func(n int64) { calls = append(calls, n) })
			require.True(t, err == nil || errs.CodeOf(err) == errs.Invalid, "%v", err)
			require.GreaterOrEqual(t, len(calls), tt.wantCalls)
			require.IsIncreasing(t, calls, "%v", calls)
			require.Equal(t, int64(len(tt.data)), calls[len(calls)-1])
		})
	}
}

func TestWriteRepsCSV(t *testing.T) {
	t.Parallel()
	reps := []RepInput{
		{Name: "Diaz, Chloe", Phone: "+12012345678", Email: "chloe@example.com", Team: "North", TimeZone: "America/Chicago"},
		{Name: `Ava "Al" Adams`, Phone: "+447911123456", TimeZone: "Europe/London"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteRepsCSV(&buf, reps))
	require.Equal(t, "name,phone,email,team,timezone\n"+
		"\"Diaz, Chloe\",+12012345678,chloe@example.com,North,America/Chicago\n"+
		"\"Ava \"\"Al\"\" Adams\",+447911123456,,,Europe/London\n", buf.String())

	got, err := ParseRepsCSV(&buf, "US", nil)
	require.NoError(t, err)
	require.Equal(t, reps, got)

	boom := errors.New("disk full")
	require.ErrorIs(t, WriteRepsCSV(repFailingWriter{boom}, reps), boom)
}

type repFailingWriter struct{ err error }

func (w repFailingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestGenerateReps(t *testing.T) {
	t.Parallel()
	const n = 100_000
	reps := GenerateReps(n, 7)
	require.Len(t, reps, n)
	require.Equal(t, GenerateReps(100, 7), reps[:100], "the same seed gives the same reps")
	require.NotEqual(t, GenerateReps(100, 8), reps[:100])

	shape := regexp.MustCompile(`^\+1(201|212|312|415|503|617|702|718|801|917)([2-9][0-9]{2})[0-9]{4}$`)
	phones := make(map[string]bool, n)
	teams := make(map[string]int)
	zones := make(map[string]int)
	for _, r := range reps {
		m := shape.FindStringSubmatch(r.Phone)
		if m == nil || m[2] == "555" || phones[r.Phone] || r.Name == "" || r.Email == "" {
			t.Fatalf("bad or repeated rep %+v", r)
		}
		phones[r.Phone] = true
		teams[r.Team]++
		zones[r.TimeZone]++
	}
	require.Equal(t, map[string]int{"North": 33_334, "South": 33_333, "West": 33_333}, teams)
	require.Equal(t, map[string]int{"America/New_York": n / 4, "America/Chicago": n / 4, "America/Denver": n / 4, "America/Los_Angeles": n / 4}, zones)

	// libphonenumber accepts every number of that shape: the area code and the
	// exchange decide, and any exchange 200-999 will do for these area codes.
	// Checking all of them is slow under the race detector, so check the
	// edges for each area code, and a sample of the reps themselves.
	for _, area := range repGenAreaCodes {
		for _, exchange := range []int{200, 201, 299, 554, 556, 789, 998, 999} {
			for _, line := range []string{"0000", "0199", "9999"} {
				phone := fmt.Sprintf("+1%d%d%s", area, exchange, line)
				num, err := phonenumbers.Parse(phone, "US")
				require.NoError(t, err, phone)
				require.True(t, phonenumbers.IsValidNumber(num), "%s is not valid", phone)
			}
		}
	}
	for i := 0; i < n; i += 97 {
		num, err := phonenumbers.Parse(reps[i].Phone, "US")
		require.NoError(t, err)
		require.True(t, phonenumbers.IsValidNumber(num), "%s is not valid", reps[i].Phone)
		require.Equal(t, reps[i].Phone, phonenumbers.Format(num, phonenumbers.E164))
	}
}

func BenchmarkParseRepsCSV10k(b *testing.B) {
	var buf bytes.Buffer
	require.NoError(b, WriteRepsCSV(&buf, GenerateReps(10_000, 1)))
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRepsCSV(bytes.NewReader(data), "US", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRepsCSVBadRows parses a 20 MiB file of 600,000 bad rows (the
// import API's body limit) and reports the heap's peak while it runs: bounded
// by RepImportMaxRows, not by the file.
func BenchmarkParseRepsCSVBadRows(b *testing.B) {
	data := []byte("name,phone,email,team,timezone\n" + strings.Repeat("A rep name,123,,North,America/Chicago\n", 20<<20/38))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		stop := sampleHeap(&peak)
		_, err := ParseRepsCSV(bytes.NewReader(data), "US", nil)
		stop()
		if errs.CodeOf(err) != errs.Invalid {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// sampleHeap records the largest heap it sees in *peak, every millisecond,
// until the function it returns is called.
func sampleHeap(peak *uint64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			*peak = max(*peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func FuzzParseRepsCSV(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "reps", "*.csv"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	e164 := regexp.MustCompile(`^\+[1-9][0-9]+$`)

	f.Fuzz(func(t *testing.T, data []byte) {
		reps, err := ParseRepsCSV(bytes.NewReader(data), "US", nil)
		if err != nil {
			e := errs.As(err)
			require.NotNil(t, e, "want an *errs.Error, got %v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.NotEmpty(t, e.Details)
			require.LessOrEqual(t, len(e.Details), 101)
			return
		}
		for _, r := range reps {
			require.Regexp(t, e164, r.Phone)
			require.NotEmpty(t, r.Name)
			require.NotEqual(t, "Local", r.TimeZone)
			_, err := time.LoadLocation(r.TimeZone)
			require.NoError(t, err)
		}
		// What was read writes back and reads the same.
		var buf bytes.Buffer
		require.NoError(t, WriteRepsCSV(&buf, reps))
		again, err := ParseRepsCSV(&buf, "US", nil)
		require.NoError(t, err)
		require.Equal(t, reps, again)
	})
}
