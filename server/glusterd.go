package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
)

// staleRuntimeDir holds pid files of gluster's daemons. At container start
// no gluster process runs, so every pid file there is stale; left in place,
// a restarted glusterd may stop a process that now has such a pid (seen: the
// new brick process, which then stayed offline).
const staleRuntimeDir = "/run/gluster"

// startGlusterd cleans stale runtime state and starts glusterd in the
// foreground, logging to this program's standard output.
func startGlusterd(logger *slog.Logger, logLevel string) (*exec.Cmd, error) {
	if err := os.RemoveAll(staleRuntimeDir); err != nil {
		return nil, fmt.Errorf("removing stale pid files in %s: %w", staleRuntimeDir, err)
	}
	cmd := exec.Command("glusterd", "--no-daemon", "--log-file=-", "--log-level="+glusterLogLevel(logLevel))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting glusterd: %w", err)
	}
	logger.Info("glusterd started", "pid", cmd.Process.Pid)
	return cmd, nil
}

func glusterLogLevel(level string) string {
	switch level {
	case "debug":
		return "DEBUG"
	case "warn":
		return "WARNING"
	case "error":
		return "ERROR"
	}
	return "INFO"
}

// waitGlusterd waits until glusterd answers on its socket.
func waitGlusterd(ctx context.Context, cli *glustercli.CLI, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		_, err := cli.Peers(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("glusterd exited while starting (see its log above)")
		case <-ctx.Done():
			return fmt.Errorf("glusterd did not answer within a minute: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopGlusterd asks glusterd to stop and waits for it.
func stopGlusterd(cmd *exec.Cmd, exited <-chan struct{}, logger *slog.Logger) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		logger.Warn("glusterd did not stop within 10s, killing it")
		_ = cmd.Process.Kill()
		<-exited
	}
}
