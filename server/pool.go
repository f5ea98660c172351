package main

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/glusterdocker/gluster/backoff"
	"github.com/glusterdocker/gluster/glustercli"
)

// pool adds hosts to the storage pool and lists its members.
type pool interface {
	Probe(ctx context.Context, host string) error
	Peers(ctx context.Context) ([]glustercli.Peer, error)
}

// formPool probes every peer until the pool lists it under the address it
// was given, whatever order the servers start in: a peer that is not up yet
// is tried again with exponential backoff. A peer that probed this server
// first is known here only by the name a reverse lookup of its address gave,
// which clients may not resolve, and glusterd adds the probed address to a
// peer only once the two are befriended: such a peer is probed again until
// it is listed under its address. Probing a member again is harmless, so a
// restarted server runs the same loop.
func formPool(ctx context.Context, p pool, peers []string, maxDelay time.Duration, logger *slog.Logger) {
	pending := append([]string(nil), peers...)
	retry := backoff.Policy{First: maxDelay / 32, Max: maxDelay, Jitter: 0.25}
	for attempt := range retry.Attempts(ctx) {
		pending = probe(ctx, p, pending, attempt, logger)
		if len(pending) == 0 {
			logger.Info("pool formed", "peers", peers)
			return
		}
	}
}

// probe probes each peer and returns those not yet listed under their
// address.
func probe(ctx context.Context, p pool, peers []string, attempt int, logger *slog.Logger) (pending []string) {
	for _, peer := range peers {
		if err := p.Probe(ctx, peer); err != nil {
			logger.Info("peer not reachable yet", "server", peer, "attempt", attempt, "error", err)
			pending = append(pending, peer)
			continue
		}
		if !listedAs(ctx, p, peer) {
			logger.Info("peer joining, not listed under its address yet", "server", peer, "attempt", attempt)
			pending = append(pending, peer)
			continue
		}
		logger.Info("peer in pool", "server", peer)
	}
	return pending
}

// listedAs reports whether the pool lists a member under address.
func listedAs(ctx context.Context, p pool, address string) bool {
	members, err := p.Peers(ctx)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(members, func(m glustercli.Peer) bool {
		return m.Hostname == address || slices.Contains(m.Hostnames, address)
	})
}
