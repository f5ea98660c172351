// Package witness runs GlusterFS's thin arbiter: the third voter of replica
// 2 volumes, outside the servers' pool, that records which of the two copies
// is current so that neither serves stale data nor splits from the other.
// One process serves every volume of the pool, with a small file each.
package witness

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Port is where clients reach a witness: glusterd's port, since no glusterd
// runs beside it.
const Port = 24007

// stopWait bounds how long the thin arbiter gets to exit after SIGTERM.
const stopWait = 10 * time.Second

// PackagedVolfile is the thin arbiter's translator stack as GlusterFS ships
// it, for the directory packagedDir. Its names differ between versions (in
// 10.3 the server's child is named after the directory, which clients ask
// for by that name), so the witness fills in its own directory rather than
// keeping a copy.
const (
	PackagedVolfile = "/etc/glusterfs/thin-arbiter.vol"
	packagedDir     = "/mnt/thin-arbiter"
)

// Config says where a witness keeps its state.
type Config struct {
	Dir      string // the replica states: a host directory, kept across restarts
	RunDir   string // its volfile, rewritten at each start
	LogFile  string // the thin arbiter's log; "-" for standard output
	Packaged string // the packaged volfile; PackagedVolfile
}

// Prepare writes the volfile and makes the directories the thin arbiter
// needs, and returns the volfile's path.
func Prepare(cfg Config) (string, error) {
	if !filepath.IsAbs(cfg.Dir) || filepath.Clean(cfg.Dir) != cfg.Dir || strings.ContainsAny(cfg.Dir, " \t\n") {
		return "", fmt.Errorf("witness directory %q: use a clean absolute path without spaces, such as %s", cfg.Dir, "/witness")
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, ".glusterfs", "indices"), 0o755); err != nil {
		return "", fmt.Errorf("making the witness directory: %w", err)
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return "", fmt.Errorf("making the witness's run directory: %w", err)
	}
	packaged, err := os.ReadFile(cfg.Packaged)
	if err != nil {
		return "", fmt.Errorf("reading GlusterFS's thin arbiter volfile: %w (is glusterfs-server installed?)", err)
	}
	if !strings.Contains(string(packaged), "option directory "+packagedDir+"\n") {
		return "", fmt.Errorf("%s does not serve %s: this GlusterFS's thin arbiter is not one the witness knows", cfg.Packaged, packagedDir)
	}
	path := filepath.Join(cfg.RunDir, "thin-arbiter.vol")
	volfile := strings.ReplaceAll(string(packaged), packagedDir, cfg.Dir)
	if err := os.WriteFile(path, []byte(volfile), 0o644); err != nil {
		return "", fmt.Errorf("writing the thin arbiter's volfile: %w", err)
	}
	return path, nil
}

// command is the thin arbiter's command line for volfile: a brick process
// in the foreground, without glusterd, which listens on Port, its server's
// default.
func command(volfile, logFile string) []string {
	return []string{"glusterfsd", "-N", "--volfile-id", "ta-vol", "-f", volfile, "--log-file=" + logFile}
}

// Run runs the thin arbiter until ctx is done or it exits.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	path, err := Prepare(cfg)
	if err != nil {
		return err
	}
	args := command(path, cfg.LogFile)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the thin arbiter: %w", err)
	}
	logger.Info("witness serving", "port", Port, "dir", cfg.Dir, "pid", cmd.Process.Pid)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return fmt.Errorf("the thin arbiter exited: %w", err)
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopWait):
		logger.Warn("the thin arbiter did not stop in time, killing it", "wait", stopWait)
		_ = cmd.Process.Kill()
		<-exited
	}
	return nil
}

// healthTimeout bounds the health check's connection: a live thin arbiter
// accepts it at once.
const healthTimeout = 2 * time.Second

// Healthy reports whether a thin arbiter listens on this host's Port.
func Healthy() error {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(Port)), healthTimeout)
	if err != nil {
		return fmt.Errorf("the thin arbiter does not answer on port %d: %w", Port, err)
	}
	return conn.Close()
}
