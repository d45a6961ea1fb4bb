package web

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (OWASP's list).
const formulaStarts = "=+-@\t\r"

// csvText neutralises text that a spreadsheet would run as a formula, by
// its first character alone, and leaves other text as it is.
func TestCSVText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`=HYPERLINK("http://evil.test","x")`, `'=HYPERLINK("http://evil.test","x")`},
		{"+1 202 555 0100", "'+1 202 555 0100"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"-5", "'-5"}, // a text cell, as a name, that looks like a number: text it stays
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"=", "'="},
		{"Ann-Marie", "Ann-Marie"}, // a - inside is harmless
		{"Tess@example.com", "Tess@example.com"},
		{"", ""},
		{" =1+1", " =1+1"}, // after a space, text to a spreadsheet
		{"'=1+1", "'=1+1"}, // neutral already: not prefixed twice
		{"#needs-coaching", "#needs-coaching"},
		{"Ünïcødé", "Ünïcødé"},
	} {
		require.Equal(t, c.want, csvText(c.in), "%q", c.in)
	}
}

// Only the texts of a rep table row are neutralised: its figures and dates
// are written as they are, so that a spreadsheet reads them as numbers.
func TestRepRecord(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)
	row := reports.Row{Name: "-5", Team: "Ann-Marie's", Course: "@Pricing", Tags: []string{"vip"}, Done: 1, Lessons: 4,
		Answers: 3, Correct: 1, Watched: 0, Segments: 8, LastActivity: now, DueAt: now.AddDate(0, 0, 2), Status: reports.OnTrack}
	require.Equal(t, []string{"'-5", "Ann-Marie's", "'@Pricing", "1", "4", "33", "0", "2026-03-08T14:00:00Z", "2026-03-10", "On track", "#vip"},
		repRecord(nil, row))
	require.Equal(t, []string{"", "", "", "0", "0", "", "", "", "", "Overdue", ""}, repRecord(nil, reports.Row{}),
		"empty cells for what is not there")
}

// The question CSV's discrimination index is the one figure that can be
// negative: it stays a number, while the texts beside it are neutralised.
func TestQuestionRecord(t *testing.T) {
	t.Parallel()
	q := pages.QuestionItem{Version: 2, Lesson: "-Intro", Number: 1, Prompt: "=1+1?", Choices: []string{"+2", "11"}, Correct: 1,
		Stats: reports.QuestionStats{Reps: 12, Correct: 5, Wrong: map[int]int{0: 7}, Discrimination: -1.0 / 3, DiscriminationOK: true}}
	require.Equal(t, []string{"2", "'-Intro", "1", "'=1+1?", "12", "5", "41", "A) +2", "58", "-0.33", "true", "true"}, questionRecord(q))
}

// Whatever the text, csvText's answer never starts with a formula
// character; it is the text itself, or the text after an apostrophe when
// the text starts with one; and it reads back from RFC 4180 CSV as written.
func FuzzCSVText(f *testing.F) {
	for _, s := range []string{"", "=1", "+1", "-1", "@a", "\tx", "\rx", "Ann-Marie", "'=1", "a\"b,c\r\nd", "\xff=", "=\n=\"\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := csvText(s)
		require.False(t, out != "" && strings.ContainsRune(formulaStarts, rune(out[0])), "%q starts a formula", out)
		formula := s != "" && strings.ContainsRune(formulaStarts, rune(s[0]))
		if out == s {
			require.False(t, formula, "%q left as it is", s)
		} else {
			require.True(t, formula, "%q changed", s)
			require.Equal(t, "'"+s, out, "an apostrophe added, nothing else")
			require.Equal(t, s, out[1:], "the apostrophe taken off gives the text back")
		}

		// Through the writer the export uses and back: a CR alone is
		// dropped and a line end read as \n by RFC 4180 CSV, nothing else.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		require.NoError(t, w.Write([]string{out, "next"}))
		w.Flush()
		require.NoError(t, w.Error())
		records, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err, "%q", buf.String())
		require.Equal(t, [][]string{{strings.ReplaceAll(out, "\r", ""), "next"}}, records)
	})
}
