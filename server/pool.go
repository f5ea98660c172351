package main

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"syscall"
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

// maxBricksPerProcessOption bounds the bricks one multiplexed process
// serves; a server starts another process for the next ones.
const maxBricksPerProcessOption = "cluster.max-bricks-per-process"

const (
	// filesPerBrick is what a multiplexed brick may keep open: about 260
	// files each when idle (measured, GlusterFS 10.3), more with clients
	// and open files. A process past its open-file limit fails to attach
	// further bricks with "Too many open files" while `volume start`
	// reports success, and their mounts fail.
	filesPerBrick = 400
	// glusterBricksPerProcess is gluster's own bound, kept where the
	// open-file limit allows more.
	glusterBricksPerProcess = 250
)

// poolOptions are the pool-wide options of a server's settings: with
// multiplexing, as many bricks per process as the open-file limit the
// server and its brick processes run under allows (gluster refuses the
// bound while multiplexing is off).
func poolOptions(multiplex string, openFiles uint64) map[string]string {
	options := map[string]string{brickMultiplexOption: multiplex}
	if multiplex == "on" {
		options[maxBricksPerProcessOption] = strconv.FormatUint(bricksPerProcess(openFiles), 10)
	}
	return options
}

// bricksPerProcess is how many bricks a multiplexed process may serve
// under an open-file limit: filesPerBrick each, at most gluster's own bound.
func bricksPerProcess(openFiles uint64) uint64 {
	return max(1, min(glusterBricksPerProcess, openFiles/filesPerBrick))
}

// openFileLimit is the hard limit on open files of this process, which
// glusterd and the brick processes it starts inherit and may raise their
// own to.
func openFileLimit() (uint64, error) {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return 0, err
	}
	return limit.Max, nil
}

// formPool probes every peer until the pool lists it under the address it
// was given, whatever order the servers start in: a peer that is not up yet
// is tried again with exponential backoff. A peer that probed this server
// first is known here only by the name a reverse lookup of its address gave,
// which clients may not resolve, and glusterd adds the probed address to a
// peer only once the two are befriended: such a peer is probed again until
// it is listed under its address. Probing a member again is harmless, so a
// restarted server runs the same loop.
//
// Once the pool formed, it sets the pool-wide options one by one, in the
// order of their names (every server sets the same, so whichever sets them
// last changes nothing), retrying while glusterd refuses, as it does while
// a peer is still joining.
func formPool(ctx context.Context, p pool, peers []string, options map[string]string, maxDelay time.Duration, logger *slog.Logger) {
	pending := append([]string(nil), peers...)
	unset := slices.Sorted(maps.Keys(options))
	retry := backoff.Policy{First: maxDelay / 32, Max: maxDelay, Jitter: 0.25}
	for attempt := range retry.Attempts(ctx) {
		if len(pending) > 0 {
			pending = probe(ctx, p, pending, attempt, logger)
			if len(pending) > 0 {
				continue
			}
			logger.Info("pool formed", "peers", peers)
		}
		for len(unset) > 0 {
			key := unset[0]
			if err := p.Set(ctx, "all", map[string]string{key: options[key]}); err != nil {
				logger.Info("pool-wide option not set yet", "option", key, "attempt", attempt, "error", err)
				break
			}
			logger.Info("pool-wide option set", "option", key, "value", options[key])
			unset = unset[1:]
		}
		if len(unset) == 0 {
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
