package control

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

func TestClusterSkipsUnreachableServers(t *testing.T) {
	ts := newTestServer(t, "a1", "a2")
	host, port := splitURL(t, ts.url)
	// A closed port on loopback: connection refused at once.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	ctx := context.Background()
	dead := &Cluster{servers: []string{"dead"}, clients: []*Client{NewClient("127.0.0.1", deadPort, token, nil)}}
	live := NewClient(host, port, token, nil)
	c := &Cluster{servers: []string{"dead", "live"}, clients: append(dead.clients, live)}

	if _, err := c.Create(ctx, CreateRequest{Name: "v"}); err != nil {
		t.Fatalf("create through the second server: %v", err)
	}
	if c.last.Load() != 1 {
		t.Errorf("the server that answered is not tried first next time")
	}
	if _, err := c.Volume(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a server's own answer is returned, not skipped: %v", err)
	}
	_, err = dead.Volumes(ctx)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "dead") {
		t.Errorf("all unreachable: %v, want ErrUnavailable naming the servers tried", err)
	}
}
