package mounter

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// forwardInterval is how often ForwardLog looks for new client log lines.
const forwardInterval = time.Second

// ForwardLog copies the warnings and errors a gluster client writes to its
// log file into logger, until ctx is done, so that they appear where users
// look (the Docker daemon's log for the managed plugin, the journal under
// systemd). Lines already in the file are not repeated; informational lines
// stay in the file only, and so do lines that repeat a message forwarded
// less than repeatWindow ago.
func (m *Mounter) ForwardLog(ctx context.Context, logFile string, logger *slog.Logger) {
	offset := logSize(logFile)
	tick := time.NewTicker(forwardInterval)
	defer tick.Stop()
	repeats := newRepeatFilter()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			text, start := readLogFrom(logFile, offset)
			// Only whole lines: the rest is read again next time.
			end := strings.LastIndexByte(text, '\n') + 1
			offset = start + int64(end)
			forwardLines(text[:end], logger, repeats, now)
		}
	}
}

func forwardLines(text string, logger *slog.Logger, repeats *repeatFilter, now time.Time) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		level := logLevel(line)
		if level != 'E' && level != 'C' && level != 'A' && level != 'W' {
			continue
		}
		held := repeats.held(line, now)
		if held < 0 {
			continue
		}
		if len(line) > maxLineLen {
			line = line[:maxLineLen] + "..."
		}
		attrs := []any{"line", line}
		if held > 0 {
			attrs = append(attrs, "similar_lines_not_forwarded", held)
		}
		if level == 'W' {
			logger.Warn("gluster client", attrs...)
		} else {
			logger.Error("gluster client", attrs...)
		}
	}
}

// repeatWindow is how long a message from one place in the client's code is
// forwarded at most once. A client can log a line per file operation: one
// that outlived its plugin's re-creation, say, logs for every process that
// touches the volume that it cannot read its groups.
const repeatWindow = time.Minute

// repeatFilter tells which lines repeat a recent message. Messages are told
// apart by the place in the client's code that logs them, such as
// "[fuse-helpers.c:214:frame_fill_groups]", of which there are few.
type repeatFilter struct {
	forwarded map[string]time.Time // when a message was last forwarded
	withheld  map[string]int       // how many lines repeated it since
}

func newRepeatFilter() *repeatFilter {
	return &repeatFilter{forwarded: map[string]time.Time{}, withheld: map[string]int{}}
}

// held returns -1 when line repeats a message forwarded less than
// repeatWindow before now, and otherwise how many lines repeating it were
// not forwarded since it last was.
func (f *repeatFilter) held(line string, now time.Time) int {
	source := logSource(line)
	if source == "" {
		return 0
	}
	if last, ok := f.forwarded[source]; ok && now.Sub(last) < repeatWindow {
		f.withheld[source]++
		return -1
	}
	n := f.withheld[source]
	delete(f.withheld, source)
	f.forwarded[source] = now
	return n
}

// logSource returns the code location of a gluster log line such as
// "[2026-11-22 04:05:38.686425 +0000] E [glusterfsd-mgmt.c:2170:fn] 0-x: text".
func logSource(line string) string {
	_, rest, ok := strings.Cut(line, "] ")
	if !ok || len(rest) < 3 || rest[1] != ' ' || rest[2] != '[' {
		return ""
	}
	source, _, ok := strings.Cut(rest[2:], "]")
	if !ok {
		return ""
	}
	return source + "]"
}
