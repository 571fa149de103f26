package runtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/credplane/credplane/sdk/go/resources"
	"github.com/credplane/credplane/sdk/go/runtime"
)

func TestSecretIsMaskedWithEveryVerb(t *testing.T) {
	s := runtime.NewSecret("hunter2")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if got := fmt.Sprintf(verb, s); got != "[secret]" {
			t.Errorf("%s printed %q", verb, got)
		}
	}
	st := resources.AwsIamAccessKeyState{Secret: &s}
	if got := fmt.Sprintf("%+v", st); strings.Contains(got, "hunter2") {
		t.Errorf("state leaked the secret: %s", got)
	}
	if s.Value() != "hunter2" {
		t.Fatal("Value")
	}
}

func TestSecretEnvelopeRoundTrip(t *testing.T) {
	b, err := json.Marshal(runtime.NewSecret("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"$credplane":"secret","value":"hunter2"}` {
		t.Fatalf("envelope: %s", b)
	}
	var back runtime.Secret[string]
	if err := json.Unmarshal(b, &back); err != nil || back.Value() != "hunter2" {
		t.Fatalf("round trip: %v %q", err, back.Value())
	}
}

func TestArgsToWire(t *testing.T) {
	args := resources.AlicloudKmsSecretArgs{
		SecretName: runtime.Val("db"),
		SecretData: runtime.Val(runtime.NewSecret("pw")),
		VersionID:  runtime.Val("v1"),
		SecretType: runtime.Val(resources.SecretTypeGeneric),
	}
	got := args.ToWire()
	want := map[string]any{
		"secret_name": "db",
		"secret_data": map[string]any{"$credplane": "secret", "value": "pw"},
		"version_id":  "v1",
		"secret_type": "Generic",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}

func TestStateFromWire(t *testing.T) {
	st, err := resources.AwsIamAccessKeyStateFromWire(map[string]any{
		"id": "AKIA1", "user": "alice", "status": "Active",
		"secret":      map[string]any{"$credplane": "secret", "value": "wJal"},
		"create_date": map[string]any{"$credplane": "unknown"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Status == nil || *st.Status != resources.KeyStatusActive || st.Secret == nil || st.Secret.Value() != "wJal" || st.CreateDate != nil {
		t.Fatalf("%+v", st)
	}
}

func TestInvalidParamsReplyMapsToTypedError(t *testing.T) {
	var e runtime.Error
	raw := `{"code":-32602,"message":"invalid params","data":{"message":"m","retryable":false,"failures":[{"property":"type","reason":"unknown"}]}}`
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatal(err)
	}
	var err error = &e
	if !errors.Is(err, runtime.ErrInvalidParams) || errors.Is(err, runtime.ErrCloud) {
		t.Fatal("errors.Is")
	}
	if f := e.Data.Failures; len(f) != 1 || f[0].Property != "type" {
		t.Fatalf("failures %+v", f)
	}
	if err := error(&runtime.Error{Code: -32012}); !errors.Is(err, runtime.ErrProtected) || errors.Is(err, runtime.ErrLocked) {
		t.Fatal("engine codes")
	}
}

func binary(t *testing.T) string {
	if b := os.Getenv("CREDPLANE_BIN"); b != "" {
		return b
	}
	t.Skip("CREDPLANE_BIN not set (scripts/test-sdk-gen.sh sets it)")
	return ""
}

func TestCheckAndGetSchemaOverStdio(t *testing.T) {
	c, err := runtime.NewStdioClient(binary(t), false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var schema struct{ Resources map[string]any }
	if err := c.Call(ctx, "getSchema", runtime.Wire{}, &schema); err != nil || schema.Resources[resources.AwsIamAccessKeyType] == nil {
		t.Fatalf("getSchema: %v %v", err, schema.Resources)
	}
	type checked struct {
		Inputs   runtime.Wire
		Failures []runtime.Failure
	}
	args := resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")}
	// Pipelined: both sent before either reply is read.
	okWait := c.T.Start(ctx, "check", runtime.Wire{"type": resources.AwsIamAccessKeyType, "news": args.ToWire()})
	badWait := c.T.Start(ctx, "check", runtime.Wire{"type": resources.AwsIamAccessKeyType, "news": runtime.Wire{"user": 5}})
	var ok, bad checked
	for _, x := range []struct {
		wait func() (json.RawMessage, error)
		out  *checked
	}{{okWait, &ok}, {badWait, &bad}} {
		raw, err := x.wait()
		if err != nil || json.Unmarshal(raw, x.out) != nil {
			t.Fatal(err)
		}
	}
	if len(ok.Failures) != 0 || ok.Inputs["status"] != "Active" || len(bad.Failures) == 0 || bad.Failures[0].Property != "user" {
		t.Fatalf("check: %+v %+v", ok, bad)
	}
	err = c.Call(ctx, "check", runtime.Wire{"type": "nope", "news": runtime.Wire{}}, nil)
	var rpcErr *runtime.Error
	if !errors.Is(err, runtime.ErrInvalidParams) || !errors.As(err, &rpcErr) || rpcErr.Data.Failures[0].Property != "type" {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestCheckOverHTTP(t *testing.T) {
	bin := binary(t)
	token := fmt.Sprintf("test-token-at-least-32-characters-%d", os.Getpid()) // the server refuses shorter ones
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "CREDPLANE_TOKEN="+token)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := regexp.MustCompile(`listening on (http://\S+)`)
	sc := bufio.NewScanner(stderr)
	var url string
	for url == "" && sc.Scan() {
		if m := addr.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatal("the server did not print its address")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	ctx := context.Background()
	var ok struct{ Failures []runtime.Failure }
	err = runtime.NewHTTPClient(url, token).Call(ctx, "check", runtime.Wire{"type": resources.AwsIamAccessKeyType, "news": runtime.Wire{"user": "alice"}}, &ok)
	if err != nil || len(ok.Failures) != 0 {
		t.Fatalf("check: %v %+v", err, ok)
	}
	err = runtime.NewHTTPClient(url, "wrong").Call(ctx, "getSchema", runtime.Wire{}, nil)
	if !errors.Is(err, runtime.ErrInvalidRequest) {
		t.Fatalf("wrong token: %v", err)
	}
}
