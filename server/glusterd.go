package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
)

// staleRuntimeDir holds pid files of gluster's daemons. At container start
// no gluster process runs, so every pid file there is stale; left in place,
// a restarted glusterd may stop a process that now has such a pid (seen: the
// new brick process, which then stayed offline).
const staleRuntimeDir = "/run/gluster"

// mallocArenaMax caps glibc's malloc arenas in glusterd and the daemons it
// starts, which inherit its environment, when bricks are multiplexed. glibc
// gives threads arenas of their own, up to eight per CPU, and each keeps
// the memory freed in it; a multiplexed brick process runs threads for
// every brick it serves (an event thread, an index worker, io-threads,
// ...), so its arenas grow with the volumes. Measured on GlusterFS 10.3
// (amd64, 2 CPUs): 2 arenas took the brick process of 20 started replica 2
// volumes from 72 to 51 MiB and its cost from 2.8 to 1.7 MiB a volume; the
// price is that threads share an arena's lock, which glibc's per-thread
// caches and gluster's own per-thread memory pools make rare.
const mallocArenaMax = "MALLOC_ARENA_MAX"

// multiplexedArenas is mallocArenaMax's value with multiplexed bricks.
const multiplexedArenas = "2"

// startGlusterd cleans stale runtime state and starts glusterd in the
// foreground with environment env, logging to this program's standard
// output.
func startGlusterd(logger *slog.Logger, logLevel string, env []string) (*exec.Cmd, error) {
	if err := os.RemoveAll(staleRuntimeDir); err != nil {
		return nil, fmt.Errorf("removing stale pid files in %s: %w", staleRuntimeDir, err)
	}
	cmd := exec.Command("glusterd", "--no-daemon", "--log-file=-", "--log-level="+glusterLogLevel(logLevel))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting glusterd: %w", err)
	}
	logger.Info("glusterd started", "pid", cmd.Process.Pid, "malloc_arena_max", arenaMax(env))
	return cmd, nil
}

// glusterdEnv is the environment glusterd runs with: this program's
// environ, with malloc arenas capped when bricks are multiplexed, unless
// the operator set the cap.
func glusterdEnv(environ []string, brickMultiplex string) []string {
	env := slices.Clone(environ)
	if brickMultiplex == "on" && arenaMax(env) == "default" {
		env = append(env, mallocArenaMax+"="+multiplexedArenas)
	}
	return env
}

// arenaMax is mallocArenaMax's value in env, or "default" for glibc's.
func arenaMax(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, mallocArenaMax+"="); ok {
			return v
		}
	}
	return "default"
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
