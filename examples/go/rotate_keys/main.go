// Command rotate_keys: zero-downtime key rotation, within the two-keys-per-user limit.
//
// The stack holds one access key (key-<n>) and a KMS secret whose value is that key's id and
// secret as JSON ({"AccessKeyId": ..., "AccessKeySecret": ...}). A rotation declares
// key-<n+1> instead: Up creates the new key (two keys exist for a moment), stores its secret in
// the KMS secret as a new version (an in-place update), then deletes the old key, which the
// program no longer declares. The user is back at one key.
//
// Needs `credplane serve --stdio --sandbox` (CREDPLANE_BIN). See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/credplane/credplane/sdk/go/resources"
	"github.com/credplane/credplane/sdk/go/runtime"
)

var keyName = regexp.MustCompile(`^key-(\d+)$`)

// credentials is the document stored in the KMS secret.
type credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
}

// secretDoc is the KMS secret's value: a secret, because the key's secret is.
func secretDoc(id string, secret *runtime.Secret[string]) runtime.Secret[string] {
	c := credentials{AccessKeyID: id}
	if secret != nil {
		c.AccessKeySecret = secret.Value()
	}
	doc, _ := json.Marshal(c)
	return runtime.NewSecret(string(doc))
}

func declare(cloud string, generation *int) func() error {
	return func() error {
		name := fmt.Sprintf("key-%d", *generation)
		var id runtime.Output[string]
		var secret runtime.Output[*runtime.Secret[string]]
		if cloud == "aws" {
			key := resources.NewAwsIamAccessKey(name, resources.AwsIamAccessKeyArgs{User: runtime.Val("alice")})
			id, secret = key.ID(), key.Secret()
		} else {
			key := resources.NewAlicloudRamAccessKey(name, resources.AlicloudRamAccessKeyArgs{UserName: runtime.Val("alice")})
			id, secret = key.ID(), key.Secret()
		}
		resources.NewAlicloudKmsSecret("current-key", resources.AlicloudKmsSecretArgs{
			SecretName:  runtime.Val("rotation/" + cloud + "-alice"),
			SecretData:  runtime.Apply2(id, secret, secretDoc).In(),
			VersionID:   runtime.Val(fmt.Sprintf("v%d", *generation)),
			Description: runtime.Apply(id, func(keyID string) string { return "access key " + keyID }).In(),
		})
		return nil
	}
}

// currentGeneration is the newest key's generation in the stored state (engine.export).
func currentGeneration(ctx context.Context, stack *runtime.Stack) (int, error) {
	doc, err := stack.Export(ctx)
	if errors.Is(err, runtime.ErrState) && strings.Contains(err.Error(), "no state") {
		return 0, nil // a new stack
	} else if err != nil {
		return 0, err
	}
	gen := 0
	stored, _ := doc["resources"].([]any)
	for _, r := range stored {
		name, _ := r.(map[string]any)["name"].(string)
		if m := keyName.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[1])
			gen = max(gen, n)
		}
	}
	return gen, nil
}

func main() {
	cloud := flag.String("cloud", "alicloud", "aws or alicloud")
	rotations := flag.Int("rotations", 2, "how many rotations")
	statePath := flag.String("state", "", "state file (default: a temporary directory)")
	keep := flag.Bool("keep", false, "do not destroy at the end")
	flag.Parse()
	if *cloud != "aws" && *cloud != "alicloud" {
		log.Fatalf("-cloud: aws or alicloud, not %q", *cloud)
	}
	if err := run(*cloud, *rotations, *statePath, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(cloud string, rotations int, statePath string, keep bool) error {
	ctx := context.Background()
	if os.Getenv("CREDPLANE_PASSPHRASE") == "" {
		os.Setenv("CREDPLANE_PASSPHRASE", "rotation-demo-passphrase")
	}
	if statePath == "" {
		dir, err := os.MkdirTemp("", "credplane-rotate-")
		if err != nil {
			return err
		}
		statePath = filepath.Join(dir, "state.json")
	}
	keyType := resources.AlicloudRamAccessKeyType
	if cloud == "aws" {
		keyType = resources.AwsIamAccessKeyType
	}
	generation := 1
	stack := runtime.NewStack("rotation", declare(cloud, &generation), runtime.StackOptions{StatePath: statePath, Sandbox: true})
	defer stack.Close()

	gen, err := currentGeneration(ctx, stack)
	if err != nil {
		return err
	}
	generation = max(gen, 1)
	fmt.Printf("### initial key (generation %d)\n", generation)
	if _, err := stack.Up(ctx); err != nil {
		return err
	}
	for i := 0; i < rotations; i++ {
		if gen, err = currentGeneration(ctx, stack); err != nil {
			return err
		}
		generation = gen + 1
		fmt.Printf("\n### rotate to generation %d\n", generation)
		plan, err := stack.Preview(ctx)
		if err != nil {
			return err
		}
		want := map[string]string{fmt.Sprintf("key-%d", generation): "create", "current-key": "update", fmt.Sprintf("key-%d", generation-1): "delete"}
		if !reflect.DeepEqual(plan.Ops(), want) {
			return fmt.Errorf("unexpected plan %v", plan.Ops())
		}
		if _, err := stack.Up(ctx); err != nil {
			return err
		}
		var keys []string
		for name, r := range stack.State() {
			if r.Type == keyType {
				keys = append(keys, name)
			}
		}
		if len(keys) != 1 {
			return fmt.Errorf("%d keys after the rotation, want 1", len(keys))
		}
		key := stack.State()[keys[0]]
		kms, err := resources.AlicloudKmsSecretStateFromWire(stack.State()["current-key"].Outputs)
		if err != nil {
			return err
		}
		var doc credentials
		if err := json.Unmarshal([]byte(kms.SecretData.Value()), &doc); err != nil {
			return fmt.Errorf("the KMS secret does not hold JSON: %w", err)
		}
		if doc.AccessKeyID != key.ID || doc.AccessKeySecret != runtime.Reveal(key.Outputs["secret"]) {
			return fmt.Errorf("the KMS secret does not hold %s", keys[0])
		}
		fmt.Printf("KMS secret now holds %s (id %s), value %v\n", keys[0], key.ID, kms.SecretData)
	}
	if !keep {
		fmt.Println("\n### destroy")
		if _, err := stack.Destroy(ctx); err != nil {
			return err
		}
	}
	return nil
}
