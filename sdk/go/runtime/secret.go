// Package runtime is the hand-written part of the credplane Go SDK, a thin client of the engine
// inside credplane (docs/engine.md): the transport, typed errors, Secret, the Resource, Input and
// Output types that package resources builds on, and the Stack facade.
package runtime

import (
	"encoding/json"
	"fmt"
)

// Mark is the key of credplane's wire envelopes: {"$credplane": "secret", "value": ...}.
const Mark = "$credplane"

// Secret holds a value that prints as "[secret]" with every fmt verb; JSON is the wire envelope.
type Secret[T any] struct{ value T }

// NewSecret wraps a value. Value is the plaintext, the one deliberate way out; String and Format
// mask it for every fmt verb; Envelope and MarshalJSON give the wire envelope.
func NewSecret[T any](v T) Secret[T]             { return Secret[T]{value: v} }
func (s Secret[T]) Value() T                     { return s.value }
func (s Secret[T]) String() string               { return "[secret]" }
func (s Secret[T]) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte("[secret]")) }
func (s Secret[T]) Envelope() map[string]any     { return secretEnvelope(s.value) }
func (s Secret[T]) MarshalJSON() ([]byte, error) { return json.Marshal(s.Envelope()) }

// UnmarshalJSON reads an envelope, or a plain value (a secret attribute that came unwrapped).
func (s *Secret[T]) UnmarshalJSON(b []byte) error {
	var env struct {
		Mark  string          `json:"$credplane"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &env); err == nil && env.Mark == "secret" {
		b = env.Value
	}
	return json.Unmarshal(b, &s.value)
}

// envelope is implemented by every Secret[T].
type envelope interface{ Envelope() map[string]any }
