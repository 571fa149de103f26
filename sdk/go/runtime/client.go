package runtime

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
)

// Transport carries JSON-RPC calls; Start sends one and returns a function awaiting its reply.
type Transport interface {
	Start(ctx context.Context, method string, params any) func() (json.RawMessage, error)
	Close() error
}

func request(id int64, method string, params any) ([]byte, error) {
	return json.Marshal(Wire{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
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

// StdioTransport multiplexes calls over the pipes of `credplane serve --stdio` (replies by id).
type StdioTransport struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	nextID  atomic.Int64
	mu      sync.Mutex
	wmu     sync.Mutex // writes, apart from mu: a blocked write waits for replies readLoop settles under mu
	pending map[int64]chan *reply
	done    chan struct{}
	err     error
}

// NewStdioClient starts `credplane serve --stdio [--sandbox] args...`; binary defaults to
// CREDPLANE_BIN, else credplane from PATH.
func NewStdioClient(binary string, sandbox bool, args ...string) (*Client, error) {
	if sandbox {
		args = append([]string{"--sandbox"}, args...)
	}
	cmd := exec.Command(cmp.Or(binary, os.Getenv("CREDPLANE_BIN"), "credplane"), append([]string{"serve", "--stdio"}, args...)...)
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	err := errors.Join(err1, err2)
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return nil, &TransportError{err}
	}
	t := &StdioTransport{cmd: cmd, stdin: stdin, pending: map[int64]chan *reply{}, done: make(chan struct{})}
	go t.readLoop(stdout)
	return &Client{T: t}, nil
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

func (t *StdioTransport) Start(ctx context.Context, method string, params any) func() (json.RawMessage, error) {
	id, ch := t.nextID.Add(1), make(chan *reply, 1)
	line, err := request(id, method, params)
	t.mu.Lock()
	if err = cmp.Or(err, t.err); err == nil {
		t.pending[id] = ch
	}
	t.mu.Unlock()
	if err == nil {
		t.wmu.Lock()
		_, err = t.stdin.Write(append(line, '\n'))
		t.wmu.Unlock()
	}
	if err != nil {
		return func() (json.RawMessage, error) { return nil, err }
	}
	return func() (json.RawMessage, error) {
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
}

// Close ends the provider's input and waits for it to exit; an HTTPTransport has nothing to close.
func (t *HTTPTransport) Close() error { return nil }
func (t *StdioTransport) Close() error {
	_ = t.stdin.Close()
	<-t.done
	return t.cmd.Wait()
}

// HTTPTransport POSTs calls to `credplane serve --listen` (or CREDPLANE_ENGINE) with a token.
type HTTPTransport struct {
	URL    string
	Token  string
	nextID atomic.Int64
}

// Start posts the request when its reply is awaited (a Stack awaits each registration in a
// goroutine of its own, so they run concurrently).
func (t *HTTPTransport) Start(ctx context.Context, method string, params any) func() (json.RawMessage, error) {
	return func() (json.RawMessage, error) { return t.post(ctx, method, params) }
}
func (t *HTTPTransport) post(ctx context.Context, method string, params any) (json.RawMessage, error) {
	body, err := request(t.nextID.Add(1), method, params)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &TransportError{err}
	}
	req.Header = http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + t.Token}}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, &TransportError{err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	var r reply
	if err != nil || json.Unmarshal(data, &r) != nil {
		return nil, &TransportError{fmt.Errorf("HTTP %d: %.200s", res.StatusCode, data)}
	}
	return r.settle()
}

// Client is a connection to credplane: any provider or engine.* method by name. NewHTTPClient
// talks to `credplane serve --listen` (or an engine) at url; Close stops the connection (and the
// process NewStdioClient started).
type Client struct{ T Transport }

func NewHTTPClient(url, token string) *Client {
	return &Client{T: &HTTPTransport{URL: url, Token: token}}
}
func (c *Client) Close() error { return c.T.Close() }

// Call calls method with params by name, decoding the result into out (if not nil).
func (c *Client) Call(ctx context.Context, method string, params, out any) error {
	return decode(c.T.Start(ctx, method, params), out)
}

func decode(wait func() (json.RawMessage, error), out any) error {
	raw, err := wait()
	if err == nil && out != nil && json.Unmarshal(raw, out) != nil {
		err = &TransportError{fmt.Errorf("bad result: %.200s", raw)}
	}
	return err
}
