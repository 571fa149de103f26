package runtime

import (
	"errors"
	"fmt"
)

// Error is a JSON-RPC error reply from the provider or the engine; it Is the sentinel of its code.
// Data.Failures name the properties that failed validation (`resources.<name>.<field>` for the
// engine), Data.Plan the text of what a failed engine.close did. (Replies are read, never
// written: JSON names match the fields case-insensitively.)
type Error struct {
	Code    int
	Message string
	Data    ErrorData
}
type ErrorData struct {
	Message, CloudCode, RequestID, ID, Plan string
	Retryable, MayExist                     bool
	Failures                                []Failure
	Outputs                                 Wire
	Candidates                              []string
}
type Failure struct{ Property, Reason string }

func (e *Error) Error() string {
	if e.Data.CloudCode != "" {
		return fmt.Sprintf("credplane: %s (code %d, cloud code %s)", e.Message, e.Code, e.Data.CloudCode)
	}
	return fmt.Sprintf("credplane: %s (code %d)", e.Message, e.Code)
}
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Message == ""
}

// TransportError is a failure to reach credplane (process exited, HTTP status, bad reply).
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return "credplane transport: " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }
