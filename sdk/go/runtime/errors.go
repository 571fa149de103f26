package runtime

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is, one per JSON-RPC code (schema/openrpc.json, docs/engine.md):
// errors.Is(err, runtime.ErrInvalidParams) matches any reply of that code.
var (
	ErrParse            = &Error{Code: -32700}
	ErrInvalidRequest   = &Error{Code: -32600}
	ErrMethodNotFound   = &Error{Code: -32601}
	ErrInvalidParams    = &Error{Code: -32602} // also duplicate names, dependsOn cycles, unknown references
	ErrCloud            = &Error{Code: -32001}
	ErrCancelled        = &Error{Code: -32002}
	ErrTimeout          = &Error{Code: -32003}
	ErrPartiallyCreated = &Error{Code: -32004}
	ErrConfiguration    = &Error{Code: -32005}
	ErrUnsupported      = &Error{Code: -32006}
	ErrState            = &Error{Code: -32010} // wrong passphrase, corrupted or tampered state
	ErrLocked           = &Error{Code: -32011} // the stack is locked by another engine
	ErrProtected        = &Error{Code: -32012} // a protected resource would be deleted
	ErrDependencyFailed = &Error{Code: -32013} // a dependency failed, so this step did not run
	ErrMayExist         = &Error{Code: -32014} // interrupted creates of unknown outcome block up
)

// Failure is a property that failed validation (`resources.<name>.<field>` for the engine).
type Failure struct {
	Property string `json:"property"`
	Reason   string `json:"reason"`
}

// ErrorData is the data of an error reply. ID and Outputs: what a partial create left;
// MayExist and Candidates: a create that may have taken effect; Plan: what a failed close did.
type ErrorData struct {
	Message    string         `json:"message"`
	Retryable  bool           `json:"retryable"`
	CloudCode  string         `json:"cloudCode,omitempty"`
	RequestID  string         `json:"requestId,omitempty"`
	Failures   []Failure      `json:"failures,omitempty"`
	ID         string         `json:"id,omitempty"`
	Outputs    map[string]any `json:"outputs,omitempty"`
	MayExist   bool           `json:"mayExist,omitempty"`
	Candidates []string       `json:"candidates,omitempty"`
	Plan       string         `json:"plan,omitempty"`
}

// Error is a JSON-RPC error reply from the provider or the engine.
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

// TransportError is a failure to reach credplane (process exited, HTTP status, bad reply).
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return "credplane transport: " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }
