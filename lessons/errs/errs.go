// Package errs is Morsel's one error vocabulary. Domain packages return an *Error
// with a Code; the web layer maps each Code to an HTTP status and shows Message,
// and anything else is logged and shown as "Internal error.".
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Code says what kind of failure an error is, independent of transport.
type Code string

// The codes. Each maps to one HTTP status in web.
const (
	Invalid      Code = "invalid"      // the input is wrong; Details say where
	NotFound     Code = "not_found"    // no such object, or not visible to the caller
	Conflict     Code = "conflict"     // the change clashes with stored state
	Unauthorized Code = "unauthorized" // no or bad credentials
	Forbidden    Code = "forbidden"    // credentials fine, action not allowed
	Unavailable  Code = "unavailable"  // a dependency is down; try again later
	Internal     Code = "internal"     // a bug or an unexpected failure
)

// Detail names one problem with the input: where (a JSON path such as
// "lessons[3].questions[0].correct", or "line 4, column phone") and what.
type Detail struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (d Detail) String() string {
	if d.Path == "" {
		return d.Message
	}
	return d.Path + ": " + d.Message
}

// Error is an application error with a code, a message fit to show the user, and
// optional per-field details.
type Error struct {
	Code    Code
	Message string
	Details []Detail
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, d := range e.Details {
		b.WriteString("\n  ")
		b.WriteString(d.String())
	}
	return b.String()
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidInput returns an Invalid error listing every problem found.
func InvalidInput(message string, details []Detail) *Error {
	return &Error{Code: Invalid, Message: message, Details: details}
}

// Capped returns the first max of details and, when total (at least
// len(details)) is more than that, a last detail at path saying how many more
// problems there are: a file with ten thousand bad lines gets an answer that
// reads, not one that buries the first problems.
func Capped(details []Detail, total, max int, path string) []Detail {
	if len(details) > max {
		details = details[:max:max]
	}
	if total > len(details) {
		details = append(details, Detail{Path: path, Message: fmt.Sprintf("and %d more problems", total-len(details))})
	}
	return details
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
