package runtime

import (
	"encoding/json"
	"reflect"
)

// ToWire converts an input value for the wire: secrets enveloped, named string types (enums)
// as plain strings, output references left in place, everything else as is.
func ToWire(v any) any {
	switch x := v.(type) {
	case *OutputRef:
		return x
	case envelope:
		return x.Envelope()
	case map[string]string:
		m := make(map[string]any, len(x))
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

func isEnvelope(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m[Mark] == "secret"
}

// IsUnknown reports whether a wire value is the unknown sentinel of a preview.
func IsUnknown(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m[Mark] == "unknown"
}

// StripUnknowns returns a copy of a wire map with unknown sentinels removed (nil).
func StripUnknowns(w map[string]any) map[string]any {
	out := make(map[string]any, len(w))
	for k, v := range w {
		if IsUnknown(v) {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			v = StripUnknowns(m)
		}
		out[k] = v
	}
	return out
}

// DecodeState reads a wire map into a generated State struct: unknowns become zero values,
// envelopes become Secret (see Secret.UnmarshalJSON), enums their named type.
func DecodeState(w map[string]any, state any) error {
	b, err := json.Marshal(StripUnknowns(w))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, state)
}
