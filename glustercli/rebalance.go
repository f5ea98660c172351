package glustercli

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Rebalance errors, matched on glusterd's messages (GlusterFS 10.3).
var (
	// ErrRebalancing is a change glusterd refuses while a rebalance of
	// the volume runs ("Volume name VOL rebalance is in progress").
	ErrRebalancing = errors.New("a rebalance of the gluster volume is in progress")
	// ErrNoRebalance is a volume glusterd knows of no rebalance of
	// ("Rebalance not started for volume VOL.").
	ErrNoRebalance = errors.New("no rebalance of the gluster volume has run")
)

// Rebalance is `volume rebalance VOL status`: each server's rebalance
// process and their sum. A server without a brick of the volume is listed
// too, with nothing to move.
type Rebalance struct {
	TaskID string
	Nodes  []RebalanceNode
	Total  RebalanceNode
}

// RebalanceNode is one server's rebalance, or the sum of all. Node is the
// name the pool knows the server by, "localhost" for the one that answered.
type RebalanceNode struct {
	Node     string
	Status   string // "in progress", "completed", "failed", "stopped", ...
	Files    int64  // files moved
	Bytes    int64  // bytes moved
	Scanned  int64  // files looked at
	Failures int64
	Skipped  int64
	Seconds  float64 // run time
}

// AddReplicaSets adds bricks to a volume without changing its replica
// count: every replica count of them forms a new replica set, in order, and
// the volume's files are spread over the new sets once a rebalance moves
// them. force is given for the reason Create gives it.
func (c *CLI) AddReplicaSets(ctx context.Context, name string, bricks []Brick) error {
	args := []string{"volume", "add-brick", name}
	for _, b := range bricks {
		args = append(args, b.Host+":"+b.Path)
	}
	_, err := c.run(ctx, append(args, "force")...)
	return err
}

// RebalanceStart starts moving a volume's files onto the layout its bricks
// now have, online, and returns once every server's rebalance process
// started. A rebalance already running is left to finish.
func (c *CLI) RebalanceStart(ctx context.Context, name string) error {
	_, err := c.run(ctx, "volume", "rebalance", name, "start")
	if errors.Is(err, ErrStarted) {
		return nil
	}
	return err
}

// RebalanceStatus reports a volume's last rebalance, running or done. The
// error wraps ErrNoRebalance if glusterd knows of none.
func (c *CLI) RebalanceStatus(ctx context.Context, name string) (Rebalance, error) {
	out, err := c.query(ctx, "volume", "rebalance", name, "status")
	if err != nil {
		return Rebalance{}, err
	}
	r := out.Rebalance
	if len(r.Nodes) == 0 {
		return Rebalance{}, fmt.Errorf("gluster volume rebalance %s status: no server listed (answer began %q)", name, head(out.raw))
	}
	rebalance := Rebalance{TaskID: r.TaskID, Total: r.Aggregate.node(""), Nodes: make([]RebalanceNode, len(r.Nodes))}
	for i, n := range r.Nodes {
		rebalance.Nodes[i] = n.node(n.Name)
	}
	return rebalance, nil
}

type xmlRebalance struct {
	TaskID    string             `xml:"task-id"`
	Nodes     []xmlRebalanceNode `xml:"node"`
	Aggregate xmlRebalanceNode   `xml:"aggregate"`
}

type xmlRebalanceNode struct {
	Name      string  `xml:"nodeName"`
	Files     int64   `xml:"files"`
	Size      int64   `xml:"size"`
	Lookups   int64   `xml:"lookups"`
	Failures  int64   `xml:"failures"`
	Skipped   int64   `xml:"skipped"`
	StatusStr string  `xml:"statusStr"`
	Runtime   float64 `xml:"runtime"`
}

func (n xmlRebalanceNode) node(name string) RebalanceNode {
	return RebalanceNode{
		Node: name, Status: strings.TrimSpace(n.StatusStr),
		Files: n.Files, Bytes: n.Size, Scanned: n.Lookups, Failures: n.Failures, Skipped: n.Skipped, Seconds: n.Runtime,
	}
}
