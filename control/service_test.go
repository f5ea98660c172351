package control

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/glustercli"
)

func TestClientHosts(t *testing.T) {
	heal := []glustercli.Daemon{{Host: "localhost", Online: true}, {Host: "10.0.0.2", Online: true}}
	tests := []struct {
		name   string
		status glustercli.Status
		want   []string
	}{
		{"[Success] only self-heal daemons", glustercli.Status{
			SelfHeal: heal,
			Bricks: []glustercli.BrickStatus{
				{Clients: []string{"10.0.0.1:49149", "10.0.0.2:49149"}},
				{Clients: []string{"10.0.0.2:49146"}},
			},
		}, nil},
		{"[Success] a client on a server host", glustercli.Status{
			SelfHeal: heal,
			Bricks:   []glustercli.BrickStatus{{Clients: []string{"10.0.0.1:49149", "10.0.0.1:49150", "10.0.0.2:49149"}}},
		}, []string{"10.0.0.1"}},
		{"[Success] clients elsewhere", glustercli.Status{
			SelfHeal: heal,
			Bricks: []glustercli.BrickStatus{
				{Clients: []string{"192.0.2.9:1000", "10.0.0.1:49149"}},
				{Clients: []string{"192.0.2.8:1000"}},
			},
		}, []string{"192.0.2.8", "192.0.2.9"}},
		// Captured after limit-usage: each server's self-heal and quota
		// daemon on both bricks.
		{"[Success] self-heal and quota daemons", glustercli.Status{
			SelfHeal: heal,
			Quota:    heal,
			Bricks: []glustercli.BrickStatus{
				{Clients: []string{"10.0.0.1:49149", "10.0.0.2:49149", "10.0.0.1:49142", "10.0.0.2:49145"}},
				{Clients: []string{"10.0.0.2:49146", "10.0.0.1:49145", "10.0.0.1:49141", "10.0.0.2:49142"}},
			},
		}, nil},
		{"[Success] a mount on a server beside its daemons", glustercli.Status{
			SelfHeal: heal,
			Quota:    heal,
			Bricks:   []glustercli.BrickStatus{{Clients: []string{"10.0.0.1:49149", "10.0.0.1:49142", "10.0.0.1:49100", "10.0.0.2:49145"}}},
		}, []string{"10.0.0.1"}},
		// Gluster cannot tell whose the connection is: it may be a mount on
		// the server. A daemon that runs while reported offline is
		// repaired by its server, after which its connection is discounted.
		{"[Success] offline healer's server connection counts as a client", glustercli.Status{
			SelfHeal: []glustercli.Daemon{{Host: "localhost", Online: false}},
			Bricks:   []glustercli.BrickStatus{{Clients: []string{"10.0.0.1:49149"}}},
		}, []string{"10.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addressOf := func(h string) string {
				if h == "localhost" {
					return "10.0.0.1"
				}
				return h
			}
			if got := clientHosts(tc.status, addressOf); !slices.Equal(got, tc.want) {
				t.Errorf("clientHosts() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPoolPrefersAddresses(t *testing.T) {
	g := newFakeGluster("10.0.0.1")
	g.peers = append(g.peers,
		glustercli.Peer{UUID: "u2", Hostname: "srv2.example", Hostnames: []string{"srv2.example", "10.0.0.2"}, Connected: true},
		glustercli.Peer{UUID: "u3", Hostname: "srv3", Hostnames: []string{"srv3"}, Connected: false},
		glustercli.Peer{UUID: "u4", Hostname: "srv4.net", Hostnames: []string{"srv4.net"}, Connected: true},
	)
	svc := NewService("10.0.0.1", t.TempDir(), g, nil, discard)
	svc.lookupHost = func(_ context.Context, host string) ([]string, error) {
		if host == "srv4.net" {
			return []string{"10.0.0.4"}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	peers, addressOf, err := svc.pool(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Peer{
		{Address: "10.0.0.1", UUID: "uuid-0", Connected: true, Self: true},
		{Address: "10.0.0.2", UUID: "u2", Connected: true},
		{Address: "10.0.0.4", UUID: "u4", Connected: true},
		{Address: "srv3", UUID: "u3"},
	}
	if !slices.Equal(peers, want) {
		t.Errorf("peers = %+v, want %+v", peers, want)
	}
	for in, out := range map[string]string{"localhost": "10.0.0.1", "srv2.example": "10.0.0.2", "10.0.0.2": "10.0.0.2", "srv3": "srv3", "srv4.net": "10.0.0.4", "other": "other"} {
		if got := addressOf(in); got != out {
			t.Errorf("addressOf(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestFailedDeleteStartsTheVolumeAgain(t *testing.T) {
	tests := []struct {
		name      string
		failStart error
		status    string
		message   string
	}{
		{"[Error] started again", nil, "Started", "started again"},
		{"[Error] starting again fails too", errors.New("brick offline"), "Stopped", "stays stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
			if _, err := ts.client.Create(ctx, CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}}); err != nil {
				t.Fatal(err)
			}
			ts.gluster.failDelete = &glustercli.Error{Message: "Some of the peers are down"}
			ts.gluster.failStart = tc.failStart
			err := ts.client.Delete(ctx, "v")
			if err == nil || !strings.Contains(err.Error(), "peers are down") || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("err = %v, want gluster's reason and %q", err, tc.message)
			}
			if got := ts.gluster.vols["v"].Status; got != tc.status {
				t.Errorf("volume status %s, want %s", got, tc.status)
			}
			if _, err := os.Stat(filepath.Join(ts.bricks, "v")); err != nil {
				t.Errorf("brick directory of the kept volume: %v", err)
			}
		})
	}
}
