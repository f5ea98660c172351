package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/names"
)

// peerJoinWait bounds how long adding a server waits for the pool to list
// it connected under the address it was probed with: glusterd's handshake
// with a new peer takes a second or two, a little more on a loaded host.
const peerJoinWait = 30 * time.Second

// peerJoinPoll is how often the pool is looked at meanwhile.
const peerJoinPoll = 500 * time.Millisecond

// AddPeer adds the server at address to the storage pool and returns once
// it can be given bricks. A server that starts after the pool formed cannot
// join it by itself: glusterd refuses a probe from outside a pool, so a
// member must probe it. Adding a member again succeeds.
func (s *Service) AddPeer(ctx context.Context, address string) (Peer, error) {
	if err := ValidateHost(address); err != nil {
		return Peer{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger.Info("adding server to the pool", "server", address)
	if err := s.gluster.Probe(ctx, address); err != nil {
		if errors.Is(err, glustercli.ErrOtherPool) {
			err = fmt.Errorf("%w: %w: a server joins with an empty state directory (/var/lib/glusterd) and no volumes", ErrConflict, err)
		}
		return Peer{}, fmt.Errorf("adding server %s to the pool: %w (is its server container running and port 24007 reachable?)", address, err)
	}
	deadline := time.Now().Add(peerJoinWait)
	for {
		peer, err := s.joined(ctx, address)
		if err == nil {
			s.logger.Info("server in the pool", "server", address, "uuid", peer.UUID)
			return peer, nil
		}
		if time.Now().After(deadline) {
			return Peer{}, fmt.Errorf("%w: server %s was probed but has not joined after %s: %w: check its log (docker logs) and `gluster-admin servers`",
				ErrUnavailable, address, peerJoinWait, err)
		}
		select {
		case <-ctx.Done():
			return Peer{}, fmt.Errorf("waiting for server %s to join: %w", address, ctx.Err())
		case <-time.After(peerJoinPoll):
		}
	}
}

// joined returns the member at address once the pool lists it connected
// under that address and its control API answers: only then can it be given
// bricks.
func (s *Service) joined(ctx context.Context, address string) (Peer, error) {
	peers, err := s.Peers(ctx)
	if err != nil {
		return Peer{}, err
	}
	i := slices.IndexFunc(peers, func(p Peer) bool { return p.Address == address })
	if i < 0 || !peers[i].Connected {
		return Peer{}, fmt.Errorf("not listed connected under that address (pool: %s)", addresses(peers))
	}
	if err := s.peers.Answers(ctx, address); err != nil {
		return Peer{}, fmt.Errorf("its control API does not answer yet: %w", err)
	}
	return peers[i], nil
}

// RemovePeer takes the server at address out of the pool, whether it is up
// or gone for good. It refuses while the server holds a brick of any
// volume: move them first (ReplaceBrick).
func (s *Service) RemovePeer(ctx context.Context, address string) error {
	if err := ValidateHost(address); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if address == s.self {
		return fmt.Errorf("%w: server %s cannot take itself out of the pool: ask another server", ErrInvalid, address)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.poolLoad(ctx)
	if err != nil {
		return err
	}
	if err := p.checkMembers([]string{address}); err != nil {
		return err
	}
	var holding []string
	for _, v := range p.vols {
		if slices.Contains(p.holders(v), address) {
			holding = append(holding, v.Name)
		}
	}
	if len(holding) > 0 {
		return fmt.Errorf("%w: server %s holds bricks of %s: move them first (gluster-admin replace-server or drain)",
			ErrConflict, address, strings.Join(holding, ", "))
	}
	host, err := s.glusterName(ctx, address)
	if err != nil {
		return err
	}
	s.logger.Info("removing server from the pool", "server", address)
	if err := s.gluster.Detach(ctx, host); err != nil {
		return fmt.Errorf("removing server %s from the pool: %w", address, err)
	}
	return nil
}

// glusterName is the name gluster knows the member at address by.
func (s *Service) glusterName(ctx context.Context, address string) (string, error) {
	members, err := s.gluster.Peers(ctx)
	if err != nil {
		return "", err
	}
	for _, m := range members {
		if m.Hostname != "localhost" && s.address(ctx, m) == address {
			return m.Hostname, nil
		}
	}
	return "", fmt.Errorf("%w: server %s is not a member of the pool", ErrInvalid, address)
}

// RaiseReplica raises the replica count of a volume the plugin created by
// adding a brick on each of as many connected servers without one, fewest
// bricks first, and starts a full heal that copies the data onto them.
// Clients keep working throughout.
func (s *Service) RaiseReplica(ctx context.Context, name string, req ReplicaRequest) (Volume, error) {
	if err := validateServers(req.Servers); err != nil {
		return Volume{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, p, owner, err := s.changeableLayout(ctx, name, "raising the replica count of")
	if err != nil {
		return Volume{}, err
	}
	if replicaOf(v) != len(v.Bricks) {
		return Volume{}, fmt.Errorf("%w: volume %s has %d bricks in replica sets of %d: raising the replica count of a distributed volume is not supported", ErrInvalid, name, len(v.Bricks), replicaOf(v))
	}
	if req.Replica <= len(v.Bricks) || req.Replica > MaxReplica {
		return Volume{}, fmt.Errorf("%w: volume %s has replica %d: ask for %d to %d", ErrInvalid, name, len(v.Bricks), len(v.Bricks)+1, MaxReplica)
	}
	servers, err := p.newBrickServers(v, req.Replica-len(v.Bricks), req.Servers)
	if err != nil {
		return Volume{}, fmt.Errorf("raising volume %s to replica %d: %w", name, req.Replica, err)
	}
	s.logger.Info("raising replica count", "volume", name, "replica", req.Replica, "servers", servers)
	err = s.withNewBricks(ctx, p, name, owner, servers, func(bricks []glustercli.Brick) error {
		if err := s.gluster.AddBricks(ctx, name, req.Replica, bricks); err != nil {
			return fmt.Errorf("adding bricks of volume %s on %s: %w (servers need /dev/fuse: glusterd mounts the volume to mark the files to heal)",
				name, strings.Join(servers, ", "), err)
		}
		return nil
	})
	if err != nil {
		return Volume{}, err
	}
	return s.healAfterChange(ctx, name)
}

// ReplaceBrick moves the brick of a volume the plugin created off one
// server onto another, whether the first is up or gone for good, and starts
// a full heal that copies the replica set's data onto the new brick.
// Clients keep working throughout.
func (s *Service) ReplaceBrick(ctx context.Context, name string, req ReplaceRequest) (Volume, error) {
	if err := ValidateHost(req.From); err != nil {
		return Volume{}, fmt.Errorf("%w: from: %w", ErrInvalid, err)
	}
	if req.To != "" {
		if err := ValidateHost(req.To); err != nil {
			return Volume{}, fmt.Errorf("%w: to: %w", ErrInvalid, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, p, owner, err := s.changeableLayout(ctx, name, "moving a brick of")
	if err != nil {
		return Volume{}, err
	}
	holders := p.holders(v)
	i := slices.Index(holders, req.From)
	if i < 0 {
		return Volume{}, fmt.Errorf("%w: volume %s has no brick on server %s (its bricks are on %s)", ErrInvalid, name, req.From, strings.Join(holders, ", "))
	}
	to, err := p.newBrickServers(v, 1, nonEmpty(req.To))
	if err != nil {
		return Volume{}, fmt.Errorf("moving the brick of volume %s off %s: %w", name, req.From, err)
	}
	s.logger.Info("moving brick", "volume", name, "from", req.From, "to", to[0])
	err = s.withNewBricks(ctx, p, name, owner, to, func(bricks []glustercli.Brick) error {
		if err := s.gluster.ReplaceBrick(ctx, name, v.Bricks[i], bricks[0]); err != nil {
			return fmt.Errorf("moving the brick of volume %s from %s to %s: %w (servers need /dev/fuse: glusterd mounts the volume to mark the files to heal)",
				name, req.From, to[0], err)
		}
		return nil
	})
	if err != nil {
		return Volume{}, err
	}
	return s.healAfterChange(ctx, name)
}

// withNewBricks makes the brick directories of volume name on servers for
// owner, runs change with the bricks they stand for, and removes the
// directories again if change fails: nothing half-made stays behind.
func (s *Service) withNewBricks(ctx context.Context, p poolLoad, name, owner string, servers []string, change func([]glustercli.Brick) error) error {
	if err := p.checkNesting(name, s.brickPath(name), servers); err != nil {
		return err
	}
	if err := s.makeBricks(ctx, name, owner, servers); err != nil {
		return err
	}
	bricks := make([]glustercli.Brick, len(servers))
	for i, server := range servers {
		bricks[i] = glustercli.Brick{Host: server, Path: s.brickPath(name)}
	}
	if err := change(bricks); err != nil {
		s.removeBricks(ctx, name, owner, servers)
		return err
	}
	return nil
}

// nonEmpty is the list of server, or none if it is empty.
func nonEmpty(server string) []string {
	if server == "" {
		return nil
	}
	return []string{server}
}

// changeableLayout returns a volume whose bricks may be changed, the pool,
// and the owner its brick directories are made for: a started, plugin-made
// volume without an arbiter.
func (s *Service) changeableLayout(ctx context.Context, name, what string) (glustercli.Volume, poolLoad, string, error) {
	v, err := s.pluginVolume(ctx, name, what)
	if err != nil {
		return v, poolLoad{}, "", err
	}
	switch owner := v.Options[BrickOwnerOption]; {
	case !v.Started():
		return v, poolLoad{}, "", fmt.Errorf("%w: volume %s is %s: start it first, self-heal runs on started volumes only", ErrConflict, name, v.Status)
	case v.Arbiter > 0:
		return v, poolLoad{}, "", fmt.Errorf("%w: volume %s has an arbiter; %s it is not supported", ErrInvalid, name, what)
	case validOwner(owner) != nil:
		return v, poolLoad{}, "", fmt.Errorf("%w: volume %s records no brick owner (made by an older version): change its bricks with the gluster CLI", ErrConflict, name)
	default:
		p, err := s.poolLoad(ctx)
		return v, p, owner, err
	}
}

// healAfterChange starts a full heal of a volume whose bricks changed and
// returns the volume. glusterd already marked every file for healing onto
// the new bricks, so a heal that fails to start only waits for the
// self-heal daemons' next round: the change stands either way.
func (s *Service) healAfterChange(ctx context.Context, name string) (Volume, error) {
	if err := s.gluster.HealFull(ctx, name); err != nil {
		s.logger.Warn("full heal not started; self-heal still copies the files marked", "volume", name, "error", err)
	}
	v, err := s.volume(ctx, name)
	if err != nil {
		return Volume{}, err
	}
	s.logger.Info("bricks changed, healing", "volume", name, "bricks", len(v.Bricks))
	return fromGluster(v), nil
}

// Heal reports a started volume's self-heal progress.
func (s *Service) Heal(ctx context.Context, name string) (Heal, error) {
	if err := names.ValidateVolume(name); err != nil {
		return Heal{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v, err := s.volume(ctx, name)
	if err != nil {
		return Heal{}, err
	}
	if !v.Started() {
		return Heal{}, fmt.Errorf("%w: volume %s is %s: self-heal runs on started volumes only", ErrConflict, name, v.Status)
	}
	return s.heals.ask(ctx, v, func(ctx context.Context) (Heal, error) {
		bricks, err := s.gluster.HealSummary(ctx, name)
		if errors.Is(err, glustercli.ErrNotFound) {
			return Heal{}, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		if err != nil {
			return Heal{}, fmt.Errorf("heal progress of volume %s: %w", name, err)
		}
		return healOf(bricks), nil
	})
}

func healOf(bricks []glustercli.BrickHeal) Heal {
	h := Heal{Done: len(bricks) > 0, Bricks: make([]BrickHeal, len(bricks))}
	for i, b := range bricks {
		h.Bricks[i] = BrickHeal{Brick: b.Brick, Connected: b.Connected, Pending: b.Pending + b.PossiblyHealing, SplitBrain: b.SplitBrain}
		h.Pending += h.Bricks[i].Pending
		h.SplitBrain += b.SplitBrain
		if !b.Connected || h.Bricks[i].Pending > 0 || b.SplitBrain > 0 {
			h.Done = false
		}
	}
	return h
}
