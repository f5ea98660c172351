package control

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/names"
)

// Words gluster reports a rebalance's state in (`volume rebalance VOL
// status`, GlusterFS 10 and 11), and the one the service reports when
// gluster knows of no rebalance of the volume.
const (
	rebalanceCompleted  = "completed"
	rebalanceInProgress = "in progress" // also ends "fix-layout in progress"
	rebalanceNotStarted = "not started"
)

// Expand adds a replica set to a volume the plugin created, a brick on
// each of as many connected servers without one as the volume has in each
// set, fewest bricks first, and starts a rebalance that moves part of its
// files onto them. Clients keep working throughout.
func (s *Service) Expand(ctx context.Context, name string, req ExpandRequest) (Volume, error) {
	if err := validateServers(req.Servers); err != nil {
		return Volume{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, p, owner, err := s.changeableLayout(ctx, name, "expanding")
	if err != nil {
		return Volume{}, err
	}
	replica := replicaOf(v)
	if len(v.Bricks)+replica > MaxBricks {
		return Volume{}, fmt.Errorf("%w: volume %s has %d bricks: another replica set of %d would pass the %d a volume may have",
			ErrInvalid, name, len(v.Bricks), replica, MaxBricks)
	}
	servers, err := p.newBrickServers(v, replica, req.Servers)
	if err != nil {
		return Volume{}, fmt.Errorf("expanding volume %s by a replica set of %d: %w", name, replica, err)
	}
	s.logger.Info("adding a replica set", "volume", name, "replica", replica, "servers", servers)
	err = s.withNewBricks(ctx, p, name, owner, servers, func(bricks []glustercli.Brick) error {
		err := s.gluster.AddReplicaSets(ctx, name, bricks)
		if errors.Is(err, glustercli.ErrRebalancing) {
			return fmt.Errorf("%w: volume %s: %w: expand it again once that is done (gluster-admin rebalance %s)", ErrConflict, name, err, name)
		}
		if err != nil {
			return fmt.Errorf("adding a replica set to volume %s on %s: %w", name, strings.Join(servers, ", "), err)
		}
		return nil
	})
	if err != nil {
		return Volume{}, err
	}
	if err := s.gluster.RebalanceStart(ctx, name); err != nil {
		return Volume{}, fmt.Errorf("volume %s has its new replica set on %s, but its rebalance did not start: %w: start it with `gluster volume rebalance %s start` on a server (until then only new directories use the new bricks)",
			name, strings.Join(servers, ", "), err, name)
	}
	expanded, err := s.volume(ctx, name)
	if err != nil {
		return Volume{}, err
	}
	s.logger.Info("replica set added, rebalancing", "volume", name, "bricks", len(expanded.Bricks))
	return fromGluster(expanded), nil
}

// Rebalance reports the progress of a volume's last rebalance.
func (s *Service) Rebalance(ctx context.Context, name string) (Rebalance, error) {
	if err := names.ValidateVolume(name); err != nil {
		return Rebalance{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	r, err := s.gluster.RebalanceStatus(ctx, name)
	switch {
	case errors.Is(err, glustercli.ErrNoRebalance):
		return Rebalance{Status: rebalanceNotStarted}, nil
	case errors.Is(err, glustercli.ErrNotFound):
		return Rebalance{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	case err != nil:
		return Rebalance{}, fmt.Errorf("rebalance progress of volume %s: %w", name, err)
	}
	_, addressOf, err := s.pool(ctx)
	if err != nil {
		return Rebalance{}, fmt.Errorf("rebalance progress of volume %s: %w", name, err)
	}
	return rebalanceOf(r, addressOf), nil
}

// rebalanceOf turns gluster's report into the API's, each server named by
// the address the pool lists it under: gluster names a server by the first
// name it knew it by, "localhost" for the one that answered, or a name
// only a reverse lookup gave. Done and Running are read from every
// server's part, not only from gluster's sum.
func rebalanceOf(r glustercli.Rebalance, addressOf func(string) string) Rebalance {
	out := Rebalance{Status: r.Total.Status, Done: len(r.Nodes) > 0, RebalanceCounts: countsOf(r.Total), Servers: make([]ServerRebalance, len(r.Nodes))}
	for i, n := range r.Nodes {
		out.Servers[i] = ServerRebalance{Server: addressOf(n.Node), Status: n.Status, RebalanceCounts: countsOf(n)}
		out.Done = out.Done && n.Status == rebalanceCompleted
		out.Running = out.Running || strings.HasSuffix(n.Status, rebalanceInProgress)
	}
	return out
}

func countsOf(n glustercli.RebalanceNode) RebalanceCounts {
	return RebalanceCounts{Files: n.Files, Bytes: n.Bytes, Scanned: n.Scanned, Failures: n.Failures, Skipped: n.Skipped, Seconds: n.Seconds}
}
