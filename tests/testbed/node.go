package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/prometheus/procfs"
)

// NodeRoot holds the directories of the test nodes.
const NodeRoot = StateRoot + "/nodes"

// Node is a dockerd of its own in its own network and mount namespace.
//
// Swarm tries to pull a task's image from Docker Hub at every task start,
// even with --no-resolve-image, unless the daemon runs with
// DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1. The main daemon does not, so Swarm
// tests run on nodes: daemons started here with that variable, in a network
// namespace without a default route, where no attempt can leave the machine.
// The node's bridge, iptables rules and mounts stay in its namespaces, so the
// main daemon and the host's firewall are left alone.
type Node struct {
	Name    string
	Dir     string // everything of the node lives here
	Socket  string // the daemon's API socket
	Address string // its IP in its namespace

	cmd  *exec.Cmd
	done chan struct{} // closed once dockerd has exited and been reaped
}

// Timeouts of a node's daemon.
const (
	nodeStartTimeout = 60 * time.Second
	// dockerd first stops its containers and plugins, which may use their
	// stop timeouts.
	nodeStopTimeout = 60 * time.Second
	nodeKillTimeout = 15 * time.Second
)

// nodeScript prepares the node's mount and UTS namespaces once, in the
// node's network namespace; mounts propagate into them from the host but
// not back. They are kept (bound to files in the node's directory, like
// network namespaces under /run/netns) for the node's life, so that a
// restarted daemon finds the host as a restarted dockerd would: its mounts,
// among them the network namespaces of its sandboxes, still there. $1 is
// the node's directory, $2 its host name, and the rest are the bindings of
// other nodes' namespaces: copies of them, private mounts that no unmount
// on the host reaches, would keep those namespaces alive as long as this one.
const nodeScript = `set -e
dir=$1
hostname "$2"
shift 2
for m in "$@"; do
	umount -l "$m"
done
# A sysfs that describes the node's network namespace (Docker reads
# /sys/class/net), with the host's cgroup v1 hierarchies put back under it.
mount --rbind /sys/fs/cgroup "$dir/cgroup"
mount -t sysfs sysfs /sys
mount --move "$dir/cgroup" /sys/fs/cgroup
# Fixed paths dockerd and containerd use whatever the exec-root: the node's
# engine key, the shims' sockets, the plugins' sockets.
mkdir -p /etc/docker /run/containerd /run/docker
mount --bind "$dir/etc-docker" /etc/docker
mount --bind "$dir/run-containerd" /run/containerd
mount --bind "$dir/run-docker" /run/docker
`

// The node's files and directories, relative to its Dir.
const (
	nodeConfig   = "daemon.json"
	nodeDataRoot = "data-root"
	nodeExecRoot = "exec-root"
	nodePidFile  = "docker.pid"
	nodeSocket   = "docker.sock"
	nodeLog      = "dockerd.log"
)

// nodeNS holds the files the node's mount and UTS namespaces are bound to.
const nodeNS = "ns"

// nodeDirs are created before the daemon starts; the script uses the last
// four as mount points.
var nodeDirs = []string{nodeDataRoot, nodeExecRoot, nodeNS, "cgroup", "etc-docker", "run-containerd", "run-docker"}

// StartNode starts the node name (such as gte2e-node1) with the address
// 10.66.<octet>.2, alone on a network of its own, after removing whatever an
// earlier run left under that name. The node is torn down completely when
// the test ends.
func StartNode(t testing.TB, name string, octet int) *Node {
	t.Helper()
	return startNode(t, name, octet, nil)
}

// StartNodeOn is StartNode with the node attached to a switch: its address
// is the switch subnet's host number octet, and it reaches the other nodes
// on the switch, and only them.
func StartNodeOn(t testing.TB, sw *Switch, name string, octet int) *Node {
	t.Helper()
	return startNode(t, name, octet, sw)
}

func startNode(t testing.TB, name string, octet int, sw *Switch) *Node {
	t.Helper()
	if octet < 1 || octet > 254 || name == "" || strings.ContainsAny(name, "/ ") {
		t.Fatalf("StartNode: bad name %q or octet %d", name, octet)
	}
	n := &Node{
		Name:    name,
		Dir:     filepath.Join(NodeRoot, name),
		Address: fmt.Sprintf("10.66.%d.2", octet),
	}
	if sw != nil {
		n.Address = sw.address(octet)
	}
	n.Socket = filepath.Join(n.Dir, nodeSocket)
	if err := n.remove(); err != nil {
		t.Fatalf("removing leftovers of node %s: %v", name, err)
	}
	// Registered before anything exists, so that a start failing half-way
	// is cleaned up too.
	t.Cleanup(func() {
		if t.Failed() {
			// A node replaced by a later StartNode of the same name has
			// no log left.
			if log := tail(n.LogPath(), 40); log != "" {
				t.Logf("last lines of %s:\n%s", n.LogPath(), log)
			}
		}
		if err := n.remove(); err != nil {
			t.Errorf("tearing down node %s: %v", name, err)
		}
	})
	if err := n.setup(octet, sw); err != nil {
		t.Fatalf("setting up node %s: %v", name, err)
	}
	if err := n.start(); err != nil {
		t.Fatalf("starting node %s: %v\nlast lines of %s:\n%s", name, err, n.LogPath(), tail(n.LogPath(), 40))
	}
	return n
}

// Docker runs the docker CLI against the node's daemon.
func (n *Node) Docker(ctx context.Context, args ...string) (string, error) {
	return n.DockerInput(ctx, nil, args...)
}

// DockerInput is Docker with input as the CLI's standard input.
func (n *Node) DockerInput(ctx context.Context, input io.Reader, args ...string) (string, error) {
	return DockerInput(ctx, input, append([]string{"-H", "unix://" + n.Socket}, args...)...)
}

// MustDocker runs the docker CLI against the node's daemon and fails the
// test on error.
func (n *Node) MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Docker(context.Background(), args...)
	if err != nil {
		t.Fatalf("node %s: %v", n.Name, err)
	}
	return out
}

// Stop stops the node's daemon as `systemctl stop docker` would: its
// containers and plugins stop with it. The node keeps its namespaces and
// their mounts, its data-root (images, containers, plugins, Swarm identity)
// and its directory, so that Start brings it back as it was.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if err := n.stopDaemon(); err != nil {
		t.Fatalf("node %s: %v", n.Name, err)
	}
}

// Start starts the daemon of a node stopped with Stop again and waits until
// it answers.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	if err := n.start(); err != nil {
		t.Fatalf("starting node %s again: %v\nlast lines of %s:\n%s", n.Name, err, n.LogPath(), tail(n.LogPath(), 40))
	}
}

// LogPath is the daemon's log file.
func (n *Node) LogPath() string {
	return filepath.Join(n.Dir, nodeLog)
}

// PullAttempts lists the lines of the daemon's log that show it reaching
// for a registry.
func (n *Node) PullAttempts() ([]string, error) {
	log, err := os.ReadFile(n.LogPath())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(strings.ToLower(line), "pulling image") || strings.Contains(line, "registry-1.docker.io") {
			out = append(out, line)
		}
	}
	return out, nil
}

// PID is the daemon's process ID, from its pid file.
func (n *Node) PID() (int, error) {
	return readPid(filepath.Join(n.Dir, nodePidFile))
}

// LoadImages copies images from the main daemon to the node, skipping those
// the node already has with the same ID. The node cannot pull them.
func (n *Node) LoadImages(t testing.TB, images ...string) {
	t.Helper()
	ctx := context.Background()
	for _, image := range images {
		want, err := Docker(ctx, "image", "inspect", "-f", "{{.Id}}", image)
		if err != nil {
			t.Fatalf("image %s on the main daemon: %v", image, err)
		}
		if have, err := n.Docker(ctx, "image", "inspect", "-f", "{{.Id}}", image); err == nil && have == want {
			continue
		}
		if err := n.copyImage(ctx, image); err != nil {
			t.Fatalf("loading %s into node %s: %v", image, n.Name, err)
		}
		if have, err := n.Docker(ctx, "image", "inspect", "-f", "{{.Id}}", image); err != nil || have != want {
			t.Fatalf("image %s on node %s after loading: ID %q, %v; want %s", image, n.Name, have, err, want)
		}
	}
}

// copyImage streams `docker save` from the main daemon into `docker load`
// on the node.
func (n *Node) copyImage(ctx context.Context, image string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var saveErr, loadErr bytes.Buffer
	save := exec.CommandContext(ctx, "docker", "save", image)
	save.Stdout, save.Stderr = w, &saveErr
	load := exec.CommandContext(ctx, "docker", "-H", "unix://"+n.Socket, "load", "-q")
	load.Stdin, load.Stderr = r, &loadErr
	if err := load.Start(); err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("docker load: %w", err)
	}
	r.Close() // load has its own copy; it must see EOF when save ends
	err = save.Run()
	w.Close()
	if err != nil {
		_ = load.Wait()
		return fmt.Errorf("docker save %s: %w: %s", image, err, strings.TrimSpace(saveErr.String()))
	}
	if err := load.Wait(); err != nil {
		return fmt.Errorf("docker load: %w: %s", err, strings.TrimSpace(loadErr.String()))
	}
	return nil
}

// CreatePlugin creates the working tree's plugin (config.json and rootfs/)
// on the node as name with build/plugin.sh, pointed at servers, and enables
// it, with its state in the node's directory, which it returns.
func (n *Node) CreatePlugin(t testing.TB, name, servers, token string) string {
	t.Helper()
	state := filepath.Join(n.Dir, "plugin-state", name)
	cmd := exec.Command(filepath.Join(repoRoot(), "build", "plugin.sh"), name, servers, token, state)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+n.Socket)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("creating plugin %s on node %s: %v\n%s", name, n.Name, err, out)
	}
	return state
}

// setup creates the node's directory, configuration and namespace.
func (n *Node) setup(octet int, sw *Switch) error {
	for _, d := range nodeDirs {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			return err
		}
	}
	config, err := json.MarshalIndent(map[string]any{
		"data-root": filepath.Join(n.Dir, nodeDataRoot),
		"exec-root": filepath.Join(n.Dir, nodeExecRoot),
		"pidfile":   filepath.Join(n.Dir, nodePidFile),
		"hosts":     []string{"unix://" + n.Socket},
		// Away from the host's and the other tests' networks (172.30.x).
		"bip":                   fmt.Sprintf("10.67.%d.1/24", octet),
		"default-address-pools": []map[string]any{{"base": fmt.Sprintf("10.68.%d.0/24", octet), "size": 26}},
		// Containers' cgroups under /<name> in every hierarchy, apart
		// from the main daemon's and easy to find and remove.
		"cgroup-parent":  "/" + n.Name,
		"storage-driver": "overlay2",
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.Dir, nodeConfig), config, 0o644); err != nil {
		return err
	}
	// Loopback and one address on eth0, and no default route. Alone, eth0
	// is one end of a veth pair whose other end stays in the namespace:
	// enough to advertise a Swarm address. On a switch, its other end is
	// a port of the switch's bridge.
	ctx := context.Background()
	if _, err := Run(ctx, "ip", "netns", "add", n.Name); err != nil {
		return err
	}
	link := [][]string{
		{"-n", n.Name, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink0"},
		{"-n", n.Name, "link", "set", "uplink0", "up"},
	}
	bits := 24
	if sw != nil {
		link, bits = sw.portCommands(n.Name, octet), sw.Subnet.Bits()
	}
	for _, args := range append(link, [][]string{
		{"-n", n.Name, "link", "set", "lo", "up"},
		{"-n", n.Name, "link", "set", "eth0", "up"},
		{"-n", n.Name, "addr", "add", fmt.Sprintf("%s/%d", n.Address, bits), "dev", "eth0"},
	}...) {
		if _, err := Run(ctx, "ip", args...); err != nil {
			return err
		}
	}
	return n.setupMountNS()
}

// setupMountNS creates the node's mount and UTS namespaces and binds them
// to files in its directory. A namespace file can only be bound on a mount
// that does not propagate, so the directory holding them is made one.
func (n *Node) setupMountNS() error {
	dir := filepath.Join(n.Dir, nodeNS)
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding %s: %w", dir, err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making %s private: %w", dir, err)
	}
	for _, f := range []string{"mnt", "uts"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			return err
		}
	}
	bindings, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return filepath.Base(i.Mountpoint) != nodeNS || filepath.Dir(filepath.Dir(i.Mountpoint)) != NodeRoot, false
	})
	if err != nil {
		return fmt.Errorf("listing the namespace bindings of nodes: %w", err)
	}
	args := []string{"--net=/run/netns/" + n.Name,
		"unshare", "--mount=" + filepath.Join(dir, "mnt"), "--uts=" + filepath.Join(dir, "uts"), "--propagation", "slave",
		"sh", "-c", nodeScript, "sh", n.Dir, n.Name}
	for _, b := range bindings {
		args = append(args, b.Mountpoint)
	}
	_, err = Run(context.Background(), "nsenter", args...)
	return err
}

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

// remove tears down everything of the node's name, whether this process or
// an earlier run made it: the daemon and every process in the node's
// network namespace or cgroups, mounts under its directory, the namespace,
// the cgroups, and the directory.
func (n *Node) remove() error {
	var errs []error
	if err := n.stopDaemon(); err != nil {
		errs = append(errs, err)
	}
	if err := n.killRest(); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(n.Dir); err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", n.Name)); err == nil {
		if _, err := Run(context.Background(), "ip", "netns", "del", n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := n.removeCgroups(); err != nil {
		errs = append(errs, err)
	}
	// Keep the directory while anything else remains: the next attempt
	// finds the pid file and plugin IDs there. Never remove through a mount.
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("keeping %s for the next attempt", n.Dir))
	} else if mounts, err := mountsUnder(n.Dir); err != nil {
		errs = append(errs, fmt.Errorf("not removing %s: %w", n.Dir, err))
	} else if len(mounts) > 0 {
		errs = append(errs, fmt.Errorf("not removing %s: still mounted: %s", n.Dir, strings.Join(mounts, ", ")))
	} else if err := os.RemoveAll(n.Dir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", n.Dir, err))
	} else {
		_ = os.Remove(NodeRoot) // only if no other node is there
	}
	return errors.Join(errs...)
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
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	want := filepath.Join(n.Dir, nodeConfig)
	return len(args) == 3 && filepath.Base(args[0]) == "dockerd" && args[1] == "--config-file" && args[2] == want
}

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

// cgroupDirs lists the node's cgroup directories in every hierarchy,
// children before their parents: the cgroup parent of its containers, and
// its plugins' cgroups, which runc puts under the cgroup of the daemon that
// started them (this process's, or an earlier run's), named by plugin ID.
func (n *Node) cgroupDirs() []string {
	var dirs []string
	add := func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	}
	tops, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", n.Name))
	for _, top := range tops {
		_ = filepath.WalkDir(top, add)
	}
	if plugins := n.pluginIDs(); len(plugins) > 0 {
		hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
		for _, h := range hierarchies {
			_ = filepath.WalkDir(h, func(path string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && plugins[d.Name()] {
					_ = filepath.WalkDir(path, add)
					return filepath.SkipDir
				}
				return nil
			})
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	return dirs
}

// pluginIDs are the IDs of the plugins in the node's data-root: random,
// 64 hex digits, so no other cgroup has such a name.
func (n *Node) pluginIDs() map[string]bool {
	ids := map[string]bool{}
	entries, _ := os.ReadDir(filepath.Join(n.Dir, nodeDataRoot, "plugins"))
	for _, e := range entries {
		if len(e.Name()) == 64 && strings.Trim(e.Name(), "0123456789abcdef") == "" {
			ids[e.Name()] = true
		}
	}
	return ids
}

// removeCgroups removes the node's cgroups; a cgroup whose last process
// just died can stay busy for a moment.
func (n *Node) removeCgroups() error {
	return Poll(10*time.Second, func() error {
		var errs []error
		for _, dir := range n.cgroupDirs() {
			if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dir, err))
			}
		}
		return errors.Join(errs...)
	})
}

// mountsUnder lists the mount points at or below dir in this process's
// mount namespace, deepest first.
func mountsUnder(dir string) ([]string, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	var out []string
	for _, m := range mounts {
		out = append(out, m.Mountpoint)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unmountUnder detaches every mount at or below dir: the bindings of a
// node's namespaces, and whatever leaked. The node's own mounts live and die
// in its mount namespace.
func unmountUnder(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, mp := range mounts {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}

// tail returns the last n lines of a file, for failure reports; nothing if
// it cannot be read.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
