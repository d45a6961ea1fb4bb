package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/morselhq/morsel/lessons/errs"
)

// internalMessage is all a client learns of an unexpected failure.
const internalMessage = "Internal error."

// Codes only the HTTP layer produces, mapped with the others in httpStatus.
const (
	codeTooLarge         errs.Code = "too_large"          // the request body is over the limit
	codeMethodNotAllowed errs.Code = "method_not_allowed" // the path exists, the method does not
	codeTooMany          errs.Code = "too_many_requests"  // over a limit of work at once; try again later
)

// httpStatus is the one mapping from error codes to HTTP statuses.
func httpStatus(code errs.Code) int {
	switch code {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case codeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeTooMany:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the JSON of every API error.
type errorBody struct {
	Error errorInfo `json:"error"`
}

type errorInfo struct {
	Code    errs.Code     `json:"code"`
	Message string        `json:"message"`
	Details []errs.Detail `json:"details,omitempty"`
}

// apiError turns err into what the client is shown. Anything that is not an
// *errs.Error with a known code is internal: logged here, shown as
// "Internal error." without details.
func (s *Server) apiError(r *http.Request, err error) (int, errorBody) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = &errs.Error{Code: codeTooLarge, Message: fmt.Sprintf("The request body is larger than the limit of %s.", byteSize(tooBig.Limit))}
	}
	e := errs.As(err)
	status := httpStatus(errs.CodeOf(err))
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client went away mid-request: nothing failed here, and no
		// one reads the answer.
		s.log.DebugContext(r.Context(), "client went away", slog.String("method", r.Method), slog.String("path", r.URL.Path))
		return statusClientClosed, errorBody{Error: errorInfo{Code: errs.Unavailable, Message: "The request was cancelled."}}
	}
	if e == nil || status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		return http.StatusInternalServerError, errorBody{Error: errorInfo{Code: errs.Internal, Message: internalMessage}}
	}
	return status, errorBody{Error: errorInfo{Code: e.Code, Message: e.Message, Details: e.Details}}
}

// statusClientClosed is the status logged for a request its client gave up
// before the answer (nginx's 499): no client reads it.
const statusClientClosed = 499

// writeAPIError answers an API request with err as JSON.
func (s *Server) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.apiError(r, err)
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Morsel API"`)
	}
	writeJSON(w, status, body)
}

// byteSize names a size such as 1 MiB for a message.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// invalid is an Invalid error about one named input.
func invalid(path, format string, args ...any) error {
	return errs.InvalidInput("The request is not valid.", []errs.Detail{{Path: path, Message: fmt.Sprintf(format, args...)}})
}
