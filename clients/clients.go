// Package clients keeps gluster FUSE clients running when the plugin that
// started them stops, so that running containers keep their volumes through
// a plugin crash, disable, upgrade or re-creation. It moves each client out
// of the plugin's cgroup, which Docker kills with the plugin, and records it
// in the plugin's state directory, so that the next plugin instance adopts it
// and stops it once no container uses its volume.
package clients

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/moby/sys/atomicwriter"
	"github.com/prometheus/procfs"
)

// Client is a FUSE client the plugin moved out of its cgroup.
type Client struct {
	PID int `json:"pid"`
	// Started is the process's start time in clock ticks since boot: a
	// process that reuses the pid has another.
	Started uint64 `json:"started"`
	Volume  string `json:"volume"` // gluster volume it serves
}

// Registry records the clients that outlive the plugin. Its methods may be
// called concurrently.
type Registry struct {
	file   string
	logger *slog.Logger
	// The kernel's process file system, and where its cgroup file system
	// is; tests point them elsewhere.
	proc       procfs.FS
	cgroupRoot string
	// stopWait bounds how long Release waits for a client to exit.
	stopWait time.Duration

	mu      sync.Mutex
	clients []Client
}

// defaultStopWait is how long a client gets to unmount and exit.
const defaultStopWait = 10 * time.Second

// Open reads the records in file, a missing file being none, and forgets the
// clients that have exited since.
func Open(file string, logger *slog.Logger) (*Registry, error) {
	return open(file, "/proc", "/sys/fs/cgroup", logger)
}

func open(file, procRoot, cgroupRoot string, logger *slog.Logger) (*Registry, error) {
	proc, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("opening the process file system: %w (the plugin needs %s mounted)", err, procRoot)
	}
	r := &Registry{file: file, logger: logger, proc: proc, cgroupRoot: cgroupRoot, stopWait: defaultStopWait}
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return nil, fmt.Errorf("reading the detached clients: %w", err)
	}
	if err := json.Unmarshal(data, &r.clients); err != nil {
		return nil, fmt.Errorf("detached clients file %s is damaged: %w (move it away; clients it named exit with their last container)", file, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	running := r.clients[:0]
	for _, c := range r.clients {
		if r.runs(c) {
			running = append(running, c)
			logger.Info("adopted a detached gluster client", "gluster", c.Volume, "pid", c.PID)
		}
	}
	if len(running) == len(r.clients) {
		return r, nil
	}
	r.clients = running
	return r, r.save()
}

// Detach moves the client pid of a gluster volume out of the plugin's
// cgroup, into the root cgroup of every hierarchy, and records it.
func (r *Registry) Detach(pid int, volume string) error {
	started, err := r.startTime(pid)
	if err != nil {
		return fmt.Errorf("detaching gluster client %d of %s: %w", pid, volume, err)
	}
	if err := r.moveToRootCgroups(pid); err != nil {
		return fmt.Errorf("detaching gluster client %d of %s: %w", pid, volume, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients = append(r.clients, Client{PID: pid, Started: started, Volume: volume})
	if err := r.save(); err != nil {
		return fmt.Errorf("detaching gluster client %d of %s: %w", pid, volume, err)
	}
	r.logger.Info("gluster client detached from the plugin", "gluster", volume, "pid", pid)
	return nil
}

// Volumes lists the gluster volumes with recorded clients.
func (r *Registry) Volumes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.clients {
		if !slices.Contains(out, c.Volume) {
			out = append(out, c.Volume)
		}
	}
	return out
}

// Release stops the recorded clients of a gluster volume that no container
// uses any more: clients of earlier plugin instances whose containers are
// gone, and which may not have exited by themselves. It asks them to exit
// (they unmount first) and forgets those that did.
func (r *Registry) Release(volume string) error {
	r.mu.Lock()
	var mine []Client
	for _, c := range r.clients {
		if c.Volume == volume {
			mine = append(mine, c)
		}
	}
	r.mu.Unlock()
	if len(mine) == 0 {
		return nil
	}

	var errs []error
	gone := map[Client]bool{}
	for _, c := range mine {
		if !r.runs(c) {
			gone[c] = true
			continue
		}
		if err := r.stop(c); err != nil {
			errs = append(errs, err)
			continue
		}
		gone[c] = true
		r.logger.Info("stopped a detached gluster client", "gluster", volume, "pid", c.PID)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.clients[:0]
	for _, c := range r.clients {
		if !gone[c] {
			kept = append(kept, c)
		}
	}
	r.clients = kept
	return errors.Join(append(errs, r.save())...)
}

// stop asks a client to exit and waits until it has.
func (r *Registry) stop(c Client) error {
	if err := syscall.Kill(c.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping gluster client %d of %s: %w", c.PID, c.Volume, err)
	}
	deadline := time.Now().Add(r.stopWait)
	for r.runs(c) {
		if time.Now().After(deadline) {
			return fmt.Errorf("gluster client %d of %s still runs %s after SIGTERM", c.PID, c.Volume, r.stopWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// runs tells whether the client still runs: a live (not zombie) process with
// the recorded pid and start time.
func (r *Registry) runs(c Client) bool {
	stat, err := r.stat(c.PID)
	if err != nil {
		return false
	}
	return stat.State != "Z" && stat.Starttime == c.Started
}

func (r *Registry) startTime(pid int) (uint64, error) {
	stat, err := r.stat(pid)
	if err != nil {
		return 0, err
	}
	return stat.Starttime, nil
}

// stat reads proc(5)'s /proc/PID/stat of a process.
func (r *Registry) stat(pid int) (procfs.ProcStat, error) {
	p, err := r.proc.Proc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	return p.Stat()
}

// moveToRootCgroups moves pid into the root cgroup of each hierarchy: the
// unified one (cgroup v2) or every mounted v1 controller.
func (r *Registry) moveToRootCgroups(pid int) error {
	dirs, err := r.hierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("moving to cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Registry) hierarchies() ([]string, error) {
	root := r.cgroupRoot
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err == nil {
		return []string{root}, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("listing cgroup hierarchies: %w (the plugin needs %s mounted read-write)", err, root)
	}
	var dirs []string
	for _, e := range entries {
		// cpu and cpuacct are links to cpu,cpuacct.
		dir := filepath.Join(root, e.Name())
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err == nil {
				dirs = append(dirs, dir)
			}
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy under %s (the plugin needs it mounted read-write)", root)
	}
	return dirs, nil
}

// save writes the records; r.mu must be held.
func (r *Registry) save() error {
	clients := r.clients
	if clients == nil {
		clients = []Client{}
	}
	data, err := json.MarshalIndent(clients, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicwriter.WriteFile(r.file, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", r.file, err)
	}
	return nil
}
