package runtime

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/scrypt"
)

// The stack state: a local JSON file, written atomically with mode 0600, in the same format as
// the Python SDK's state.py (either SDK reads the other's state).
//
// Secret values never reach the disk in plaintext: each is stored as
// {"$credplane": "secret", "ciphertext": "<base64 nonce||AES-256-GCM ciphertext>"} with a key
// derived by scrypt from CREDPLANE_PASSPHRASE and a random salt kept in the file's
// "encryption" header (with a verifier, so a wrong passphrase is reported as such).

const (
	// StateVersion is the version of the state file format.
	StateVersion = 1
	// PassphraseEnv holds the passphrase of the state's secrets.
	PassphraseEnv = "CREDPLANE_PASSPHRASE"
	// DefaultScryptN is the scrypt cost of a new state.
	DefaultScryptN = 1 << 15
	stateAAD       = "credplane-state-v1"
	stateVerifier  = "credplane-state-verifier"
)

// StateError: the state file is unreadable, inconsistent, or cannot be decrypted.
type StateError struct{ Msg string }

func (e *StateError) Error() string { return e.Msg }

// ErrPassphraseRequired is wrapped by the StateError raised when the state holds (or will
// hold) secrets and CREDPLANE_PASSPHRASE is not set.
var ErrPassphraseRequired = errors.New("passphrase required")

type passphraseError struct{ msg string }

func (e *passphraseError) Error() string { return e.msg }
func (e *passphraseError) Unwrap() error { return ErrPassphraseRequired }

// ResourceState is one resource recorded in the state (values in wire form, secrets
// enveloped in memory).
type ResourceState struct {
	Type         string
	Name         string
	ID           string
	Inputs       map[string]any
	Outputs      map[string]any
	Dependencies []string
	// Partial: created, but a later step of the creation failed (error -32004).
	Partial bool
}

// PendingOperation is a create that was started; removed once its outcome is recorded.
type PendingOperation struct {
	Op           string
	Type         string
	Name         string
	Inputs       map[string]any
	Dependencies []string
}

// StackState is the content of a state file.
type StackState struct {
	Stack     string
	Resources []*ResourceState
	Pending   []*PendingOperation
	// PendingDeletes are replaced resources whose deletion has not completed yet.
	PendingDeletes []*ResourceState
}

// Get is the resource name, or nil.
func (s *StackState) Get(name string) *ResourceState {
	for _, r := range s.Resources {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Put records r, replacing the resource of the same name in place.
func (s *StackState) Put(r *ResourceState) {
	for i, x := range s.Resources {
		if x.Name == r.Name {
			s.Resources[i] = r
			return
		}
	}
	s.Resources = append(s.Resources, r)
}

// Remove forgets the resource name.
func (s *StackState) Remove(name string) {
	out := s.Resources[:0:0]
	for _, r := range s.Resources {
		if r.Name != name {
			out = append(out, r)
		}
	}
	s.Resources = out
}

// HasSecrets reports whether any value of the state is a secret.
func (s *StackState) HasSecrets() bool {
	for _, r := range append(append([]*ResourceState{}, s.Resources...), s.PendingDeletes...) {
		if ContainsSecret(r.Inputs) || ContainsSecret(r.Outputs) {
			return true
		}
	}
	for _, p := range s.Pending {
		if ContainsSecret(p.Inputs) {
			return true
		}
	}
	return false
}

type encryptionHeader struct {
	Cipher   string `json:"cipher"`
	KDF      string `json:"kdf"`
	Salt     string `json:"salt"`
	N        int    `json:"n"`
	R        int    `json:"r"`
	P        int    `json:"p"`
	Verifier string `json:"verifier"`
}

type stateCipher struct{ aead cipher.AEAD }

func newStateCipher(passphrase string, salt []byte, n, r, p int) (*stateCipher, error) {
	key, err := scrypt.Key([]byte(passphrase), salt, n, r, p, 32)
	if err != nil {
		return nil, &StateError{fmt.Sprintf("scrypt: %v", err)}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &stateCipher{aead}, nil
}

func (c *stateCipher) encrypt(plaintext []byte) (string, error) {
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := c.aead.Seal(nil, nonce, plaintext, []byte(stateAAD))
	return base64.StdEncoding.EncodeToString(append(nonce, sealed...)), nil
}

func (c *stateCipher) decrypt(token string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, err
	}
	if len(raw) < 12 {
		return nil, errors.New("ciphertext too short")
	}
	return c.aead.Open(nil, raw[:12], raw[12:], []byte(stateAAD))
}

// StateFile loads and saves a StackState at Path.
type StateFile struct {
	Path       string
	passphrase string
	scryptN    int
	header     *encryptionHeader
	cipher     *stateCipher
}

// NewStateFile is the state at path; passphrase "" takes CREDPLANE_PASSPHRASE; scryptN 0 is
// DefaultScryptN (used for a new encryption header only).
func NewStateFile(path, passphrase string, scryptN int) *StateFile {
	if passphrase == "" {
		passphrase = os.Getenv(PassphraseEnv)
	}
	if scryptN == 0 {
		scryptN = DefaultScryptN
	}
	return &StateFile{Path: path, passphrase: passphrase, scryptN: scryptN}
}

// HasPassphrase reports whether a passphrase is set.
func (f *StateFile) HasPassphrase() bool { return f.passphrase != "" }

// RequirePassphrase fails when no passphrase is set.
func (f *StateFile) RequirePassphrase(why string) error {
	if f.passphrase == "" {
		return &passphraseError{fmt.Sprintf("set %s: %s", PassphraseEnv, why)}
	}
	return nil
}

func (f *StateFile) cipherFor(header *encryptionHeader) (*stateCipher, error) {
	if f.passphrase == "" {
		return nil, &passphraseError{fmt.Sprintf("the state %s holds secrets: set %s to decrypt them", f.Path, PassphraseEnv)}
	}
	if f.cipher != nil && header == f.header {
		return f.cipher, nil
	}
	var c *stateCipher
	var err error
	if header == nil {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		header = &encryptionHeader{Cipher: "AES-256-GCM", KDF: "scrypt", Salt: base64.StdEncoding.EncodeToString(salt), N: f.scryptN, R: 8, P: 1}
		if c, err = newStateCipher(f.passphrase, salt, header.N, 8, 1); err != nil {
			return nil, err
		}
		if header.Verifier, err = c.encrypt([]byte(stateVerifier)); err != nil {
			return nil, err
		}
	} else {
		if header.Cipher != "AES-256-GCM" || header.KDF != "scrypt" {
			return nil, &StateError{fmt.Sprintf("unsupported state encryption %s/%s", header.Cipher, header.KDF)}
		}
		salt, err := base64.StdEncoding.DecodeString(header.Salt)
		if err != nil {
			return nil, &StateError{fmt.Sprintf("%s: bad salt: %v", f.Path, err)}
		}
		if c, err = newStateCipher(f.passphrase, salt, header.N, header.R, header.P); err != nil {
			return nil, err
		}
		plain, err := c.decrypt(header.Verifier)
		if err != nil || string(plain) != stateVerifier {
			return nil, &StateError{fmt.Sprintf("wrong %s for the state %s", PassphraseEnv, f.Path)}
		}
	}
	f.header, f.cipher = header, c
	return c, nil
}

func (f *StateFile) seal(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if IsSecret(x) {
			plaintext, err := compactJSON(normalize(Reveal(x)))
			if err != nil {
				return nil, err
			}
			c, err := f.cipherFor(f.header)
			if err != nil {
				return nil, err
			}
			token, err := c.encrypt(plaintext)
			if err != nil {
				return nil, err
			}
			return map[string]any{Mark: "secret", "ciphertext": token}, nil
		}
		if IsUnknown(x) {
			return nil, &StateError{"an unknown value cannot be saved in the state"}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			s, err := f.seal(e)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			s, err := f.seal(e)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case *OutputRef:
		return nil, &StateError{"an unresolved output cannot be saved in the state"}
	}
	return v, nil
}

func (f *StateFile) open(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if x[Mark] == "secret" {
			if token, ok := x["ciphertext"]; ok {
				c, err := f.cipherFor(f.header)
				if err != nil {
					return nil, err
				}
				s, _ := token.(string)
				plaintext, err := c.decrypt(s)
				if err != nil {
					return nil, &StateError{fmt.Sprintf("a secret in %s cannot be decrypted", f.Path)}
				}
				var inner any
				if err := json.Unmarshal(plaintext, &inner); err != nil {
					return nil, &StateError{fmt.Sprintf("a secret in %s cannot be decrypted", f.Path)}
				}
				return SecretValue(Reveal(inner)), nil
			}
			if _, ok := x["value"]; ok {
				return nil, &StateError{fmt.Sprintf("%s holds a plaintext secret; refusing to load it", f.Path)}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			o, err := f.open(e)
			if err != nil {
				return nil, err
			}
			out[k] = o
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			o, err := f.open(e)
			if err != nil {
				return nil, err
			}
			out[i] = o
		}
		return out, nil
	}
	return v, nil
}

func hasCiphertext(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if x[Mark] == "secret" {
			if _, ok := x["ciphertext"]; ok {
				return true
			}
		}
		for _, e := range x {
			if hasCiphertext(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasCiphertext(e) {
				return true
			}
		}
	}
	return false
}

// The document as written (field order as in the Python SDK).
type resourceDoc struct {
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	ID           string   `json:"id"`
	Inputs       any      `json:"inputs"`
	Outputs      any      `json:"outputs"`
	Dependencies []string `json:"dependencies"`
	Partial      bool     `json:"partial,omitempty"`
}

type pendingDoc struct {
	Op           string   `json:"op"`
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	Inputs       any      `json:"inputs"`
	Dependencies []string `json:"dependencies"`
}

type stateDoc struct {
	Version        int               `json:"version"`
	Stack          string            `json:"stack"`
	Encryption     *encryptionHeader `json:"encryption"`
	Resources      []resourceDoc     `json:"resources"`
	Pending        []pendingDoc      `json:"pending"`
	PendingDeletes []resourceDoc     `json:"pendingDeletes"`
}

// Exists reports whether the file exists.
func (f *StateFile) Exists() bool {
	_, err := os.Stat(f.Path)
	return err == nil
}

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

func strs(v any) []string {
	out := []string{}
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Load reads the state (an empty state of stack when the file does not exist).
func (f *StateFile) Load(stack string) (*StackState, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return &StackState{Stack: stack}, nil
	}
	if err != nil {
		return nil, &StateError{fmt.Sprintf("cannot read the state %s: %v", f.Path, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, &StateError{fmt.Sprintf("cannot read the state %s: %v", f.Path, err)}
	}
	if v, ok := doc["version"].(float64); !ok || v != StateVersion {
		return nil, &StateError{fmt.Sprintf("%s: not a credplane state file (version %d)", f.Path, StateVersion)}
	}
	f.header, f.cipher = nil, nil
	if h, ok := doc["encryption"].(map[string]any); ok {
		raw, _ := json.Marshal(h)
		var header encryptionHeader
		if err := json.Unmarshal(raw, &header); err != nil {
			return nil, &StateError{fmt.Sprintf("%s: malformed encryption header: %v", f.Path, err)}
		}
		f.header = &header
	}
	if hasCiphertext(doc) {
		if f.header == nil {
			return nil, &StateError{fmt.Sprintf("%s: encrypted values but no encryption header", f.Path)}
		}
		if _, err := f.cipherFor(f.header); err != nil {
			return nil, err
		}
	}
	openMap := func(v any) (map[string]any, error) {
		o, err := f.open(asMap(v))
		if err != nil {
			return nil, err
		}
		return o.(map[string]any), nil
	}
	res := func(v any) (*ResourceState, error) {
		d, ok := v.(map[string]any)
		if !ok || d["type"] == nil || d["name"] == nil {
			return nil, &StateError{fmt.Sprintf("%s: malformed state: resource %v", f.Path, v)}
		}
		in, err := openMap(d["inputs"])
		if err != nil {
			return nil, err
		}
		out, err := openMap(d["outputs"])
		if err != nil {
			return nil, err
		}
		partial, _ := d["partial"].(bool)
		return &ResourceState{Type: str(d["type"]), Name: str(d["name"]), ID: str(d["id"]), Inputs: in, Outputs: out,
			Dependencies: strs(d["dependencies"]), Partial: partial}, nil
	}
	st := &StackState{Stack: str(doc["stack"])}
	if st.Stack == "" {
		st.Stack = stack
	}
	for _, v := range asList(doc["resources"]) {
		r, err := res(v)
		if err != nil {
			return nil, err
		}
		st.Resources = append(st.Resources, r)
	}
	for _, v := range asList(doc["pending"]) {
		d, ok := v.(map[string]any)
		if !ok || d["op"] == nil || d["type"] == nil || d["name"] == nil {
			return nil, &StateError{fmt.Sprintf("%s: malformed state: pending %v", f.Path, v)}
		}
		in, err := openMap(d["inputs"])
		if err != nil {
			return nil, err
		}
		st.Pending = append(st.Pending, &PendingOperation{Op: str(d["op"]), Type: str(d["type"]), Name: str(d["name"]),
			Inputs: in, Dependencies: strs(d["dependencies"])})
	}
	for _, v := range asList(doc["pendingDeletes"]) {
		r, err := res(v)
		if err != nil {
			return nil, err
		}
		st.PendingDeletes = append(st.PendingDeletes, r)
	}
	return st, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// Save writes the state atomically (temp file with mode 0600, fsync, rename).
func (f *StateFile) Save(st *StackState) error {
	if st.HasSecrets() {
		if err := f.RequirePassphrase("the state would hold secrets, which are only ever stored encrypted"); err != nil {
			return err
		}
		if _, err := f.cipherFor(f.header); err != nil {
			return err
		}
	}
	res := func(r *ResourceState) (resourceDoc, error) {
		in, err := f.seal(cloneMap(r.Inputs))
		if err != nil {
			return resourceDoc{}, err
		}
		out, err := f.seal(cloneMap(r.Outputs))
		if err != nil {
			return resourceDoc{}, err
		}
		deps := append([]string{}, r.Dependencies...)
		return resourceDoc{Type: r.Type, Name: r.Name, ID: r.ID, Inputs: in, Outputs: out, Dependencies: deps, Partial: r.Partial}, nil
	}
	doc := stateDoc{Version: StateVersion, Stack: st.Stack, Encryption: f.header,
		Resources: []resourceDoc{}, Pending: []pendingDoc{}, PendingDeletes: []resourceDoc{}}
	for _, r := range st.Resources {
		d, err := res(r)
		if err != nil {
			return err
		}
		doc.Resources = append(doc.Resources, d)
	}
	for _, p := range st.Pending {
		in, err := f.seal(cloneMap(p.Inputs))
		if err != nil {
			return err
		}
		doc.Pending = append(doc.Pending, pendingDoc{Op: p.Op, Type: p.Type, Name: p.Name, Inputs: in, Dependencies: append([]string{}, p.Dependencies...)})
	}
	for _, r := range st.PendingDeletes {
		d, err := res(r)
		if err != nil {
			return err
		}
		doc.PendingDeletes = append(doc.PendingDeletes, d)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return &StateError{fmt.Sprintf("cannot encode the state: %v", err)}
	}
	return WriteAtomic(f.Path, buf.Bytes())
}

// WriteAtomic writes data to a temp file (mode 0600) in the same directory, fsyncs it, then
// renames it over path (and fsyncs the directory).
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Locked holds an exclusive advisory lock on <path>.lock while fn runs (one run at a time
// per state).
func (f *StateFile) Locked(fn func() error) error {
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	lf, err := os.OpenFile(f.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := lockFile(lf); err != nil {
		return &StateError{fmt.Sprintf("another run holds %s.lock", f.Path)}
	}
	return fn()
}
