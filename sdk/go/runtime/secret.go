// Package runtime is the hand-written part of the credplane Go SDK: the JSON-RPC client,
// typed errors, the Secret type, and the Resource/Input/Output types the generated
// resources (package resources) are built on.
package runtime

import (
	"encoding/json"
	"fmt"
)

// Mark is the key of credplane's wire envelopes: {"$credplane": "secret", "value": ...}.
const Mark = "$credplane"

// Secret holds a value that prints as "[secret]" with every fmt verb, so that leaking it
// takes an explicit call to Value. It marshals to the wire envelope and unmarshals from it.
type Secret[T any] struct {
	value T
}

// NewSecret wraps a value.
func NewSecret[T any](v T) Secret[T] { return Secret[T]{value: v} }

// Value is the plaintext: the one deliberate way out.
func (s Secret[T]) Value() T { return s.value }

// String masks the value.
func (s Secret[T]) String() string { return "[secret]" }

// GoString masks the value for %#v.
func (s Secret[T]) GoString() string { return "[secret]" }

// Format masks the value for every verb (%v, %+v, %s, %q, %x...).
func (s Secret[T]) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[secret]")) }

// Envelope is the wire form of the secret.
func (s Secret[T]) Envelope() map[string]any {
	return map[string]any{Mark: "secret", "value": s.value}
}

// MarshalJSON writes the envelope.
func (s Secret[T]) MarshalJSON() ([]byte, error) { return json.Marshal(s.Envelope()) }

// UnmarshalJSON reads an envelope, or a plain value (a secret attribute that came unwrapped).
func (s *Secret[T]) UnmarshalJSON(b []byte) error {
	var env struct {
		Mark  string          `json:"$credplane"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &env); err == nil && env.Mark == "secret" {
		return json.Unmarshal(env.Value, &s.value)
	}
	return json.Unmarshal(b, &s.value)
}

// envelope is implemented by every Secret[T].
type envelope interface{ Envelope() map[string]any }
