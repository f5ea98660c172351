//go:build bench

package bench

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// cpuTime is the CPU time, user and system, process pid has used so far.
func cpuTime(t testing.TB, pid int) time.Duration {
	t.Helper()
	p, err := procfs.NewProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	stat, err := p.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(stat.CPUTime() * float64(time.Second))
}

// rssMiB is the resident memory of process pid in MiB, 0 if it is gone.
func rssMiB(pid int) float64 {
	return float64(testbed.ResidentBytes([]int{pid})) / (1 << 20)
}

// durationField matches a key whose value is a duration in a log line, as
// slog writes time.Duration: elapsed=118ms.
var durationField = regexp.MustCompile(`(\w+)=([0-9][0-9.]*(?:ns|µs|ms|s|m|h)(?:[0-9.]+(?:ns|µs|ms|s))*)\b`)

// loggedTimes returns the durations of every line the plugin logged into
// the Docker daemon's log since mark with message msg about volume, once
// there are want of them: dockerd copies a plugin's output a moment after
// the plugin wrote it.
func loggedTimes(t testing.TB, mark testbed.DaemonLogMark, p *testbed.Plugin, msg, volume string, want int) []map[string]time.Duration {
	t.Helper()
	id := p.ID(t)
	var found []map[string]time.Duration
	testbed.Eventually(t, logCopyTimeout, fmt.Sprintf("%d %q lines of %s in the daemon's log", want, msg, volume), func() error {
		found = timesIn(testbed.DaemonLogSince(t, mark), msg, volume, "plugin="+id)
		if len(found) < want {
			return fmt.Errorf("%d found", len(found))
		}
		return nil
	})
	return found
}

// serverTimes returns the durations of every line a server of c logged
// with message msg about volume.
func serverTimes(t testing.TB, c *testbed.Cluster, msg, volume string) []map[string]time.Duration {
	t.Helper()
	var found []map[string]time.Duration
	for _, s := range c.Servers {
		found = append(found, timesIn(testbed.MustDocker(t, "logs", s.Name), msg, volume, "")...)
	}
	return found
}

// timesIn returns the durations of each line of text, as slog writes it,
// with message msg about volume that contains also.
func timesIn(text, msg, volume, also string) []map[string]time.Duration {
	quoted := "msg=" + msg
	if strings.Contains(msg, " ") {
		quoted = `msg="` + msg + `"`
	}
	var found []map[string]time.Duration
	for _, line := range strings.Split(text, "\n") {
		// dockerd quotes a plugin's line inside its own.
		line = strings.ReplaceAll(line, `\"`, `"`)
		if !strings.Contains(line, quoted+" ") || !strings.Contains(line, " volume="+volume+" ") || !strings.Contains(line, also) {
			continue
		}
		times := map[string]time.Duration{}
		for _, m := range durationField.FindAllStringSubmatch(line, -1) {
			if d, err := time.ParseDuration(m[2]); err == nil {
				times[m[1]] = d
			}
		}
		found = append(found, times)
	}
	return found
}

// logCopyTimeout bounds waiting for dockerd to copy a plugin's log lines.
const logCopyTimeout = 10 * time.Second

func milliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
