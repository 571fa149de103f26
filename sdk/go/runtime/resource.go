package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
)

// OutputRef names an output of a resource: the engine resolves a plain one (a reference envelope);
// a derived one (Apply, Apply2) is computed by fn from its parts' values, after their steps.
type OutputRef struct {
	Resource *Resource
	Property string
	parts    []*OutputRef
	fn       func([]any) (any, error)
}

// Input is a plain value (Val) or an output of another resource (Output.In); the zero Input is
// unset. Output is a typed reference to an output property (OutputOf).
type Input[T any] struct {
	value  T
	output *OutputRef
	set    bool
}
type Output[T any] struct{ Ref OutputRef }

func Val[T any](v T) Input[T]    { return Input[T]{value: v, set: true} }
func (o Output[T]) In() Input[T] { return Input[T]{output: &o.Ref, set: true} }
func OutputOf[T any](r *Resource, property string) Output[T] {
	return Output[T]{Ref: OutputRef{Resource: r, Property: property}}
}

// Put stores a set input in a wire map under key: plain values converted by ToWire, outputs kept.
func Put[T any](w map[string]any, key string, in Input[T]) {
	if in.output != nil {
		w[key] = in.output
	} else if in.set {
		w[key] = ToWire(in.value)
	}
}

// PutSecret is Put for a secret property: a value that is not already a Secret is enveloped.
func PutSecret[T any](w map[string]any, key string, in Input[T]) {
	Put(w, key, in)
	if v, ok := w[key]; ok && in.output == nil && !IsSecret(v) {
		w[key] = secretEnvelope(v)
	}
}

// Stored is a resource as the engine reports it: the reply to engine.register when its step is
// done (Name, ID, Op, Outputs; unknowns in a preview), or the state after engine.close (Type, ID,
// Outputs). Outputs hold secrets enveloped; decode them with the generated XStateFromWire.
type Stored struct {
	Name, Type, ID, Op string
	Outputs            Wire
}

// Options are Pulumi's resource options (docs/engine.md); CustomTimeouts in seconds.
type Options struct {
	DependsOn           []string           `json:"dependsOn,omitempty"`
	IgnoreChanges       []string           `json:"ignoreChanges,omitempty"`
	DeleteBeforeReplace bool               `json:"deleteBeforeReplace,omitempty"`
	ReplaceOnChanges    []string           `json:"replaceOnChanges,omitempty"`
	Protect             bool               `json:"protect,omitempty"`
	RetainOnDelete      bool               `json:"retainOnDelete,omitempty"`
	CustomTimeouts      map[string]float64 `json:"customTimeouts,omitempty"`
	Import              string             `json:"import,omitempty"`
}

// Resource is the base of every generated resource type.
type Resource struct {
	Type    string
	Name    string
	Inputs  map[string]any
	Options Options
	done    chan struct{} // closed when reply or err is set
	reply   *Stored
	err     error
}

// Declared is any generated resource: they embed Resource, whose Base returns itself. A
// ResourceOption configures a resource at declaration: DependsOn adds explicit dependencies,
// With sets the others, e.g. runtime.With(func(o *runtime.Options) { o.Protect = true }).
type Declared interface{ Base() *Resource }
type ResourceOption func(*Resource)

func (r *Resource) Base() *Resource          { return r }
func With(set func(*Options)) ResourceOption { return func(r *Resource) { set(&r.Options) } }
func DependsOn(rs ...Declared) ResourceOption {
	return func(r *Resource) {
		for _, d := range rs {
			r.Options.DependsOn = append(r.Options.DependsOn, d.Base().Name)
		}
	}
}

// collector is the stack whose program is running; programs run one at a time.
var collector *Stack

// Init declares the resource in the stack whose program is running; generated constructors call it.
func (r *Resource) Init(typ, name string, inputs map[string]any, opts ...ResourceOption) {
	r.Type, r.Name, r.Inputs = typ, name, inputs
	for _, o := range opts {
		o(r)
	}
	if collector != nil {
		collector.declared = append(collector.declared, r)
	}
}

// NewResource declares a resource of any type from a wire map of inputs (Ref for references).
func NewResource(typ, name string, inputs map[string]any, opts ...ResourceOption) *Resource {
	r := &Resource{}
	r.Init(typ, name, inputs, opts...)
	return r
}

// Ref is an untyped reference to an output property of r (for NewResource inputs).
func (r *Resource) Ref(property string) *OutputRef {
	return &OutputRef{Resource: r, Property: property}
}

// Wait returns the engine's reply for r once its step is done.
func (r *Resource) Wait() (*Stored, error) {
	if r.done == nil {
		return nil, fmt.Errorf("%s was not registered by a running stack", r.Name)
	}
	<-r.done
	return r.reply, r.err
}

// encode is a value for engine.register: a derived ref computed if wait, else passed to derived.
func encode(v any, wait bool, derived func(*OutputRef)) (out any, err error) {
	switch x := v.(type) {
	case *OutputRef:
		if x.parts == nil {
			return Wire{Mark: "ref", "resource": x.Resource.Name, "property": x.Property}, nil
		} else if wait {
			return x.value()
		}
		derived(x)
		return nil, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k := range x {
			if m[k], err = encode(x[k], wait, derived); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		l := make([]any, len(x))
		for i := range x {
			if l[i], err = encode(x[i], wait, derived); err != nil {
				return nil, err
			}
		}
		return l, nil
	}
	return v, nil
}

func (o *OutputRef) sources() (out []*OutputRef) {
	if o.parts == nil {
		return []*OutputRef{o}
	}
	for _, p := range o.parts {
		out = append(out, p.sources()...)
	}
	return out
}

// value is the wire value once the sources' steps are done (unknown, secret if any source is).
func (o *OutputRef) value() (any, error) {
	if o.parts == nil {
		reg, err := o.Resource.Wait()
		if err != nil {
			return nil, fmt.Errorf("output %s.%s: %w", o.Resource.Name, o.Property, err)
		} else if v, ok := reg.Outputs[o.Property]; ok || o.Property != "id" {
			return v, nil
		} else if reg.ID == "" {
			return Wire{Mark: "unknown"}, nil
		}
		return reg.ID, nil
	}
	values, secret := make([]any, len(o.parts)), false
	for i, p := range o.parts {
		v, err := p.value()
		if err != nil || IsUnknown(v) {
			return v, err
		}
		secret, values[i] = secret || IsSecret(v), Reveal(v)
	}
	result, err := o.fn(values)
	if err != nil {
		return nil, fmt.Errorf("output %s.%s: %w", o.Resource.Name, o.Property, err)
	} else if secret && !IsSecret(result) {
		result = secretEnvelope(result)
	}
	return result, nil
}

// decodeAs converts a plain wire value to T (through JSON).
func decodeAs[T any](v any) (t T, err error) {
	data, err := json.Marshal(v)
	if err == nil && v != nil {
		err = json.Unmarshal(data, &t)
	}
	return t, err
}

// derive is an output computed by fn from the values of parts.
func derive[U any](fn func(vs []any) (any, error), parts ...OutputRef) Output[U] {
	ref := OutputRef{Resource: parts[0].Resource, Property: parts[0].Property, fn: fn}
	for i := range parts {
		ref.parts = append(ref.parts, &parts[i])
	}
	return Output[U]{Ref: ref}
}

// Apply is an output computed by fn once the value is known (the SDK waits for the engine's reply);
// fn gets a secret's plaintext and its result is a secret; unknown (preview) stays unknown.
func Apply[T, U any](o Output[T], fn func(T) U) Output[U] {
	return derive[U](func(vs []any) (any, error) {
		t, err := decodeAs[T](vs[0])
		if err != nil {
			return nil, err
		}
		return ToWire(fn(t)), nil
	}, o.Ref)
}

// Apply2 combines two outputs (unknown if either is unknown, secret if either is secret).
func Apply2[A, B, U any](a Output[A], b Output[B], fn func(A, B) U) Output[U] {
	return derive[U](func(vs []any) (any, error) {
		x, err1 := decodeAs[A](vs[0])
		y, err2 := decodeAs[B](vs[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return ToWire(fn(x, y)), nil
	}, a.Ref, b.Ref)
}

// Deref turns an Output[*T] of an optional attribute into an Output[T] (the same reference).
func Deref[T any](o Output[*T]) Output[T] { return Output[T]{Ref: o.Ref} }
