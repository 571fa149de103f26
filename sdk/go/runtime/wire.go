package runtime

import (
	"encoding/json"
	"reflect"
)

// Wire is a JSON object on the wire.
type Wire = map[string]any

// ToWire converts an input: secrets enveloped, enums as strings, references kept for the stack.
func ToWire(v any) any {
	switch x := v.(type) {
	case *OutputRef:
		return x
	case envelope:
		return x.Envelope()
	}
	if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() == reflect.String {
		return rv.String()
	}
	return v
}

// IsSecret and IsUnknown report whether a wire value is a secret envelope, or the unknown
// sentinel of a preview; Reveal is the plaintext of a secret envelope (any other value as is).
func IsSecret(v any) bool  { m, ok := v.(Wire); return ok && m[Mark] == "secret" }
func IsUnknown(v any) bool { m, ok := v.(Wire); return ok && m[Mark] == "unknown" }
func Reveal(v any) any {
	if IsSecret(v) {
		return v.(Wire)["value"]
	}
	return v
}
func secretEnvelope(v any) Wire { return Wire{Mark: "secret", "value": v} }

// DecodeState reads a wire map into a generated State struct (unknowns become zero values).
func DecodeState(w Wire, state any) error {
	known := Wire{}
	for k, v := range w {
		if !IsUnknown(v) {
			known[k] = v
		}
	}
	b, err := json.Marshal(known)
	if err == nil {
		err = json.Unmarshal(b, state)
	}
	return err
}
