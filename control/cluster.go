package control

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// dialTimeout bounds connecting to one server: a stopped server's address
// may swallow connection attempts, and the next server should not wait.
const dialTimeout = time.Second

// idleConnTimeout closes a connection to a server that went unused this
// long; the server keeps idle connections longer (idleTimeout), so that it
// never closes one under a request.
const idleConnTimeout = time.Minute

// maxIdleConnsPerServer keeps a few connections to each server for the
// calls Docker makes at once.
const maxIdleConnsPerServer = 4

// Cluster calls the control API of whichever server answers, so that any
// live server will do. It starts with the server that answered last.
type Cluster struct {
	servers []string
	clients []*Client
	last    atomic.Int32 // index of the server that answered last
}

// NewCluster returns a client for the servers at the given addresses. With
// a TLS configuration (servers that serve TLS), it speaks HTTPS only.
func NewCluster(servers []string, port int, token string, tlsConfig *tls.Config) *Cluster {
	hc := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: maxIdleConnsPerServer,
		IdleConnTimeout:     idleConnTimeout,
	}}
	c := &Cluster{servers: servers}
	for _, s := range servers {
		c.clients = append(c.clients, NewClient(s, port, token, hc))
	}
	return c
}

// Servers lists the configured server addresses.
func (c *Cluster) Servers() []string { return c.servers }

// each calls op on the servers in turn until one gives an answer: success
// or an error the server itself reported. Only unreachable servers are
// skipped.
func (c *Cluster) each(ctx context.Context, op func(*Client) error) error {
	var unreachable []string
	var last error
	first := int(c.last.Load())
	for n := range c.clients {
		i := (first + n) % len(c.clients)
		err := op(c.clients[i])
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) {
			c.last.Store(int32(i))
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		unreachable = append(unreachable, c.servers[i])
		last = err
	}
	return fmt.Errorf("%w: no gluster server's control API answered (tried %s): %w",
		ErrUnavailable, strings.Join(unreachable, ", "), last)
}

// Create creates a volume through the first server that answers.
func (c *Cluster) Create(ctx context.Context, req CreateRequest) (vol Volume, err error) {
	err = c.each(ctx, func(cl *Client) error { vol, err = cl.Create(ctx, req); return err })
	return vol, err
}

// Volume describes a volume with its bricks' state and clients.
func (c *Cluster) Volume(ctx context.Context, name string) (vol Volume, err error) {
	err = c.each(ctx, func(cl *Client) error { vol, err = cl.Volume(ctx, name); return err })
	return vol, err
}

// Lookup describes one volume without status; the error wraps ErrNotFound
// if it does not exist.
func (c *Cluster) Lookup(ctx context.Context, name string) (vol Volume, err error) {
	err = c.each(ctx, func(cl *Client) error { vol, err = cl.Lookup(ctx, name); return err })
	return vol, err
}

// Volumes lists every volume.
func (c *Cluster) Volumes(ctx context.Context) (vols []Volume, err error) {
	err = c.each(ctx, func(cl *Client) error { vols, err = cl.Volumes(ctx); return err })
	return vols, err
}

// Delete stops and deletes a volume and its bricks.
func (c *Cluster) Delete(ctx context.Context, name string) error {
	return c.each(ctx, func(cl *Client) error { return cl.Delete(ctx, name) })
}

// Rebalance reports the progress of a volume's last rebalance.
func (c *Cluster) Rebalance(ctx context.Context, name string) (rebalance Rebalance, err error) {
	err = c.each(ctx, func(cl *Client) error { rebalance, err = cl.Rebalance(ctx, name); return err })
	return rebalance, err
}

// Heal reports a volume's self-heal progress.
func (c *Cluster) Heal(ctx context.Context, name string) (heal Heal, err error) {
	err = c.each(ctx, func(cl *Client) error { heal, err = cl.Heal(ctx, name); return err })
	return heal, err
}
