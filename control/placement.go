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

// survey is what a create needs to know of the pool: its members, the
// addresses gluster's names for them stand for, and every volume with its
// bricks.
type survey struct {
	peers     []Peer
	addressOf func(string) string
	volumes   []glustercli.Volume
}

// survey reads the pool and the volumes at once: two commands that change
// nothing and need not wait for each other.
func (s *Service) survey(ctx context.Context) (survey, error) {
	var sv survey
	var poolErr, volumesErr error
	var wg sync.WaitGroup
	wg.Go(func() { sv.peers, sv.addressOf, poolErr = s.pool(ctx) })
	wg.Go(func() { sv.volumes, volumesErr = s.gluster.Volumes(ctx) })
	wg.Wait()
	return sv, errors.Join(poolErr, volumesErr)
}

// volume returns the volume of that name, if there is one.
func (sv survey) volume(name string) (glustercli.Volume, bool) {
	i := slices.IndexFunc(sv.volumes, func(v glustercli.Volume) bool { return v.Name == name })
	if i < 0 {
		return glustercli.Volume{}, false
	}
	return sv.volumes[i], true
}

// subvolume finds the volume that records the Docker volume of gluster
// name name as one of its subdirectory volumes.
func (sv survey) subvolume(name string) (parent, subdir string, ok bool) {
	key := SubvolumeOptionPrefix + name
	for _, v := range sv.volumes {
		if subdir := v.Options[key]; ValidateSubdir(subdir) == nil {
			return v.Name, subdir, true
		}
	}
	return "", "", false
}

// placement chooses the servers for the bricks, at path, of a new volume
// among the connected members of the pool.
func (sv survey) placement(req CreateRequest, path string) ([]string, error) {
	var connected []string
	for _, p := range sv.peers {
		if p.Connected && (len(req.Servers) == 0 || slices.Contains(req.Servers, p.Address)) {
			connected = append(connected, p.Address)
		}
	}
	for _, want := range req.Servers {
		if !slices.ContainsFunc(sv.peers, func(p Peer) bool { return p.Address == want }) {
			return nil, fmt.Errorf("%w: server %s is not a member of the pool (members: %s)", ErrInvalid, want, addresses(sv.peers))
		}
	}
	replica := req.Replica
	if replica == 0 {
		replica = min(len(connected), 3)
		if req.Arbiter {
			replica = 3
		}
	}
	load := map[string]int{}
	for _, v := range sv.volumes {
		for _, b := range v.Bricks {
			load[sv.addressOf(b.Host)]++
		}
	}
	servers, err := placeBricks(max(replica, 1), connected, load)
	if err != nil {
		return nil, err
	}
	for _, v := range sv.volumes {
		if v.Name == req.Name {
			// Created through another server since Create looked: the
			// brick directories or gluster say so, and Create waits for it.
			continue
		}
		for _, b := range v.Bricks {
			if server := sv.addressOf(b.Host); slices.Contains(servers, server) && overlaps(b.Path, path) {
				return nil, fmt.Errorf("%w: brick %s:%s of volume %s would hold or lie inside brick %s of volume %s: choose another name or move that volume's brick",
					ErrConflict, server, path, req.Name, b.Path, v.Name)
			}
		}
	}
	return servers, nil
}

func addresses(peers []Peer) string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.Address
	}
	return strings.Join(out, ", ")
}
