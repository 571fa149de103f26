package runtime

import (
	"encoding/json"
	"reflect"
)

// Wire is a JSON object on the wire.
type Wire = map[string]any

// ToWire converts an input value for the wire: secrets enveloped, named string types (enums)
// as plain strings, output references left in place for the stack, everything else as is.
func ToWire(v any) any {
	switch x := v.(type) {
	case *OutputRef:
		return x
	case envelope:
		return x.Envelope()
	case map[string]string:
		m := make(Wire, len(x))
		for k, s := range x {
			m[k] = s
		}
		return m
	}
	if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() == reflect.String {
		return rv.String()
	}
	return v
}

func secretEnvelope(v any) Wire { return Wire{Mark: "secret", "value": v} }

// IsSecret and IsUnknown report whether a wire value is a secret envelope, or the unknown
// sentinel of a preview.
func IsSecret(v any) bool  { m, ok := v.(Wire); return ok && m[Mark] == "secret" }
func IsUnknown(v any) bool { m, ok := v.(Wire); return ok && m[Mark] == "unknown" }

// Reveal is the plaintext of a secret envelope (any other value as it is).
func Reveal(v any) any {
	if IsSecret(v) {
		return v.(Wire)["value"]
	}
	return v
}

// DecodeState reads a wire map into a generated State struct: unknowns become zero values,
// envelopes become Secret (see Secret.UnmarshalJSON), enums their named type.
func DecodeState(w Wire, state any) error {
	b, err := json.Marshal(stripUnknowns(w))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, state)
}

func stripUnknowns(v any) any {
	m, ok := v.(Wire)
	if !ok {
		return v
	}
	out := make(Wire, len(m))
	for k, e := range m {
		if !IsUnknown(e) {
			out[k] = stripUnknowns(e)
		}
	}
	return out
}
