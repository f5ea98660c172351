//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestPluginRestarts shows what running containers go through when the
// plugin restarts with its default settings: a dead FUSE client or a crashed
// plugin is repaired, and the containers heal; after disable or re-creation
// they lose the volume until they are restarted, with an error, never
// writing to local disk instead.
func TestPluginRestarts(t *testing.T) {
	b := newPluginBed(t, "gte2e-restart", 103)
	b.create(t, "keep", "replica=2")
	b.run(t, "keep", "echo kept > /data/kept.txt")
	// listed takes its subtest's t: failing the parent from a subtest's
	// goroutine would end that goroutine without a word.
	listed := func(t *testing.T) {
		t.Helper()
		if vols := b.plugin.Volumes(t); !slices.Contains(vols, "keep") {
			t.Errorf("volumes of the plugin = %q, want keep listed", vols)
		}
		if got := b.run(t, "keep", "cat /data/kept.txt"); got != "kept" {
			t.Errorf("volume reads %q after the plugin restart", got)
		}
		// The worker still holds its reference from before the restart:
		// the volume stays mounted after the probe container left.
		if n := testbed.FUSEClients("keep"); n != 1 {
			t.Errorf("FUSE clients with the worker running: %d, want 1 (its reference was lost)", n)
		}
	}
	w := startWorker(t, "gte2e-restart-worker", "keep")

	t.Run("dead FUSE client: the next mount repairs it and the running container heals", func(t *testing.T) {
		if err := syscall.Kill(fuseClientPID(t, "keep"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		w.waitLost(t)
		listed(t)
		w.waitWriting(t)
	})

	t.Run("plugin crash: the restarted plugin repairs the mount and the running container heals", func(t *testing.T) {
		crash(t, b.plugin)
		w.waitWriting(t)
		listed(t)
	})

	t.Run("mount taken away: a container given the bare mountpoint cannot write to the host's disk", func(t *testing.T) {
		// What Docker 20.10 does after a disable that a quick enable
		// raced: it unmounts the new instance's mount, which Docker may
		// already have handed to a starting container.
		bare := filepath.Join(b.plugin.PropagatedMount(t), "keep")
		for unix.Unmount(bare, unix.MNT_DETACH) == nil {
		}
		out, err := testbed.Docker(context.Background(), "run", "--rm", "--label", "gluster-testbed=1", "-v", bare+":/data",
			testbed.ClientImage, "sh", "-c", "ls -A /data; echo lost > /data/lost")
		if err == nil || !strings.Contains(out+err.Error(), "Operation not permitted") {
			t.Errorf("writing into the bare mountpoint: %q, %v; want operation not permitted", out, err)
		}
		if entries, err := os.ReadDir(bare); err != nil || len(entries) != 0 {
			t.Errorf("the bare mountpoint on the host's disk holds %v (%v)", entries, err)
		}
		// The next Mount mounts the volume again.
		if got := b.run(t, "keep", "cat /data/kept.txt"); got != "kept" {
			t.Errorf("volume reads %q after its mount was taken away", got)
		}
	})

	t.Run("disable -f and enable: the running container loses the volume", func(t *testing.T) {
		disableForce(t, b.plugin)
		testbed.MustDocker(t, "plugin", "enable", b.plugin.Name)
		w.waitLost(t)
		listed(t)
	})

	t.Run("re-created plugin on the same state", func(t *testing.T) {
		testbed.MustDocker(t, "plugin", "rm", "-f", b.plugin.Name)
		b.plugin.Create(t, b.cluster)
		listed(t)
	})

	t.Run("upgrade", func(t *testing.T) {
		w.remove(t)
		w = startWorker(t, "gte2e-restart-worker", "keep")
		upgrade(t, b)
		w.waitLost(t)
		listed(t)
	})

	// The worker's references were kept through every restart: once it
	// goes, nothing is left mounted.
	w.remove(t)
	waitNoClients(t, "keep")
	b.assertNoMounts(t)
	testbed.MustDocker(t, "volume", "rm", "keep")
}

// TestDetachedClients shows that with DETACH_CLIENTS=true running
// containers keep their volume, without a failed write, through a plugin
// crash, disable -f and enable, and re-creation, and that the clients left
// by earlier plugin instances go with the last container.
func TestDetachedClients(t *testing.T) {
	b := newPluginBed(t, "gte2e-detach", 106, "DETACH_CLIENTS=true")
	b.create(t, "lasting", "replica=2")
	w := startWorker(t, "gte2e-detach-worker", "lasting")
	client := fuseClientPID(t, "lasting")
	keptWriting := func(t *testing.T) {
		t.Helper()
		if !slices.Contains(testbed.FUSEClientPIDs("lasting"), client) {
			t.Errorf("the worker's FUSE client %d is gone", client)
		}
		w.waitWriting(t)
		w.assertNoFailures(t)
		if got := b.run(t, "lasting", "test -s /data/beat && echo written"); got != "written" {
			t.Errorf("a new container reads %q", got)
		}
	}

	t.Run("plugin crash", func(t *testing.T) {
		crash(t, b.plugin)
		keptWriting(t)
	})

	t.Run("disable -f and enable", func(t *testing.T) {
		disableForce(t, b.plugin)
		testbed.MustDocker(t, "plugin", "enable", b.plugin.Name)
		keptWriting(t)
	})

	t.Run("re-created plugin on the same state", func(t *testing.T) {
		testbed.MustDocker(t, "plugin", "rm", "-f", b.plugin.Name)
		b.plugin.Create(t, b.cluster, "DETACH_CLIENTS=true")
		keptWriting(t)
	})

	t.Run("upgrade", func(t *testing.T) {
		upgrade(t, b)
		keptWriting(t)
	})

	w.remove(t)
	waitNoClients(t, "lasting")
	b.assertNoMounts(t)
	data, err := os.ReadFile(filepath.Join(b.plugin.StateDir, "clients.json"))
	if err != nil || strings.Contains(string(data), "pid") {
		t.Errorf("detached clients recorded after the last container left: %s, %v", data, err)
	}
	testbed.MustDocker(t, "volume", "rm", "lasting")
}

// upgrade upgrades the plugin as users do, from a registry: the working
// tree's plugin is pushed to a registry on loopback, and the plugin is
// disabled, upgraded to it and enabled. Its settings stay.
func upgrade(t *testing.T, b *pluginBed) {
	t.Helper()
	testbed.StartRegistry(t, loopbackRegistry)
	ref := loopbackRegistry + "/" + b.plugin.Name + ":upgrade"
	pushed := testbed.InstallPlugin(t, b.cluster, ref)
	testbed.MustDocker(t, "plugin", "push", ref)
	pushed.Remove(t)
	disableForce(t, b.plugin)
	testbed.MustDocker(t, "plugin", "upgrade", "--grant-all-permissions", "--skip-remote-check", b.plugin.Name, ref)
	// Docker 20.10 shows the mount's source as set, but mounts the
	// default unless it is set again.
	testbed.MustDocker(t, "plugin", "set", b.plugin.Name, "state.source="+b.plugin.StateDir)
	testbed.MustDocker(t, "plugin", "enable", b.plugin.Name)
}

// disableForce disables the plugin with running containers on its volumes,
// and waits until Docker 20.10 has unmounted the plugin's mounts: it does
// so after it answered, and a quick enable would lose a new mount to it
// (see the README). Later Docker versions leave the mounts.
func disableForce(t *testing.T, p *testbed.Plugin) {
	t.Helper()
	dir := filepath.Dir(p.PropagatedMount(t))
	testbed.MustDocker(t, "plugin", "disable", "-f", p.Name)
	err := testbed.Poll(10*time.Second, func() error {
		mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
		if err == nil && len(mounts) > 0 {
			err = fmt.Errorf("%d mounts under %s", len(mounts), dir)
		}
		return err
	})
	if err != nil {
		t.Logf("10 s after the disable: %v; left by Docker", err)
	}
}

// worker is a running container that appends a line to /data/beat five
// times a second and says on its standard error when a write fails.
type worker struct{ name string }

func startWorker(t *testing.T, name, volume string) *worker {
	t.Helper()
	ctx := context.Background()
	_, _ = testbed.Docker(ctx, "rm", "-f", name)
	testbed.MustDocker(t, "run", "-d", "--name", name, "--label", "gluster-testbed=1", "-v", volume+":/data", testbed.ClientImage,
		"sh", "-c", `while :; do date +%s.%N >> /data/beat || echo "write failed" >&2; sleep 0.2; done`)
	w := &worker{name: name}
	t.Cleanup(func() { _, _ = testbed.Docker(ctx, "rm", "-f", name) })
	w.waitWriting(t)
	return w
}

// beats counts the lines the worker wrote, read through its own mount.
func (w *worker) beats() (int, error) {
	out, err := testbed.Docker(context.Background(), "exec", w.name, "wc", "-l", "/data/beat")
	if err != nil {
		return 0, err
	}
	var n int
	_, err = fmt.Sscan(out, &n)
	return n, err
}

// waitWriting waits until the worker's writes reach the volume.
func (w *worker) waitWriting(t *testing.T) {
	t.Helper()
	first, _ := w.beats()
	testbed.Eventually(t, 60*time.Second, "the worker writing to its volume", func() error {
		n, err := w.beats()
		if err != nil {
			return err
		}
		if n <= first {
			return fmt.Errorf("%d lines, as before", n)
		}
		return nil
	})
}

// waitLost waits until the worker's volume fails with "Transport endpoint
// is not connected": an error, not an empty directory on local disk.
func (w *worker) waitLost(t *testing.T) {
	t.Helper()
	testbed.Eventually(t, 30*time.Second, "the worker's volume to fail", func() error {
		_, err := w.beats()
		if err == nil || !strings.Contains(err.Error(), "not connected") {
			return fmt.Errorf("reading through the worker's mount: %v", err)
		}
		return nil
	})
}

func (w *worker) assertNoFailures(t *testing.T) {
	t.Helper()
	logs, err := testbed.Docker(context.Background(), "logs", w.name)
	if err != nil || strings.Contains(logs, "failed") || strings.Contains(logs, "not connected") {
		t.Errorf("the worker's writes failed: %v\n%s", err, logs)
	}
}

func (w *worker) remove(t *testing.T) {
	t.Helper()
	testbed.MustDocker(t, "rm", "-f", w.name)
}

// crash kills the plugin's program as a crash would and waits until Docker
// restarted it and it answers again.
func crash(t *testing.T, p *testbed.Plugin) {
	t.Helper()
	pid := p.PID(t)
	if pid == 0 {
		t.Fatalf("plugin %s does not run", p.Name)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testbed.Eventually(t, 60*time.Second, "Docker to restart the plugin", func() error {
		if now := p.PID(t); now == 0 || now == pid {
			return fmt.Errorf("plugin pid %d", now)
		}
		_, err := testbed.Docker(context.Background(), "volume", "ls", "-f", "driver="+p.Name)
		return err
	})
}

// waitNoClients waits until no FUSE client serves volume on this host.
func waitNoClients(t *testing.T, volume string) {
	t.Helper()
	testbed.Eventually(t, 30*time.Second, "no FUSE client after the last user", func() error {
		if pids := testbed.FUSEClientPIDs(volume); len(pids) != 0 {
			return fmt.Errorf("FUSE clients %v", pids)
		}
		return nil
	})
}

// fuseClientPID finds the gluster FUSE client serving volume on this host.
func fuseClientPID(t *testing.T, volume string) int {
	t.Helper()
	pids := testbed.FUSEClientPIDs(volume)
	if len(pids) != 1 {
		t.Fatalf("FUSE clients of %s: %v, want one", volume, pids)
	}
	return pids[0]
}

// loopbackRegistry is where tests push plugins to install or upgrade them.
const loopbackRegistry = "127.0.0.1:5055"

func TestPluginFromRegistry(t *testing.T) {
	const registry = loopbackRegistry
	c := testbed.NewCluster(t, "gte2e-registry", 104, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	testbed.StartRegistry(t, registry)

	ref := registry + "/gluster:e2e"
	pushed := testbed.InstallPlugin(t, c, ref)
	testbed.MustDocker(t, "plugin", "push", ref)
	pushed.Remove(t)

	// Installed as "gluster", as users do, unless this machine already has
	// a plugin of that name (a demo, say) that is not the test's to replace.
	alias := "gluster"
	if _, err := testbed.Docker(context.Background(), "plugin", "inspect", alias); err == nil {
		alias = "gluster-registry-e2e"
		t.Logf("a plugin named gluster exists already: installing as %s", alias)
	}
	installed := &testbed.Plugin{Name: alias, StateDir: filepath.Join(testbed.StateRoot, c.Name, "plugin-"+alias)}
	t.Cleanup(func() { installed.Remove(t) })
	// A plugin's bind mount source must exist before it is installed.
	if err := os.MkdirAll(installed.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	testbed.MustDocker(t, "plugin", "install", "--alias", alias, "--grant-all-permissions", ref,
		"SERVERS="+strings.Join(c.Addresses(), ","), "TOKEN="+c.Token, "state.source="+installed.StateDir, "ON_REMOVE=delete")

	testbed.MustDocker(t, "volume", "create", "-d", alias, "-o", "replica=2", "fromregistry")
	out, err := testbed.RunContainer(t, "fromregistry", "echo ok > /data/f && cat /data/f")
	if err != nil || out != "ok" {
		t.Fatalf("container on a volume of the installed plugin: %q, %v", out, err)
	}
	testbed.MustDocker(t, "volume", "rm", "fromregistry")
}
