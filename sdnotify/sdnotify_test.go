package sdnotify

import (
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotifications(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")

	n := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	n.Ready()
	var got []string
	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 2 {
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, string(buf[:k]))
	}
	n.Stopping()
	for {
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no STOPPING=1 after %v: %v", got, err)
		}
		if msg := string(buf[:k]); msg == "STOPPING=1" {
			break
		}
	}
	if got[0] != "READY=1" || !strings.HasPrefix(got[1], "WATCHDOG=1") {
		t.Errorf("notifications = %q, want READY=1 then WATCHDOG=1", got)
	}
}
