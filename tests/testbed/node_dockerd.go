package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// start runs dockerd in the node's namespaces and waits until it answers.
func (n *Node) start() error {
	log, err := os.OpenFile(n.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	ns := filepath.Join(n.Dir, nodeNS)
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.Name,
		"--mount="+filepath.Join(ns, "mnt"), "--uts="+filepath.Join(ns, "uts"),
		"dockerd", "--config-file", filepath.Join(n.Dir, nodeConfig))
	cmd.Env = append(os.Environ(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1")
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a ^C to the test reaches the test, which
	// then stops the daemon in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("nsenter: %w", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(n.done)
	}()
	deadline := time.Now().Add(nodeStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := n.Docker(ctx, "version")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("dockerd exited: %v", cmd.ProcessState)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %s: %w", nodeStartTimeout, err)
		}
	}
}

// stopDaemon stops the node's dockerd with SIGTERM, so that it stops its
// containers, plugins and containerd, and waits for it; SIGKILL if it does
// not exit in time.
func (n *Node) stopDaemon() error {
	var pids []int
	if pid, err := n.PID(); err == nil && n.isOurDockerd(pid) {
		pids = append(pids, pid)
	}
	if n.cmd != nil {
		select {
		case <-n.done:
		default:
			pids = append(pids, n.cmd.Process.Pid)
		}
	}
	for _, pid := range pids {
		if err := signalAndWait(pid, syscall.SIGTERM, nodeStopTimeout); err == nil {
			continue
		}
		if err := signalAndWait(pid, syscall.SIGKILL, nodeKillTimeout); err != nil {
			return fmt.Errorf("stopping dockerd of %s: %w", n.Name, err)
		}
	}
	if n.done != nil {
		select {
		case <-n.done:
		case <-time.After(nodeKillTimeout):
			return fmt.Errorf("dockerd of %s not reaped", n.Name)
		}
	}
	return nil
}

// isOurDockerd tells whether pid is a dockerd started with this node's
// configuration, not a recycled pid.
func (n *Node) isOurDockerd(pid int) bool {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return false
	}
	args, err := p.CmdLine()
	if err != nil {
		return false
	}
	want := filepath.Join(n.Dir, nodeConfig)
	return len(args) == 3 && filepath.Base(args[0]) == "dockerd" && args[1] == "--config-file" && args[2] == want
}
