package testbed

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// killRest kills what a daemon killed or crashed leaves behind: its
// containerd, shims and plugins (in the node's network namespace) and
// containers (in its cgroups).
func (n *Node) killRest() error {
	var errs []error
	pids := map[int]bool{}
	if _, err := os.Stat(filepath.Join("/run/netns", n.Name)); err == nil {
		out, err := Run(context.Background(), "ip", "netns", "pids", n.Name)
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids[pid] = true
			}
		}
	}
	for _, dir := range n.cgroupDirs() {
		data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids[pid] = true
			}
		}
	}
	for pid := range pids {
		if err := signalAndWait(pid, syscall.SIGKILL, nodeKillTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// signalAndWait signals pid and waits until it is gone (or a zombie nobody
// reaps).
func signalAndWait(pid int, sig syscall.Signal, timeout time.Duration) error {
	if err := syscall.Kill(pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("signalling %d: %w", pid, err)
	}
	deadline := time.Now().Add(timeout)
	for Alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still there %s after %s", pid, timeout, sig)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// FindProcesses lists the host's processes whose command line match
// accepts, in one look at the process table.
func FindProcesses(match func(p procfs.Proc, args []string) bool) []int {
	procs, err := procfs.AllProcs()
	if err != nil {
		return nil
	}
	var pids []int
	for _, p := range procs {
		if args, err := p.CmdLine(); err == nil && len(args) > 0 && match(p, args) {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// Environment is the environment of process pid, VAR=VALUE each.
func Environment(pid int) ([]string, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return nil, err
	}
	return p.Environ()
}

// Alive tells whether pid runs: it exists and is not a zombie.
func Alive(pid int) bool {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return false
	}
	stat, err := p.Stat()
	return err == nil && stat.State != "Z"
}

func readPid(file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", file, err)
	}
	return pid, nil
}

// BrickProcesses lists the brick processes (glusterfsd) of server s,
// as the host sees them.
func (s *Server) BrickProcesses(ctx context.Context) ([]int, error) {
	procs, err := s.Processes(ctx)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, pid := range slices.Sorted(maps.Keys(procs)) {
		if procs[pid] == "glusterfsd" {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Processes lists every process of server s's container, by its pid as
// the host sees it, with its command name.
func (s *Server) Processes(ctx context.Context) (map[int]string, error) {
	out, err := s.docker(ctx, "top", s.Name, "-o", "pid,comm")
	if err != nil {
		return nil, fmt.Errorf("listing the processes of %s: %w", s.Name, err)
	}
	return parseTop(out), nil
}

// parseTop reads the output of `docker top -o pid,comm`: a header, then
// a pid and a command name a line.
func parseTop(out string) map[int]string {
	procs := map[int]string{}
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		if pid, err := strconv.Atoi(fields[0]); err == nil {
			procs[pid] = fields[1]
		}
	}
	return procs
}

// ResidentBytes sums the resident memory of processes; those gone count
// nothing.
func ResidentBytes(pids []int) uint64 {
	var sum uint64
	for _, pid := range pids {
		p, err := procfs.NewProc(pid)
		if err != nil {
			continue
		}
		if stat, err := p.Stat(); err == nil {
			sum += uint64(stat.ResidentMemory())
		}
	}
	return sum
}
