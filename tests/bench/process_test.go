//go:build bench

package bench

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100
// on every Linux architecture this runs on.
const clockTicks = 100

// cpuTime is the CPU time, user and system, process pid has used so far.
func cpuTime(t testing.TB, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command, which may hold blanks: state is
	// field 3, utime 14, stime 15.
	_, rest, _ := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		t.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %q", pid, data)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// rssMiB is the resident memory of process pid in MiB, 0 if it is gone.
func rssMiB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kB, _ := strconv.ParseFloat(f[1], 64)
			return kB / 1024
		}
	}
	return 0
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
