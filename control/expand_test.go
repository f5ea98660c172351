package control

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/glustercli"
)

// expandServer is a test server at 10.0.0.1 in a pool of six servers with
// volume "v" (replica 2) on the first two, another volume's brick on
// 10.0.0.3 and 10.0.0.6 disconnected.
func expandServer(t *testing.T) *testServer {
	t.Helper()
	ts := growServer(t, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6")
	ts.gluster.vols["w"] = glustercli.Volume{Name: "w", Bricks: []glustercli.Brick{{Host: "10.0.0.3", Path: "/b/w"}}}
	disconnect(ts, "10.0.0.6")
	return ts
}

func brickHosts(v Volume) []string {
	out := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		out[i] = b.Server
	}
	return out
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(*testServer)
		req     ExpandRequest
		want    []string // the volume's bricks' servers afterwards
	}{
		{"[Success] onto the servers with the fewest bricks", nil, ExpandRequest{},
			[]string{"10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5"}},
		{"[Success] onto the servers named", nil, ExpandRequest{Servers: []string{"10.0.0.3", "10.0.0.5"}},
			[]string{"10.0.0.1", "10.0.0.2", "10.0.0.5", "10.0.0.3"}},
		{"[Success] a distributed-replicated volume by a third set", func(ts *testServer) {
			v := ts.gluster.vols["v"]
			v.Bricks = append(v.Bricks, glustercli.Brick{Host: "10.0.0.4", Path: v.Bricks[0].Path}, glustercli.Brick{Host: "10.0.0.5", Path: v.Bricks[0].Path})
			ts.gluster.vols["v"] = v
			ts.gluster.peers[5].Connected = true
		}, ExpandRequest{}, []string{"10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.3"}},
		{"[Success] a volume of one brick by one", func(ts *testServer) {
			v := ts.gluster.vols["v"]
			v.Bricks, v.Replica = v.Bricks[:1], 1
			ts.gluster.vols["v"] = v
		}, ExpandRequest{}, []string{"10.0.0.1", "10.0.0.2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := expandServer(t)
			if tc.prepare != nil {
				tc.prepare(ts)
			}
			before := len(ts.gluster.vols["v"].Bricks)
			vol, err := ts.client.Expand(context.Background(), "v", tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := brickHosts(vol); !slices.Equal(got, tc.want) {
				t.Errorf("bricks on %v, want %v", got, tc.want)
			}
			for _, server := range tc.want[before:] {
				if ts.peers.owners[server+"/v"] != growOwner {
					t.Errorf("no brick directory of v made on %s for its owner: %v", server, ts.peers.owners)
				}
			}
			if vol.Replica != ts.gluster.vols["v"].Replica {
				t.Errorf("replica %d, want it unchanged", vol.Replica)
			}
			if !slices.Contains(ts.gluster.calls, "rebalance v start") {
				t.Errorf("no rebalance started: %q", ts.gluster.calls)
			}
		})
	}
}

func TestExpandRefused(t *testing.T) {
	setVolume := func(change func(*glustercli.Volume)) func(*testServer) {
		return func(ts *testServer) {
			v := ts.gluster.vols["v"]
			change(&v)
			ts.gluster.vols["v"] = v
		}
	}
	tests := []struct {
		name    string
		prepare func(*testServer)
		volume  string
		req     ExpandRequest
		err     error
		says    string
	}{
		{"[Error] a named server with a brick of it", nil, "v", ExpandRequest{Servers: []string{"10.0.0.1", "10.0.0.4"}}, ErrConflict, "holds a brick of volume v"},
		{"[Error] a named server disconnected", nil, "v", ExpandRequest{Servers: []string{"10.0.0.4", "10.0.0.6"}}, ErrUnavailable, "10.0.0.6 is not connected"},
		{"[Error] fewer servers named than a replica set", nil, "v", ExpandRequest{Servers: []string{"10.0.0.4"}}, ErrUnavailable, "add a server first"},
		{"[Error] a named server outside the pool", nil, "v", ExpandRequest{Servers: []string{"10.0.0.4", "10.0.0.9"}}, ErrInvalid, "not a member"},
		{"[Error] a server read as a gluster option", nil, "v", ExpandRequest{Servers: []string{"--log-file=/x", "10.0.0.4"}}, ErrInvalid, ""},
		{"[Error] a server named twice", nil, "v", ExpandRequest{Servers: []string{"10.0.0.4", "10.0.0.4"}}, ErrInvalid, "twice"},
		{"[Error] a volume name read as a gluster option", nil, "--mode=x", ExpandRequest{}, ErrInvalid, ""},
		{"[Error] missing", nil, "nope", ExpandRequest{}, ErrNotFound, ""},
		{"[Error] too few connected servers without a brick of it", func(ts *testServer) {
			disconnect(ts, "10.0.0.4")
			disconnect(ts, "10.0.0.5")
		}, "v", ExpandRequest{}, ErrUnavailable, "without a brick of volume v"},
		{"[Error] not made by the plugin", setVolume(func(v *glustercli.Volume) {
			v.Options = map[string]string{BrickOwnerOption: growOwner}
		}), "v", ExpandRequest{}, ErrConflict, "did not create it"},
		{"[Error] stopped", setVolume(func(v *glustercli.Volume) { v.Status = "Stopped" }), "v", ExpandRequest{}, ErrConflict, "start it first"},
		{"[Error] an arbiter", setVolume(func(v *glustercli.Volume) { v.Arbiter = 1 }), "v", ExpandRequest{}, ErrInvalid, "arbiter"},
		{"[Error] no brick owner recorded", setVolume(func(v *glustercli.Volume) { delete(v.Options, BrickOwnerOption) }), "v", ExpandRequest{}, ErrConflict, "no brick owner"},
		{"[Error] past the most bricks a volume may have", setVolume(func(v *glustercli.Volume) {
			for len(v.Bricks) < MaxBricks {
				v.Bricks = append(v.Bricks, v.Bricks[len(v.Bricks)%2])
			}
		}), "v", ExpandRequest{}, ErrInvalid, "may have"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := expandServer(t)
			if tc.prepare != nil {
				tc.prepare(ts)
			}
			bricks := len(ts.gluster.vols["v"].Bricks)
			_, err := ts.client.Expand(context.Background(), tc.volume, tc.req)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("err = %v, want %v saying %q", err, tc.err, tc.says)
			}
			if len(ts.peers.made) > 0 {
				t.Errorf("brick directories made: %v", ts.peers.made)
			}
			for _, c := range ts.gluster.calls {
				if strings.HasPrefix(c, "add-brick") || strings.HasPrefix(c, "rebalance") {
					t.Errorf("gluster ran %q", c)
				}
			}
			if got := len(ts.gluster.vols["v"].Bricks); got != bricks {
				t.Errorf("v has %d bricks, had %d", got, bricks)
			}
		})
	}
}

func TestExpandFailures(t *testing.T) {
	tests := []struct {
		name      string
		layout    error // what add-brick answers
		rebalance error // what rebalance start answers
		err       error
		says      string
		bricks    int // of v afterwards
	}{
		{"[Error] add-brick fails: the new directories go", &glustercli.Error{Message: "Commit failed on 10.0.0.4. Please check log file for details."},
			nil, nil, "Commit failed on 10.0.0.4", 2},
		{"[Error] a rebalance runs: the new directories go", &glustercli.Error{Message: "Volume name v rebalance is in progress. Please retry after completion"},
			nil, ErrConflict, "gluster-admin rebalance v", 2},
		{"[Error] the rebalance does not start: the replica set stays", nil,
			&glustercli.Error{Message: "Commit failed on 10.0.0.5. Please check log file for details."}, nil, "gluster volume rebalance v start", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := expandServer(t)
			ts.gluster.failLayout, ts.gluster.failRebalance = tc.layout, tc.rebalance
			_, err := ts.client.Expand(context.Background(), "v", ExpandRequest{})
			if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("err = %v, want %v saying %q", err, tc.err, tc.says)
			}
			if got := len(ts.gluster.vols["v"].Bricks); got != tc.bricks {
				t.Errorf("v has %d bricks, want %d", got, tc.bricks)
			}
			wantRemoved := []string{"10.0.0.4/v", "10.0.0.5/v"}
			if tc.bricks == 4 {
				wantRemoved = nil
			}
			if !slices.Equal(ts.peers.removed, wantRemoved) {
				t.Errorf("brick directories removed: %v, want %v", ts.peers.removed, wantRemoved)
			}
		})
	}
}

func TestRebalance(t *testing.T) {
	node := func(name, status string, files int64) glustercli.RebalanceNode {
		return glustercli.RebalanceNode{Node: name, Status: status, Files: files}
	}
	tests := []struct {
		name    string
		status  *glustercli.Rebalance // nil: none ran
		volume  string
		want    Rebalance
		err     error
		servers []string
	}{
		{"[Success] none ran", nil, "v", Rebalance{Status: "not started"}, nil, nil},
		{"[Success] in progress on one server, known to gluster by a name", &glustercli.Rebalance{
			Nodes: []glustercli.RebalanceNode{node("localhost", "completed", 3), node("srv2.net", "in progress", 4)},
			Total: node("", "in progress", 7),
		}, "v", Rebalance{Status: "in progress", Running: true, RebalanceCounts: RebalanceCounts{Files: 7}}, nil, []string{"10.0.0.1", "10.0.0.2"}},
		{"[Success] completed everywhere", &glustercli.Rebalance{
			Nodes: []glustercli.RebalanceNode{node("localhost", "completed", 3), node("10.0.0.2", "completed", 4)},
			Total: node("", "completed", 7),
		}, "v", Rebalance{Status: "completed", Done: true, RebalanceCounts: RebalanceCounts{Files: 7}}, nil, []string{"10.0.0.1", "10.0.0.2"}},
		{"[Success] failed on one server", &glustercli.Rebalance{
			Nodes: []glustercli.RebalanceNode{node("localhost", "completed", 3), node("10.0.0.2", "failed", 0)},
			Total: node("", "completed", 3),
		}, "v", Rebalance{Status: "completed", RebalanceCounts: RebalanceCounts{Files: 3}}, nil, []string{"10.0.0.1", "10.0.0.2"}},
		{"[Error] missing", nil, "nope", Rebalance{}, ErrNotFound, nil},
		{"[Error] a name read as a gluster option", nil, "--mode=x", Rebalance{}, ErrInvalid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := growServer(t, "10.0.0.1", "10.0.0.2")
			// Known by the name a reverse lookup gave, and by its address.
			ts.gluster.peers[1].Hostname, ts.gluster.peers[1].Hostnames = "srv2.net", []string{"srv2.net", "10.0.0.2"}
			if tc.status != nil {
				ts.gluster.rebalance = map[string]glustercli.Rebalance{"v": *tc.status}
			}
			got, err := ts.client.Rebalance(context.Background(), tc.volume)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var servers []string
			for _, s := range got.Servers {
				servers = append(servers, s.Server)
			}
			got.Servers = nil
			if !reflect.DeepEqual(got, tc.want) || !slices.Equal(servers, tc.servers) {
				t.Errorf("Rebalance() = %+v on %v, want %+v on %v", got, servers, tc.want, tc.servers)
			}
		})
	}
}
