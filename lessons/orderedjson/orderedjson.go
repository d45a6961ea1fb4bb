// Package orderedjson reads a file meant to hold one JSON object into values
// that keep their object keys in file order, repeats included, and numbers as
// written, so that a checker built on it can name every problem by its path
// (lessons[3].questions[0].correct) and see a key given twice. A syntax error is
// reported at its line and column, in words for the person who wrote the file.
//
// It knows nothing of what the file means: lessons' course-file checker is
// built on it.
package orderedjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the JSON type of a value.
type Kind int

// The JSON types.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is a decoded JSON value that keeps object keys in file order, repeats
// included, so that every problem can be reported with its path.
type Value struct {
	Kind   Kind
	Text   string // a string's contents, or a number as written
	Truth  bool   // a bool's value
	Items  []*Value
	Fields []Field
}

// Field is one member of an object, in file order.
type Field struct {
	Key   string
	Value *Value
}

// Describe names a value for a message: "seventy" in quotes, 70, true, null, a list.
func (v *Value) Describe() string {
	switch v.Kind {
	case Null:
		return "null"
	case Bool:
		return strconv.FormatBool(v.Truth)
	case Number:
		return Shorten(v.Text)
	case String:
		return strconv.Quote(Shorten(v.Text))
	case Array:
		return "a list"
	default:
		return "an object"
	}
}

// Whole reads a number with no fraction, such as 70, 70.0 or 7e1, of at most
// 1e15 in size when written with a fraction or an exponent.
func (v *Value) Whole() (int64, bool) {
	if v.Kind != Number {
		return 0, false
	}
	if n, err := strconv.ParseInt(v.Text, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v.Text, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int64(f), true
}

// Shorten cuts s to 40 characters so that messages stay short.
func Shorten(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// Pos is a place in a file: its line and column, both from 1, the column
// counted in characters.
type Pos struct {
	Line, Column int
}

// String writes p as "line 2, column 9", the path a syntax problem is reported at.
func (p Pos) String() string {
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// Position names the line and column of the byte at offset in data.
func Position(data []byte, offset int) Pos {
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return Pos{Line: line, Column: col}
}

// SyntaxError is a file that is not one JSON value: empty, malformed, or
// followed by more. Message says what is wrong and how to fix it.
type SyntaxError struct {
	Pos     Pos
	Message string
}

func (e *SyntaxError) Error() string { return e.Pos.String() + ": " + e.Message }

// Decode checks the syntax of data, then decodes it. A syntax problem is
// returned as a *SyntaxError; top names the value the file holds in its
// messages, such as "the course object". Any other error is unexpected.
func Decode(data []byte, top string) (*Value, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &SyntaxError{Pos: Pos{Line: 1, Column: 1}, Message: "the file is empty; it must hold one JSON object"}
	}
	// Unmarshal checks the whole input first, trailing data included, and
	// reports the offset of the offending byte, which Decoder.Token does not.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, err
		}
		return nil, syntaxError(data, se, top)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return read(dec)
}

// read reads the next value from dec, whose input is known to be valid JSON.
func read(dec *json.Decoder) (*Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		v := &Value{Kind: Array}
		if t == '{' {
			v.Kind = Object
		}
		for dec.More() {
			if v.Kind == Object {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				item, err := read(dec)
				if err != nil {
					return nil, err
				}
				v.Fields = append(v.Fields, Field{Key: key.(string), Value: item})
				continue
			}
			item, err := read(dec)
			if err != nil {
				return nil, err
			}
			v.Items = append(v.Items, item)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return v, nil
	case string:
		return &Value{Kind: String, Text: t}, nil
	case json.Number:
		return &Value{Kind: Number, Text: string(t)}, nil
	case bool:
		return &Value{Kind: Bool, Truth: t}, nil
	case nil:
		return &Value{Kind: Null}, nil
	default:
		return nil, fmt.Errorf("unexpected JSON token %v", tok)
	}
}

// syntaxError turns encoding/json's syntax error into a readable message at its
// line and column.
func syntaxError(data []byte, se *json.SyntaxError, top string) *SyntaxError {
	pos := int(se.Offset) - 1 // the offending byte
	goMsg := se.Error()
	atEnd := strings.HasPrefix(goMsg, "unexpected end") || pos >= len(data)
	if atEnd || pos < 0 {
		pos = len(data)
	}
	at := Position(data, pos)
	if atEnd {
		return &SyntaxError{Pos: at, Message: "invalid JSON: the file ends too early; a closing }, ] or \" is missing"}
	}

	what := describeChar(data[pos:])
	prev := bytes.TrimRight(data[:pos], " \t\r\n")
	afterComma := len(prev) > 0 && prev[len(prev)-1] == ','
	var msg string
	switch {
	case strings.Contains(goMsg, "exceeded max depth"):
		msg = "lists and objects are nested too deeply"
	case strings.Contains(goMsg, "after top-level value"):
		msg = "unexpected " + what + " after " + top + "; the file must hold a single JSON object"
	case strings.Contains(goMsg, "in string literal"):
		msg = "unexpected " + what + " inside a string; write line breaks as \\n and tabs as \\t"
	case strings.Contains(goMsg, "in string escape code"):
		r, _ := utf8.DecodeRune(data[pos:])
		msg = "invalid escape \\" + string(r) + " inside a string; write a backslash as \\\\"
	case data[pos] == '\'':
		msg = "unexpected single quote; strings and field names must be in double quotes"
	case (data[pos] == ']' || data[pos] == '}') && afterComma:
		msg = "unexpected " + what + " after a comma; remove the comma"
	case strings.Contains(goMsg, "beginning of object key"):
		msg = "unexpected " + what + "; field names must be in double quotes"
	case strings.Contains(goMsg, "after object key:value pair"), strings.Contains(goMsg, "after array element"):
		msg = "unexpected " + what + "; is a comma missing before it?"
	case strings.Contains(goMsg, "after object key"):
		msg = "unexpected " + what + "; a field name must be followed by a colon"
	default:
		msg = "unexpected " + what
	}
	return &SyntaxError{Pos: at, Message: "invalid JSON: " + msg}
}

// describeChar names the character at the start of b for a message.
func describeChar(b []byte) string {
	r, _ := utf8.DecodeRune(b)
	switch {
	case r == '\n' || r == '\r':
		return "line break"
	case r == '\t':
		return "tab"
	case r < ' ' || r == utf8.RuneError || r == 0x7f:
		return fmt.Sprintf("character %U", r)
	default:
		return "'" + string(r) + "'"
	}
}
