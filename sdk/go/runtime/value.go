package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The stack engine works on wire values: JSON values (map[string]any, []any, string, float64,
// bool, nil) in which a secret is the envelope {"$credplane": "secret", "value": v} and a value
// unknown during a preview is {"$credplane": "unknown"}. These helpers are the Go counterparts
// of the Python runtime's secret.py.

// Mask is how a secret prints; UnknownText how an unknown value prints.
const (
	Mask        = "[secret]"
	UnknownText = "(unknown)"
)

// Unknown returns the unknown sentinel (a fresh map each time).
func Unknown() map[string]any { return map[string]any{Mark: "unknown"} }

// SecretValue wraps a wire value in a secret envelope (a secret stays as it is).
func SecretValue(v any) any {
	if IsSecret(v) {
		return v
	}
	return map[string]any{Mark: "secret", "value": v}
}

// IsSecret reports whether a wire value is a secret envelope.
func IsSecret(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || m[Mark] != "secret" {
		return false
	}
	_, has := m["value"]
	return has
}

// Reveal strips secret envelopes recursively (for comparisons; never for printing).
func Reveal(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if IsSecret(x) {
			return Reveal(x["value"])
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Reveal(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Reveal(e)
		}
		return out
	}
	return v
}

// MaskValue is a printable copy: secrets become "[secret]", unknowns "(unknown)".
func MaskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if IsSecret(x) {
			return Mask
		}
		if IsUnknown(x) {
			return UnknownText
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = MaskValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = MaskValue(e)
		}
		return out
	}
	return v
}

// ContainsSecret reports whether a wire value holds a secret anywhere.
func ContainsSecret(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if IsSecret(x) {
			return true
		}
		for _, e := range x {
			if ContainsSecret(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if ContainsSecret(e) {
				return true
			}
		}
	}
	return false
}

// ContainsUnknown reports whether a wire value holds an unknown anywhere.
func ContainsUnknown(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if IsUnknown(x) {
			return true
		}
		for _, e := range x {
			if ContainsUnknown(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if ContainsUnknown(e) {
				return true
			}
		}
	}
	return false
}

// RenderValue is the one-line rendering of a value used in printed plans (the same text as the
// Python SDK): secrets "[secret]", unknowns "(unknown)", null "null", everything else as JSON
// with sorted keys and Python's separators.
func RenderValue(v any) string {
	if IsSecret(v) {
		return Mask
	}
	if IsUnknown(v) {
		return UnknownText
	}
	if v == nil {
		return "null"
	}
	var b strings.Builder
	pyJSON(&b, MaskValue(normalize(v)))
	return b.String()
}

// normalize converts any Go value into plain JSON values (through encoding/json when needed).
func normalize(v any) any {
	switch v.(type) {
	case nil, bool, string, float64, map[string]any, []any:
		return v
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if json.Unmarshal(data, &out) != nil {
		return fmt.Sprint(v)
	}
	return out
}

// pyJSON writes v as Python's json.dumps(v, sort_keys=True, ensure_ascii=False) does.
func pyJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		pyString(b, x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			b.WriteString(strconv.FormatInt(int64(x), 10))
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case json.Number:
		b.WriteString(x.String())
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, k)
			b.WriteString(": ")
			pyJSON(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSON(b, e)
		}
		b.WriteByte(']')
	default:
		pyJSON(b, normalize(v))
	}
}

func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// deepEqual compares two wire values (numbers of any Go numeric type compare by value).
func deepEqual(a, b any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// cloneWire deep-copies a wire value.
func cloneWire(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneWire(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneWire(e)
		}
		return out
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return cloneWire(m).(map[string]any)
}

// compactJSON marshals without HTML escaping and without a trailing newline.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
