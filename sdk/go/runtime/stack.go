package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// The stack engine: preview, up, refresh and destroy over a local state file, with the same
// behaviour as the Python SDK's stack.py.
//
// Crash safety: the state is written after every single operation. Before a create a pending
// marker is recorded; when the create's outcome is known the marker is replaced by the
// resource (or dropped). A later run reconciles any marker left by an interrupted run (see
// ResolvePending). A replaced resource is moved to pendingDeletes before its successor is
// created and deleted at the end of the run, after its dependents were updated to the
// successor (create-before-delete), so an interruption never loses track of it.

// ImportIDFromInputs: types whose id can be derived from the inputs, so an interrupted create
// can be looked up.
var ImportIDFromInputs = map[string]string{"alicloud_kms_secret": "secret_name"}

// CheckFailedError: check reported failures for a resource's inputs.
type CheckFailedError struct {
	Failures []Failure
	Resource string
}

func (e *CheckFailedError) Error() string {
	var parts []string
	for _, f := range e.Failures {
		p := f.Property
		if p == "" {
			p = "(resource)"
		}
		parts = append(parts, p+": "+f.Reason)
	}
	where := ""
	if e.Resource != "" {
		where = e.Resource + ": "
	}
	return where + "invalid inputs: " + strings.Join(parts, "; ")
}

// PendingOperationError: an earlier run was interrupted during a create whose result could not
// be reconciled.
type PendingOperationError struct{ Names []string }

func (e *PendingOperationError) Error() string {
	return "an earlier run was interrupted while creating " + strings.Join(e.Names, ", ") +
		": the resource may exist in the cloud with an unknown id. Call " +
		"Stack.ResolvePending(ctx, name, id) to adopt it, or Stack.ResolvePending(ctx, name, \"\") to " +
		"forget the marker after checking that nothing was created."
}

// StackOptions configure NewStack; every field is optional.
type StackOptions struct {
	// StatePath defaults to .credplane/<name>.state.json.
	StatePath string
	// Client defaults to `credplane serve --stdio` (Binary, else $CREDPLANE_BIN, else
	// credplane from PATH; --sandbox when Sandbox or $CREDPLANE_SANDBOX=1), closed by Close.
	Client  *Client
	Binary  string
	Sandbox bool
	// Passphrase defaults to $CREDPLANE_PASSPHRASE.
	Passphrase string
	// Out receives the printed plans (default os.Stdout); Quiet prints nothing.
	Out   io.Writer
	Quiet bool
	// ScryptN is the scrypt cost of a new state's key (default DefaultScryptN).
	ScryptN int
	// AfterOperation is called as (op, name) after each operation is recorded.
	AfterOperation func(op, name string)
	// Config is sent with configure before the first call.
	Config *ConfigureRequest
}

// Stack is a named set of resources declared by a program and tracked in a state file. Without
// NewStack it is only a collection of declared resources (see InStack, DefaultStack).
//
// The program is called at the start of each operation; resources constructed while it runs
// (without InStack) register into the stack. Alternatively declare resources with InStack(s)
// and pass a nil program. Programs of different stacks must not run concurrently.
type Stack struct {
	// Resources are the declared resources (without a program).
	Resources []*Resource

	name       string
	program    func() error
	stateFile  *StateFile
	client     *Client
	ownsClient bool
	opts       StackOptions
	configured bool
	out        io.Writer
}

var programMu sync.Mutex

// NewStack is the stack name running program (nil: the resources declared with InStack).
func NewStack(name string, program func() error, opts StackOptions) *Stack {
	path := opts.StatePath
	if path == "" {
		path = filepath.Join(".credplane", name+".state.json")
	}
	s := &Stack{name: name, program: program, stateFile: NewStateFile(path, opts.Passphrase, opts.ScryptN),
		client: opts.Client, ownsClient: opts.Client == nil, opts: opts, out: opts.Out}
	if s.out == nil {
		s.out = os.Stdout
	}
	if opts.Quiet {
		s.out = nil
	}
	return s
}

// Name is the stack's name.
func (s *Stack) Name() string { return s.name }

// StatePath is the state file's path.
func (s *Stack) StatePath() string { return s.stateFile.Path }

// ProviderArgs is the command line that serves the provider over stdio: binary (else
// $CREDPLANE_BIN, else credplane from PATH) and `serve --stdio`, plus --sandbox when sandbox or
// $CREDPLANE_SANDBOX=1.
func ProviderArgs(binary string, sandbox bool) (string, []string) {
	if binary == "" {
		binary = os.Getenv("CREDPLANE_BIN")
	}
	if binary == "" {
		binary = "credplane"
	}
	var args []string
	if sandbox || os.Getenv("CREDPLANE_SANDBOX") == "1" {
		args = append(args, "--sandbox")
	}
	return binary, args
}

// Client is the provider client (started on first use when the stack owns it).
func (s *Stack) Client(ctx context.Context) (*Client, error) {
	if s.client == nil {
		bin, args := ProviderArgs(s.opts.Binary, s.opts.Sandbox)
		c, err := NewStdioClient(bin, args...)
		if err != nil {
			return nil, err
		}
		s.client, s.configured = c, false
	}
	if s.opts.Config != nil && !s.configured {
		s.configured = true
		if err := s.client.Configure(ctx, *s.opts.Config); err != nil {
			return nil, err
		}
	}
	return s.client, nil
}

// Close stops an owned provider process (it is started again if the stack is used later).
func (s *Stack) Close() error {
	if s.client != nil && s.ownsClient {
		err := s.client.Close()
		s.client = nil
		return err
	}
	return nil
}

func (s *Stack) print(text string) {
	if s.out != nil {
		fmt.Fprintln(s.out, text)
	}
}

func topo(names []string, deps map[string][]string) ([]string, error) {
	var order []string
	state := map[string]int{}
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		if state[n] == 2 {
			return nil
		}
		if state[n] == 1 {
			return fmt.Errorf("dependency cycle: %s", strings.Join(append(path, n), " -> "))
		}
		state[n] = 1
		for _, d := range deps[n] {
			if _, ok := deps[d]; ok {
				if err := visit(d, append(append([]string{}, path...), n)); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func (s *Stack) declare() ([]*Resource, error) {
	var resources []*Resource
	if s.program != nil {
		programMu.Lock()
		into := &Stack{}
		prev := collector
		collector = into
		err := func() (err error) {
			defer func() {
				collector = prev
				if p := recover(); p != nil {
					err = fmt.Errorf("the program panicked: %v", p)
				}
			}()
			return s.program()
		}()
		programMu.Unlock()
		if err != nil {
			return nil, err
		}
		resources = into.Resources
	} else {
		resources = append(resources, s.Resources...)
	}
	seen := map[string]*Resource{}
	for _, r := range resources {
		if _, dup := seen[r.Name]; dup {
			return nil, fmt.Errorf("two resources are named %q", r.Name)
		}
		seen[r.Name] = r
	}
	names := make([]string, 0, len(resources))
	deps := map[string][]string{}
	for _, r := range resources {
		names = append(names, r.Name)
		deps[r.Name] = []string{}
		for _, d := range r.Dependencies() {
			if seen[d.Name] != d {
				return nil, fmt.Errorf("%s depends on %s, which is not declared in this stack", r.Name, d.Name)
			}
			deps[r.Name] = append(deps[r.Name], d.Name)
		}
	}
	order, err := topo(names, deps)
	if err != nil {
		return nil, err
	}
	out := make([]*Resource, len(order))
	for i, n := range order {
		out[i] = seen[n]
	}
	return out, nil
}

func (s *Stack) save(st *StackState, op, name string) error {
	if err := s.stateFile.Save(st); err != nil {
		return err
	}
	if s.opts.AfterOperation != nil {
		s.opts.AfterOperation(op, name)
	}
	return nil
}

func (s *Stack) load() (*StackState, error) { return s.stateFile.Load(s.name) }

// State is the current state (secrets decrypted, as envelopes).
func (s *Stack) State() (*StackState, error) { return s.load() }

// Outputs are the recorded outputs of the resource name (secrets stay envelopes: decode them
// with the generated XStateFromWire into runtime.Secret).
func (s *Stack) Outputs(name string) (map[string]any, error) {
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	r := st.Get(name)
	if r == nil {
		return nil, fmt.Errorf("no resource %q in the state of stack %s", name, s.name)
	}
	return cloneMap(r.Outputs), nil
}

// --- pending operations --------------------------------------------------------------------

func removePending(list []*PendingOperation, p *PendingOperation) []*PendingOperation {
	out := list[:0:0]
	for _, x := range list {
		if x != p {
			out = append(out, x)
		}
	}
	return out
}

func removeRes(list []*ResourceState, r *ResourceState) []*ResourceState {
	out := list[:0:0]
	for _, x := range list {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}

func (s *Stack) reconcile(ctx context.Context, st *StackState) error {
	var unresolved []string
	for _, p := range append([]*PendingOperation{}, st.Pending...) {
		prop, ok := ImportIDFromInputs[p.Type]
		var importID string
		if ok {
			importID, _ = Reveal(p.Inputs[prop]).(string)
		}
		if importID == "" {
			unresolved = append(unresolved, p.Name)
			continue
		}
		c, err := s.Client(ctx)
		if err != nil {
			return err
		}
		found, err := c.Read(ctx, ReadRequest{Type: p.Type, ID: importID, Inputs: p.Inputs})
		if err != nil {
			return err
		}
		st.Pending = removePending(st.Pending, p)
		if found != nil {
			inputs := found.Inputs
			if len(inputs) == 0 {
				inputs = p.Inputs
			}
			st.Put(&ResourceState{Type: p.Type, Name: p.Name, ID: found.ID, Inputs: cloneMap(inputs), Outputs: cloneMap(found.Outputs), Dependencies: p.Dependencies})
			s.print(fmt.Sprintf("  adopted %s %s (id %s) created by an interrupted run", p.Type, p.Name, found.ID))
		}
		if err := s.save(st, "reconcile", p.Name); err != nil {
			return err
		}
	}
	if len(unresolved) > 0 {
		return &PendingOperationError{unresolved}
	}
	return nil
}

// ResolvePending settles the marker of an interrupted create of name. With id: reads that
// resource and records it in the state (nothing is duplicated). With "": forgets the marker
// (after you checked that nothing was created).
func (s *Stack) ResolvePending(ctx context.Context, name, id string) error {
	return s.stateFile.Locked(func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		var marker *PendingOperation
		for _, p := range st.Pending {
			if p.Name == name {
				marker = p
				break
			}
		}
		if marker == nil {
			return fmt.Errorf("no pending operation for %s", name)
		}
		st.Pending = removePending(st.Pending, marker)
		if id != "" {
			c, err := s.Client(ctx)
			if err != nil {
				return err
			}
			found, err := c.Read(ctx, ReadRequest{Type: marker.Type, ID: id, Inputs: marker.Inputs})
			if err != nil {
				return err
			}
			if found == nil {
				return fmt.Errorf("%s %s does not exist", marker.Type, id)
			}
			inputs := found.Inputs
			if len(inputs) == 0 {
				inputs = marker.Inputs
			}
			foundID := found.ID
			if foundID == "" {
				foundID = id
			}
			st.Put(&ResourceState{Type: marker.Type, Name: name, ID: foundID, Inputs: cloneMap(inputs), Outputs: cloneMap(found.Outputs), Dependencies: marker.Dependencies})
		}
		return s.save(st, "resolve", name)
	})
}

// --- operations ----------------------------------------------------------------------------

// Preview is what Up would do. Nothing is changed, in the cloud or in the state.
func (s *Stack) Preview(ctx context.Context) (*Plan, error) {
	plan := &Plan{Stack: s.name, Action: "preview"}
	if err := s.run(ctx, false, plan); err != nil {
		return nil, err
	}
	s.print(plan.Render())
	return plan, nil
}

// Up creates, updates, replaces and deletes until the cloud matches the program. On failure,
// what was done so far is printed (and recorded in the state) with the error; running Up
// again continues from there.
func (s *Stack) Up(ctx context.Context) (*Plan, error) {
	plan := &Plan{Stack: s.name, Action: "up"}
	if err := s.run(ctx, true, plan); err != nil {
		if len(plan.Steps) > 0 {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("stopped by %s: %v; the steps listed were applied", errorKind(err), err))
			s.print(plan.Render())
		}
		return plan, err
	}
	s.print(plan.Render())
	return plan, nil
}

func errorKind(err error) string {
	var e *Error
	var t *TransportError
	var st *StateError
	switch {
	case errors.As(err, &e):
		return fmt.Sprintf("RpcError %d", e.Code)
	case errors.As(err, &t):
		return "TransportError"
	case errors.As(err, &st):
		return "StateError"
	}
	return "error"
}

func (s *Stack) run(ctx context.Context, apply bool, plan *Plan) error {
	resources, err := s.declare()
	if err != nil {
		return err
	}
	return s.stateFile.Locked(func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		if apply {
			if err := s.stateFile.RequirePassphrase("resources of every type have secret outputs, stored encrypted"); err != nil {
				return err
			}
			if err := s.reconcile(ctx, st); err != nil {
				return err
			}
		} else if len(st.Pending) > 0 {
			var names []string
			for _, p := range st.Pending {
				names = append(names, p.Name)
			}
			plan.Warnings = append(plan.Warnings, "interrupted creates pending for "+strings.Join(names, ", "))
		}
		type knownOutputs struct {
			outputs  map[string]any
			complete bool
		}
		known := map[string]knownOutputs{}
		lookup := func(r *Resource, prop string) any {
			k, ok := known[r.Name]
			if ok {
				if v, has := k.outputs[prop]; has {
					return v
				}
				if k.complete {
					return nil
				}
			}
			return Unknown()
		}
		for _, r := range resources {
			step, err := s.resourceStep(ctx, r, st, lookup, apply)
			if err != nil {
				return err
			}
			plan.Steps = append(plan.Steps, step)
			known[r.Name] = knownOutputs{step.Outputs, apply || step.Op == OpSame || step.Op == OpUpdate}
			r.outputs, r.id = step.Outputs, step.ID
		}
		declared := map[string]bool{}
		for _, r := range resources {
			declared[r.Name] = true
		}
		var gone []*ResourceState
		for _, r := range st.Resources {
			if !declared[r.Name] {
				gone = append(gone, r)
			}
		}
		rev, err := reverseOrder(gone)
		if err != nil {
			return err
		}
		for _, r := range rev {
			if apply {
				if err := s.deleteResource(ctx, r, 0); err != nil {
					return err
				}
				st.Remove(r.Name)
				if err := s.save(st, "delete", r.Name); err != nil {
					return err
				}
			}
			plan.Steps = append(plan.Steps, &Step{Op: OpDelete, Type: r.Type, Name: r.Name, ID: r.ID, Outputs: r.Outputs})
		}
		if apply {
			return s.finishPendingDeletes(ctx, st, plan)
		}
		for _, old := range st.PendingDeletes {
			plan.Steps = append(plan.Steps, &Step{Op: OpDelete, Type: old.Type, Name: old.Name, ID: old.ID, Outputs: old.Outputs, Note: "replaced"})
		}
		return nil
	})
}

// reverseOrder is the dependents-first order of items.
func reverseOrder(items []*ResourceState) ([]*ResourceState, error) {
	byName := map[string]*ResourceState{}
	names := make([]string, 0, len(items))
	deps := map[string][]string{}
	for _, r := range items {
		byName[r.Name] = r
		names = append(names, r.Name)
		deps[r.Name] = append([]string{}, r.Dependencies...)
	}
	order, err := topo(names, deps)
	if err != nil {
		return nil, err
	}
	out := make([]*ResourceState, 0, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		out = append(out, byName[order[i]])
	}
	return out, nil
}

func (s *Stack) deleteResource(ctx context.Context, r *ResourceState, timeout uint64) error {
	c, err := s.Client(ctx)
	if err != nil {
		return err
	}
	return c.Delete(ctx, DeleteRequest{Type: r.Type, ID: r.ID, Outputs: r.Outputs, TimeoutSeconds: timeout})
}

func (s *Stack) finishPendingDeletes(ctx context.Context, st *StackState, plan *Plan) error {
	for _, old := range append([]*ResourceState{}, st.PendingDeletes...) {
		if err := s.deleteResource(ctx, old, 0); err != nil {
			return err
		}
		st.PendingDeletes = removeRes(st.PendingDeletes, old)
		if err := s.save(st, "delete-replaced", old.Name); err != nil {
			return err
		}
		if plan != nil {
			plan.Steps = append(plan.Steps, &Step{Op: OpDelete, Type: old.Type, Name: old.Name, ID: old.ID, Outputs: old.Outputs, Note: "replaced"})
		}
	}
	return nil
}

func (s *Stack) check(ctx context.Context, r *Resource, news, olds map[string]any) (map[string]any, error) {
	c, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Check(ctx, CheckRequest{Type: r.Type, News: news, Olds: olds})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return map[string]any{}, nil
	}
	if len(res.Failures) > 0 {
		return nil, &CheckFailedError{Failures: res.Failures, Resource: r.Name}
	}
	if res.Inputs == nil {
		return map[string]any{}, nil
	}
	return res.Inputs, nil
}

func (s *Stack) previewCreate(ctx context.Context, r *Resource, news map[string]any) (map[string]any, error) {
	c, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Create(ctx, CreateRequest{Type: r.Type, Inputs: news, Preview: true})
	if err != nil {
		return nil, err
	}
	if res == nil || res.Outputs == nil {
		return map[string]any{}, nil
	}
	return res.Outputs, nil
}

func (s *Stack) create(ctx context.Context, st *StackState, r *Resource, inputs map[string]any, deps []string) (*ResourceState, error) {
	marker := &PendingOperation{Op: "create", Type: r.Type, Name: r.Name, Inputs: inputs, Dependencies: deps}
	st.Pending = append(st.Pending, marker)
	if err := s.save(st, "pending-create", r.Name); err != nil {
		return nil, err
	}
	c, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	created, err := c.Create(ctx, CreateRequest{Type: r.Type, Inputs: inputs, TimeoutSeconds: r.Timeouts["create"]})
	if err != nil {
		var rpc *Error
		if !errors.As(err, &rpc) || rpc.Code == CodeTimeout {
			return nil, err // the outcome is unknown: keep the marker for the next run to reconcile
		}
		st.Pending = removePending(st.Pending, marker)
		if rpc.Code == CodePartiallyCreated {
			st.Put(&ResourceState{Type: r.Type, Name: r.Name, ID: rpc.Data.ID, Inputs: inputs, Outputs: cloneMap(rpc.Data.Outputs), Dependencies: deps, Partial: true})
			if serr := s.save(st, "partially-created", r.Name); serr != nil {
				return nil, errors.Join(err, serr)
			}
			return nil, err
		}
		// The provider says nothing was created.
		if serr := s.save(st, "create-failed", r.Name); serr != nil {
			return nil, errors.Join(err, serr)
		}
		return nil, err
	}
	if created == nil {
		created = &CreateResponse{}
	}
	st.Pending = removePending(st.Pending, marker)
	rs := &ResourceState{Type: r.Type, Name: r.Name, ID: created.ID, Inputs: inputs, Outputs: cloneMap(created.Outputs), Dependencies: deps}
	st.Put(rs)
	if err := s.save(st, "create", r.Name); err != nil {
		return nil, err
	}
	return rs, nil
}

func resolveValue(v any, lookup func(*Resource, string) any) (any, error) {
	switch x := v.(type) {
	case *OutputRef:
		return x.resolve(lookup)
	case map[string]any:
		if IsSecret(x) {
			inner, err := resolveValue(x["value"], lookup)
			if err != nil {
				return nil, err
			}
			if IsSecret(inner) || IsUnknown(inner) {
				return inner, nil
			}
			return SecretValue(inner), nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := resolveValue(e, lookup)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := resolveValue(e, lookup)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *Stack) resourceStep(ctx context.Context, r *Resource, st *StackState, lookup func(*Resource, string) any, apply bool) (*Step, error) {
	var deps []string
	for _, d := range r.Dependencies() {
		deps = append(deps, d.Name)
	}
	if deps == nil {
		deps = []string{}
	}
	raw, err := resolveValue(r.Inputs, lookup)
	if err != nil {
		return nil, err
	}
	newsRaw, _ := raw.(map[string]any)
	if newsRaw == nil {
		newsRaw = map[string]any{}
	}
	old := st.Get(r.Name)
	if old != nil && old.Type != r.Type {
		// Same name, another type: create the new one, delete the old one at the end.
		news, err := s.check(ctx, r, newsRaw, nil)
		if err != nil {
			return nil, err
		}
		step := &Step{Op: OpReplace, Type: r.Type, Name: r.Name, ID: old.ID,
			Changes: []PropertyChange{{Name: "type", Kind: "update", Old: old.Type, New: r.Type, Replace: true}}}
		if apply {
			st.Remove(old.Name)
			st.PendingDeletes = append(st.PendingDeletes, old)
			if err := s.save(st, "replace-begin", r.Name); err != nil {
				return nil, err
			}
			rs, err := s.create(ctx, st, r, news, deps)
			if err != nil {
				return nil, err
			}
			step.ID, step.Outputs = rs.ID, rs.Outputs
		} else if step.Outputs, err = s.previewCreate(ctx, r, news); err != nil {
			return nil, err
		}
		return step, nil
	}
	var olds map[string]any
	if old != nil {
		olds = old.Inputs
	}
	news, err := s.check(ctx, r, newsRaw, olds)
	if err != nil {
		return nil, err
	}
	if old == nil {
		keys := make([]string, 0, len(news))
		for k := range news {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		step := &Step{Op: OpCreate, Type: r.Type, Name: r.Name}
		for _, k := range keys {
			step.Changes = append(step.Changes, PropertyChange{Name: k, Kind: "add", New: news[k]})
		}
		if apply {
			rs, err := s.create(ctx, st, r, news, deps)
			if err != nil {
				return nil, err
			}
			step.ID, step.Outputs = rs.ID, rs.Outputs
		} else if step.Outputs, err = s.previewCreate(ctx, r, news); err != nil {
			return nil, err
		}
		return step, nil
	}
	c, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	diff, err := c.Diff(ctx, DiffRequest{Type: r.Type, ID: old.ID, Olds: old.Outputs, News: news, IgnoreChanges: r.IgnoreChanges})
	if err != nil {
		return nil, err
	}
	if diff == nil {
		diff = &DiffResponse{}
	}
	props := make([]string, 0, len(diff.DetailedDiff))
	for p := range diff.DetailedDiff {
		props = append(props, p)
	}
	sort.Strings(props)
	replaces := map[string]bool{}
	for _, p := range diff.Replaces {
		replaces[p] = true
	}
	var changes []PropertyChange
	anyReplace := len(diff.Replaces) > 0
	for _, p := range props {
		kind := diff.DetailedDiff[p].Kind
		if kind == "" {
			kind = "update"
		}
		base, rep, _ := strings.Cut(kind, "-")
		oldValue, has := old.Outputs[p]
		if !has {
			oldValue = old.Inputs[p]
		}
		pc := PropertyChange{Name: p, Kind: base, Old: oldValue, New: news[p], Replace: rep != "" || replaces[p]}
		anyReplace = anyReplace || pc.Replace
		changes = append(changes, pc)
	}
	if !diff.Changes && len(changes) == 0 {
		if apply && (!equalStrings(old.Dependencies, deps) || old.Partial) {
			old.Dependencies, old.Partial = deps, false
			if err := s.save(st, "same", r.Name); err != nil {
				return nil, err
			}
		}
		return &Step{Op: OpSame, Type: r.Type, Name: r.Name, ID: old.ID, Outputs: old.Outputs}, nil
	}
	if anyReplace {
		step := &Step{Op: OpReplace, Type: r.Type, Name: r.Name, ID: old.ID, Changes: changes, DeleteBeforeReplace: diff.DeleteBeforeReplace}
		if !apply {
			if step.Outputs, err = s.previewCreate(ctx, r, news); err != nil {
				return nil, err
			}
			return step, nil
		}
		var rs *ResourceState
		if diff.DeleteBeforeReplace {
			if err := s.deleteResource(ctx, old, r.Timeouts["delete"]); err != nil {
				return nil, err
			}
			st.Remove(old.Name)
			if err := s.save(st, "delete-for-replace", r.Name); err != nil {
				return nil, err
			}
			if rs, err = s.create(ctx, st, r, news, deps); err != nil {
				return nil, err
			}
		} else {
			st.Remove(old.Name)
			st.PendingDeletes = append(st.PendingDeletes, old)
			if err := s.save(st, "replace-begin", r.Name); err != nil {
				return nil, err
			}
			// The old one is deleted at the end of the run.
			if rs, err = s.create(ctx, st, r, news, deps); err != nil {
				return nil, err
			}
		}
		step.ID, step.Outputs = rs.ID, rs.Outputs
		return step, nil
	}
	step := &Step{Op: OpUpdate, Type: r.Type, Name: r.Name, ID: old.ID, Changes: changes}
	if !apply {
		res, err := c.Update(ctx, UpdateRequest{Type: r.Type, ID: old.ID, Olds: old.Outputs, News: news, Preview: true})
		if errors.Is(err, ErrUnsupported) {
			merged := cloneMap(old.Outputs)
			for k, v := range news {
				merged[k] = v
			}
			step.Outputs = merged
			return step, nil
		}
		if err != nil {
			return nil, err
		}
		step.Outputs = map[string]any{}
		if res != nil && res.Outputs != nil {
			step.Outputs = res.Outputs
		}
		return step, nil
	}
	res, err := c.Update(ctx, UpdateRequest{Type: r.Type, ID: old.ID, Olds: old.Outputs, News: news, TimeoutSeconds: r.Timeouts["update"]})
	if err != nil {
		return nil, err
	}
	outputs := map[string]any{}
	if res != nil && res.Outputs != nil {
		outputs = res.Outputs
	}
	st.Put(&ResourceState{Type: r.Type, Name: r.Name, ID: old.ID, Inputs: news, Outputs: outputs, Dependencies: deps})
	if err := s.save(st, "update", r.Name); err != nil {
		return nil, err
	}
	step.Outputs = outputs
	return step, nil
}

// Refresh reads every resource: records drift, forgets what no longer exists.
func (s *Stack) Refresh(ctx context.Context) (*Plan, error) {
	plan := &Plan{Stack: s.name, Action: "refresh"}
	err := s.stateFile.Locked(func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		if len(st.Resources) > 0 {
			if err := s.stateFile.RequirePassphrase("the refreshed state may hold secrets"); err != nil {
				return err
			}
		}
		rev, err := reverseOrder(st.Resources)
		if err != nil {
			return err
		}
		for i := len(rev) - 1; i >= 0; i-- {
			r := rev[i]
			c, err := s.Client(ctx)
			if err != nil {
				return err
			}
			found, err := c.Read(ctx, ReadRequest{Type: r.Type, ID: r.ID, Inputs: r.Inputs, Outputs: r.Outputs})
			if err != nil {
				return err
			}
			if found == nil {
				st.Remove(r.Name)
				plan.Steps = append(plan.Steps, &Step{Op: OpDelete, Type: r.Type, Name: r.Name, ID: r.ID, Note: "gone"})
				if err := s.save(st, "refresh-gone", r.Name); err != nil {
					return err
				}
				continue
			}
			outputs := cloneMap(found.Outputs)
			for k, v := range r.Outputs {
				if outputs[k] == nil && IsSecret(v) {
					outputs[k] = v // secrets the cloud only returns at creation
				}
			}
			// Write-only inputs (secrets) are not read back: keep the applied ones.
			inputs := cloneMap(r.Inputs)
			for k, v := range found.Inputs {
				if v != nil {
					inputs[k] = v
				}
			}
			keys := map[string]bool{}
			for k := range r.Outputs {
				keys[k] = true
			}
			for k := range outputs {
				keys[k] = true
			}
			sorted := make([]string, 0, len(keys))
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			var changes []PropertyChange
			for _, k := range sorted {
				a, b := r.Outputs[k], outputs[k]
				if !deepEqual(Reveal(a), Reveal(b)) {
					kind := "update"
					if a == nil {
						kind = "add"
					} else if b == nil {
						kind = "delete"
					}
					changes = append(changes, PropertyChange{Name: k, Kind: kind, Old: a, New: b})
				}
			}
			id := found.ID
			if id == "" {
				id = r.ID
			}
			op := OpSame
			if len(changes) > 0 {
				op = OpUpdate
			}
			plan.Steps = append(plan.Steps, &Step{Op: op, Type: r.Type, Name: r.Name, ID: id, Changes: changes, Outputs: outputs})
			st.Put(&ResourceState{Type: r.Type, Name: r.Name, ID: id, Inputs: inputs, Outputs: outputs, Dependencies: r.Dependencies, Partial: r.Partial})
			if err := s.save(st, "refresh", r.Name); err != nil {
				return err
			}
		}
		s.print(plan.Render())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// Destroy deletes every resource in the state, dependents first.
func (s *Stack) Destroy(ctx context.Context) (*Plan, error) {
	plan := &Plan{Stack: s.name, Action: "destroy"}
	err := s.stateFile.Locked(func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		if len(st.Pending) > 0 {
			if err := s.reconcile(ctx, st); err != nil {
				return err
			}
		}
		rev, err := reverseOrder(st.Resources)
		if err != nil {
			return err
		}
		for _, r := range rev {
			if err := s.deleteResource(ctx, r, 0); err != nil {
				return err
			}
			st.Remove(r.Name)
			plan.Steps = append(plan.Steps, &Step{Op: OpDelete, Type: r.Type, Name: r.Name, ID: r.ID})
			if err := s.save(st, "delete", r.Name); err != nil {
				return err
			}
		}
		if err := s.finishPendingDeletes(ctx, st, plan); err != nil {
			return err
		}
		s.print(plan.Render())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}
