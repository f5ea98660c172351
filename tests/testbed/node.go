package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// nodeEngine holds the root filesystem the node's engine runs from, if it
// has one of its own.
const nodeEngine = "engine"

// nodeDirs are created before the daemon starts; the script uses the last
// four as mount points.
var nodeDirs = []string{nodeDataRoot, nodeExecRoot, nodeNS, "cgroup", "etc-docker", "run-containerd", "run-docker"}

// StartNode starts the node name (such as gte2e-node1) with the address
// 10.66.<octet>.2, alone on a network of its own, after removing whatever an
// earlier run left under that name. The node is torn down completely when
// the test ends.
func StartNode(t testing.TB, name string, octet int) *Node {
	t.Helper()
	return startNode(t, name, octet, nil, "")
}

// StartEngineNode is StartNode with the node's dockerd, containerd and runc
// taken from the root filesystem of the image engine (such as EngineTrixie)
// instead of the host: the node runs them with that filesystem's /usr, the
// host's kernel and the node's own namespaces, so that the tests can run on
// another Docker release without touching the host's.
func StartEngineNode(t testing.TB, name string, octet int, engine string) *Node {
	t.Helper()
	return startNode(t, name, octet, nil, engine)
}

// StartNodeOn is StartNode with the node attached to a switch: its address
// is the switch subnet's host number octet, and it reaches the other nodes
// on the switch, and only them.
func StartNodeOn(t testing.TB, sw *Switch, name string, octet int) *Node {
	t.Helper()
	return startNode(t, name, octet, sw, "")
}

func startNode(t testing.TB, name string, octet int, sw *Switch, engine string) *Node {
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
	if err := n.setup(octet, sw, engine); err != nil {
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
// it, with its state in the node's directory, which it returns. settings
// are extra `docker plugin set` arguments (KEY=VALUE).
func (n *Node) CreatePlugin(t testing.TB, name, servers, token string, settings ...string) string {
	t.Helper()
	state := filepath.Join(n.Dir, "plugin-state", name)
	args := append([]string{name, servers, token, state, deleteOnRemove}, settings...)
	cmd := exec.Command(filepath.Join(repoRoot(), "build", "plugin.sh"), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+n.Socket)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("creating plugin %s on node %s: %v\n%s", name, n.Name, err, out)
	}
	return state
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
