package testbed

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"testing"
	"time"
)

// daemonLogFile is where tests/setup.sh has dockerd log when it starts it.
const daemonLogFile = "/var/log/gluster-testbed-dockerd.log"

// DaemonLogMark is a point in the Docker daemon's log: what a managed
// plugin writes to its standard streams lands there, and nowhere else.
type DaemonLogMark struct {
	offset int64
	time   time.Time
}

// MarkDaemonLog marks the end of the daemon's log so far.
func MarkDaemonLog(t testing.TB) DaemonLogMark {
	t.Helper()
	mark := DaemonLogMark{time: time.Now()}
	if info, err := os.Stat(daemonLogFile); err == nil {
		mark.offset = info.Size()
	}
	return mark
}

// DaemonLogSince returns what the daemon logged after mark: from the log
// file tests/setup.sh makes, or else from the journal of docker.service.
func DaemonLogSince(t testing.TB, mark DaemonLogMark) string {
	t.Helper()
	f, err := os.Open(daemonLogFile)
	if errors.Is(err, fs.ErrNotExist) {
		return MustRun(t, "journalctl", "-u", "docker", "--no-pager", "-o", "cat",
			"--since", mark.time.Format("2006-01-02 15:04:05"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(mark.offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
