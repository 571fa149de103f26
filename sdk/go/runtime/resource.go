package runtime

// OutputRef names an output property of a declared resource; the engine running the stack
// resolves it. It is left in place in wire maps.
type OutputRef struct {
	Resource *Resource
	Property string
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

// Stack is an ordered collection of declared resources.
type Stack struct{ Resources []*Resource }

// DefaultStack receives resources declared without InStack.
var DefaultStack = &Stack{}

// Resource is the base of every generated resource type.
type Resource struct {
	Type      string
	Name      string
	Inputs    map[string]any
	DependsOn []*Resource
	stack     *Stack
}

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

// InStack declares the resource in s instead of DefaultStack.
func InStack(s *Stack) ResourceOption { return func(r *Resource) { r.stack = s } }

// Init declares the resource; generated constructors call it.
func (r *Resource) Init(typ, name string, inputs map[string]any, opts ...ResourceOption) {
	r.Type, r.Name, r.Inputs, r.stack = typ, name, inputs, DefaultStack
	for _, o := range opts {
		o(r)
	}
	r.stack.Resources = append(r.stack.Resources, r)
}
