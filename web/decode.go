package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/morselhq/morsel/lessons/errs"
)

// Request body limits.
const (
	maxJSONBody   = 1 << 20  // an ordinary JSON request
	maxCourseBody = 1 << 20  // a course file; the format's own limit
	maxImportBody = 20 << 20 // a rep import
)

// readBody reads the whole body, at most limit bytes; a larger body is an
// *http.MaxBytesError, which apiError answers with 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// decodeJSON reads the body as one JSON object into v. Malformed JSON, a
// value of the wrong type and an unknown field are Invalid errors naming where.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return err
	}
	return unmarshalStrict(body, v)
}

func unmarshalStrict(body []byte, v any) error {
	bad := func(path, format string, args ...any) error {
		return errs.InvalidInput("The request body is not valid JSON for this request.",
			[]errs.Detail{{Path: path, Message: fmt.Sprintf(format, args...)}})
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return bad("body", "is empty; expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		rest := body[dec.InputOffset():]
		if extra := bytes.TrimLeft(rest, " \t\r\n"); len(extra) > 0 {
			return bad(position(body, len(body)-len(extra)), "unexpected data after the JSON object")
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return bad(position(body, int(syntax.Offset)-1), "invalid JSON: %s", strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad(position(body, len(body)), "invalid JSON: the body ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return bad(position(body, int(typ.Offset)-1), "must be a JSON object, got %s", typ.Value)
		}
		return bad(typ.Field, "must be %s, got %s", jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return bad(name, "unknown field")
	}
	return bad("body", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonTypeName names a Go kind the way a JSON client thinks of it.
func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "a list"
	default:
		return "an object"
	}
}

// position names the line and column, both from 1, of the byte at offset.
func position(data []byte, offset int) string {
	offset = max(0, min(offset, len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// pathID reads the path parameter name as a positive integer.
func pathID(r *http.Request, name string) (int64, error) {
	raw := r.PathValue(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid(name, "must be a positive whole number, got %q", raw)
	}
	return id, nil
}

// query reads query parameters, collecting every problem.
type query struct {
	r       *http.Request
	details []errs.Detail
}

func newQuery(r *http.Request) *query { return &query{r: r} }

func (q *query) bad(name, format string, args ...any) {
	q.details = append(q.details, errs.Detail{Path: name, Message: fmt.Sprintf(format, args...)})
}

// id reads an optional positive id; 0 when absent.
func (q *query) id(name string) int64 {
	raw := q.r.URL.Query().Get(name)
	if raw == "" {
		return 0
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		q.bad(name, "must be a positive whole number, got %q", raw)
		return 0
	}
	return id
}

// limit reads the page size: def when absent, 1 to most.
func (q *query) limit(def, most int) int {
	raw := q.r.URL.Query().Get("limit")
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		q.bad("limit", "must be a whole number from 1 to %d, got %q", most, raw)
		return def
	}
	return n
}

// oneOf reads an optional value that must be one of allowed.
func (q *query) oneOf(name string, allowed ...string) string {
	raw := q.r.URL.Query().Get(name)
	if raw == "" {
		return ""
	}
	for _, a := range allowed {
		if raw == a {
			return raw
		}
	}
	q.bad(name, "must be one of %s, got %q", strings.Join(allowed, ", "), raw)
	return ""
}

// flag reads an optional true or false.
func (q *query) flag(name string) bool {
	raw := q.r.URL.Query().Get(name)
	if raw == "" {
		return false
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		q.bad(name, "must be true or false, got %q", raw)
	}
	return b
}

// text reads an optional string, def when absent.
func (q *query) text(name, def string) string {
	if raw := q.r.URL.Query().Get(name); raw != "" {
		return raw
	}
	return def
}

// err returns the problems found, if any, as one Invalid error.
func (q *query) err() error {
	if len(q.details) == 0 {
		return nil
	}
	return errs.InvalidInput("The query parameters are not valid.", q.details)
}
