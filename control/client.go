package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// Bounds of the answers a client reads, so that a server, or whatever
// answers in its place, cannot make it allocate without limit.
const (
	// maxAnswer bounds a successful answer: a volume's description is
	// about a kilobyte, so this is room for tens of thousands of volumes.
	maxAnswer = 32 << 20
	// maxErrorAnswer bounds an error answer, a sentence or two.
	maxErrorAnswer = 64 << 10
)

// plainToTLS is what Go's HTTPS servers answer a plain HTTP request.
const plainToTLS = "Client sent an HTTP request to an HTTPS server"

// Client calls one server's control API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the server at host:port. It speaks HTTPS
// when hc's transport carries a TLS configuration (pki.ClientTLS with the
// cluster's CA, or pki.PinnedTLS), plain HTTP otherwise.
func NewClient(host string, port int, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	scheme := "http"
	if t, ok := hc.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	return &Client{base: u.String(), token: token, http: hc}
}

// Create creates a volume, or returns the existing one with that layout.
func (c *Client) Create(ctx context.Context, req CreateRequest) (Volume, error) {
	var vol Volume
	err := c.do(ctx, http.MethodPost, "/v1/volumes", req, &vol)
	return vol, err
}

// Volume describes a volume, its bricks' online state and its clients.
func (c *Client) Volume(ctx context.Context, name string) (Volume, error) {
	var vol Volume
	err := c.do(ctx, http.MethodGet, "/v1/volumes/"+url.PathEscape(name), nil, &vol)
	return vol, err
}

// Volumes lists every volume, without status.
func (c *Client) Volumes(ctx context.Context) ([]Volume, error) {
	var vols []Volume
	err := c.do(ctx, http.MethodGet, "/v1/volumes", nil, &vols)
	return vols, err
}

// Lookup describes one volume without status, as Volumes lists it: one
// `gluster volume info`, where Volume also asks every brick for its state.
// The error wraps ErrNotFound if the volume does not exist.
func (c *Client) Lookup(ctx context.Context, name string) (Volume, error) {
	var vols []Volume
	if err := c.do(ctx, http.MethodGet, "/v1/volumes?name="+url.QueryEscape(name), nil, &vols); err != nil {
		return Volume{}, err
	}
	// A server older than the query lists every volume.
	for _, v := range vols {
		if v.Name == name {
			return v, nil
		}
	}
	// As the server reports a missing volume: an answer, not an
	// unreachable server, to Cluster.
	return Volume{}, &APIError{Server: c.base, Code: http.StatusNotFound, Message: fmt.Sprintf("%s: %s", ErrNotFound, name)}
}

// Delete stops and deletes a volume and its bricks.
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/volumes/"+url.PathEscape(name), nil, nil)
}

// Start starts a volume.
func (c *Client) Start(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/start", nil, nil)
}

// Stop stops a volume.
func (c *Client) Stop(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/stop", nil, nil)
}

// Peers lists the storage pool.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var peers []Peer
	err := c.do(ctx, http.MethodGet, "/v1/peers", nil, &peers)
	return peers, err
}

// AddPeer has the server add the server at address to the storage pool.
func (c *Client) AddPeer(ctx context.Context, address string) (Peer, error) {
	var peer Peer
	err := c.do(ctx, http.MethodPost, "/v1/peers", PeerRequest{Address: address}, &peer)
	return peer, err
}

// RemovePeer has the server take the server at address out of the pool.
func (c *Client) RemovePeer(ctx context.Context, address string) error {
	return c.do(ctx, http.MethodDelete, "/v1/peers/"+url.PathEscape(address), nil, nil)
}

// RaiseReplica raises a volume's replica count and starts its heal.
func (c *Client) RaiseReplica(ctx context.Context, name string, req ReplicaRequest) (Volume, error) {
	var vol Volume
	err := c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/replica", req, &vol)
	return vol, err
}

// ReplaceBrick moves a volume's brick to another server and starts its heal.
func (c *Client) ReplaceBrick(ctx context.Context, name string, req ReplaceRequest) (Volume, error) {
	var vol Volume
	err := c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/replace-brick", req, &vol)
	return vol, err
}

// Heal reports a volume's self-heal progress.
func (c *Client) Heal(ctx context.Context, name string) (Heal, error) {
	var heal Heal
	err := c.do(ctx, http.MethodGet, "/v1/volumes/"+url.PathEscape(name)+"/heal", nil, &heal)
	return heal, err
}

// Expand adds a replica set to a volume and starts its rebalance.
func (c *Client) Expand(ctx context.Context, name string, req ExpandRequest) (Volume, error) {
	var vol Volume
	err := c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/expand", req, &vol)
	return vol, err
}

// Rebalance reports the progress of a volume's last rebalance.
func (c *Client) Rebalance(ctx context.Context, name string) (Rebalance, error) {
	var rebalance Rebalance
	err := c.do(ctx, http.MethodGet, "/v1/volumes/"+url.PathEscape(name)+"/rebalance", nil, &rebalance)
	return rebalance, err
}

// MakeBrick makes the server's brick directory of a volume about to be
// created, marked as made by the creation owner.
func (c *Client) MakeBrick(ctx context.Context, volume, owner string) error {
	return c.do(ctx, http.MethodPut, "/v1/bricks/"+url.PathEscape(volume), BrickRequest{Owner: owner}, nil)
}

// RemoveBrick removes the server's brick directory of a deleted volume if
// the creation owner made it.
func (c *Client) RemoveBrick(ctx context.Context, volume, owner string) error {
	return c.do(ctx, http.MethodDelete, "/v1/bricks/"+url.PathEscape(volume)+"?owner="+url.QueryEscape(owner), nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("control API %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e errorBody
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
		}
		if bytes.Contains(data, []byte(plainToTLS)) {
			e.Error = fmt.Sprintf("%s serves TLS only: give the plugin the fingerprint of the servers' CA, CA_FINGERPRINT (docker exec SERVER gluster-admin ca prints it)", c.base)
		}
		return &APIError{Server: c.base, Code: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("control API %s %s: reading answer: %w", method, path, err)
	}
	if len(data) > maxAnswer {
		return fmt.Errorf("control API %s %s: answer larger than %d bytes: is %s a gluster server's control API?", method, path, maxAnswer, c.base)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("control API %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// APIError is a failure the server reported. It matches the package's
// sentinel errors through errors.Is.
type APIError struct {
	Server  string
	Code    int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Is reports whether the HTTP status stands for target.
func (e *APIError) Is(target error) bool {
	for _, s := range statusOf {
		if s.err == target {
			return s.code == e.Code
		}
	}
	return false
}
