package driver

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMountWait(t *testing.T) {
	tests := []struct {
		name      string
		fixed     time.Duration
		abandoned []time.Duration // how long Docker waited, in turn
		want      time.Duration
	}{
		{"[Success] nothing learned: long enough for Docker 23 and later", 0, nil, adaptiveMountTimeout},
		{"[Success] Docker 20.10 gave up after 30 s", 0, []time.Duration{30*time.Second + 40*time.Millisecond}, 25 * time.Second},
		{"[Success] the shortest wait seen wins", 0, []time.Duration{110 * time.Second, 30 * time.Second, 60 * time.Second}, 25 * time.Second},
		{"[Success] a request closed early is not Docker's limit", 0, []time.Duration{3 * time.Second}, adaptiveMountTimeout},
		{"[Success] MOUNT_TIMEOUT set: nothing learned", 50 * time.Second, []time.Duration{30 * time.Second}, 50 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), mountWaitFile)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			w := loadMountWait(tc.fixed, path, logger)
			for _, waited := range tc.abandoned {
				w.abandoned(waited)
			}
			if got := w.timeout(); got != tc.want {
				t.Errorf("timeout() = %s, want %s", got, tc.want)
			}
			// A restarted plugin knows what this one learned.
			if got := loadMountWait(tc.fixed, path, logger).timeout(); got != tc.want {
				t.Errorf("timeout() after a restart = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLoadMountWaitIgnoresBadRecords(t *testing.T) {
	tests := []struct {
		name, content string
	}{
		{"[Error] not JSON", "{"},
		{"[Error] not a duration", `{"docker_wait": "soon"}`},
		{"[Error] below any Docker's wait", `{"docker_wait": "2s"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), mountWaitFile)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			w := loadMountWait(0, path, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if got := w.timeout(); got != adaptiveMountTimeout {
				t.Errorf("timeout() = %s, want %s", got, adaptiveMountTimeout)
			}
			// The next abandonment replaces the bad record.
			w.abandoned(30 * time.Second)
			if got := loadMountWait(0, path, slog.New(slog.NewTextHandler(io.Discard, nil))).timeout(); got != 25*time.Second {
				t.Errorf("timeout() after learning anew = %s, want 25s", got)
			}
		})
	}
}
