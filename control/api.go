// Package control is the authenticated HTTP API that a gluster server
// container offers for creating, inspecting and deleting volumes, and the
// client the plugin uses to call it. glusterd accepts write requests only on
// its local unix socket, so remote hosts go through this API.
//
// The server's side: service.go (volume operations through the gluster
// CLI), placement.go, bricks.go (brick directories and their markers),
// subvolumes.go, options.go and validate.go (what callers may ask for),
// handler.go, server.go and refusals.go (HTTP). The plugin's side: client.go
// (one server) and cluster.go (any live server). Both: api.go (the wire
// types and errors) and token.go.
package control

import (
	"errors"
	"net/http"
)

// DefaultPort is where the control API listens unless configured otherwise.
const DefaultPort = 24080

// CreateRequest asks for a replicated volume. Replica counts the bricks of
// a replica set, the arbiter included; zero means as many as there are
// servers, up to 3. Bricks, when above Replica, spreads the volume over
// Bricks/Replica replica sets (distributed-replicated), each brick on a
// server of its own. Servers, when set, restricts the bricks to those
// servers.
type CreateRequest struct {
	Name    string            `json:"name"`
	Replica int               `json:"replica,omitempty"`
	Bricks  int               `json:"bricks,omitempty"`
	Arbiter bool              `json:"arbiter,omitempty"`
	Servers []string          `json:"servers,omitempty"`
	Options map[string]string `json:"options,omitempty"`
	// Size, in bytes, is the hard limit of the volume through gluster's
	// quota; zero sets none.
	Size uint64 `json:"size,omitempty"`
	// OnRemove is the volume's removal policy, recorded on it; empty
	// leaves it to the plugin's default.
	OnRemove string `json:"on_remove,omitempty"`
}

// BrickRequest asks a server to make its brick directory of a volume for
// the creation Owner, the servers' marker of the directories it made.
type BrickRequest struct {
	Owner string `json:"owner"`
}

// CreatedAtOption is the volume option, free for users in gluster's "user."
// namespace, that records when a volume was created through this API.
const CreatedAtOption = "user.created-at"

// Volume describes a gluster volume. Bricks' Online and Clients are filled
// only by the single-volume endpoint, which asks glusterd for its status.
type Volume struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Status  string `json:"status"`
	Replica int    `json:"replica"`
	Arbiter bool   `json:"arbiter,omitempty"`
	// Witness is the thin arbiter of a replica 2 volume, SERVER:PATH: a
	// third voter that holds no data.
	Witness   string            `json:"witness,omitempty"`
	CreatedAt string            `json:"created_at,omitempty"` // RFC 3339
	Bricks    []Brick           `json:"bricks"`
	Options   map[string]string `json:"options,omitempty"`
	// Clients are the hosts with a client (a FUSE mount, say) connected to
	// any brick; the servers' own self-heal daemons are not counted.
	Clients []string `json:"clients,omitempty"`
	// Limits are the volume's quota limits, filled by the single-volume
	// endpoint.
	Limits []Limit `json:"limits,omitempty"`
}

// Limit is the hard limit of a directory of a volume ("/" for its root) and
// the bytes it holds, as gluster's quota last counted them.
type Limit struct {
	Path string `json:"path"`
	Size uint64 `json:"size"`
	Used uint64 `json:"used"`
}

// Brick is one brick of a volume, in brick order.
type Brick struct {
	Server  string `json:"server"`
	Path    string `json:"path"`
	Arbiter bool   `json:"arbiter,omitempty"`
	Online  bool   `json:"online"`
	// Size and Free are the bytes of the brick's file system, filled by
	// the single-volume endpoint for a started volume's bricks.
	Size uint64 `json:"size,omitempty"`
	Free uint64 `json:"free,omitempty"`
}

// Peer is a member of the storage pool.
type Peer struct {
	Address   string `json:"address"`
	UUID      string `json:"uuid"`
	Connected bool   `json:"connected"`
	Self      bool   `json:"self,omitempty"`
}

// PeerRequest asks a server to add another server to the storage pool.
type PeerRequest struct {
	Address string `json:"address"`
}

// ReplicaRequest raises a volume's replica count, adding a brick on each of
// as many servers without one. Servers, when set, restricts the new bricks
// to those servers.
type ReplicaRequest struct {
	Replica int      `json:"replica"`
	Servers []string `json:"servers,omitempty"`
}

// ReplaceRequest moves a volume's brick off server From onto server To, or,
// without To, onto the connected server with the fewest bricks that holds
// none of the volume's.
type ReplaceRequest struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}

// ExpandRequest adds a replica set to a volume: as many bricks as it has
// in each set, on connected servers without a brick of it, fewest bricks
// first. Servers, when set, restricts the new bricks to those servers.
type ExpandRequest struct {
	Servers []string `json:"servers,omitempty"`
}

// Rebalance is the progress of a volume's last rebalance, which moves its
// files onto the replica sets it has now. Status is gluster's word for the
// whole ("in progress", "completed", "failed", "stopped", or "not started"
// when gluster knows of none); Done means every server's part
// completed, Running that some still run.
type Rebalance struct {
	Status  string `json:"status"`
	Done    bool   `json:"done"`
	Running bool   `json:"running"`
	RebalanceCounts
	Servers []ServerRebalance `json:"servers,omitempty"`
}

// ServerRebalance is one server's part of a Rebalance.
type ServerRebalance struct {
	Server string `json:"server"`
	Status string `json:"status"`
	RebalanceCounts
}

// RebalanceCounts say how far a rebalance got.
type RebalanceCounts struct {
	Files    int64   `json:"files"`   // moved
	Bytes    int64   `json:"bytes"`   // moved
	Scanned  int64   `json:"scanned"` // looked at
	Failures int64   `json:"failures"`
	Skipped  int64   `json:"skipped"`
	Seconds  float64 `json:"seconds"`
}

// Heal is a started volume's self-heal progress: the entries its bricks
// hold that other bricks of their replica set still lack. Done means every
// brick answered and none holds any.
type Heal struct {
	Done       bool        `json:"done"`
	Pending    int         `json:"pending"`
	SplitBrain int         `json:"split_brain"`
	Bricks     []BrickHeal `json:"bricks"`
}

// BrickHeal is one brick's part of a volume's Heal; the counts are known
// only for a connected brick.
type BrickHeal struct {
	Brick      string `json:"brick"` // SERVER:PATH
	Connected  bool   `json:"connected"`
	Pending    int    `json:"pending"`
	SplitBrain int    `json:"split_brain"`
}

// errorBody is the body of every failed request.
type errorBody struct {
	Error string `json:"error"`
}

// Errors callers branch on. The server maps them to HTTP status codes and
// the client maps the codes back.
var (
	ErrInvalid      = errors.New("invalid request")
	ErrUnauthorized = errors.New("missing or wrong control API token")
	ErrNotFound     = errors.New("volume not found")
	ErrConflict     = errors.New("conflict")
	ErrInUse        = errors.New("volume in use")
	ErrUnavailable  = errors.New("not enough servers available")
	ErrNoSpace      = errors.New("not enough free space on the bricks")
)

var statusOf = []struct {
	err  error
	code int
}{
	{ErrInvalid, http.StatusBadRequest},
	{ErrUnauthorized, http.StatusUnauthorized},
	{ErrNotFound, http.StatusNotFound},
	{ErrConflict, http.StatusConflict},
	{ErrInUse, http.StatusLocked},
	{ErrUnavailable, http.StatusServiceUnavailable},
	{ErrNoSpace, http.StatusInsufficientStorage},
}
