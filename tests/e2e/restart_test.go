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

	"github.com/glusterdocker/gluster/tests/testbed"
)

func TestPluginRestarts(t *testing.T) {
	b := newPluginBed(t, "gte2e-restart", 103)
	ctx := context.Background()
	b.create(t, "keep", "replica=2")
	b.run(t, "keep", "echo kept > /data/kept.txt")
	listed := func() {
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
	worker := "gte2e-restart-worker"
	testbed.MustDocker(t, "run", "-d", "--name", worker, "--label", "gluster-testbed=1", "-v", "keep:/data", testbed.ClientImage, "sleep", "600")
	defer testbed.Docker(ctx, "rm", "-f", worker)

	t.Run("dead FUSE client is repaired", func(t *testing.T) {
		pid := fuseClientPID(t, "keep")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testbed.Eventually(t, 10*time.Second, "FUSE client killed", func() error {
			if n := testbed.FUSEClients("keep"); n != 0 {
				return fmt.Errorf("%d FUSE clients", n)
			}
			return nil
		})
		// The next mount finds the stale mount and replaces it.
		listed()
		if n := testbed.FUSEClients("keep"); n != 1 {
			t.Errorf("FUSE clients after the repair: %d, want 1", n)
		}
	})

	t.Run("disable -f and enable", func(t *testing.T) {
		testbed.MustDocker(t, "plugin", "disable", "-f", b.plugin.Name)
		testbed.MustDocker(t, "plugin", "enable", b.plugin.Name)
		listed()
	})

	t.Run("re-created plugin on the same state", func(t *testing.T) {
		testbed.MustDocker(t, "plugin", "rm", "-f", b.plugin.Name)
		b.plugin.Create(t, b.cluster)
		listed()
	})

	// The worker's references were kept through every restart: once it
	// goes, nothing is left mounted.
	testbed.MustDocker(t, "rm", "-f", worker)
	testbed.Eventually(t, 30*time.Second, "no FUSE client after the last user", func() error {
		if n := testbed.FUSEClients("keep"); n != 0 {
			return fmt.Errorf("%d FUSE clients", n)
		}
		return nil
	})
	b.assertNoMounts(t)
	testbed.MustDocker(t, "volume", "rm", "keep")
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

func TestPluginFromRegistry(t *testing.T) {
	const registry = "127.0.0.1:5055"
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
		"SERVERS="+strings.Join(c.Addresses(), ","), "TOKEN="+c.Token, "state.source="+installed.StateDir)

	testbed.MustDocker(t, "volume", "create", "-d", alias, "-o", "replica=2", "fromregistry")
	out, err := testbed.RunContainer(t, "fromregistry", "echo ok > /data/f && cat /data/f")
	if err != nil || out != "ok" {
		t.Fatalf("container on a volume of the installed plugin: %q, %v", out, err)
	}
	testbed.MustDocker(t, "volume", "rm", "fromregistry")
}
