package lessons_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
)

// TestParseExportLine: a row line of an export read or refused, with the reason.
func TestParseExportLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line, kind, err string
	}{
		{`{"type":"rep","row":{"id":5,"org_id":7,"phone":"+15550000001"}}`, "rep", ""},
		{`{"type":"lesson_link","row":{"token":"abc","assignment_id":1,"rep_id":2}}`, "lesson_link", ""},
		{`{"type":"video_progress","row":{"assignment_id":3,"watched":"0101"}}`, "video_progress", ""},
		{`{"type":"rep","row":{"id":5,"org_id":7}}`, "", "rep: no phone"},
		{`{"type":"rep","row":{"id":5,"org_id":null,"phone":"x"}}`, "", "rep: no org_id"},
		{`{"type":"rep","row":{"id":"5","org_id":7,"phone":"x"}}`, "", `rep: id "5" is not a positive integer`},
		{`{"type":"rep","row":{"id":0,"org_id":7,"phone":"x"}}`, "", "rep: id 0 is not a positive integer"},
		{`{"type":"rep","row":[1]}`, "", `rep: "row" is not an object`},
		{`{"type":"rep"}`, "", `rep: "row" is not an object`},
		{`{"type":"robot","row":{}}`, "", `unknown type "robot"`},
		{`{"row":{}}`, "", `no "type"`},
		{`[]`, "", "not a JSON object"},
		{`{"type":"rep","row":{"id":5}`, "", "not a JSON object"},
	} {
		t.Run(c.line, func(t *testing.T) {
			rec, err := lessons.ParseExportLine([]byte(c.line))
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.kind, rec.Kind)
		})
	}
}

// FuzzImportLine: any line is read or refused, never a panic; a line read
// has a known type and its row is a JSON object.
func FuzzImportLine(f *testing.F) {
	for _, s := range []string{
		`{"type":"rep","row":{"id":5,"org_id":7,"phone":"+15550000001"}}`,
		`{"type":"org","row":{"id":7,"slug":"acme"}}`,
		`{"type":"note_revision","row":{"note_id":1,"version":2,"user_id":3}}`,
		`{"type":"rep","row":{"id":1e3,"org_id":7,"phone":""}}`,
		`{"type":"message","row":null}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := lessons.ParseExportLine(line)
		if err != nil {
			require.Empty(t, rec.Kind)
			return
		}
		require.NotEmpty(t, rec.Kind)
		var row map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(rec.Row, &row), "a row read is an object")
	})
}
