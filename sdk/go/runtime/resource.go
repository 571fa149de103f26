package runtime

import (
	"encoding/json"
	"fmt"
	"sort"
)

// OutputRef names an output property of a declared resource; the engine running the stack
// resolves it. It is left in place in wire maps. A derived reference (Apply, Apply2) also
// holds the function computing its value.
type OutputRef struct {
	Resource *Resource
	Property string
	parts    []*OutputRef
	fn       func(any) (any, error)
}

// Output is a typed reference to an output property.
type Output[T any] struct{ Ref OutputRef }

// OutputOf is the reference to property of r.
func OutputOf[T any](r *Resource, property string) Output[T] {
	return Output[T]{Ref: OutputRef{Resource: r, Property: property}}
}

// In uses the output as the input of another resource.
func (o Output[T]) In() Input[T] { return Input[T]{output: &o.Ref, set: true} }

// Input is a plain value or an output of another resource; the zero Input is unset.
type Input[T any] struct {
	value  T
	output *OutputRef
	set    bool
}

// Val is an Input holding a plain value.
func Val[T any](v T) Input[T] { return Input[T]{value: v, set: true} }

// IsSet reports whether the input was given.
func (i Input[T]) IsSet() bool { return i.set }

// Put stores a set input in a wire map under key: plain values converted by ToWire,
// outputs left in place.
func Put[T any](w map[string]any, key string, in Input[T]) {
	if !in.set {
		return
	}
	if in.output != nil {
		w[key] = in.output
		return
	}
	w[key] = ToWire(in.value)
}

// PutSecret is Put for a secret property: a value that is not already a Secret is enveloped.
func PutSecret[T any](w map[string]any, key string, in Input[T]) {
	Put(w, key, in)
	if v, ok := w[key]; ok {
		if _, isRef := v.(*OutputRef); !isRef && !isEnvelope(v) {
			w[key] = map[string]any{Mark: "secret", "value": v}
		}
	}
}

// DefaultStack receives resources declared without InStack outside a stack program.
var DefaultStack = &Stack{}

// Resource is the base of every generated resource type.
type Resource struct {
	Type      string
	Name      string
	Inputs    map[string]any
	DependsOn []*Resource
	// IgnoreChanges lists properties whose changes diff ignores (sent as ignoreChanges).
	IgnoreChanges []string
	// Timeouts: "create", "update", "delete" -> seconds, sent as timeoutSeconds.
	Timeouts map[string]uint64
	stack    *Stack
	// Filled in by the stack engine as it runs.
	id      string
	outputs map[string]any
}

// CurrentID is the resource's id after the last operation of its stack ("" if none yet).
func (r *Resource) CurrentID() string { return r.id }

// CurrentOutputs are the resource's outputs (wire form: secrets enveloped; unknowns possible in a
// preview) after the last operation of its stack.
func (r *Resource) CurrentOutputs() map[string]any { return r.outputs }

// Base returns the resource itself; generated types embed Resource and so implement Declared.
func (r *Resource) Base() *Resource { return r }

// Declared is any generated resource.
type Declared interface{ Base() *Resource }

// ResourceOption configures a resource at declaration.
type ResourceOption func(*Resource)

// DependsOn adds explicit dependencies.
func DependsOn(rs ...Declared) ResourceOption {
	return func(r *Resource) {
		for _, d := range rs {
			r.DependsOn = append(r.DependsOn, d.Base())
		}
	}
}

// InStack declares the resource in s instead of DefaultStack (or the stack whose program
// is running).
func InStack(s *Stack) ResourceOption { return func(r *Resource) { r.stack = s } }

// IgnoreChanges makes diff ignore changes of these properties.
func IgnoreChanges(props ...string) ResourceOption {
	return func(r *Resource) { r.IgnoreChanges = append(r.IgnoreChanges, props...) }
}

// Timeouts sets the create / update / delete timeouts (seconds; 0 leaves one unset).
func Timeouts(create, update, del uint64) ResourceOption {
	return func(r *Resource) {
		r.Timeouts = map[string]uint64{}
		for k, v := range map[string]uint64{"create": create, "update": update, "delete": del} {
			if v > 0 {
				r.Timeouts[k] = v
			}
		}
	}
}

// Init declares the resource; generated constructors call it. Without InStack, a resource
// declared while a stack's program runs joins that stack, otherwise DefaultStack.
func (r *Resource) Init(typ, name string, inputs map[string]any, opts ...ResourceOption) {
	r.Type, r.Name, r.Inputs, r.stack = typ, name, inputs, DefaultStack
	if collector != nil {
		r.stack = collector
	}
	for _, o := range opts {
		o(r)
	}
	r.stack.Resources = append(r.stack.Resources, r)
}

// NewResource declares a resource of any type from a wire map of inputs (values may be
// Output references, as from Output.In, or secret envelopes). The generated constructors are
// the typed way.
func NewResource(typ, name string, inputs map[string]any, opts ...ResourceOption) *Resource {
	r := &Resource{}
	if inputs == nil {
		inputs = map[string]any{}
	}
	r.Init(typ, name, inputs, opts...)
	return r
}

// Ref is an untyped reference to an output property of r (for NewResource inputs).
func (r *Resource) Ref(property string) *OutputRef {
	return &OutputRef{Resource: r, Property: property}
}

// Dependencies are the implicit (outputs referenced by the inputs) and explicit
// dependencies, without repeats.
func (r *Resource) Dependencies() []*Resource {
	var seen []*Resource
	add := func(d *Resource) {
		if d == nil || d == r {
			return
		}
		for _, s := range seen {
			if s == d {
				return
			}
		}
		seen = append(seen, d)
	}
	for _, ref := range collectRefs(r.Inputs) {
		add(ref.Resource)
	}
	for _, d := range r.DependsOn {
		add(d)
	}
	return seen
}

// collector is the stack whose program is running (see Stack); programs run one at a time.
var collector *Stack

// collectRefs lists every (source) output reference nested in a wire value.
func collectRefs(v any) []*OutputRef {
	var found []*OutputRef
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case *OutputRef:
			found = append(found, x.sources()...)
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return found
}

func (o *OutputRef) sources() []*OutputRef {
	if o.parts == nil {
		return []*OutputRef{o}
	}
	var out []*OutputRef
	for _, p := range o.parts {
		out = append(out, p.sources()...)
	}
	return out
}

// resolve computes the value of the reference; lookup returns the raw output (the unknown
// sentinel when it is not known yet).
func (o *OutputRef) resolve(lookup func(*Resource, string) any) (any, error) {
	if o.parts != nil {
		values := make([]any, len(o.parts))
		secret := false
		for i, p := range o.parts {
			v, err := p.resolve(lookup)
			if err != nil {
				return nil, err
			}
			if IsUnknown(v) {
				return Unknown(), nil
			}
			if IsSecret(v) {
				secret = true
			}
			values[i] = Reveal(v)
		}
		var result any = values
		if o.fn != nil {
			var err error
			if result, err = o.fn(values); err != nil {
				return nil, err
			}
		}
		if secret && !IsSecret(result) {
			result = SecretValue(result)
		}
		return result, nil
	}
	raw := lookup(o.Resource, o.Property)
	if IsUnknown(raw) {
		return Unknown(), nil
	}
	if o.fn == nil {
		return raw, nil
	}
	if IsSecret(raw) {
		result, err := o.fn(Reveal(raw))
		if err != nil {
			return nil, err
		}
		if IsUnknown(result) {
			return result, nil
		}
		return SecretValue(result), nil
	}
	return o.fn(raw)
}

// decodeAs converts a plain wire value to T (through JSON).
func decodeAs[T any](v any) (T, error) {
	var t T
	if v == nil {
		return t, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return t, err
	}
	err = json.Unmarshal(data, &t)
	return t, err
}

// Apply is a derived output: fn is called with the value once it is known. If the value is a
// secret, fn gets it decoded from the plaintext and the result is a secret again; unknown
// during a preview stays unknown.
func Apply[T, U any](o Output[T], fn func(T) U) Output[U] {
	src := o.Ref
	ref := OutputRef{Resource: src.Resource, Property: src.Property, parts: []*OutputRef{&src}}
	ref.fn = func(v any) (any, error) {
		t, err := decodeAs[T](v.([]any)[0])
		if err != nil {
			return nil, fmt.Errorf("output %s.%s: %w", src.Resource.Name, src.Property, err)
		}
		return ToWire(fn(t)), nil
	}
	return Output[U]{Ref: ref}
}

// Apply2 combines two outputs (unknown if either is unknown, secret if either is secret).
func Apply2[A, B, U any](a Output[A], b Output[B], fn func(A, B) U) Output[U] {
	ra, rb := a.Ref, b.Ref
	ref := OutputRef{Resource: ra.Resource, Property: ra.Property, parts: []*OutputRef{&ra, &rb}}
	ref.fn = func(v any) (any, error) {
		vs := v.([]any)
		x, err := decodeAs[A](vs[0])
		if err != nil {
			return nil, err
		}
		y, err := decodeAs[B](vs[1])
		if err != nil {
			return nil, err
		}
		return ToWire(fn(x, y)), nil
	}
	return Output[U]{Ref: ref}
}

// Deref turns an output of an optional (pointer) attribute into one of its value type, e.g.
// a RAM key's Secret() (Output[*Secret[string]]) into the Output[Secret[string]] a KMS
// secret's SecretData takes. The wire value is the same.
func Deref[T any](o Output[*T]) Output[T] { return Output[T]{Ref: o.Ref} }
