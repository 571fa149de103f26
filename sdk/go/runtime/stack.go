package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// PassphraseEnv names the variable holding the state passphrase (read by the engine).
const PassphraseEnv = "CREDPLANE_PASSPHRASE"

// StackOptions configure a Stack; every field is optional. Backend is the state URL (a
// directory, a .json state file, or s3://bucket/prefix?endpoint=..; StatePath is the same).
// Client defaults to `credplane serve --stdio [--sandbox]` (CREDPLANE_BIN) started on first use,
// or to the engine named by CREDPLANE_ENGINE. Passphrase defaults to the engine's
// CREDPLANE_PASSPHRASE, Parallelism to 16. Out receives the plan text (default os.Stdout).
type StackOptions struct {
	Backend, StatePath, Passphrase string
	Client                         *Client
	Sandbox                        bool
	Parallelism                    int
	Out                            io.Writer
}

// Change is one property change of a step (values masked: "[secret]", "(unknown)").
type Change struct {
	Name, Kind string
	Replace    bool
	Old, New   any
}

// Step is one step of a deployment; Note is "replaced" for the deletion of a replaced
// predecessor and "gone" for a resource refresh found deleted.
type Step struct {
	Op, Type, Name, ID, Note string
	DeleteBeforeReplace      bool
	Changes                  []Change
}

// Plan is what engine.close returns (Text: the rendered plan; Resources: the state after it),
// and the register replies.
type Plan struct {
	Summary    map[string]int
	Steps      []Step
	Text       string `json:"plan"`
	Outputs    Wire
	Warnings   []string
	MayExist   []Wire
	Resources  map[string]Stored
	Registered map[string]*Registered `json:"-"`
}

// Stored is a resource in the state (outputs with secrets enveloped).
type Stored struct {
	Type, ID string
	Outputs  Wire
}

// Ops maps each resource to its op (a replaced predecessor's deletion belongs to its replace).
func (p *Plan) Ops() map[string]string {
	ops := map[string]string{}
	for _, s := range p.Steps {
		if s.Note != "replaced" {
			ops[s.Name] = s.Op
		}
	}
	return ops
}

// Stack is a named set of resources declared by a program and deployed by the engine inside
// credplane: Up and Preview open a deployment, register every resource without waiting for the
// replies (only Apply waits, for its sources), and close it; the engine returns the plan.
type Stack struct {
	name       string
	program    func() error
	opts       StackOptions
	client     *Client
	declared   []*Resource
	registered map[string]*Registered
	state      map[string]Stored
}

// NewStack is a stack whose program declares its resources (called by Up and Preview).
func NewStack(name string, program func() error, opts StackOptions) *Stack {
	return &Stack{name: name, program: program, opts: opts, client: opts.Client}
}

// attached reports whether `credplane up -- <program>` started this process.
func attached() bool { return os.Getenv("CREDPLANE_ENGINE") != "" }

// Client is the connection (started on first use).
func (s *Stack) Client() (*Client, error) {
	var err error
	if s.client == nil && attached() {
		s.client = NewHTTPClient(os.Getenv("CREDPLANE_ENGINE"), os.Getenv("CREDPLANE_ENGINE_TOKEN"))
	} else if s.client == nil {
		s.client, err = NewStdioClient("", s.opts.Sandbox)
	}
	return s.client, err
}

// Close stops the process the stack started, if any.
func (s *Stack) Close() error {
	c := s.client
	if s.client = s.opts.Client; c == nil || c == s.opts.Client {
		return nil
	}
	return c.Close()
}

// Preview shows what Up would do; Up makes the cloud match the program; Refresh reads every
// resource (the plan reports drift); Destroy deletes every resource, dependents first.
func (s *Stack) Preview(ctx context.Context) (*Plan, error) { return s.run(ctx, "preview") }
func (s *Stack) Up(ctx context.Context) (*Plan, error)      { return s.run(ctx, "up") }
func (s *Stack) Refresh(ctx context.Context) (*Plan, error) { return s.run(ctx, "refresh") }
func (s *Stack) Destroy(ctx context.Context) (*Plan, error) { return s.run(ctx, "destroy") }

// State is the state after the last operation: name -> type, id, outputs.
func (s *Stack) State() map[string]Stored { return s.state }

// Outputs are the wire outputs of name after the last operation, with its "id".
func (s *Stack) Outputs(name string) (Wire, error) {
	r, ok := s.state[name]
	if reg := s.registered[name]; !ok && reg != nil {
		r, ok = Stored{ID: reg.ID, Outputs: reg.Outputs}, true
	}
	if !ok {
		return nil, fmt.Errorf("%s is not in the stack", name)
	}
	out := Wire{"id": r.ID}
	for k, v := range r.Outputs {
		out[k] = v
	}
	return out, nil
}

// Export is the stack's snapshot as stored (secrets stay sealed): engine.export.
func (s *Stack) Export(ctx context.Context) (doc Wire, err error) {
	c, err := s.Client()
	if err == nil {
		err = c.Call(ctx, "engine.export", Wire{"stack": s.name, "backend": s.backend()}, &doc)
	}
	return doc, err
}

func (s *Stack) backend() any {
	if b := s.opts.Backend + s.opts.StatePath; b != "" {
		return b
	}
	return nil
}

func (s *Stack) run(ctx context.Context, action string) (*Plan, error) {
	c, err := s.Client()
	if err == nil && (action == "up" || action == "preview") {
		s.declared, collector = nil, s
		err = s.program()
		collector = nil
	}
	if err != nil {
		return nil, err
	}
	deployment := os.Getenv("CREDPLANE_DEPLOYMENT")
	if !attached() {
		params := Wire{"stack": s.name, "action": action, "backend": s.backend()}
		if s.opts.Parallelism > 0 {
			params["parallelism"] = s.opts.Parallelism
		}
		if s.opts.Passphrase != "" {
			params["passphrase"] = secretEnvelope(s.opts.Passphrase)
		}
		var opened struct{ Deployment string }
		if err := c.Call(ctx, "engine.open", params, &opened); err != nil {
			return nil, err
		}
		deployment = opened.Deployment
	}
	var wg sync.WaitGroup
	for _, r := range s.declared {
		wg.Add(1)
		wait := s.register(ctx, c, deployment, r)
		go func() {
			defer wg.Done()
			r.err = wait()
			close(r.done)
		}()
	}
	wg.Wait()
	s.registered = map[string]*Registered{}
	var failed error
	for _, r := range s.declared {
		if r.err == nil {
			s.registered[r.Name] = r.reply
		} else if failed == nil || errors.As(r.err, new(*applyError)) {
			failed = r.err
		}
	}
	if attached() {
		return &Plan{Registered: s.registered}, failed
	} else if errors.As(failed, new(*applyError)) {
		// The engine never heard of a resource: closing would delete it, so cancel.
		_ = c.Call(ctx, "engine.cancel", Wire{"deployment": deployment}, nil)
		return nil, failed
	}
	plan := &Plan{Registered: s.registered}
	if err := c.Call(ctx, "engine.close", Wire{"deployment": deployment}, plan); err != nil {
		if e := (*Error)(nil); errors.As(err, &e) && e.Data.Plan != "" {
			s.print(e.Data.Plan)
		}
		return nil, err
	}
	s.print(plan.Text)
	s.state = plan.Resources
	return plan, failed
}

// register sends r's engine.register now (in declaration order), or, if an Apply computes one of
// its inputs, once the Apply's sources replied; the result waits for the reply.
func (s *Stack) register(ctx context.Context, c *Client, deployment string, r *Resource) func() error {
	r.done, r.reply, r.err = make(chan struct{}), nil, nil
	opts, derived := r.Options, false
	opts.DependsOn = append([]string(nil), opts.DependsOn...)
	inputs, _ := encode(r.Inputs, false, func(o *OutputRef) {
		derived = true
		for _, src := range o.sources() { // the engine sees no reference: declare the dependency
			opts.DependsOn = append(opts.DependsOn, src.Resource.Name)
		}
	})
	params := Wire{"deployment": deployment, "type": r.Type, "name": r.Name, "inputs": inputs, "options": opts}
	if !derived {
		w := c.T.Start(ctx, "engine.register", params)
		return func() error { return decode(w, &r.reply) }
	}
	return func() error {
		resolved, err := encode(r.Inputs, true, nil)
		if err != nil {
			return &applyError{err}
		}
		params["inputs"] = resolved
		return c.Call(ctx, "engine.register", params, &r.reply)
	}
}

func (s *Stack) print(text string) {
	if s.opts.Out == nil {
		s.opts.Out = os.Stdout
	}
	fmt.Fprintln(s.opts.Out, strings.TrimRight(text, "\n"))
}

// applyError is an Apply callback's failure (the engine never heard of the resource).
type applyError struct{ error }

func (e *applyError) Unwrap() error { return e.error }
