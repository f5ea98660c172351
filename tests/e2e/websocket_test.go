//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsTimeout bounds the handshake, a write, and the wait for an expected
// message: the game server answers at once.
const wsTimeout = 10 * time.Second

// wsMessage is what a WebSocket connection received: a data message, a
// pong, the server's close frame, or the error that ended the connection.
type wsMessage struct {
	kind    int // websocket.TextMessage, BinaryMessage, PongMessage or CloseMessage
	payload []byte
	close   *websocket.CloseError // of a CloseMessage
	err     error                 // the connection broke
}

// wsConn is a client's WebSocket connection whose messages are read in the
// background, so that a test can wait for the one it expects.
type wsConn struct {
	conn     *websocket.Conn
	messages chan wsMessage
}

// wsDial opens a WebSocket connection to an http:// url; the library checks
// the server's handshake answer. It is closed when the test ends.
func wsDial(t *testing.T, url string) *wsConn {
	t.Helper()
	// No proxy from the environment: the test's containers only.
	dialer := websocket.Dialer{HandshakeTimeout: wsTimeout}
	conn, resp, err := dialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		status := "no answer"
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("WebSocket handshake with %s: %v (%s)", url, err, status)
	}
	c := &wsConn{conn: conn, messages: make(chan wsMessage, 64)}
	// Pongs arrive on the reading goroutine, within ReadMessage.
	conn.SetPongHandler(func(data string) error {
		c.messages <- wsMessage{kind: websocket.PongMessage, payload: []byte(data)}
		return nil
	})
	t.Cleanup(func() { conn.Close() })
	go c.readLoop()
	return c
}

func (c *wsConn) readLoop() {
	defer close(c.messages)
	for {
		kind, payload, err := c.conn.ReadMessage()
		var closed *websocket.CloseError
		switch {
		case errors.As(err, &closed):
			c.messages <- wsMessage{kind: websocket.CloseMessage, close: closed}
			return
		case err != nil:
			c.messages <- wsMessage{err: err}
			return
		}
		c.messages <- wsMessage{kind: kind, payload: payload}
	}
}

// sendJSON sends v as a text message.
func (c *wsConn) sendJSON(t testing.TB, v any) {
	t.Helper()
	if err := c.conn.SetWriteDeadline(time.Now().Add(wsTimeout)); err != nil {
		t.Fatal(err)
	}
	if err := c.conn.WriteJSON(v); err != nil {
		t.Fatalf("WebSocket write: %v", err)
	}
}

// sendControl sends a ping or close frame.
func (c *wsConn) sendControl(t testing.TB, kind int, payload []byte) {
	t.Helper()
	if err := c.conn.WriteControl(kind, payload, time.Now().Add(wsTimeout)); err != nil {
		t.Fatalf("WebSocket control frame: %v", err)
	}
}

// expect waits for a message that match accepts, skipping others.
func (c *wsConn) expect(t testing.TB, what string, match func(wsMessage) bool) wsMessage {
	t.Helper()
	timeout := time.After(wsTimeout)
	for {
		select {
		case m, ok := <-c.messages:
			if !ok {
				t.Fatalf("%s: connection closed", what)
			}
			if m.err != nil {
				t.Fatalf("%s: %v", what, m.err)
			}
			if match(m) {
				return m
			}
		case <-timeout:
			t.Fatalf("%s: nothing within %s", what, wsTimeout)
		}
	}
}

// expectJSON waits for a text message that match accepts.
func (c *wsConn) expectJSON(t testing.TB, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var msg map[string]any
	c.expect(t, what, func(m wsMessage) bool {
		if m.kind != websocket.TextMessage {
			return false
		}
		msg = nil
		if err := json.Unmarshal(m.payload, &msg); err != nil {
			t.Fatalf("%s: not JSON: %q", what, m.payload)
		}
		return match(msg)
	})
	return msg
}

// expectClose waits for the server's close frame.
func (c *wsConn) expectClose(t testing.TB, what string) *websocket.CloseError {
	t.Helper()
	return c.expect(t, what, func(m wsMessage) bool { return m.kind == websocket.CloseMessage }).close
}
