//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// The network the game server test runs on, and the game server's address.
const (
	examplesNet    = "gte2e-examples-net"
	examplesSubnet = "172.30.120.0/24"
	examplesGame   = "gte2e-examples-game"
	examplesGameIP = "172.30.120.10"
)

// TestExampleGameServer runs the game server of the asteroids example and
// plays its protocol from here: handshake, relayed messages, ping, close,
// and a protocol error.
func TestExampleGameServer(t *testing.T) {
	ensureStandinImages(t, "web")
	dir := examplesDir(t)
	removeContainer(t, examplesGame)
	removeNetwork(t, examplesNet)
	testbed.MustDocker(t, "network", "create", "--subnet", examplesSubnet, "--label", "gluster-testbed=gte2e-examples", examplesNet)
	t.Cleanup(func() { removeNetwork(t, examplesNet) })
	testbed.MustDocker(t, "run", "-d", "--name", examplesGame, "--label", "gluster-testbed=gte2e-examples",
		"--network", examplesNet, "--ip", examplesGameIP,
		"-v", filepath.Join(dir, "asteroids", "server")+":/app:ro", standinWeb, "node", "/app/server.js")
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := testbed.Docker(context.Background(), "logs", examplesGame)
			t.Logf("game server log:\n%s", logs)
		}
		removeContainer(t, examplesGame)
	})
	base := "http://" + examplesGameIP + ":8080/"
	waitHTTP(t, base, "asteroids game server")
	playGameServer(t, base)
}

// playGameServer exercises a game server at url (directly or through the
// web server's /ws).
func playGameServer(t *testing.T, url string) {
	t.Helper()
	// Not an upgrade request: refused.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	if resp, err := plainHTTP.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("upgrade without a key: %v, %v; want 400", resp, err)
	} else {
		resp.Body.Close()
	}

	a, b := wsDial(t, url), wsDial(t, url)
	welcomeA := a.expectJSON(t, "welcome of a", func(m map[string]any) bool { return m["type"] == "welcome" })
	welcomeB := b.expectJSON(t, "welcome of b", func(m map[string]any) bool { return m["type"] == "welcome" })
	idA, idB := welcomeA["id"], welcomeB["id"]
	if idA == idB {
		t.Fatalf("both players got id %v", idA)
	}
	if ms, _ := welcomeA["time"].(float64); time.Since(time.UnixMilli(int64(ms))).Abs() > time.Minute {
		t.Errorf("welcome time %v is not the server's clock", welcomeA["time"])
	}
	// A state of more than 125 bytes (a 16-bit length) from a, relayed to b
	// with a's id.
	bullets := [][2]int{}
	for i := range 40 {
		bullets = append(bullets, [2]int{i, 2 * i})
	}
	a.sendJSON(t, map[string]any{"type": "state", "name": "gte2e-a", "x": 10, "y": 20, "a": 0.5, "hue": 120, "score": 3, "bullets": bullets})
	got := b.expectJSON(t, "a's state at b", func(m map[string]any) bool { return m["type"] == "state" })
	if got["id"] != idA || got["name"] != "gte2e-a" || len(got["bullets"].([]any)) != 40 {
		t.Errorf("b got %v; want a's state with id %v", got, idA)
	}
	b.sendJSON(t, map[string]any{"type": "hit", "target": idA})
	if got := a.expectJSON(t, "b's hit at a", func(m map[string]any) bool { return m["type"] == "hit" }); got["id"] != idB || got["target"] != idA {
		t.Errorf("a got %v; want a hit from %v", got, idB)
	}
	// Ping: pong with the same payload.
	a.sendControl(t, websocket.PingMessage, []byte("gte2e"))
	if m := a.expect(t, "pong", func(m wsMessage) bool { return m.kind == websocket.PongMessage }); string(m.payload) != "gte2e" {
		t.Errorf("pong payload %q", m.payload)
	}
	// Close: the server echoes the code, and b learns that a left.
	a.sendControl(t, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if got := a.expectClose(t, "close echoed"); got.Code != websocket.CloseNormalClosure || got.Text != "" {
		t.Errorf("close %v; want 1000 without a reason", got)
	}
	if got := b.expectJSON(t, "a's leave at b", func(m map[string]any) bool { return m["type"] == "leave" }); got["id"] != idA {
		t.Errorf("b got %v; want a's leave", got)
	}
	// A client frame without a mask breaks the protocol: close with 1002.
	c := wsDial(t, url)
	c.expectJSON(t, "welcome of c", func(m map[string]any) bool { return m["type"] == "welcome" })
	// No library sends one: write its bytes (final text frame "hi") past it.
	if _, err := c.conn.NetConn().Write([]byte{0x81, 0x02, 'h', 'i'}); err != nil {
		t.Fatal(err)
	}
	if got := c.expectClose(t, "close after an unmasked frame"); got.Code != websocket.CloseProtocolError {
		t.Errorf("close %v; want 1002", got)
	}
}
