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
// stay in the file only.
func (m *Mounter) ForwardLog(ctx context.Context, logFile string, logger *slog.Logger) {
	offset := logSize(logFile)
	tick := time.NewTicker(forwardInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		text, start := readLogFrom(logFile, offset)
		// Only whole lines: the rest is read again next time.
		end := strings.LastIndexByte(text, '\n') + 1
		offset = start + int64(end)
		forwardLines(text[:end], logger)
	}
}

func forwardLines(text string, logger *slog.Logger) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if len(line) > maxLineLen {
			line = line[:maxLineLen] + "..."
		}
		switch logLevel(line) {
		case 'E', 'C', 'A':
			logger.Error("gluster client", "line", line)
		case 'W':
			logger.Warn("gluster client", "line", line)
		}
	}
}
