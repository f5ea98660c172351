package control

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// placement chooses the servers for a new volume's bricks among the
// connected members of the pool.
func (s *Service) placement(ctx context.Context, req CreateRequest) ([]string, error) {
	peers, addressOf, err := s.pool(ctx)
	if err != nil {
		return nil, err
	}
	var connected []string
	for _, p := range peers {
		if p.Connected && (len(req.Servers) == 0 || slices.Contains(req.Servers, p.Address)) {
			connected = append(connected, p.Address)
		}
	}
	for _, want := range req.Servers {
		if !slices.ContainsFunc(peers, func(p Peer) bool { return p.Address == want }) {
			return nil, fmt.Errorf("%w: server %s is not a member of the pool (members: %s)", ErrInvalid, want, addresses(peers))
		}
	}
	replica := req.Replica
	if replica == 0 {
		replica = min(len(connected), 3)
		if req.Arbiter {
			replica = 3
		}
	}
	vols, err := s.gluster.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	load := map[string]int{}
	for _, v := range vols {
		for _, b := range v.Bricks {
			load[addressOf(b.Host)]++
		}
	}
	servers, err := placeBricks(max(replica, 1), connected, load)
	if err != nil {
		return nil, err
	}
	path := s.brickPath(req.Name)
	for _, v := range vols {
		if v.Name == req.Name {
			// Created through another server since Create looked: the
			// brick directories or gluster say so, and Create waits for it.
			continue
		}
		for _, b := range v.Bricks {
			if server := addressOf(b.Host); slices.Contains(servers, server) && overlaps(b.Path, path) {
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
