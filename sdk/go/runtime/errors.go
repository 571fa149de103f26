package runtime

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is, one per code (schema/openrpc.json, docs/engine.md).
var (
	ErrParse              = &Error{Code: -32700}
	ErrInvalidRequest     = &Error{Code: -32600}
	ErrMethodNotFound     = &Error{Code: -32601}
	ErrInvalidParams      = &Error{Code: -32602} // also duplicate names, dependsOn cycles, unknown references
	ErrCloud              = &Error{Code: -32001}
	ErrCancelled          = &Error{Code: -32002}
	ErrTimeout            = &Error{Code: -32003}
	ErrPartiallyCreated   = &Error{Code: -32004}
	ErrConfiguration      = &Error{Code: -32005}
	ErrUnsupported        = &Error{Code: -32006}
	ErrState              = &Error{Code: -32010} // wrong passphrase, corrupted or tampered state
	ErrLocked             = &Error{Code: -32011} // the stack is locked by another engine
	ErrProtected          = &Error{Code: -32012} // a protected resource would be deleted
	ErrDependencyFailed   = &Error{Code: -32013} // a dependency failed, so this step did not run
	ErrMayExist           = &Error{Code: -32014} // interrupted creates of unknown outcome block up
	ErrPassphraseRequired = &Error{Code: -32015} // the state is sealed and CREDPLANE_PASSPHRASE is not set
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
