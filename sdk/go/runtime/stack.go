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

// StackOptions (all optional): Backend, the state URL (a directory, a .json file, s3://..; or
// StatePath); Client (default: CREDPLANE_ENGINE, else `credplane serve --stdio [--sandbox]`);
// Passphrase (default: the engine's CREDPLANE_PASSPHRASE); Parallelism (the engine's default, 64); Out (os.Stdout).
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

// Step is one step; Note is "replaced" (a replaced predecessor's deletion) or "gone" (refresh).
type Step struct {
	Op, Type, Name, ID, Note string
	DeleteBeforeReplace      bool
	Changes                  []Change
}

// Plan is engine.close's result (Text: the plan; Resources: the state) and the register replies.
type Plan struct {
	Summary    map[string]int
	Steps      []Step
	Text       string `json:"plan"`
	Warnings   []string
	MayExist   []Wire
	Resources  map[string]Stored
	Registered map[string]*Stored `json:"-"`
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

// Stack runs a program's resources through the engine: open, one register per resource, sent
// without waiting for replies (only Apply waits, for its sources), close (the engine's plan).
type Stack struct {
	name     string
	program  func() error
	opts     StackOptions
	client   *Client
	declared []*Resource
	state    map[string]Stored
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
	if s.declared = nil; err == nil && (action == "up" || action == "preview") {
		collector = s
		err = s.program()
		collector = nil
	}
	deployment := os.Getenv("CREDPLANE_DEPLOYMENT")
	if err == nil && !attached() {
		var pass any // nil: the engine's CREDPLANE_PASSPHRASE
		if s.opts.Passphrase != "" {
			pass = secretEnvelope(s.opts.Passphrase)
		}
		var parallelism any // nil: the engine's default
		if s.opts.Parallelism > 0 {
			parallelism = s.opts.Parallelism
		}
		params := Wire{"stack": s.name, "action": action, "backend": s.backend(), "parallelism": parallelism, "passphrase": pass}
		var opened struct{ Deployment string }
		err = c.Call(ctx, "engine.open", params, &opened)
		deployment = opened.Deployment
	}
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for _, r := range s.declared {
		wg.Add(1)
		wait := s.register(ctx, c, deployment, r)
		go func() { r.err = wait(); close(r.done); wg.Done() }()
	}
	wg.Wait()
	plan := &Plan{Registered: map[string]*Stored{}}
	var failed error
	for _, r := range s.declared {
		if r.err == nil {
			plan.Registered[r.Name] = r.reply
		} else if failed == nil || errors.As(r.err, new(*applyError)) {
			failed = r.err
		}
	}
	if attached() {
		return plan, failed
	} else if errors.As(failed, new(*applyError)) { // the engine never heard of it: close would delete it
		_ = c.Call(ctx, "engine.cancel", Wire{"deployment": deployment}, nil)
		return nil, failed
	}
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

// register sends r now, or after its Apply sources' replies; the result awaits r's reply.
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
