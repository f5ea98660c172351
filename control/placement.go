package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/glusterdocker/gluster/glustercli"
)

// placeBricks picks replica distinct servers among candidates, fewest bricks
// first, ties broken by address so that every server computes the same
// placement. load counts the bricks each server already holds.
func placeBricks(replica int, candidates []string, load map[string]int) ([]string, error) {
	if len(candidates) < replica {
		return nil, fmt.Errorf("%w: replica %d needs %d connected servers, found %d (%s)",
			ErrUnavailable, replica, replica, len(candidates), strings.Join(candidates, ", "))
	}
	sorted := slices.Clone(candidates)
	slices.SortFunc(sorted, func(a, b string) int {
		if load[a] != load[b] {
			return load[a] - load[b]
		}
		return strings.Compare(a, b)
	})
	return sorted[:replica], nil
}

// poolLoad is what placing bricks needs to know: the pool's members, how
// many bricks each holds, and every volume's bricks.
type poolLoad struct {
	peers     []Peer
	addressOf func(string) string
	vols      []glustercli.Volume
	load      map[string]int // bricks by server address
}

// poolLoad reads the pool and the volumes at once: two commands that change
// nothing and need not wait for each other.
func (s *Service) poolLoad(ctx context.Context) (poolLoad, error) {
	var p poolLoad
	var poolErr, volumesErr error
	var wg sync.WaitGroup
	wg.Go(func() { p.peers, p.addressOf, poolErr = s.pool(ctx) })
	wg.Go(func() { p.vols, volumesErr = s.gluster.Volumes(ctx) })
	wg.Wait()
	if err := errors.Join(poolErr, volumesErr); err != nil {
		return poolLoad{}, err
	}
	p.load = map[string]int{}
	for _, v := range p.vols {
		for _, b := range v.Bricks {
			p.load[p.addressOf(b.Host)]++
		}
	}
	return p, nil
}

// volume returns the volume of that name, if there is one.
func (p poolLoad) volume(name string) (glustercli.Volume, bool) {
	i := slices.IndexFunc(p.vols, func(v glustercli.Volume) bool { return v.Name == name })
	if i < 0 {
		return glustercli.Volume{}, false
	}
	return p.vols[i], true
}

// subvolume finds the volume that records the Docker volume of gluster
// name name as one of its subdirectory volumes.
func (p poolLoad) subvolume(name string) (parent, subdir string, ok bool) {
	key := SubvolumeOptionPrefix + name
	for _, v := range p.vols {
		if subdir := v.Options[key]; ValidateSubdir(subdir) == nil {
			return v.Name, subdir, true
		}
	}
	return "", "", false
}

// connected lists the connected members, only those in only if it is set,
// leaving out those in except.
func (p poolLoad) connected(only, except []string) []string {
	var out []string
	for _, m := range p.peers {
		if m.Connected && (len(only) == 0 || slices.Contains(only, m.Address)) && !slices.Contains(except, m.Address) {
			out = append(out, m.Address)
		}
	}
	return out
}

// checkMembers refuses servers that are not members of the pool.
func (p poolLoad) checkMembers(servers []string) error {
	for _, want := range servers {
		if !slices.ContainsFunc(p.peers, func(m Peer) bool { return m.Address == want }) {
			return fmt.Errorf("%w: server %s is not a member of the pool (members: %s)", ErrInvalid, want, addresses(p.peers))
		}
	}
	return nil
}

// holders lists the servers that hold a brick of v.
func (p poolLoad) holders(v glustercli.Volume) []string {
	out := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		out[i] = p.addressOf(b.Host)
	}
	return out
}

// newBrickServers picks count servers for new bricks of v among the
// connected members without a brick of it, fewest bricks first, or among
// those named, each of which must be such a server: a server holds one
// brick of a volume, so that no replica set has two on one host.
func (p poolLoad) newBrickServers(v glustercli.Volume, count int, named []string) ([]string, error) {
	if err := p.checkMembers(named); err != nil {
		return nil, err
	}
	holders := p.holders(v)
	for _, server := range named {
		if slices.Contains(holders, server) {
			return nil, fmt.Errorf("%w: server %s holds a brick of volume %s already: two bricks of one replica set on one server protect nothing", ErrConflict, server, v.Name)
		}
		if len(p.connected([]string{server}, nil)) == 0 {
			return nil, fmt.Errorf("%w: server %s is not connected", ErrUnavailable, server)
		}
	}
	servers, err := placeBricks(count, p.connected(named, holders), p.load)
	if err != nil {
		return nil, fmt.Errorf("%w without a brick of volume %s: add a server first (gluster-admin add-server)", err, v.Name)
	}
	return servers, nil
}

// checkNesting refuses a brick at path on servers that would hold or lie
// inside another volume's brick there.
func (p poolLoad) checkNesting(volume, path string, servers []string) error {
	for _, v := range p.vols {
		if v.Name == volume {
			// Its own bricks, or created through another server since
			// Create looked: the brick directories or gluster say so, and
			// Create waits for it.
			continue
		}
		for _, b := range v.Bricks {
			if server := p.addressOf(b.Host); slices.Contains(servers, server) && overlaps(b.Path, path) {
				return fmt.Errorf("%w: brick %s:%s of volume %s would hold or lie inside brick %s of volume %s: choose another name or move that volume's brick",
					ErrConflict, server, path, volume, b.Path, v.Name)
			}
		}
	}
	return nil
}

// placement chooses the servers for a new volume's bricks among the
// connected members of the pool, one brick per server, and the replica
// count. Bricks in brick order form the replica sets, so that no set has
// two bricks on one server.
func (s *Service) placement(p poolLoad, req CreateRequest) (servers []string, replica int, err error) {
	if err := p.checkMembers(req.Servers); err != nil {
		return nil, 0, err
	}
	connected := p.connected(req.Servers, nil)
	replica = req.Replica
	if replica == 0 {
		replica = min(len(connected), 3)
		if req.Arbiter {
			replica = 3
		}
	}
	replica = max(replica, 1)
	servers, err = placeBricks(max(req.Bricks, replica), connected, p.load)
	if err != nil {
		return nil, 0, err
	}
	if err := p.checkNesting(req.Name, s.brickPath(req.Name), servers); err != nil {
		return nil, 0, err
	}
	return servers, replica, nil
}

func addresses(peers []Peer) string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.Address
	}
	return strings.Join(out, ", ")
}
