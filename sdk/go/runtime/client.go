package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
)

// Transport carries one JSON-RPC call and returns the raw result.
type Transport interface {
	Call(ctx context.Context, method string, params any) (json.RawMessage, error)
	Close() error
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int64  `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

type reply struct {
	ID     *int64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
}

func (r *reply) settle() (json.RawMessage, error) {
	if r.Error != nil {
		return nil, r.Error
	}
	return r.Result, nil
}

// StdioTransport runs `credplane serve --stdio` and multiplexes calls over its pipes;
// replies may come out of order and are matched by id.
type StdioTransport struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	nextID  atomic.Int64
	mu      sync.Mutex
	pending map[int64]chan *reply
	done    chan struct{}
	err     error
}

// NewStdioTransport starts binary ("credplane" from PATH if empty) with `serve --stdio` and args.
func NewStdioTransport(binary string, args ...string) (*StdioTransport, error) {
	if binary == "" {
		binary = "credplane"
	}
	cmd := exec.Command(binary, append([]string{"serve", "--stdio"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, &TransportError{err}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, &TransportError{err}
	}
	if err := cmd.Start(); err != nil {
		return nil, &TransportError{err}
	}
	t := &StdioTransport{cmd: cmd, stdin: stdin, pending: map[int64]chan *reply{}, done: make(chan struct{})}
	go t.readLoop(stdout)
	return t, nil
}

func (t *StdioTransport) readLoop(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	for sc.Scan() {
		var r reply
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.ID == nil {
			continue
		}
		t.mu.Lock()
		ch := t.pending[*r.ID]
		delete(t.pending, *r.ID)
		t.mu.Unlock()
		if ch != nil {
			ch <- &r
		}
	}
	t.mu.Lock()
	t.err = &TransportError{errors.New("credplane exited")}
	t.mu.Unlock()
	close(t.done)
}

// Call sends one request and waits for its reply.
func (t *StdioTransport) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	id := t.nextID.Add(1)
	line, err := json.Marshal(request{"2.0", id, method, params})
	if err != nil {
		return nil, err
	}
	ch := make(chan *reply, 1)
	t.mu.Lock()
	if t.err != nil {
		t.mu.Unlock()
		return nil, t.err
	}
	t.pending[id] = ch
	_, err = t.stdin.Write(append(line, '\n'))
	t.mu.Unlock()
	if err != nil {
		return nil, &TransportError{err}
	}
	select {
	case r := <-ch:
		return r.settle()
	case <-t.done:
		return nil, t.err
	case <-ctx.Done():
		t.mu.Lock()
		delete(t.pending, id)
		t.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Close ends the provider's input and waits for it to exit.
func (t *StdioTransport) Close() error {
	_ = t.stdin.Close()
	<-t.done
	return t.cmd.Wait()
}

// HTTPTransport POSTs calls to `credplane serve --listen` with a bearer token.
type HTTPTransport struct {
	URL    string
	Token  string
	Client *http.Client
	nextID atomic.Int64
}

// Call posts one request.
func (t *HTTPTransport) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	body, err := json.Marshal(request{"2.0", t.nextID.Add(1), method, params})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &TransportError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.Token)
	hc := t.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, &TransportError{err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, &TransportError{err}
	}
	var r reply
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, &TransportError{fmt.Errorf("HTTP %d: %.200s", res.StatusCode, data)}
	}
	return r.settle()
}

// Close does nothing: HTTP holds no session.
func (t *HTTPTransport) Close() error { return nil }

// Wire is a JSON object on the wire.
type Wire = map[string]any

// SchemaResponse is the result of getSchema.
type SchemaResponse struct {
	Version   string          `json:"version"`
	Resources map[string]Wire `json:"resources"`
}

// CheckRequest is the params of check.
type CheckRequest struct {
	Type string `json:"type"`
	Olds Wire   `json:"olds,omitempty"`
	News Wire   `json:"news"`
}

// CheckResponse is the result of check.
type CheckResponse struct {
	Inputs   Wire      `json:"inputs"`
	Failures []Failure `json:"failures"`
}

// DiffRequest is the params of diff.
type DiffRequest struct {
	Type          string   `json:"type"`
	ID            string   `json:"id"`
	Olds          Wire     `json:"olds"`
	News          Wire     `json:"news"`
	IgnoreChanges []string `json:"ignoreChanges,omitempty"`
}

// PropertyDiff is one changed property; Kind is add, add-replace, update, update-replace,
// delete or delete-replace.
type PropertyDiff struct {
	Kind string `json:"kind"`
}

// DiffResponse is the result of diff.
type DiffResponse struct {
	Changes             bool                    `json:"changes"`
	Replaces            []string                `json:"replaces"`
	Stables             []string                `json:"stables"`
	DeleteBeforeReplace bool                    `json:"deleteBeforeReplace"`
	DetailedDiff        map[string]PropertyDiff `json:"detailedDiff"`
}

// CreateRequest is the params of create.
type CreateRequest struct {
	Type           string `json:"type"`
	Inputs         Wire   `json:"inputs"`
	Preview        bool   `json:"preview,omitempty"`
	TimeoutSeconds uint64 `json:"timeoutSeconds,omitempty"`
}

// CreateResponse is the result of create.
type CreateResponse struct {
	ID      string `json:"id"`
	Outputs Wire   `json:"outputs"`
}

// ReadRequest is the params of read.
type ReadRequest struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Inputs         Wire   `json:"inputs,omitempty"`
	Outputs        Wire   `json:"outputs,omitempty"`
	TimeoutSeconds uint64 `json:"timeoutSeconds,omitempty"`
}

// ReadResponse is the result of read; nil when the object is gone.
type ReadResponse struct {
	ID      string `json:"id"`
	Inputs  Wire   `json:"inputs"`
	Outputs Wire   `json:"outputs"`
}

// UpdateRequest is the params of update.
type UpdateRequest struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Olds           Wire   `json:"olds"`
	News           Wire   `json:"news"`
	Preview        bool   `json:"preview,omitempty"`
	TimeoutSeconds uint64 `json:"timeoutSeconds,omitempty"`
}

// UpdateResponse is the result of update.
type UpdateResponse struct {
	Outputs Wire `json:"outputs"`
}

// DeleteRequest is the params of delete.
type DeleteRequest struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Outputs        Wire   `json:"outputs"`
	TimeoutSeconds uint64 `json:"timeoutSeconds,omitempty"`
}

// ConfigureRequest is the params of configure: per-cloud settings (AwsSettings etc. in
// schema/openrpc.json).
type ConfigureRequest struct {
	AWS      Wire `json:"aws,omitempty"`
	OCI      Wire `json:"oci,omitempty"`
	Alicloud Wire `json:"alicloud,omitempty"`
	Common   Wire `json:"common,omitempty"`
}

// CancelResponse is the result of cancel.
type CancelResponse struct {
	Cancelled uint64 `json:"cancelled"`
}

// Client makes typed calls of every provider method.
type Client struct{ T Transport }

// NewStdioClient starts `credplane serve --stdio` (binary from PATH if empty).
func NewStdioClient(binary string, args ...string) (*Client, error) {
	t, err := NewStdioTransport(binary, args...)
	if err != nil {
		return nil, err
	}
	return &Client{T: t}, nil
}

// NewHTTPClient connects to `credplane serve --listen` at url with token.
func NewHTTPClient(url, token string) *Client {
	return &Client{T: &HTTPTransport{URL: url, Token: token}}
}

func call[R any](ctx context.Context, c *Client, method string, params any) (*R, error) {
	raw, err := c.T.Call(ctx, method, params)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var r R
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &TransportError{fmt.Errorf("%s: decoding result: %w", method, err)}
	}
	return &r, nil
}

type empty struct{}

// GetSchema returns every resource's JSON Schema.
func (c *Client) GetSchema(ctx context.Context) (*SchemaResponse, error) {
	return call[SchemaResponse](ctx, c, "getSchema", empty{})
}

// Discover returns the OpenRPC document.
func (c *Client) Discover(ctx context.Context) (Wire, error) {
	doc, err := call[Wire](ctx, c, "rpc.discover", empty{})
	if err != nil || doc == nil {
		return nil, err
	}
	return *doc, nil
}

// Configure sets provider settings.
func (c *Client) Configure(ctx context.Context, req ConfigureRequest) error {
	_, err := call[empty](ctx, c, "configure", req)
	return err
}

// Check validates inputs and applies defaults.
func (c *Client) Check(ctx context.Context, req CheckRequest) (*CheckResponse, error) {
	return call[CheckResponse](ctx, c, "check", req)
}

// Diff compares old outputs with new inputs.
func (c *Client) Diff(ctx context.Context, req DiffRequest) (*DiffResponse, error) {
	return call[DiffResponse](ctx, c, "diff", req)
}

// Create creates (or, with Preview, previews) a resource.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*CreateResponse, error) {
	return call[CreateResponse](ctx, c, "create", req)
}

// Read refreshes a resource; nil when it is gone.
func (c *Client) Read(ctx context.Context, req ReadRequest) (*ReadResponse, error) {
	return call[ReadResponse](ctx, c, "read", req)
}

// Update changes a resource in place.
func (c *Client) Update(ctx context.Context, req UpdateRequest) (*UpdateResponse, error) {
	return call[UpdateResponse](ctx, c, "update", req)
}

// Delete deletes a resource.
func (c *Client) Delete(ctx context.Context, req DeleteRequest) error {
	_, err := call[empty](ctx, c, "delete", req)
	return err
}

// Cancel asks in-flight operations to stop.
func (c *Client) Cancel(ctx context.Context) (*CancelResponse, error) {
	return call[CancelResponse](ctx, c, "cancel", empty{})
}

// Close closes the transport.
func (c *Client) Close() error { return c.T.Close() }
