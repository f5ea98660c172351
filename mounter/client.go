package mounter

import (
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/procfs"
)

const (
	// maxLogRead bounds how much of the client log one attempt reads back.
	maxLogRead = 256 << 10
	// logLines is how many client log lines an error carries.
	logLines = 10
	// maxLineLen cuts the long backtraces some log lines carry.
	maxLineLen = 400
)

// logSize returns where the next attempt's part of the client log will start.
func logSize(file string) int64 {
	fi, err := os.Stat(file)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readLogSince returns what the client logged after offset, so that earlier
// attempts and earlier mounts sharing the file do not count.
func readLogSince(file string, offset int64) string {
	text, _ := readLogFrom(file, offset)
	return text
}

// readLogFrom returns what the client logged after offset, at most
// maxLogRead of it, and where in the file that text starts.
func readLogFrom(file string, offset int64) (string, int64) {
	f, err := os.Open(file)
	if err != nil {
		return "", offset
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", offset
	}
	size := fi.Size()
	if size < offset {
		offset = 0 // truncated or rotated
	}
	offset = max(offset, size-maxLogRead)
	data, err := io.ReadAll(io.NewSectionReader(f, offset, size-offset))
	if err != nil {
		return "", offset
	}
	return string(data), offset
}

// meaningfulLines returns the last log lines at error or warning level, or
// the last lines at any level when there are none. The volume graph that the
// client dumps and its shutdown backtraces tell a user nothing.
func meaningfulLines(text string) []string {
	var all, flagged []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") || strings.Contains(line, "cleanup_and_exit") {
			continue
		}
		if len(line) > maxLineLen {
			line = line[:maxLineLen] + "..."
		}
		all = append(all, line)
		if l := logLevel(line); l == 'E' || l == 'W' || l == 'C' {
			flagged = append(flagged, line)
		}
	}
	if len(flagged) == 0 {
		flagged = all
	}
	return flagged[max(0, len(flagged)-logLines):]
}

// logLevel returns the level letter of a gluster log line such as
// "[2026-11-22 04:05:38.686425 +0000] E [glusterfsd-mgmt.c:2170:...] ...".
func logLevel(line string) byte {
	i := strings.Index(line, "] ")
	if i < 0 || i+4 > len(line) || line[i+3] != ' ' {
		return 0
	}
	return line[i+2]
}

// classify returns the permanent error that the client log or mount's output
// shows, or nil when retrying may help. The phrases are those of GlusterFS 10;
// mount.glusterfs exits 1 for a missing volume and 0 for the others, so its
// exit status cannot tell them apart.
func classify(logText, output string) error {
	for line := range strings.Lines(logText) {
		switch {
		// The server answered the volume file request with an error; connection
		// failures are logged differently.
		case strings.Contains(line, "failed to get the 'volume file' from server"):
			return ErrVolumeNotFound
		case strings.Contains(line, "subdirectory for mount") && strings.Contains(line, "not found"):
			return ErrSubdirNotFound
		case strings.Contains(line, "remote-error=Authentication failed"):
			return ErrAccessDenied
		case strings.Contains(line, ":gf_fuse_mount]") && strings.Contains(line, "failed"):
			return ErrMountNotPermitted
		}
	}
	if strings.Contains(output, "mount failed: Operation not permitted") {
		return ErrMountNotPermitted
	}
	return nil
}

var clientPID = regexp.MustCompile(`Pid of current running process is (\d+)`)

// stopClients kills the gluster client of an interrupted mount of target. The
// client daemonizes before fetching the volume file, so killing mount's
// process group misses it: it would keep waiting for a hung server, and on a
// normal exit it unmounts whatever is then mounted on target, perhaps a later
// good mount. SIGKILL skips that exit path. The log of the attempt names its
// pid; the command line must still name target, in case the pid was reused.
func stopClients(logText, target string, log *slog.Logger) {
	for _, match := range clientPID.FindAllStringSubmatch(logText, -1) {
		pid, err := strconv.Atoi(match[1])
		if err != nil || !isClientOf(pid, target) {
			continue
		}
		err = syscall.Kill(pid, syscall.SIGKILL)
		log.Warn("killed the gluster client of an interrupted mount", "pid", pid, "err", err)
	}
}

// clientOf returns the pid of the gluster client that the log of an attempt
// names and that serves target, or 0.
func clientOf(logText, target string) int {
	matches := clientPID.FindAllStringSubmatch(logText, -1)
	for i := len(matches) - 1; i >= 0; i-- {
		if pid, err := strconv.Atoi(matches[i][1]); err == nil && isClientOf(pid, target) {
			return pid
		}
	}
	return 0
}

// isClientOf reports whether process pid is a gluster client whose command
// line ends with target, its mount point.
func isClientOf(pid int, target string) bool {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return false
	}
	args, err := p.CmdLine()
	return err == nil && len(args) > 1 && strings.HasSuffix(args[0], "glusterfs") && args[len(args)-1] == target
}
