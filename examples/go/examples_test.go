// Package examples runs the Go examples end to end against `credplane serve --stdio --sandbox`
// (the binary from CREDPLANE_BIN, else <repo>/target/debug/credplane; the test fails when it
// is missing). credplane runs behind a wrapper that logs its replies (the engine's register and
// close replies carry every output), so that every secret value it ever returned is known and
// checked to be absent from the examples' output and the state file.
package examples

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credplane/credplane/sdk/go/runtime"
)

func providerBinary(t *testing.T) string {
	bin := os.Getenv("CREDPLANE_BIN")
	if bin == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(root, "target", "debug", "credplane")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the provider binary %s is missing (cargo build --bin credplane, or set CREDPLANE_BIN): %v", bin, err)
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// secretsIn collects the plaintext of every secret envelope in the logged provider replies.
func secretsIn(t *testing.T, log string) []string {
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if runtime.IsSecret(x) {
				if s, ok := runtime.Reveal(x).(string); ok && len(s) >= 8 {
					out = append(out, s)
				}
				return
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	for sc.Scan() {
		var v any
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			walk(v)
		}
	}
	return out
}

func TestExamples(t *testing.T) {
	bin := providerBinary(t)
	cases := []struct {
		name string
		pkg  string
		args []string
		want []string
	}{
		{"quickstart", "./quickstart", nil, []string{"### 7. destroy", "Resources: 5 deleted, 0 unchanged", "~ description: \"created by the quickstart\" => \"rotated by the quickstart\"", "secret_data: (unknown)", "typed: RAM key"}},
		{"rotate-alicloud", "./rotate_keys", []string{"-cloud", "alicloud"}, []string{"KMS secret now holds key-3", "Resources: 2 deleted, 0 unchanged"}},
		{"rotate-aws", "./rotate_keys", []string{"-cloud", "aws", "-rotations", "1"}, []string{"KMS secret now holds key-2", "Resources: 2 deleted, 0 unchanged"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			exe := filepath.Join(dir, "example")
			if out, err := exec.Command("go", "build", "-o", exe, c.pkg).CombinedOutput(); err != nil {
				t.Fatalf("go build %s: %v\n%s", c.pkg, err, out)
			}
			log := filepath.Join(dir, "provider.log")
			wrapper := filepath.Join(dir, "credplane-logged")
			script := fmt.Sprintf("#!/bin/sh\n%q \"$@\" | tee -a %q\n", bin, log)
			if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(dir, "state.json")
			cmd := exec.Command(exe, append([]string{"-state", state}, c.args...)...)
			cmd.Env = append(os.Environ(), "CREDPLANE_BIN="+wrapper, "CREDPLANE_PASSPHRASE=example-test")
			outBytes, err := cmd.CombinedOutput()
			out := string(outBytes)
			if err != nil {
				t.Fatalf("%s: %v\n%s", c.name, err, out)
			}
			if !strings.Contains(out, "[secret]") {
				t.Errorf("no [secret] in the output:\n%s", out)
			}
			for _, w := range append(c.want, "Destroyed stack") {
				if !strings.Contains(out, w) {
					t.Errorf("%q missing from the output:\n%s", w, out)
				}
			}
			secrets := secretsIn(t, log)
			if len(secrets) == 0 {
				t.Fatalf("no secret seen in the provider's replies (log %s)", log)
			}
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("a secret value returned by the provider was printed")
				}
			}
			raw, err := os.ReadFile(state) // the engine's snapshot
			if err != nil {
				t.Fatal(err)
			}
			var snapshot struct{ Resources, Pending, PendingDeletes []any }
			if err := json.Unmarshal(raw, &snapshot); err != nil {
				t.Fatal(err)
			}
			if n := len(snapshot.Resources) + len(snapshot.Pending) + len(snapshot.PendingDeletes); n != 0 {
				t.Errorf("not everything was destroyed: %d entries left in the snapshot", n)
			}
			for _, s := range secrets {
				if strings.Contains(string(raw), s) {
					t.Errorf("a secret value is in the state file in plaintext")
				}
			}
			if info, err := os.Stat(state); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("state file mode: %v %v", info.Mode(), err)
			}
		})
	}
}
