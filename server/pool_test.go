package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
)

// flakyPool answers probes of a peer only after it failed a number of
// times, and lists a peer under its address only after a number of
// successful probes: until then, under a name of its own.
type flakyPool struct {
	failures map[string]int
	unlisted map[string]int
	probes   []string
	members  []string // in the pool: answered a probe
	// setFailures is how many times setting pool-wide options fails;
	// events are the probes and sets, in order.
	setFailures int
	events      []string
}

func (f *flakyPool) Set(_ context.Context, volume string, options map[string]string) error {
	f.events = append(f.events, "set "+volume+" "+fmt.Sprint(options))
	if f.setFailures > 0 {
		f.setFailures--
		return errors.New("volume set: failed: another transaction is in progress")
	}
	return nil
}

func (f *flakyPool) Probe(_ context.Context, host string) error {
	f.probes = append(f.probes, host)
	f.events = append(f.events, "probe "+host)
	if f.failures[host] > 0 {
		f.failures[host]--
		return errors.New("Probe returned with Transport endpoint is not connected")
	}
	if f.unlisted[host] > 0 {
		f.unlisted[host]--
	}
	if !slices.Contains(f.members, host) {
		f.members = append(f.members, host)
	}
	return nil
}

func (f *flakyPool) Peers(context.Context) ([]glustercli.Peer, error) {
	peers := []glustercli.Peer{{Hostname: "localhost", Connected: true}}
	for _, host := range f.members {
		name := host
		if f.unlisted[host] > 0 {
			name = "srv-" + host + ".net"
		}
		peers = append(peers, glustercli.Peer{Hostname: name, Hostnames: []string{name}, Connected: true})
	}
	return peers, nil
}

func TestFormPool(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name     string
		failures map[string]int
		unlisted map[string]int
		want     []string
	}{
		{"[Success] all up", nil, nil, []string{"b", "c"}},
		{"[Success] late peer retried alone", map[string]int{"c": 2}, nil, []string{"b", "c", "c", "c"}},
		{"[Success] peer known by another name probed until listed under its address", nil, map[string]int{"b": 2}, []string{"b", "c", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := &flakyPool{failures: tc.failures, unlisted: tc.unlisted}
			formPool(context.Background(), pool, []string{"b", "c"}, nil, 32*time.Millisecond, logger)
			if !slices.Equal(pool.probes, tc.want) {
				t.Errorf("probes = %v, want %v", pool.probes, tc.want)
			}
		})
	}
}

func TestFormPoolStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pool := &flakyPool{failures: map[string]int{"b": 1000}}
	formPool(ctx, pool, []string{"b"}, nil, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(pool.probes) != 1 {
		t.Errorf("probes = %v, want one before giving up", pool.probes)
	}
}

// TestFormPoolSetsPoolOptions: the pool-wide options are set once every
// peer is listed, again while glusterd refuses, and then no more.
func TestFormPoolSetsPoolOptions(t *testing.T) {
	pool := &flakyPool{failures: map[string]int{"c": 1}, setFailures: 2}
	formPool(context.Background(), pool, []string{"b", "c"}, map[string]string{brickMultiplexOption: "on", maxBricksPerProcessOption: "50"}, 32*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	multiplex, bricks := "set all map[cluster.brick-multiplex:on]", "set all map[cluster.max-bricks-per-process:50]"
	want := []string{"probe b", "probe c", "probe c", multiplex, multiplex, multiplex, bricks}
	if !slices.Equal(pool.events, want) {
		t.Errorf("events = %q, want %q", pool.events, want)
	}
}

func TestPoolOptions(t *testing.T) {
	tests := []struct {
		name      string
		multiplex string
		openFiles uint64
		want      map[string]string
	}{
		{"off: gluster refuses the bound", "off", 20000, map[string]string{brickMultiplexOption: "off"}},
		{"on, a limit that allows gluster's own bound", "on", 1 << 20, map[string]string{brickMultiplexOption: "on", maxBricksPerProcessOption: "250"}},
		{"on, a limit of 20,000 open files", "on", 20000, map[string]string{brickMultiplexOption: "on", maxBricksPerProcessOption: "50"}},
		{"on, a limit too low for two bricks", "on", 500, map[string]string{brickMultiplexOption: "on", maxBricksPerProcessOption: "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := poolOptions(tc.multiplex, tc.openFiles); !maps.Equal(got, tc.want) {
				t.Errorf("poolOptions(%q, %d) = %v, want %v", tc.multiplex, tc.openFiles, got, tc.want)
			}
		})
	}
}
