// Command quickstart: all five resource types on the sandbox, through the engine inside credplane.
//
// Creates an AWS IAM access key, an OCI customer secret key, an OCI auth token, a RAM access
// key and a KMS secret holding the RAM key's secret; prints the outputs (secrets masked);
// changes an updatable field (the auth token's description), shows the diff, applies it;
// destroys everything.
//
// Needs `credplane serve --stdio --sandbox`: set CREDPLANE_BIN to the binary (default:
// credplane on PATH). See README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/credplane/credplane/sdk/go/resources"
	"github.com/credplane/credplane/sdk/go/runtime"
)

const ociUser = "ocid1.user.oc1..aaaaaaaaalice"

// program declares the stack's resources with the generated typed structs.
func program(tokenDescription *string) func() error {
	return func() error {
		resources.NewAwsIamAccessKey("aws-key", resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")})
		resources.NewOciIdentityCustomerSecretKey("oci-s3-key", resources.OciIdentityCustomerSecretKeyArgs{
			DisplayName: runtime.Val("quickstart"), UserID: runtime.Val(ociUser)})
		resources.NewOciIdentityAuthToken("oci-token", resources.OciIdentityAuthTokenArgs{
			Description: runtime.Val(*tokenDescription), UserID: runtime.Val(ociUser)})
		ram := resources.NewAlicloudRamAccessKey("ram-key", resources.AlicloudRamAccessKeyArgs{UserName: runtime.Val("alice")})
		resources.NewAlicloudKmsSecret("ram-key-secret", resources.AlicloudKmsSecretArgs{
			SecretName: runtime.Val("quickstart/ram-key"),
			// The RAM key's secret, still a secret: unknown in the first preview.
			SecretData: runtime.Deref(ram.Secret()).In(),
			VersionID:  runtime.Val("v1"),
		})
		return nil
	}
}

// show prints a wire value with secrets masked.
func show(v any) string {
	if runtime.IsSecret(v) {
		return "[secret]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func main() {
	statePath := flag.String("state", "", "state file (default: a temporary directory)")
	keep := flag.Bool("keep", false, "do not destroy at the end")
	flag.Parse()
	if err := run(*statePath, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(statePath string, keep bool) error {
	ctx := context.Background()
	if os.Getenv("CREDPLANE_PASSPHRASE") == "" {
		os.Setenv("CREDPLANE_PASSPHRASE", "quickstart-demo-passphrase")
		fmt.Println("(CREDPLANE_PASSPHRASE not set: using a demo passphrase for the state)")
	}
	if statePath == "" {
		dir, err := os.MkdirTemp("", "credplane-quickstart-")
		if err != nil {
			return err
		}
		statePath = filepath.Join(dir, "state.json")
	}
	description := "created by the quickstart"
	stack := runtime.NewStack("quickstart", program(&description), runtime.StackOptions{StatePath: statePath, Sandbox: true})
	defer stack.Close()

	fmt.Println("\n### 1. preview")
	if _, err := stack.Preview(ctx); err != nil {
		return err
	}
	fmt.Println("\n### 2. up")
	if _, err := stack.Up(ctx); err != nil {
		return err
	}
	fmt.Println("\n### 3. outputs (secrets masked)")
	state := stack.State()
	names := make([]string, 0, len(state))
	for name := range state {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := state[name]
		fmt.Printf("%s %s (id %s)\n", r.Type, name, r.ID)
		keys := make([]string, 0, len(r.Outputs))
		for k := range r.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if r.Outputs[k] != nil {
				fmt.Printf("    %s = %s\n", k, show(r.Outputs[k]))
			}
		}
	}
	// The typed view: a runtime.Secret prints masked with every fmt verb.
	ramWire := runtime.Wire{"id": state["ram-key"].ID}
	for k, v := range state["ram-key"].Outputs {
		ramWire[k] = v
	}
	ram, err := resources.AlicloudRamAccessKeyStateFromWire(ramWire)
	if err != nil {
		return err
	}
	fmt.Printf("typed: RAM key %s, secret %v\n", ram.ID, ram.Secret)

	fmt.Println("\n### 4. change the auth token's description: the diff")
	description = "rotated by the quickstart"
	plan, err := stack.Preview(ctx)
	if err != nil {
		return err
	}
	if op := plan.Ops()["oci-token"]; op != "update" {
		return fmt.Errorf("oci-token: expected an update, got %q", op)
	}
	fmt.Println("\n### 5. apply it")
	if _, err := stack.Up(ctx); err != nil {
		return err
	}
	fmt.Println("\n### 6. refresh (no drift expected)")
	if _, err := stack.Refresh(ctx); err != nil {
		return err
	}
	if !keep {
		fmt.Println("\n### 7. destroy")
		if _, err := stack.Destroy(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("\nstate file: %s\n", statePath)
	return nil
}
