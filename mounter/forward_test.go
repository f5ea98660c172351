package mounter

import (
	"bytes"
	"context"
	"fmt"
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

func TestForwardLinesWithholdsRepeats(t *testing.T) {
	line := func(level, source, text string) string {
		return "[2026-11-22 04:00:00.000000 +0000] " + level + " [" + source + "] 0-fuse: " + text + "\n"
	}
	groups := func(pid string) string {
		return line("E", "fuse-helpers.c:214:frame_fill_groups", "FSTAT: failed to open /proc/"+pid+"/status")
	}
	start := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		chunks []string        // read at start, start+1s, ...
		at     []time.Duration // when each chunk is read
		want   []string        // forwarded lines, in order, as "text similar=N"
	}{
		{
			name:   "[Success] a repeated message is forwarded once a window, with the count of those withheld",
			chunks: []string{groups("1") + groups("2"), groups("3"), groups("4")},
			at:     []time.Duration{0, 30 * time.Second, 61 * time.Second},
			want:   []string{"/proc/1/status 0", "/proc/4/status 2"},
		},
		{
			name:   "[Success] messages from other places are forwarded",
			chunks: []string{groups("1") + line("W", "client.c:7:notify", "brick gone") + line("E", "afr.c:9:up", "no subvolumes up")},
			at:     []time.Duration{0},
			want:   []string{"/proc/1/status 0", "brick gone 0", "no subvolumes up 0"},
		},
		{
			name:   "[Success] lines without a code location are never withheld",
			chunks: []string{"[2026-11-22 04:00:00.000000 +0000] E odd line\n[2026-11-22 04:00:00.000000 +0000] E odd line\n"},
			at:     []time.Duration{0},
			want:   []string{"odd line 0", "odd line 0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			logger := slog.New(recordHandler{func(r slog.Record) {
				text, similar := "", int64(0)
				r.Attrs(func(a slog.Attr) bool {
					switch a.Key {
					case "line":
						text = a.Value.String()
					case "similar_lines_not_forwarded":
						similar = a.Value.Int64()
					}
					return true
				})
				got = append(got, fmt.Sprintf("%s %d", text, similar))
			}})
			repeats := newRepeatFilter()
			for i, chunk := range tc.chunks {
				forwardLines(chunk, logger, repeats, start.Add(tc.at[i]))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("forwarded %q, want %d lines ending in %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasSuffix(got[i], tc.want[i]) {
					t.Errorf("forwarded line %d = %q, want it to end in %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// recordHandler is a slog.Handler that passes every record to a function.
type recordHandler struct{ record func(slog.Record) }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.record(r)
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }
