package control

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
)

const growOwner = "0123456789abcdef0123456789abcdef"

// growServer is a test server at 10.0.0.1 in a pool of the given servers
// with volume "v", made by the plugin, on the first two.
func growServer(t *testing.T, servers ...string) *testServer {
	t.Helper()
	ts := newTestServer(t, servers...)
	ts.gluster.vols["v"] = glustercli.Volume{
		Name: "v", ID: "id-v", Status: "Started", Replica: 2,
		Bricks:  []glustercli.Brick{{Host: "10.0.0.1", Path: filepath.Join(ts.bricks, "v")}, {Host: "10.0.0.2", Path: filepath.Join(ts.bricks, "v")}},
		Options: map[string]string{DockerVolumeOption: "v", BrickOwnerOption: growOwner},
	}
	return ts
}

func disconnect(ts *testServer, server string) {
	for i, p := range ts.gluster.peers {
		if p.Hostname == server {
			ts.gluster.peers[i].Connected = false
		}
	}
}

func TestRaiseReplica(t *testing.T) {
	ts := growServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
	// Another volume's brick on 10.0.0.3 makes 10.0.0.4 the emptier server.
	ts.gluster.vols["w"] = glustercli.Volume{Name: "w", Bricks: []glustercli.Brick{{Host: "10.0.0.3", Path: "/b/w"}}}
	vol, err := ts.client.RaiseReplica(context.Background(), "v", ReplicaRequest{Replica: 3})
	if err != nil {
		t.Fatal(err)
	}
	if vol.Replica != 3 || vol.Bricks[2].Server != "10.0.0.4" {
		t.Errorf("volume after raising: %+v, want a third brick on 10.0.0.4", vol)
	}
	if !slices.Equal(ts.peers.made, []string{"10.0.0.4/v"}) || ts.peers.owners["10.0.0.4/v"] != growOwner {
		t.Errorf("brick directories made: %v %v, want 10.0.0.4/v for the volume's owner", ts.peers.made, ts.peers.owners)
	}
	if !slices.Contains(ts.gluster.calls, "heal v full") {
		t.Errorf("no full heal started: %v", ts.gluster.calls)
	}
}

func TestRaiseReplicaRefused(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(*testServer)
		req     ReplicaRequest
		volume  string
		err     error
	}{
		{"[Error] not raised", nil, ReplicaRequest{Replica: 2}, "v", ErrInvalid},
		{"[Error] above the maximum", nil, ReplicaRequest{Replica: MaxReplica + 1}, "v", ErrInvalid},
		{"[Error] no server without a brick", func(ts *testServer) { disconnect(ts, "10.0.0.3") }, ReplicaRequest{Replica: 3}, "v", ErrUnavailable},
		{"[Error] a server outside the pool", nil, ReplicaRequest{Replica: 3, Servers: []string{"10.0.0.9"}}, "v", ErrInvalid},
		{"[Error] a server read as a gluster option", nil, ReplicaRequest{Replica: 3, Servers: []string{"--log-file=/x"}}, "v", ErrInvalid},
		{"[Error] a volume gluster option as its name", nil, ReplicaRequest{Replica: 3}, "--mode=x", ErrInvalid},
		{"[Error] missing", nil, ReplicaRequest{Replica: 3}, "nope", ErrNotFound},
		{"[Error] not made by the plugin", func(ts *testServer) {
			v := ts.gluster.vols["v"]
			v.Options = map[string]string{BrickOwnerOption: growOwner}
			ts.gluster.vols["v"] = v
		}, ReplicaRequest{Replica: 3}, "v", ErrConflict},
		{"[Error] stopped", func(ts *testServer) {
			v := ts.gluster.vols["v"]
			v.Status = "Stopped"
			ts.gluster.vols["v"] = v
		}, ReplicaRequest{Replica: 3}, "v", ErrConflict},
		{"[Error] an arbiter", func(ts *testServer) {
			v := ts.gluster.vols["v"]
			v.Arbiter = 1
			ts.gluster.vols["v"] = v
		}, ReplicaRequest{Replica: 3}, "v", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := growServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3")
			if tc.prepare != nil {
				tc.prepare(ts)
			}
			_, err := ts.client.RaiseReplica(context.Background(), tc.volume, tc.req)
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			assertUnchanged(t, ts)
		})
	}
}

// assertUnchanged checks that a refused change made no brick and ran no
// gluster change or rebalance.
func assertUnchanged(t *testing.T, ts *testServer) {
	t.Helper()
	if len(ts.peers.made) > 0 {
		t.Errorf("brick directories made: %v", ts.peers.made)
	}
	for _, c := range ts.gluster.calls {
		if strings.HasPrefix(c, "add-brick") || strings.HasPrefix(c, "replace-brick") || strings.HasPrefix(c, "detach") || strings.HasPrefix(c, "probe") || strings.HasPrefix(c, "rebalance") {
			t.Errorf("gluster ran %q", c)
		}
	}
	if len(ts.gluster.vols["v"].Bricks) != 2 {
		t.Errorf("bricks of v: %v", ts.gluster.vols["v"].Bricks)
	}
}

func TestRaiseReplicaFailureRemovesTheNewBrick(t *testing.T) {
	ts := growServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3")
	ts.gluster.failLayout = &glustercli.Error{Message: "Commit failed on 10.0.0.3. Please check log file for details."}
	_, err := ts.client.RaiseReplica(context.Background(), "v", ReplicaRequest{Replica: 3})
	if err == nil || !strings.Contains(err.Error(), "/dev/fuse") {
		t.Errorf("err = %v, want the failure with a hint at /dev/fuse", err)
	}
	if !slices.Equal(ts.peers.removed, []string{"10.0.0.3/v"}) {
		t.Errorf("brick directories removed: %v, want 10.0.0.3/v", ts.peers.removed)
	}
}

func TestReplaceBrick(t *testing.T) {
	tests := []struct {
		name string
		req  ReplaceRequest
		want string // the gluster call, or empty
		err  error
	}{
		{"[Success] onto a named server", ReplaceRequest{From: "10.0.0.2", To: "10.0.0.4"}, "replace-brick v 10.0.0.2:%[1]s/v 10.0.0.4:%[1]s/v", nil},
		{"[Success] onto the emptiest server", ReplaceRequest{From: "10.0.0.2"}, "replace-brick v 10.0.0.2:%[1]s/v 10.0.0.3:%[1]s/v", nil},
		{"[Error] onto a server with a brick of it", ReplaceRequest{From: "10.0.0.2", To: "10.0.0.1"}, "", ErrConflict},
		{"[Error] onto a disconnected server", ReplaceRequest{From: "10.0.0.2", To: "10.0.0.5"}, "", ErrUnavailable},
		{"[Error] onto a server outside the pool", ReplaceRequest{From: "10.0.0.2", To: "10.0.0.9"}, "", ErrInvalid},
		{"[Error] from a server without a brick of it", ReplaceRequest{From: "10.0.0.3", To: "10.0.0.4"}, "", ErrInvalid},
		{"[Error] a server read as a gluster option", ReplaceRequest{From: "10.0.0.2", To: "--log-file=/x"}, "", ErrInvalid},
		{"[Error] from read as a gluster option", ReplaceRequest{From: "-10.0.0.2"}, "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := growServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")
			disconnect(ts, "10.0.0.2")
			disconnect(ts, "10.0.0.5")
			ts.gluster.vols["w"] = glustercli.Volume{Name: "w", Bricks: []glustercli.Brick{{Host: "10.0.0.4", Path: "/b/w"}}}
			vol, err := ts.client.ReplaceBrick(context.Background(), "v", tc.req)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.want == "" {
				assertUnchanged(t, ts)
				return
			}
			if want := fmt.Sprintf(tc.want, ts.bricks); !slices.Contains(ts.gluster.calls, want) {
				t.Errorf("gluster calls %q, want %q", ts.gluster.calls, want)
			}
			if vol.Bricks[1].Server == "10.0.0.2" || !slices.Contains(ts.gluster.calls, "heal v full") {
				t.Errorf("volume %+v after %q", vol, ts.gluster.calls)
			}
		})
	}
}

func TestPeers(t *testing.T) {
	ts := growServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3")
	ctx := context.Background()
	if _, err := ts.client.AddPeer(ctx, "--log-file=/x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("adding an option: %v, want ErrInvalid", err)
	}
	if p, err := ts.client.AddPeer(ctx, "10.0.0.4"); err != nil || !p.Connected || p.Address != "10.0.0.4" {
		t.Errorf("adding 10.0.0.4: %+v, %v", p, err)
	}
	if err := ts.client.RemovePeer(ctx, "10.0.0.2"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "holds bricks of v") {
		t.Errorf("removing a server with a brick: %v, want a conflict naming v", err)
	}
	if err := ts.client.RemovePeer(ctx, "10.0.0.1"); !errors.Is(err, ErrInvalid) {
		t.Errorf("removing itself: %v, want ErrInvalid", err)
	}
	if err := ts.client.RemovePeer(ctx, "10.0.0.9"); !errors.Is(err, ErrInvalid) {
		t.Errorf("removing a stranger: %v, want ErrInvalid", err)
	}
	if err := ts.client.RemovePeer(ctx, "10.0.0.3"); err != nil {
		t.Errorf("removing 10.0.0.3: %v", err)
	}
	want := []string{"probe 10.0.0.4", "detach 10.0.0.3"}
	if !slices.Equal(ts.gluster.calls, want) {
		t.Errorf("gluster calls %q, want %q", ts.gluster.calls, want)
	}
}

func TestHealOf(t *testing.T) {
	tests := []struct {
		name    string
		bricks  []glustercli.BrickHeal
		done    bool
		pending int
	}{
		{"[Success] nothing to heal", []glustercli.BrickHeal{{Connected: true}, {Connected: true}}, true, 0},
		{"[Success] healing", []glustercli.BrickHeal{{Connected: true, Pending: 3, PossiblyHealing: 1}, {Connected: true}}, false, 4},
		{"[Success] a brick that did not answer", []glustercli.BrickHeal{{Connected: true}, {Connected: false}}, false, 0},
		{"[Success] split-brain", []glustercli.BrickHeal{{Connected: true, SplitBrain: 1}}, false, 0},
		{"[Success] no answer at all", nil, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := healOf(tc.bricks)
			if h.Done != tc.done || h.Pending != tc.pending {
				t.Errorf("healOf() = %+v, want done %t, pending %d", h, tc.done, tc.pending)
			}
		})
	}
}

func TestAddPeerWaitsForItsControlAPI(t *testing.T) {
	ts := growServer(t, "10.0.0.1", "10.0.0.2")
	ts.peers.silent = map[string]error{"10.0.0.3": errors.New("connection refused")}
	go func() {
		time.Sleep(2 * peerJoinPoll)
		ts.peers.mu.Lock()
		delete(ts.peers.silent, "10.0.0.3")
		ts.peers.mu.Unlock()
	}()
	start := time.Now()
	if _, err := ts.client.AddPeer(context.Background(), "10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2*peerJoinPoll {
		t.Errorf("returned after %s, before the server's control API answered", waited)
	}
}

func TestAddPeerOfAnotherPool(t *testing.T) {
	ts := growServer(t, "10.0.0.1", "10.0.0.2")
	ts.gluster.failProbe = &glustercli.Error{Message: "10.0.0.3 is either already part of another cluster or having volumes configured"}
	_, err := ts.client.AddPeer(context.Background(), "10.0.0.3")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "empty state directory") {
		t.Errorf("err = %v, want a conflict that says a server joins with an empty state", err)
	}
}

func TestDistributedVolumes(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")
	ctx := context.Background()
	vol, err := ts.client.Create(ctx, CreateRequest{Name: "d", Replica: 2, Bricks: 4, Options: map[string]string{DockerVolumeOption: "d"}})
	if err != nil {
		t.Fatal(err)
	}
	if vol.Replica != 2 || len(vol.Bricks) != 4 {
		t.Fatalf("created %+v, want 4 bricks in replica sets of 2", vol)
	}
	seen := map[string]bool{}
	for _, b := range vol.Bricks {
		if seen[b.Server] {
			t.Errorf("two bricks on %s: %+v", b.Server, vol.Bricks)
		}
		seen[b.Server] = true
	}
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "d", Replica: 2, Bricks: 4, Options: map[string]string{DockerVolumeOption: "d"}}); err != nil {
		t.Errorf("creating it again: %v, want it adopted", err)
	}
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "d", Replica: 4, Options: map[string]string{DockerVolumeOption: "d"}}); !errors.Is(err, ErrConflict) {
		t.Errorf("creating it as replica 4: %v, want a conflict", err)
	}
	if _, err := ts.client.RaiseReplica(ctx, "d", ReplicaRequest{Replica: 3}); !errors.Is(err, ErrInvalid) {
		t.Errorf("raising a distributed volume: %v, want ErrInvalid", err)
	}
	from := vol.Bricks[0].Server
	moved, err := ts.client.ReplaceBrick(ctx, "d", ReplaceRequest{From: from})
	if err != nil || moved.Bricks[0].Server != "10.0.0.5" {
		t.Errorf("moving the brick off %s: %+v, %v; want it on the server without one", from, moved, err)
	}
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "e", Replica: 2, Bricks: 6, Options: map[string]string{DockerVolumeOption: "e"}}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("6 bricks on 5 servers: %v, want ErrUnavailable", err)
	}
}

func TestCheckBrickLayout(t *testing.T) {
	tests := []struct {
		name string
		req  CreateRequest
		ok   bool
	}{
		{"[Success] one replica set", CreateRequest{Replica: 2}, true},
		{"[Success] two replica sets", CreateRequest{Replica: 2, Bricks: 4}, true},
		{"[Error] no replica count", CreateRequest{Bricks: 4}, false},
		{"[Error] not whole replica sets", CreateRequest{Replica: 2, Bricks: 3}, false},
		{"[Error] an arbiter in several sets", CreateRequest{Replica: 3, Bricks: 6, Arbiter: true}, false},
		{"[Error] too many", CreateRequest{Replica: 2, Bricks: MaxBricks + 2}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckBrickLayout(tc.req.Bricks, tc.req.Replica, tc.req.Arbiter); (err == nil) != tc.ok {
				t.Errorf("CheckBrickLayout(%+v) = %v, want ok %t", tc.req, err, tc.ok)
			}
		})
	}
}
