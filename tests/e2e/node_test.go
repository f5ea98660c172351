//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/prometheus/procfs"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestNode proves the isolated node the Swarm tests run on: no way out of
// the machine, Swarm tasks start from loaded images without a pull attempt,
// the plugin runs there, a node left running is replaced cleanly, and
// nothing of it stays behind.
func TestNode(t *testing.T) {
	const name, octet = "gte2e-node1", 1
	var pluginID string
	// Registered first, so it runs last: after every node's own teardown.
	t.Cleanup(func() { assertNodeGone(t, name, pluginID) })

	n := testbed.StartNode(t, name, octet)

	routes := testbed.MustRun(t, "ip", "netns", "exec", name, "ip", "route")
	if strings.Contains(routes, "default") || !strings.Contains(routes, n.Address) {
		t.Fatalf("routes of node %s: want no default route and %s:\n%s", name, n.Address, routes)
	}
	if routes := testbed.MustRun(t, "ip", "netns", "exec", name, "ip", "-6", "route"); strings.Contains(routes, "default") {
		t.Fatalf("IPv6 routes of node %s: want no default route:\n%s", name, routes)
	}
	pid, err := n.PID()
	if err != nil {
		t.Fatal(err)
	}
	environ, err := testbed.Environment(pid)
	if err != nil || !slices.Contains(environ, "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1") {
		t.Fatalf("dockerd %d runs without DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (%v)", pid, err)
	}

	start := time.Now()
	n.LoadImages(t, testbed.ClientImage)
	t.Logf("image loaded in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	n.LoadImages(t, testbed.ClientImage)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("loading an image the node has took %s: not skipped?", d)
	}

	n.MustDocker(t, "swarm", "init", "--advertise-addr", n.Address)
	// A short grace period: sleep ignores SIGTERM, and the task is stopped
	// on teardown.
	n.MustDocker(t, "service", "create", "--no-resolve-image", "--detach", "--name", "t",
		"--endpoint-mode", "dnsrr", "--stop-grace-period", "1s", testbed.ClientImage, "sleep", "600")
	testbed.Eventually(t, 60*time.Second, "task of service t running", func() error {
		out, err := n.Docker(context.Background(), "service", "ps", "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}", "t")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "Running") {
				return nil
			}
		}
		return fmt.Errorf("tasks: %q", out)
	})

	// A FUSE-mounting managed plugin runs on the node. No server answers
	// there: the plugin starts anyway.
	n.CreatePlugin(t, "gluster", n.Address, "token-of-no-server-0123")
	if out := n.MustDocker(t, "plugin", "ls", "--format", "{{.Name}} {{.Enabled}}"); out != "gluster:latest true" {
		t.Fatalf("plugins on node %s: %q; want gluster:latest enabled", name, out)
	}
	// Its sockets stay in the node: the main daemon neither knows nor sees it.
	pluginID = n.MustDocker(t, "plugin", "inspect", "-f", "{{.Id}}", "gluster")
	if _, err := testbed.Docker(context.Background(), "plugin", "inspect", pluginID); err == nil {
		t.Errorf("the main daemon knows the node's plugin %s", pluginID)
	}
	if _, err := os.Stat(filepath.Join("/run/docker/plugins", pluginID)); err == nil {
		t.Errorf("the node's plugin %s has a directory in the host's /run/docker/plugins", pluginID)
	}

	assertNoPulls(t, n)
	n.MustDocker(t, "swarm", "leave", "--force")

	// A node of the same name still running, with an enabled plugin, is
	// what a killed run leaves: starting again replaces it. Both nodes'
	// cleanups run, this one's first; the other then finds nothing left.
	start = time.Now()
	again := testbed.StartNode(t, name, octet)
	t.Logf("running node replaced in %s", time.Since(start).Round(time.Millisecond))
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("dockerd %d of the first node still runs", pid)
	}
	if out := again.MustDocker(t, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Images}} {{.Plugins.Volume}}"); out != "inactive 0 [local]" {
		t.Errorf("restarted node is not fresh: %q", out)
	}
}

// assertNoPulls checks that the node's daemon never reached for a registry.
func assertNoPulls(t *testing.T, n *testbed.Node) {
	t.Helper()
	pulls, err := n.PullAttempts()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range pulls {
		t.Errorf("node %s tried to pull: %s", n.Name, line)
	}
}

// assertNodeGone checks that nothing of node name remains: no namespace,
// no process in it, no daemon, no mounts, no cgroups (its containers' or its
// plugin's), no directory.
func assertNodeGone(t *testing.T, name, pluginID string) {
	t.Helper()
	dir := filepath.Join(testbed.NodeRoot, name)
	if _, err := os.Stat(filepath.Join("/run/netns", name)); err == nil {
		t.Errorf("network namespace %s remains", name)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("directory %s remains", dir)
	}
	if mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir)); err != nil || len(mounts) > 0 {
		t.Errorf("mounts under %s remain: %d, %v", dir, len(mounts), err)
	}
	if cgroups, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name)); len(cgroups) > 0 {
		t.Errorf("cgroups remain: %v", cgroups)
	}
	if pluginID != "" {
		_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == pluginID {
				t.Errorf("plugin cgroup remains: %s", path)
			}
			return nil
		})
	}
	remaining := testbed.FindProcesses(func(_ procfs.Proc, args []string) bool {
		return slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, dir) })
	})
	for _, pid := range remaining {
		t.Errorf("process %d remains, running from %s", pid, dir)
	}
}
