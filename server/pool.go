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
	Set(ctx context.Context, volume string, options map[string]string) error
}

// brickMultiplexOption is gluster's pool-wide switch that serves the
// compatible bricks of all volumes on a server from one process. It
// applies to bricks started after it is set.
const brickMultiplexOption = "cluster.brick-multiplex"

// formPool probes every peer until the pool lists it under the address it
// was given, whatever order the servers start in: a peer that is not up yet
// is tried again with exponential backoff. A peer that probed this server
// first is known here only by the name a reverse lookup of its address gave,
// which clients may not resolve, and glusterd adds the probed address to a
// peer only once the two are befriended: such a peer is probed again until
// it is listed under its address. Probing a member again is harmless, so a
// restarted server runs the same loop.
//
// Once the pool formed, it sets the pool-wide options (every server sets
// the same, so whichever sets them last changes nothing), retrying while
// glusterd refuses, as it does while a peer is still joining.
func formPool(ctx context.Context, p pool, peers []string, options map[string]string, maxDelay time.Duration, logger *slog.Logger) {
	pending := append([]string(nil), peers...)
	retry := backoff.Policy{First: maxDelay / 32, Max: maxDelay, Jitter: 0.25}
	for attempt := range retry.Attempts(ctx) {
		if len(pending) > 0 {
			pending = probe(ctx, p, pending, attempt, logger)
			if len(pending) > 0 {
				continue
			}
			logger.Info("pool formed", "peers", peers)
		}
		if len(options) == 0 {
			return
		}
		err := p.Set(ctx, "all", options)
		if err == nil {
			logger.Info("pool-wide options set", "options", options)
			return
		}
		logger.Info("pool-wide options not set yet", "attempt", attempt, "error", err)
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
