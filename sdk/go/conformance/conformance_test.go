// Package conformance runs the language-neutral conformance scenarios of
// tests/conformance/scenarios through the Go SDK against the engine of `credplane serve --stdio
// --sandbox` (the binary from CREDPLANE_BIN, else <repo>/target/debug/credplane); the state after
// a step is the one engine.close returns. The format
// is specified in tests/conformance/README.md; this runner checks every expect key exactly as
// the Python runner (sdk/python/tests/test_conformance.py) does, and rejects unknown keys.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/credplane/credplane/sdk/go/runtime"
)

type scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Steps       []step `json:"steps"`
}

type step struct {
	Action  string          `json:"action"`
	Program *[]resourceSpec `json:"program"`
	Expect  *expect         `json:"expect"`
}

type resourceSpec struct {
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Inputs    map[string]any `json:"inputs"`
	DependsOn []string       `json:"dependsOn"`
	Options   map[string]any `json:"options"` // passed to engine.register as they are
}

type planExpect struct {
	Op        string   `json:"op"`
	Changed   []string `json:"changed"`
	Unchanged []string `json:"unchanged"`
	ReplaceBy []string `json:"replaceBy"`
}

type outputExpect struct {
	Present []string       `json:"present"`
	Secret  []string       `json:"secret"`
	Values  map[string]any `json:"values"`
}

type errorExpect struct {
	Code      *int    `json:"code"`
	CloudCode *string `json:"cloudCode"`
	Message   *string `json:"message"`
}

type expect struct {
	Plan    *map[string]planExpect  `json:"plan"`
	Order   *[]string               `json:"order"`
	Unknown map[string][]string     `json:"unknown"`
	Masked  *map[string][]string    `json:"masked"`
	Outputs map[string]outputExpect `json:"outputs"`
	Equal   [][]string              `json:"equal"`
	SameID  []string                `json:"sameId"`
	NewID   []string                `json:"newId"`
	State   *[]string               `json:"state"`
	Error   *errorExpect            `json:"error"`
}

var actions = map[string]bool{"preview": true, "up": true, "refresh": true, "destroy": true}
var ops = map[string]bool{"create": true, "update": true, "replace": true, "delete": true, "import": true}

// parse decodes a scenario, rejecting anything the format does not define (typos included).
func parse(data []byte) (*scenario, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sc scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, err
	}
	if sc.Name == "" || len(sc.Steps) == 0 {
		return nil, errors.New("a scenario needs a name and steps")
	}
	for i, st := range sc.Steps {
		if !actions[st.Action] {
			return nil, fmt.Errorf("step %d: unknown action %q", i, st.Action)
		}
		if st.Program != nil {
			for _, r := range *st.Program {
				if r.Type == "" || r.Name == "" {
					return nil, fmt.Errorf("step %d: a resource needs a type and a name", i)
				}
			}
		}
		if st.Expect != nil {
			if st.Expect.Plan != nil {
				for n, e := range *st.Expect.Plan {
					if !ops[e.Op] {
						return nil, fmt.Errorf("step %d: plan of %s: op %q", i, n, e.Op)
					}
				}
			}
			for _, pair := range st.Expect.Equal {
				if len(pair) != 2 {
					return nil, fmt.Errorf("step %d: equal needs pairs", i)
				}
			}
			if st.Expect.Error != nil && st.Expect.Error.Code == nil {
				return nil, fmt.Errorf("step %d: error needs a code", i)
			}
		}
	}
	return &sc, nil
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// providerBinary is CREDPLANE_BIN or <repo>/target/debug/credplane; the test fails (never
// skips) when it is missing.
func providerBinary(t *testing.T) string {
	bin := os.Getenv("CREDPLANE_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "target", "debug", "credplane")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the provider binary %s is missing (build it with `cargo build --bin credplane` or set CREDPLANE_BIN): %v", bin, err)
	}
	return bin
}

func scenarioFiles(t *testing.T) []string {
	dir := os.Getenv("CREDPLANE_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "tests", "conformance", "scenarios")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// buildProgram declares spec's resources; secret literals are appended to literals.
func buildProgram(spec []resourceSpec, literals *[]string) func() error {
	return func() error {
		declared := map[string]*runtime.Resource{}
		var convert func(v any) (any, error)
		convert = func(v any) (any, error) {
			switch x := v.(type) {
			case map[string]any:
				if ref, ok := x["$ref"]; ok && len(x) == 1 {
					name, prop, _ := strings.Cut(fmt.Sprint(ref), ".")
					r, ok := declared[name]
					if !ok {
						return nil, fmt.Errorf("$ref to %s, not declared earlier", name)
					}
					return r.Ref(prop), nil
				}
				if runtime.IsSecret(x) {
					*literals = append(*literals, jsonText(x["value"]))
					inner, err := convert(x["value"])
					if err != nil {
						return nil, err
					}
					return map[string]any{"$credplane": "secret", "value": inner}, nil
				}
				out := map[string]any{}
				for k, e := range x {
					c, err := convert(e)
					if err != nil {
						return nil, err
					}
					out[k] = c
				}
				return out, nil
			case []any:
				out := make([]any, len(x))
				for i, e := range x {
					c, err := convert(e)
					if err != nil {
						return nil, err
					}
					out[i] = c
				}
				return out, nil
			}
			return v, nil
		}
		for _, r := range spec {
			var opts []runtime.ResourceOption
			for _, d := range r.DependsOn {
				dep, ok := declared[d]
				if !ok {
					return fmt.Errorf("%s depends on %s, not declared earlier", r.Name, d)
				}
				opts = append(opts, runtime.DependsOn(dep))
			}
			inputs, err := convert(r.Inputs)
			if err != nil {
				return err
			}
			if r.Options != nil {
				raw, _ := json.Marshal(r.Options)
				opts = append(opts, runtime.With(func(o *runtime.Options) { _ = json.Unmarshal(raw, o) }))
			}
			m, _ := inputs.(map[string]any)
			declared[r.Name] = runtime.NewResource(r.Type, r.Name, m, opts...)
		}
		return nil
	}
}

// jsonText is a plaintext as it could appear in a plan (strings as they are, others as JSON).
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// stepOf is the step of name (a replaced predecessor's deletion belongs to its replace).
func stepOf(plan *runtime.Plan, name string) *runtime.Step {
	for i, s := range plan.Steps {
		if s.Name == name && s.Note != "replaced" {
			return &plan.Steps[i]
		}
	}
	return nil
}

func changed(st *runtime.Step) []string {
	var out []string
	for _, c := range st.Changes {
		out = append(out, c.Name)
	}
	return out
}

func setOf(items []string) map[string]bool {
	out := map[string]bool{}
	for _, i := range items {
		out[i] = true
	}
	return out
}

func checkExpect(e *expect, plan *runtime.Plan, idsBefore map[string]string, literals []string, where string) error {
	text, state := plan.Text, plan.Resources
	if e.Plan != nil {
		got := map[string]string{}
		for n, op := range plan.Ops() {
			if op != "same" {
				got[n] = op
			}
		}
		want := map[string]string{}
		for n, p := range *e.Plan {
			want[n] = p.Op
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: plan ops %v != %v\n%s", where, got, want, text)
		}
		for name, p := range *e.Plan {
			st := stepOf(plan, name)
			if st == nil {
				return fmt.Errorf("%s: no step for %s", where, name)
			}
			changes := setOf(changed(st))
			for _, c := range p.Changed {
				if !changes[c] {
					return fmt.Errorf("%s: %s changes %v lack %s", where, name, changed(st), c)
				}
			}
			for _, c := range p.Unchanged {
				if changes[c] {
					return fmt.Errorf("%s: %s should not change %s", where, name, c)
				}
			}
			forced := map[string]bool{}
			for _, c := range st.Changes {
				if c.Replace {
					forced[c.Name] = true
				}
			}
			for _, c := range p.ReplaceBy {
				if !forced[c] {
					return fmt.Errorf("%s: %s replacement not forced by %s (forced by %v)", where, name, c, forced)
				}
			}
		}
	}
	if e.Order != nil {
		in := setOf(*e.Order)
		names := []string{}
		for _, s := range plan.Steps {
			if in[s.Name] && s.Note != "replaced" {
				names = append(names, s.Name)
			}
		}
		if !reflect.DeepEqual(names, *e.Order) {
			return fmt.Errorf("%s: order %v, want %v", where, names, *e.Order)
		}
	}
	lines := strings.Split(text, "\n")
	for name, props := range e.Unknown {
		reg, st := plan.Registered[name], stepOf(plan, name)
		if reg == nil || st == nil {
			return fmt.Errorf("%s: no step for %s", where, name)
		}
		for _, prop := range props {
			if !runtime.IsUnknown(reg.Outputs[prop]) {
				return fmt.Errorf("%s: %s.%s should be unknown, is %v", where, name, prop, jsonText(reg.Outputs[prop]))
			}
			for _, c := range st.Changes {
				if c.Name != prop {
					continue
				}
				found := false
				for _, l := range lines {
					t := strings.TrimSpace(l)
					if (strings.HasPrefix(t, "+") || strings.HasPrefix(t, "~") || strings.HasPrefix(t, "-")) &&
						strings.Contains(l, " "+prop+": ") && strings.Contains(l, "(unknown)") {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("%s: %s.%s not printed as (unknown)\n%s", where, name, prop, text)
				}
			}
		}
	}
	if e.Masked != nil {
		plaintexts := append([]string{}, literals...)
		for _, r := range state {
			for _, v := range r.Outputs {
				if runtime.IsSecret(v) {
					plaintexts = append(plaintexts, jsonText(runtime.Reveal(v)))
				}
			}
		}
		for _, p := range plaintexts {
			if strings.Contains(text, p) {
				return fmt.Errorf("%s: a secret leaked into the printed plan", where)
			}
		}
		for name, props := range *e.Masked {
			st := stepOf(plan, name)
			if st == nil {
				return fmt.Errorf("%s: no step for %s", where, name)
			}
			for _, prop := range props {
				var change *runtime.Change
				for i := range st.Changes {
					if st.Changes[i].Name == prop {
						change = &st.Changes[i]
					}
				}
				if change == nil || change.New != "[secret]" {
					return fmt.Errorf("%s: %s.%s not a secret change", where, name, prop)
				}
				found := false
				for _, l := range lines {
					if strings.Contains(l, " "+prop+": ") && strings.Contains(l, "[secret]") {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("%s: %s.%s not printed as [secret]\n%s", where, name, prop, text)
				}
			}
		}
	}
	for name, o := range e.Outputs {
		r, ok := state[name]
		if !ok {
			return fmt.Errorf("%s: %s not in the state", where, name)
		}
		r.Outputs = map[string]any{"id": r.ID}
		for k, v := range state[name].Outputs {
			r.Outputs[k] = v
		}
		for _, prop := range o.Present {
			if r.Outputs[prop] == nil {
				return fmt.Errorf("%s: %s.%s missing", where, name, prop)
			}
		}
		for _, prop := range o.Secret {
			if !runtime.IsSecret(r.Outputs[prop]) {
				return fmt.Errorf("%s: %s.%s not secret", where, name, prop)
			}
		}
		for prop, want := range o.Values {
			if got := runtime.Reveal(r.Outputs[prop]); !reflect.DeepEqual(got, want) {
				return fmt.Errorf("%s: %s.%s = %#v, want %#v", where, name, prop, got, want)
			}
		}
	}
	lookup := func(dotted string) (any, error) {
		name, prop, _ := strings.Cut(dotted, ".")
		r, ok := state[name]
		if !ok {
			return nil, fmt.Errorf("%s: %s not in the state", where, name)
		} else if prop == "id" {
			return r.ID, nil
		}
		return r.Outputs[prop], nil
	}
	for _, pair := range e.Equal {
		a, err := lookup(pair[0])
		if err != nil {
			return err
		}
		b, err := lookup(pair[1])
		if err != nil {
			return err
		}
		if a == nil || !reflect.DeepEqual(runtime.Reveal(a), runtime.Reveal(b)) {
			return fmt.Errorf("%s: %s != %s", where, pair[0], pair[1])
		}
	}
	for _, name := range e.SameID {
		before, ok := idsBefore[name]
		r, in := state[name]
		if !in || !ok || r.ID != before {
			return fmt.Errorf("%s: %s id changed", where, name)
		}
	}
	for _, name := range e.NewID {
		before, ok := idsBefore[name]
		r, in := state[name]
		if !in || (ok && r.ID == before) {
			return fmt.Errorf("%s: %s id unchanged", where, name)
		}
	}
	if e.State != nil {
		got := []string{}
		for name := range state {
			got = append(got, name)
		}
		want := append([]string{}, *e.State...)
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: state %v, want %v", where, got, want)
		}
	}
	return nil
}

// runScenario runs one scenario on a fresh provider process and an empty state in dir.
func runScenario(sc *scenario, bin, dir string) (err error) {
	ctx := context.Background()
	client, err := runtime.NewStdioClient(bin, true)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := client.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the provider: %w", cerr)
		}
	}()
	var literals []string
	var program []resourceSpec
	idsBefore := map[string]string{}
	for i, st := range sc.Steps {
		where := fmt.Sprintf("%s step %d (%s)", sc.Name, i, st.Action)
		if st.Program != nil {
			program = *st.Program
		}
		var out bytes.Buffer
		stack := runtime.NewStack(sc.Name, buildProgram(program, &literals), runtime.StackOptions{
			StatePath: filepath.Join(dir, "state.json"), Client: client, Out: &out, Passphrase: passphrase,
		})
		e := st.Expect
		if e == nil {
			e = &expect{}
		}
		var plan *runtime.Plan
		switch st.Action {
		case "preview":
			plan, err = stack.Preview(ctx)
		case "up":
			plan, err = stack.Up(ctx)
		case "refresh":
			plan, err = stack.Refresh(ctx)
		case "destroy":
			plan, err = stack.Destroy(ctx)
		}
		if e.Error != nil {
			var rpc *runtime.Error
			if !errors.As(err, &rpc) {
				return fmt.Errorf("%s: want JSON-RPC error %d, got %v", where, *e.Error.Code, err)
			}
			if rpc.Code != *e.Error.Code {
				return fmt.Errorf("%s: error code %d, want %d", where, rpc.Code, *e.Error.Code)
			}
			if e.Error.CloudCode != nil && rpc.Data.CloudCode != *e.Error.CloudCode {
				return fmt.Errorf("%s: cloud code %q, want %q", where, rpc.Data.CloudCode, *e.Error.CloudCode)
			}
			if e.Error.Message != nil && !strings.Contains(rpc.Message, *e.Error.Message) {
				return fmt.Errorf("%s: error message %q, want it to contain %q", where, rpc.Message, *e.Error.Message)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", where, err, out.String())
		}
		if err := checkExpect(e, plan, idsBefore, literals, where); err != nil {
			return err
		}
		idsBefore = map[string]string{}
		for name, r := range plan.Resources {
			idsBefore[name] = r.ID
		}
	}
	return nil
}

const passphrase = "conformance-passphrase"

func TestScenarios(t *testing.T) {
	t.Setenv("CREDPLANE_PASSPHRASE", passphrase) // for the engine, which the runner starts
	t.Setenv("CREDPLANE_ENGINE", "")
	bin := providerBinary(t)
	files := scenarioFiles(t)
	if len(files) < 4 {
		t.Fatalf("only %d scenarios found", len(files))
	}
	for _, f := range files {
		f := f
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := parse(data)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := runScenario(sc, bin, t.TempDir()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestScenariosAreValid(t *testing.T) {
	names := map[string]bool{}
	for _, f := range scenarioFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if sc.Steps[len(sc.Steps)-1].Action != "destroy" {
			t.Errorf("%s must end with destroy", f)
		}
		if names[sc.Name] {
			t.Errorf("%s: duplicate name %s", f, sc.Name)
		}
		names[sc.Name] = true
	}
}

func TestValidationRejectsTypos(t *testing.T) {
	for _, doc := range []string{
		`{"name": "x", "steps": [{"action": "up", "expect": {"plan": {"a": {"op": "create", "chnaged": []}}}}]}`,
		`{"name": "x", "steps": [{"action": "apply"}]}`,
		`{"name": "x", "steps": [{"action": "up", "expect": {"plans": {}}}]}`,
		`{"name": "x", "steps": [{"action": "up", "expect": {"plan": {"a": {"op": "modify"}}}}]}`,
		`{"name": "x", "steps": [{"action": "up", "expect": {"outputs": {"a": {"secrets": []}}}}]}`,
		`{"name": "x", "steps": [{"action": "up", "program": [{"type": "t", "name": "n", "input": {}}]}]}`,
		`{"name": "x", "steps": []}`,
	} {
		if _, err := parse([]byte(doc)); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

// The runner must notice wrong expectations (the Python runner's self-test, against the sandbox).
func TestRunnerDetectsWrongExpectations(t *testing.T) {
	t.Setenv("CREDPLANE_PASSPHRASE", passphrase)
	t.Setenv("CREDPLANE_ENGINE", "")
	bin := providerBinary(t)
	base := `{"type": "alicloud_kms_secret", "name": "kms", "inputs": {"secret_name": "neg", "secret_data": {"$credplane": "secret", "value": "NEG-PLAIN"}, "version_id": "v1"}}`
	for _, e := range []string{
		`{"plan": {"kms": {"op": "update"}}}`,
		`{"plan": {}}`,
		`{"plan": {"kms": {"op": "create", "changed": ["description"]}}}`,
		`{"outputs": {"kms": {"values": {"secret_name": "other"}}}}`,
		`{"outputs": {"kms": {"secret": ["secret_name"]}}}`,
		`{"state": []}`,
		`{"error": {"code": -32001}}`,
		`{"masked": {"kms": ["secret_name"]}}`,
		`{"unknown": {"kms": ["id"]}}`,
		`{"equal": [["kms.secret_name", "kms.version_id"]]}`,
		`{"sameId": ["kms"]}`,
	} {
		doc := fmt.Sprintf(`{"name": "negative", "steps": [{"action": "up", "program": [%s], "expect": %s}]}`, base, e)
		sc, err := parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if err := runScenario(sc, bin, t.TempDir()); err == nil {
			t.Errorf("the wrong expectation %s passed", e)
		}
	}
}
