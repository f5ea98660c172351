package mounter

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestPingCall(t *testing.T) {
	// The call glusterd 10.3 was seen to answer.
	want := []byte{
		0x80, 0, 0, 40, // last fragment, 40 bytes
		0, 0, 0x12, 0x34, // xid
		0, 0, 0, 0, // call
		0, 0, 0, 2, // RPC version 2
		0x07, 0x5b, 0xb8, 0x6d, // program 123451501
		0, 0, 0, 1, // version 1
		0, 0, 0, 2, // PING
		0, 0, 0, 0, 0, 0, 0, 0, // AUTH_NULL credentials
		0, 0, 0, 0, 0, 0, 0, 0, // AUTH_NULL verifier
	}
	if got := pingCall(0x1234); !bytes.Equal(got, want) {
		t.Errorf("pingCall() = % x\nwant % x", got, want)
	}
}

func TestReadPingReply(t *testing.T) {
	// The reply of glusterd 10.3: accepted, success, gf_common_rsp{0, 0, no xdata}.
	accepted := []byte{0x80, 0, 0, 0x24, 0, 0, 0x12, 0x34, 0, 0, 0, 1}
	accepted = append(accepted, make([]byte, 28)...)
	denied := []byte{0x80, 0, 0, 0x10, 0, 0, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}
	testCases := []struct {
		name  string
		reply []byte
		ok    bool
	}{
		{name: "[Success] accepted reply", reply: accepted, ok: true},
		{name: "[Success] a refusal is an answer too", reply: denied, ok: true},
		{name: "[Error] other xid", reply: append(append([]byte{}, accepted[:7]...), append([]byte{0x35}, accepted[8:]...)...)},
		{name: "[Error] a call instead of a reply", reply: pingCall(0x1234)},
		{name: "[Error] truncated", reply: accepted[:20]},
		{name: "[Error] absurd size", reply: []byte{0xff, 0xff, 0xff, 0xff}},
		{name: "[Error] nothing", reply: nil},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := readPingReply(bytes.NewReader(tc.reply), 0x1234)
			if (err == nil) != tc.ok {
				t.Errorf("readPingReply() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	// live answers, refused is not listening, frozen accepts and never answers.
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(address)
		if port != "24007" {
			t.Errorf("dialled port %s, want 24007", port)
		}
		client, server := net.Pipe()
		switch host[:len(host)-1] {
		case "live":
			go answerPings(server)
		case "frozen":
			go io.Copy(io.Discard, server)
		default:
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return client, nil
	}
	rec := &recorder{}
	m := &Mounter{Dial: dial, ProbeTimeout: 100 * time.Millisecond, Logger: testLogger(t), Observer: rec}
	start := time.Now()
	live, dead := m.Probe(context.Background(), []string{"frozen1", "live1", "refused1", "live2", "frozen2", "refused2", "live3"})
	elapsed := time.Since(start)

	if want := []string{"live1", "live2", "live3"}; !slices.Equal(live, want) {
		t.Errorf("live = %q, want %q", live, want)
	}
	if want := []string{"frozen1", "refused1", "frozen2", "refused2"}; !slices.Equal(dead, want) {
		t.Errorf("dead = %q, want %q", dead, want)
	}
	wantProbes := map[string]bool{"live1": true, "live2": true, "live3": true, "frozen1": false, "frozen2": false, "refused1": false, "refused2": false}
	if !maps.Equal(rec.probes, wantProbes) {
		t.Errorf("observer told %v, want %v", rec.probes, wantProbes)
	}
	// In parallel, two frozen servers cost one timeout, not two.
	if elapsed > 190*time.Millisecond {
		t.Errorf("Probe took %s, want about one ProbeTimeout", elapsed)
	}
}

func TestProbeCancelled(t *testing.T) {
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		client, server := net.Pipe()
		go io.Copy(io.Discard, server)
		return client, nil
	}
	m := &Mounter{Dial: dial, ProbeTimeout: time.Minute, Logger: testLogger(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	live, dead := m.Probe(ctx, []string{"frozen"})
	if len(live) != 0 || len(dead) != 1 || time.Since(start) > time.Second {
		t.Errorf("Probe() = %q, %q after %s; want the frozen server dead at once", live, dead, time.Since(start))
	}
}

// switchableServers answer probes as their current state says: "live",
// "frozen" (accepts, never answers) or anything else (refused).
type switchableServers struct {
	mu    sync.Mutex
	state map[string]string
}

func (s *switchableServers) set(server, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state[server] = state
}

func (s *switchableServers) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(address)
	s.mu.Lock()
	state := s.state[host]
	s.mu.Unlock()
	client, server := net.Pipe()
	switch state {
	case "live":
		go answerPings(server)
	case "frozen":
		go io.Copy(io.Discard, server)
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	return client, nil
}

// TestProbeDoesNotWaitForTheDead: the probe ends a grace after the first
// answer, and at once for servers that failed a moment ago; a server that
// comes back is live again for the next mount.
func TestProbeDoesNotWaitForTheDead(t *testing.T) {
	servers := &switchableServers{state: map[string]string{"live": "live", "gone": "frozen"}}
	m := &Mounter{Dial: servers.dial, ProbeTimeout: time.Minute, ProbeGrace: 50 * time.Millisecond, Logger: testLogger(t)}
	probe := func() (live, dead []string, took time.Duration) {
		start := time.Now()
		live, dead = m.Probe(context.Background(), []string{"gone", "live"})
		return live, dead, time.Since(start)
	}

	steps := []struct {
		name     string
		before   func()
		wantLive []string
		within   time.Duration
	}{
		{"[Success] a silent server costs the grace, not the probe limit", nil, []string{"live"}, time.Second},
		{"[Success] a server silent a moment ago costs nothing", func() {
			// The first probe's timeout, so that the server counts as failed.
			m.health.record("gone", false)
			m.ProbeGrace = time.Minute
		}, []string{"live"}, time.Second},
		{"[Success] a server that came back is live again", func() {
			servers.set("gone", "live")
			// This probe may not wait for it, but records that it answered.
			probe()
			waitUntil(t, "the server's answer remembered", func() bool { return len(m.health.recentlyDead([]string{"gone"})) == 0 })
		}, []string{"gone", "live"}, time.Second},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.before != nil {
				step.before()
			}
			live, dead, took := probe()
			if !slices.Equal(live, step.wantLive) || took > step.within {
				t.Errorf("Probe() = live %q, dead %q after %s; want live %q within %s", live, dead, took, step.wantLive, step.within)
			}
		})
	}
}

// TestProbeRemembersInTheBackground: a probe Mount stopped waiting for
// still records its outcome.
func TestProbeRemembersInTheBackground(t *testing.T) {
	servers := &switchableServers{state: map[string]string{"live": "live", "gone": "frozen"}}
	m := &Mounter{Dial: servers.dial, ProbeTimeout: 100 * time.Millisecond, ProbeGrace: time.Millisecond, Logger: testLogger(t)}
	if live, _ := m.Probe(context.Background(), []string{"gone", "live"}); !slices.Equal(live, []string{"live"}) {
		t.Fatalf("live = %q", live)
	}
	waitUntil(t, "the silent server's failed probe remembered", func() bool { return len(m.health.recentlyDead([]string{"gone"})) == 1 })
}

// waitUntil polls cond for at most 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
