package orderedjson_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/orderedjson"
)

func TestDecodeKeepsOrderRepeatsAndNumbers(t *testing.T) {
	t.Parallel()
	v, err := orderedjson.Decode([]byte("\n {\"b\": 1, \"a\": [true, null, \"x\\ny\", 7e1], \"b\": {\"z\": 2.50, \"y\": {}}}\n"), "the object")
	require.NoError(t, err)
	want := &orderedjson.Value{Kind: orderedjson.Object, Fields: []orderedjson.Field{
		{Key: "b", Value: &orderedjson.Value{Kind: orderedjson.Number, Text: "1"}},
		{Key: "a", Value: &orderedjson.Value{Kind: orderedjson.Array, Items: []*orderedjson.Value{
			{Kind: orderedjson.Bool, Truth: true},
			{Kind: orderedjson.Null},
			{Kind: orderedjson.String, Text: "x\ny"},
			{Kind: orderedjson.Number, Text: "7e1"},
		}}},
		{Key: "b", Value: &orderedjson.Value{Kind: orderedjson.Object, Fields: []orderedjson.Field{
			{Key: "z", Value: &orderedjson.Value{Kind: orderedjson.Number, Text: "2.50"}},
			{Key: "y", Value: &orderedjson.Value{Kind: orderedjson.Object}},
		}}},
	}}
	assert.Equal(t, want, v)
}

func TestDecodeSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		input string
		want  orderedjson.SyntaxError
	}{
		{"empty", " \n\t", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 1},
			Message: "the file is empty; it must hold one JSON object"}},
		{"ends early", "{\"a\": [1,", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 10},
			Message: `invalid JSON: the file ends too early; a closing }, ] or " is missing`}},
		{"columns count characters", "{\"é\": \"ü\"\n, \"ö\": 'x'}", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 2, Column: 8},
			Message: "invalid JSON: unexpected single quote; strings and field names must be in double quotes"}},
		{"trailing data names the top value", "{}\n  []", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 2, Column: 3},
			Message: "invalid JSON: unexpected '[' after the object; the file must hold a single JSON object"}},
		{"comma before a closing bracket", "[1,\n]", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 2, Column: 1},
			Message: "invalid JSON: unexpected ']' after a comma; remove the comma"}},
		{"unquoted key", "{a: 1}", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 2},
			Message: "invalid JSON: unexpected 'a'; field names must be in double quotes"}},
		{"missing colon", `{"a" 1}`, orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 6},
			Message: "invalid JSON: unexpected '1'; a field name must be followed by a colon"}},
		{"missing comma", "[1 2]", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 4},
			Message: "invalid JSON: unexpected '2'; is a comma missing before it?"}},
		{"tab in a string", "\"a\tb\"", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 3},
			Message: `invalid JSON: unexpected tab inside a string; write line breaks as \n and tabs as \t`}},
		{"bad escape", `"a\qb"`, orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 4},
			Message: `invalid JSON: invalid escape \q inside a string; write a backslash as \\`}},
		{"control character", "[\x01]", orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 2},
			Message: "invalid JSON: unexpected character U+0001"}},
		{"too deep", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), orderedjson.SyntaxError{Pos: orderedjson.Pos{Line: 1, Column: 10001},
			Message: "invalid JSON: lists and objects are nested too deeply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := orderedjson.Decode([]byte(tc.input), "the object")
			assert.Nil(t, v)
			var se *orderedjson.SyntaxError
			require.True(t, errors.As(err, &se), "want a *SyntaxError, got %v", err)
			assert.Equal(t, tc.want, *se)
			assert.Equal(t, tc.want.Pos.String()+": "+tc.want.Message, err.Error())
		})
	}
}

func TestPosition(t *testing.T) {
	t.Parallel()
	data := []byte("ab\nçd\n\nx")
	assert.Equal(t, orderedjson.Pos{Line: 1, Column: 1}, orderedjson.Position(data, 0))
	assert.Equal(t, orderedjson.Pos{Line: 2, Column: 2}, orderedjson.Position(data, 5)) // d, after a two-byte ç
	assert.Equal(t, orderedjson.Pos{Line: 4, Column: 1}, orderedjson.Position(data, 8))
	assert.Equal(t, orderedjson.Pos{Line: 4, Column: 2}, orderedjson.Position(data, len(data)))
	assert.Equal(t, "line 4, column 2", orderedjson.Position(data, len(data)).String())
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for input, want := range map[string]string{
		`null`:                              "null",
		`false`:                             "false",
		`2.50`:                              "2.50",
		`"seventy"`:                         `"seventy"`,
		`"a\"b"`:                            `"a\"b"`,
		`[1]`:                               "a list",
		`{}`:                                "an object",
		`"` + strings.Repeat("é", 41) + `"`: `"` + strings.Repeat("é", 40) + `…"`,
	} {
		v, err := orderedjson.Decode([]byte(input), "the value")
		require.NoError(t, err, input)
		assert.Equal(t, want, v.Describe(), input)
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", orderedjson.Shorten(""))
	assert.Equal(t, strings.Repeat("ü", 40), orderedjson.Shorten(strings.Repeat("ü", 40)))
	assert.Equal(t, strings.Repeat("ü", 40)+"…", orderedjson.Shorten(strings.Repeat("ü", 41)))
}

func TestWhole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		input string
		want  int64
		ok    bool
	}{
		{"70", 70, true},
		{"-3", -3, true},
		{"70.0", 70, true},
		{"7e1", 70, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"1e15", 1e15, true},
		{"1e16", 0, false},
		{"2.5", 0, false},
		{`"70"`, 0, false},
		{"true", 0, false},
		{"null", 0, false},
	} {
		v, err := orderedjson.Decode([]byte(tc.input), "the value")
		require.NoError(t, err, tc.input)
		n, ok := v.Whole()
		assert.Equal(t, tc.ok, ok, tc.input)
		assert.Equal(t, tc.want, n, tc.input)
	}
}

// encode writes v back as JSON, keys in order and numbers as read.
func encode(b *strings.Builder, v *orderedjson.Value) {
	switch v.Kind {
	case orderedjson.Null:
		b.WriteString("null")
	case orderedjson.Bool:
		b.WriteString(strconv.FormatBool(v.Truth))
	case orderedjson.Number:
		b.WriteString(v.Text)
	case orderedjson.String:
		s, _ := json.Marshal(v.Text)
		b.Write(s)
	case orderedjson.Array:
		b.WriteByte('[')
		for i, item := range v.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			encode(b, item)
		}
		b.WriteByte(']')
	case orderedjson.Object:
		b.WriteByte('{')
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f.Key)
			b.Write(k)
			b.WriteByte(':')
			encode(b, f.Value)
		}
		b.WriteByte('}')
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[true,null,"x"],"b":{"z":2.50}}`,
		"{\n  \"slug\": \"s\",\n}",
		`{"slug": "s"`,
		"{\n\"slug\": 'héllo'}",
		"{\"title\": \"two\nlines\"}",
		"{}\n{}",
		`"a\qb"`,
		"  ",
		"\uFEFF{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := orderedjson.Decode(data, "the object")
		if err != nil {
			require.Nil(t, v)
			var se *orderedjson.SyntaxError
			require.True(t, errors.As(err, &se), "want a *SyntaxError, got %v", err)
			require.False(t, json.Valid(data), "valid JSON reported as %v", err)
			require.GreaterOrEqual(t, se.Pos.Line, 1)
			require.GreaterOrEqual(t, se.Pos.Column, 1)
			require.LessOrEqual(t, se.Pos.Line, strings.Count(string(data), "\n")+1)
			require.NotEmpty(t, se.Message)
			return
		}
		require.True(t, json.Valid(data))
		var b strings.Builder
		encode(&b, v)
		again, err := orderedjson.Decode([]byte(b.String()), "the object")
		require.NoError(t, err, "written back:\n%s", b.String())
		require.Equal(t, v, again)
	})
}
