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

func TestOutputsStayInPlace(t *testing.T) {
	stack := &runtime.Stack{}
	key := resources.NewAwsIamAccessKey("k", resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")}, runtime.InStack(stack))
	other := resources.NewAwsIamAccessKey("k2", resources.AwsIamAccessKeyArgs{User: key.User().In()},
		runtime.InStack(stack), runtime.DependsOn(key))
	ref, ok := other.Inputs["user"].(*runtime.OutputRef)
	if !ok || ref.Resource != &key.Resource || ref.Property != "user" {
		t.Fatalf("input: %#v", other.Inputs["user"])
	}
	if len(stack.Resources) != 2 || other.DependsOn[0] != &key.Resource {
		t.Fatal("stack or dependsOn")
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
	if f := e.Failures(); len(f) != 1 || f[0].Property != "type" {
		t.Fatalf("failures %+v", f)
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
	c, err := runtime.NewStdioClient(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	schema, err := c.GetSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := schema.Resources[resources.AwsIamAccessKeyType]; !ok {
		t.Fatalf("resources: %v", schema.Resources)
	}
	doc, err := c.Discover(ctx)
	if err != nil || doc["openrpc"] == nil {
		t.Fatalf("discover: %v %v", err, doc["openrpc"])
	}
	args := resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")}
	ok, err := c.Check(ctx, runtime.CheckRequest{Type: resources.AwsIamAccessKeyType, News: args.ToWire()})
	if err != nil || len(ok.Failures) != 0 || ok.Inputs["status"] != "Active" {
		t.Fatalf("check: %v %+v", err, ok)
	}
	bad, err := c.Check(ctx, runtime.CheckRequest{Type: resources.AwsIamAccessKeyType, News: runtime.Wire{"user": 5}})
	if err != nil || len(bad.Failures) == 0 || bad.Failures[0].Property != "user" {
		t.Fatalf("check failures: %v %+v", err, bad)
	}
	_, err = c.Check(ctx, runtime.CheckRequest{Type: "nope", News: runtime.Wire{}})
	var rpcErr *runtime.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != runtime.CodeInvalidParams || rpcErr.Failures()[0].Property != "type" {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestCreatePreviewDecodesUnknowns(t *testing.T) {
	c, err := runtime.NewStdioClient(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	args := resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")}
	res, err := c.Create(context.Background(), runtime.CreateRequest{Type: resources.AwsIamAccessKeyType, Inputs: args.ToWire(), Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := resources.AwsIamAccessKeyStateFromWire(res.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	if st.User != "alice" || st.Status == nil || *st.Status != resources.KeyStatusActive || st.Secret != nil || st.ID != "" {
		t.Fatalf("%+v", st)
	}
}

func TestCheckOverHTTP(t *testing.T) {
	bin := binary(t)
	token := fmt.Sprintf("test-token-%d", os.Getpid())
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
	ok, err := runtime.NewHTTPClient(url, token).Check(ctx, runtime.CheckRequest{Type: resources.AwsIamAccessKeyType, News: runtime.Wire{"user": "alice"}})
	if err != nil || len(ok.Failures) != 0 {
		t.Fatalf("check: %v %+v", err, ok)
	}
	_, err = runtime.NewHTTPClient(url, "wrong").GetSchema(ctx)
	if !errors.Is(err, runtime.ErrInvalidRequest) {
		t.Fatalf("wrong token: %v", err)
	}
}
