package mounter

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestForwardLog(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client.log")
	old := "[2026-11-22 04:00:00.000000 +0000] E [old.c:1:f] 0-x: before the mount\n"
	if err := os.WriteFile(file, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { (&Mounter{}).ForwardLog(ctx, file, logger.With("volume", "v")); close(done) }()

	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the follower has taken the file's size
	f.WriteString("[2026-11-22 04:00:01.000000 +0000] I [a.c:1:f] 0-x: informational\n")
	f.WriteString("[2026-11-22 04:00:02.000000 +0000] W [b.c:2:f] 0-v-client-1: brick gone\n")
	f.WriteString("[2026-11-22 04:00:03.000000 +0000] E [c.c:3:f] 0-v-replicate-0: no subvolumes up\n[2026-11-22 04:00:04.000000 +0000] E [d.c:4:f] 0-x: half a li")
	f.Close()

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "no subvolumes up") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	got := buf.String()
	for _, want := range []string{"level=WARN msg=\"gluster client\" volume=v", "brick gone", "level=ERROR", "no subvolumes up"} {
		if !strings.Contains(got, want) {
			t.Errorf("forwarded log lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"before the mount", "informational", "half a li"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("forwarded log has %q:\n%s", unwanted, got)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
