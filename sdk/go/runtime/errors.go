package runtime

import (
	"errors"
	"fmt"
)

// JSON-RPC and application error codes (schema/openrpc.json).
const (
	CodeParseError       = -32700
	CodeInvalidRequest   = -32600
	CodeMethodNotFound   = -32601
	CodeInvalidParams    = -32602
	CodeCloud            = -32001
	CodeCancelled        = -32002
	CodeTimeout          = -32003
	CodePartiallyCreated = -32004
	CodeConfiguration    = -32005
	CodeUnsupported      = -32006
)

// Sentinels for errors.Is: errors.Is(err, runtime.ErrInvalidParams) matches any reply of
// that code.
var (
	ErrParse            = &Error{Code: CodeParseError}
	ErrInvalidRequest   = &Error{Code: CodeInvalidRequest}
	ErrMethodNotFound   = &Error{Code: CodeMethodNotFound}
	ErrInvalidParams    = &Error{Code: CodeInvalidParams}
	ErrCloud            = &Error{Code: CodeCloud}
	ErrCancelled        = &Error{Code: CodeCancelled}
	ErrTimeout          = &Error{Code: CodeTimeout}
	ErrPartiallyCreated = &Error{Code: CodePartiallyCreated}
	ErrConfiguration    = &Error{Code: CodeConfiguration}
	ErrUnsupported      = &Error{Code: CodeUnsupported}
)

// Failure is a property that failed validation.
type Failure struct {
	Property string `json:"property"`
	Reason   string `json:"reason"`
}

// ErrorData is the data of a credplane error reply.
type ErrorData struct {
	Message   string    `json:"message"`
	Retryable bool      `json:"retryable"`
	CloudCode string    `json:"cloudCode,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
	Failures  []Failure `json:"failures,omitempty"`
	// ID and Outputs are set by PartiallyCreated: the object exists and must be tracked.
	ID      string         `json:"id,omitempty"`
	Outputs map[string]any `json:"outputs,omitempty"`
}

// Error is a JSON-RPC error reply from the provider.
type Error struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Data    ErrorData `json:"data"`
}

func (e *Error) Error() string {
	if e.Data.CloudCode != "" {
		return fmt.Sprintf("credplane: %s (code %d, cloud code %s)", e.Message, e.Code, e.Data.CloudCode)
	}
	return fmt.Sprintf("credplane: %s (code %d)", e.Message, e.Code)
}

// Is matches the sentinel of the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Message == ""
}

// Failures are the properties that failed validation (InvalidParams).
func (e *Error) Failures() []Failure { return e.Data.Failures }

// CloudCode is the cloud's own error code, if the cloud answered.
func (e *Error) CloudCode() string { return e.Data.CloudCode }

// TransportError is a failure to reach the provider (process exited, HTTP status, bad reply).
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return "credplane transport: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }
