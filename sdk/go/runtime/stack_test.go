package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The Python SDK renders testdata/python-plan.txt from the same plan (see the commit that
// added it); the Go rendering must be the same text.
func TestPlanRenderMatchesPython(t *testing.T) {
	want, err := os.ReadFile("testdata/python-plan.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := &Plan{Stack: "demo", Action: "preview", Warnings: []string{"interrupted creates pending for key"}}
	p.Steps = []*Step{
		{Op: OpCreate, Type: "aws_iam_access_key", Name: "key", Changes: []PropertyChange{
			{Name: "user", Kind: "add", New: "alice"}, {Name: "secret", Kind: "add", New: Unknown()}}},
		{Op: OpUpdate, Type: "alicloud_kms_secret", Name: "kms", ID: "kms-id", Changes: []PropertyChange{
			{Name: "secret_data", Kind: "update", Old: SecretValue("x"), New: SecretValue("y")},
			{Name: "tags", Kind: "update", Old: map[string]any{"b": 1.0, "a": "é\"\n"}, New: map[string]any{"a": []any{1.0, 2.5, true, nil}}},
			{Name: "gone", Kind: "delete", Old: "v"}}},
		{Op: OpReplace, Type: "alicloud_ram_access_key", Name: "ram", ID: "LTAI1", DeleteBeforeReplace: true, Changes: []PropertyChange{
			{Name: "user_name", Kind: "update", Old: "a", New: "b", Replace: true}}},
		{Op: OpDelete, Type: "aws_iam_access_key", Name: "old", ID: "AKIAOLD", Note: "replaced"},
		{Op: OpDelete, Type: "aws_iam_access_key", Name: "gone", ID: "AKIAGONE"},
		{Op: OpSame, Type: "aws_iam_access_key", Name: "same", ID: "AKIASAME"},
	}
	if got := p.Render() + "\n"; got != string(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// testdata/python-state.json was written by the Python SDK's StateFile (passphrase
// "interop-passphrase"): the Go SDK reads it, writes it back, and reads its own file.
func TestStateReadsPythonStateAndRoundTrips(t *testing.T) {
	st, err := NewStateFile("testdata/python-state.json", "interop-passphrase", 0).Load("x")
	if err != nil {
		t.Fatal(err)
	}
	kms := st.Get("kms")
	if st.Stack != "interop" || kms == nil || kms.ID != "kms-id" || !reflect.DeepEqual(kms.Dependencies, []string{"ram"}) {
		t.Fatalf("unexpected state %+v", st)
	}
	if !IsSecret(kms.Outputs["secret_data"]) || Reveal(kms.Outputs["secret_data"]) != "hunter2-plaintext" {
		t.Errorf("secret_data: %v", RenderValue(kms.Outputs["secret_data"]))
	}
	nested := kms.Outputs["nested"].(map[string]any)["list"].([]any)
	if !IsSecret(nested[1]) || !reflect.DeepEqual(Reveal(nested[1]), map[string]any{"k": "v"}) {
		t.Errorf("nested secret: %#v", nested)
	}
	if len(st.Pending) != 1 || st.Pending[0].Name != "key" || len(st.PendingDeletes) != 1 || !st.PendingDeletes[0].Partial {
		t.Errorf("pending: %+v %+v", st.Pending, st.PendingDeletes)
	}

	path := filepath.Join(t.TempDir(), "sub", "state.json")
	f := NewStateFile(path, "go-passphrase", 1<<10)
	if err := f.Save(st); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "hunter2-plaintext") || strings.Contains(string(raw), "old-secret") {
		t.Error("plaintext secret in the state file")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", info.Mode())
	}
	back, err := NewStateFile(path, "go-passphrase", 0).Load("x")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("round trip changed the state:\n%+v\n%+v", back, st)
	}
	_, err = NewStateFile(path, "wrong", 0).Load("x")
	var se *StateError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "wrong CREDPLANE_PASSPHRASE") {
		t.Errorf("wrong passphrase: %v", err)
	}
	t.Setenv(PassphraseEnv, "")
	_, err = NewStateFile(path, "", 0).Load("x")
	if !errors.Is(err, ErrPassphraseRequired) {
		t.Errorf("no passphrase: %v", err)
	}
	if err := NewStateFile(filepath.Join(t.TempDir(), "s.json"), "", 0).Save(st); !errors.Is(err, ErrPassphraseRequired) {
		t.Errorf("saving secrets without a passphrase: %v", err)
	}
}

func TestOutputApplyKeepsSecretsAndUnknowns(t *testing.T) {
	src := &Resource{Name: "src"}
	o := Apply(OutputOf[string](src, "secret"), func(s string) string { return "<" + s + ">" })
	known := func(v any) func(*Resource, string) any { return func(*Resource, string) any { return v } }
	if v, _ := o.Ref.resolve(known(SecretValue("p"))); !IsSecret(v) || Reveal(v) != "<p>" {
		t.Errorf("secret: %#v", v)
	}
	if v, _ := o.Ref.resolve(known("p")); v != "<p>" {
		t.Errorf("plain: %#v", v)
	}
	if v, _ := o.Ref.resolve(known(Unknown())); !IsUnknown(v) {
		t.Errorf("unknown: %#v", v)
	}
	r := NewResource("t", "dst", map[string]any{"x": o.In().output}, InStack(&Stack{}))
	if deps := r.Dependencies(); len(deps) != 1 || deps[0] != src {
		t.Errorf("dependencies %v", deps)
	}
}
