package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// prober adds a host to the storage pool.
type prober interface {
	Probe(ctx context.Context, host string) error
}

// formPool probes every peer until each has answered once, whatever order
// the servers start in: a peer that is not up yet is tried again with
// exponential backoff. Probing a member again is harmless, so a restarted
// server runs the same loop.
func formPool(ctx context.Context, p prober, peers []string, maxDelay time.Duration, logger *slog.Logger) {
	pending := append([]string(nil), peers...)
	delay := maxDelay / 32
	for attempt := 1; len(pending) > 0; attempt++ {
		var still []string
		for _, peer := range pending {
			if err := p.Probe(ctx, peer); err != nil {
				logger.Info("peer not reachable yet", "server", peer, "attempt", attempt, "error", err)
				still = append(still, peer)
				continue
			}
			logger.Info("peer in pool", "server", peer)
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		jitter := time.Duration(rand.Int64N(int64(delay)/4 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay + jitter):
		}
		delay = min(delay*2, maxDelay)
	}
	logger.Info("pool formed", "peers", peers)
}
