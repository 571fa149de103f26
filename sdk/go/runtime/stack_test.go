package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credplane/credplane/sdk/go/resources"
	"github.com/credplane/credplane/sdk/go/runtime"
)

// fakeEngine records calls. It answers a register only once `expect` registers arrived (or
// fails after a second), so an SDK that waited for each reply before sending the next is seen.
type fakeEngine struct {
	mu         sync.Mutex
	calls      []call
	expect     int
	outputs    func(name string) runtime.Wire
	closeError *runtime.Error
}

type call struct {
	Method string
	Params map[string]any
}

func (f *fakeEngine) registers() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, c := range f.calls {
		if c.Method == "engine.register" {
			out = append(out, c.Params)
		}
	}
	return out
}

func (f *fakeEngine) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method)
	}
	return out
}

func (f *fakeEngine) Start(_ context.Context, method string, params any) func() (json.RawMessage, error) {
	var p map[string]any
	b, _ := json.Marshal(params) // what the wire carries
	_ = json.Unmarshal(b, &p)
	f.mu.Lock()
	f.calls = append(f.calls, call{method, p})
	f.mu.Unlock()
	reply := func(v any) (json.RawMessage, error) { b, err := json.Marshal(v); return b, err }
	return func() (json.RawMessage, error) {
		switch method {
		case "engine.open":
			return reply(runtime.Wire{"deployment": "d-1", "warnings": []string{}})
		case "engine.close":
			if f.closeError != nil {
				return nil, f.closeError
			}
			return reply(runtime.Wire{"plan": "PLAN TEXT", "steps": []runtime.Wire{{"op": "create", "name": "a"}},
				"resources": runtime.Wire{"a": runtime.Wire{"type": "t", "id": "id-a", "outputs": runtime.Wire{}}}})
		case "engine.register":
			for deadline := time.Now().Add(time.Second); len(f.registers()) < f.expect; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					return nil, fmt.Errorf("only %d of %d registrations were sent", len(f.registers()), f.expect)
				}
			}
			name := p["name"].(string)
			out := runtime.Wire{}
			if f.outputs != nil {
				out = f.outputs(name)
			}
			return reply(runtime.Wire{"name": name, "id": "id-" + name, "op": "create", "outputs": out})
		}
		return reply(runtime.Wire{})
	}
}

func (f *fakeEngine) Close() error { return nil }

func stackOn(f *fakeEngine, out io.Writer, program func() error) *runtime.Stack {
	return runtime.NewStack("s", program, runtime.StackOptions{Client: &runtime.Client{T: f}, Backend: "/tmp/x.json", Out: out})
}

func secretOf(v string) runtime.Wire { return runtime.Wire{"$credplane": "secret", "value": v} }

func TestUpPipelinesRegistrationsSendsReferencesAndPrintsTheEnginesPlan(t *testing.T) {
	f := &fakeEngine{expect: 11}
	var out bytes.Buffer
	plan, err := stackOn(f, &out, func() error {
		ram := resources.NewAlicloudRamAccessKey("ram", resources.AlicloudRamAccessKeyArgs{UserName: runtime.Val("alice")})
		for i := 0; i < 10; i++ {
			resources.NewAlicloudKmsSecret(fmt.Sprintf("kms-%d", i), resources.AlicloudKmsSecretArgs{
				SecretName: runtime.Val(fmt.Sprint(i)), SecretData: runtime.Deref(ram.Secret()).In(), VersionID: runtime.Val("v1"),
			}, runtime.DependsOn(ram), runtime.With(func(o *runtime.Options) { o.Protect = true }))
		}
		return nil
	}).Up(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m := f.methods(); m[0] != "engine.open" || m[len(m)-1] != "engine.close" || len(m) != 13 {
		t.Fatalf("calls: %v", m)
	}
	kms := f.registers()[1]
	want := map[string]any{"$credplane": "ref", "resource": "ram", "property": "secret"}
	if got := kms["inputs"].(map[string]any)["secret_data"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("reference: %#v", got)
	}
	if opts := kms["options"]; !reflect.DeepEqual(opts, map[string]any{"dependsOn": []any{"ram"}, "protect": true}) {
		t.Fatalf("options: %#v", opts)
	}
	if out.String() != "PLAN TEXT\n" || plan.Ops()["a"] != "create" || plan.Registered["kms-3"].ID != "id-kms-3" {
		t.Fatalf("plan: %q %v", out.String(), plan.Ops())
	}
}

func TestApplyWaitsForItsSourceKeepsSecretsAndUnknowns(t *testing.T) {
	for _, c := range []struct{ secret, want runtime.Wire }{
		{secretOf("S3CRET"), secretOf("S3CRET!")},
		{runtime.Wire{"$credplane": "unknown"}, runtime.Wire{"$credplane": "unknown"}},
	} {
		f := &fakeEngine{expect: 1, outputs: func(name string) runtime.Wire { return runtime.Wire{"secret": c.secret} }}
		_, err := stackOn(f, io.Discard, func() error {
			ram := resources.NewAlicloudRamAccessKey("ram", resources.AlicloudRamAccessKeyArgs{UserName: runtime.Val("alice")})
			resources.NewAlicloudKmsSecret("kms", resources.AlicloudKmsSecretArgs{
				SecretName: runtime.Apply(ram.ID(), func(id string) string { return "n-" + id }).In(),
				SecretData: runtime.Apply(runtime.Deref(ram.Secret()), func(s runtime.Secret[string]) runtime.Secret[string] {
					return runtime.NewSecret(s.Value() + "!")
				}).In(),
				VersionID: runtime.Val("v1"),
			})
			return nil
		}).Preview(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		kms := f.registers()[1]
		inputs := kms["inputs"].(map[string]any)
		if !reflect.DeepEqual(inputs["secret_data"], map[string]any(c.want)) || inputs["secret_name"] != "n-id-ram" {
			t.Fatalf("inputs: %#v", inputs)
		}
		if !reflect.DeepEqual(kms["options"], map[string]any{"dependsOn": []any{"ram", "ram"}}) {
			t.Fatalf("options: %#v", kms["options"])
		}
	}
}

func TestAFailedApplyCancelsInsteadOfClosing(t *testing.T) {
	f := &fakeEngine{expect: 1, outputs: func(string) runtime.Wire { return runtime.Wire{"create_time": 5} }}
	_, err := stackOn(f, io.Discard, func() error {
		ram := resources.NewAlicloudRamAccessKey("ram", resources.AlicloudRamAccessKeyArgs{UserName: runtime.Val("alice")})
		resources.NewAlicloudKmsSecret("kms", resources.AlicloudKmsSecretArgs{
			SecretName: runtime.Apply(ram.CreateTime(), func(s *string) string { return *s }).In(), // 5 is no string
			SecretData: runtime.Val(runtime.NewSecret("x")), VersionID: runtime.Val("v1"),
		})
		return nil
	}).Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "output ram.create_time") {
		t.Fatalf("err: %v", err)
	}
	if m := f.methods(); !reflect.DeepEqual(m, []string{"engine.open", "engine.register", "engine.cancel"}) {
		t.Fatalf("calls: %v", m)
	}
}

func TestAFailedClosePrintsWhatWasDoneAndReturnsTheTypedError(t *testing.T) {
	f := &fakeEngine{closeError: &runtime.Error{Code: -32012, Message: "protected", Data: runtime.ErrorData{Plan: "DONE SO FAR"}}}
	var out bytes.Buffer
	_, err := stackOn(f, &out, func() error { return nil }).Destroy(context.Background())
	if !errors.Is(err, runtime.ErrProtected) || out.String() != "DONE SO FAR\n" {
		t.Fatalf("%v %q", err, out.String())
	}
	if m := f.methods(); !reflect.DeepEqual(m, []string{"engine.open", "engine.close"}) {
		t.Fatalf("calls: %v", m)
	}
}

func TestWithCredplaneEngineSetUpRegistersIntoTheGivenDeployment(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			ID     int64
			Method string
			Params map[string]any
		}
		_ = json.NewDecoder(r.Body).Decode(&msg)
		mu.Lock()
		seen = append(seen, fmt.Sprint(msg.Method, " ", msg.Params["deployment"], " ", r.Header.Get("Authorization")))
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(runtime.Wire{"jsonrpc": "2.0", "id": msg.ID,
			"result": runtime.Wire{"name": msg.Params["name"], "id": "x", "op": "create", "outputs": runtime.Wire{}}})
	}))
	defer srv.Close()
	t.Setenv("CREDPLANE_ENGINE", srv.URL)
	t.Setenv("CREDPLANE_ENGINE_TOKEN", "tok")
	t.Setenv("CREDPLANE_DEPLOYMENT", "d-cli")
	st := runtime.NewStack("s", func() error {
		resources.NewAwsIamAccessKey("a", resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")})
		resources.NewAwsIamAccessKey("b", resources.AwsIamAccessKeyArgs{User: runtime.Val("bob")})
		return nil
	}, runtime.StackOptions{})
	defer st.Close()
	plan, err := st.Up(context.Background())
	if err != nil || plan.Text != "" {
		t.Fatal(err)
	}
	want := []string{"engine.register d-cli Bearer tok", "engine.register d-cli Bearer tok"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("calls: %v", seen)
	}
}

func TestRefreshAndDestroyRegisterNothing(t *testing.T) {
	f := &fakeEngine{expect: 1}
	st := stackOn(f, io.Discard, func() error {
		resources.NewAwsIamAccessKey("a", resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")})
		return nil
	})
	for _, op := range []func(context.Context) (*runtime.Plan, error){st.Up, st.Refresh, st.Destroy} {
		if _, err := op(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.registers()); n != 1 {
		t.Fatalf("%d registrations, want 1 (up only): %v", n, f.methods())
	}
}
