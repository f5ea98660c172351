//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// enableTimeout is the --timeout (seconds) of `docker plugin enable` that
// lets a mount wait for servers back after a minute: Docker's 2 minutes for
// a Mount.
const enableTimeout = 120

// engineTrixieVersion is the Docker Engine release of Debian 13 that the
// tests on an engine node ask for.
const engineTrixieVersion = "26."

// startEngineNode starts a node whose daemon is Debian 13's Docker Engine,
// and fails the test unless it reports the version asked for.
func startEngineNode(t *testing.T, name string, octet int) *testbed.Node {
	t.Helper()
	start := time.Now()
	testbed.BuildEngineTrixie(t)
	n := testbed.StartEngineNode(t, name, octet, testbed.EngineTrixie)
	engine, components := n.EngineVersion(t)
	t.Logf("node %s runs Docker Engine %s (%s), started in %s", name, engine, components, time.Since(start).Round(time.Second))
	if !strings.HasPrefix(engine, engineTrixieVersion) {
		t.Fatalf("node %s runs Docker Engine %s, want %s*", name, engine, engineTrixieVersion)
	}
	return n
}

// waitPoolOn waits until the first server of a cluster on a node sees every
// server connected.
func waitPoolOn(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	testbed.Eventually(t, poolTimeout, "pool of two", func() error {
		out, err := c.Servers[0].Gluster(context.Background(), "pool", "list")
		if err != nil {
			return err
		}
		if n := strings.Count(out, "Connected"); n != len(c.Servers) {
			return fmt.Errorf("%d servers connected:\n%s", n, out)
		}
		return nil
	})
}

// runOn runs a throwaway container on the node with volume at /data.
func runOn(n *testbed.Node, volume, script string) (string, error) {
	return n.Docker(context.Background(), "run", "--rm", "-v", volume+":/data", testbed.ClientImage, "sh", "-c", script)
}

// TestTrixieEngine runs the plugin's life on Docker Engine 26 (Debian 13's
// dockerd, containerd and runc): installed from a loopback registry,
// volumes created and mounted, the daemon restarted, the plugin disabled
// with -f and enabled, upgraded to another version, and, enabled with
// --timeout 120, a first mount whose servers come back 60 s after it was
// asked for, which the plugin's default mount timeout waits for.
func TestTrixieEngine(t *testing.T) {
	n := startEngineNode(t, "gte2e-trx-e26", 201)
	n.LoadImages(t, testbed.ServerImage, testbed.ClientImage)
	c := testbed.NewClusterOn(t, n, "gte2e-trx-e26", 202, 2)
	c.StartAll(t)
	waitPoolOn(t, c)

	testbed.StartRegistryOn(t, n, loopbackRegistry)
	servers := strings.Join(c.Addresses(), ",")
	first, next := loopbackRegistry+"/gluster:e2e", loopbackRegistry+"/gluster:e2e-next"
	for _, ref := range []string{first, next} {
		n.CreatePlugin(t, ref, servers, c.Token)
		n.MustDocker(t, "plugin", "push", ref)
		n.MustDocker(t, "plugin", "rm", "-f", ref)
	}
	state := filepath.Join(n.Dir, "plugin-state", "gluster")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("installed from the loopback registry: create, mount, write, read", func(t *testing.T) {
		n.MustDocker(t, "plugin", "install", "--alias", "gluster", "--grant-all-permissions", first,
			"SERVERS="+servers, "TOKEN="+c.Token, "state.source="+state, "ON_REMOVE=delete")
		n.MustDocker(t, "volume", "create", "-d", "gluster", "-o", "replica=2", "life")
		if out, err := runOn(n, "life", "echo one > /data/f && cat /data/f"); err != nil || out != "one" {
			t.Fatalf("container on a volume of the installed plugin: %q, %v", out, err)
		}
		if _, err := os.Stat(filepath.Join(state, "logs", "life.log")); err != nil {
			t.Errorf("the client log is not in the plugin's state directory %s: %v", state, err)
		}
	})

	t.Run("daemon restarted: the plugin and its volumes come back", func(t *testing.T) {
		n.Stop(t)
		n.Start(t)
		for _, s := range c.Servers {
			s.Start(t)
		}
		waitPoolOn(t, c)
		testbed.Eventually(t, time.Minute, "volume readable after the restart", func() error {
			out, err := runOn(n, "life", "cat /data/f")
			if err == nil && out != "one" {
				err = fmt.Errorf("read %q", out)
			}
			return err
		})
	})

	t.Run("disable -f and enable: new containers mount", func(t *testing.T) {
		n.MustDocker(t, "plugin", "disable", "-f", "gluster")
		n.MustDocker(t, "plugin", "enable", "gluster")
		if out, err := runOn(n, "life", "echo two >> /data/f && cat /data/f"); err != nil || out != "one\ntwo" {
			t.Errorf("after disable -f and enable: %q, %v", out, err)
		}
	})

	t.Run("upgrade: settings, state and volumes kept", func(t *testing.T) {
		n.MustDocker(t, "plugin", "disable", "-f", "gluster")
		n.MustDocker(t, "plugin", "upgrade", "--grant-all-permissions", "--skip-remote-check", "gluster", next)
		mounts := n.MustDocker(t, "plugin", "inspect", "-f", "{{range .Settings.Mounts}}{{.Name}}={{.Source}} {{end}}", "gluster")
		t.Logf("mounts after the upgrade, as Docker shows them: %s", mounts)
		// As the README says: set state.source again after an upgrade.
		n.MustDocker(t, "plugin", "set", "gluster", "state.source="+state)
		// Docker waits for a managed plugin's calls as long as enable's
		// --timeout says (30 s unless given, on Docker 26 too): long
		// enough here for a mount whose servers come back after a minute.
		n.MustDocker(t, "plugin", "enable", "--timeout", strconv.Itoa(enableTimeout), "gluster")
		if ref := n.MustDocker(t, "plugin", "inspect", "-f", "{{.PluginReference}}", "gluster"); ref != next {
			t.Errorf("plugin reference after the upgrade: %s, want %s", ref, next)
		}
		if env := n.MustDocker(t, "plugin", "inspect", "-f", "{{.Settings.Env}}", "gluster"); !strings.Contains(env, "SERVERS="+servers) {
			t.Errorf("settings after the upgrade: %s, want SERVERS=%s kept", env, servers)
		}
		if vols := n.MustDocker(t, "volume", "ls", "-q"); !strings.Contains("\n"+vols+"\n", "\nlife\n") {
			t.Errorf("volumes after the upgrade: %q, want life", vols)
		}
		if out, err := runOn(n, "life", "cat /data/f"); err != nil || out != "one\ntwo" {
			t.Errorf("after the upgrade: %q, %v", out, err)
		}
	})

	t.Run("enabled with --timeout 120, servers back 60 s after the first mount request: it succeeds", func(t *testing.T) {
		const delay = 60 * time.Second
		for _, s := range c.Servers {
			s.Stop(t)
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := runOn(n, "life", "cat /data/f")
			done <- err
		}()
		time.Sleep(delay)
		for _, s := range c.Servers {
			s.Start(t)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("servers back after %s: %v", delay, err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("servers back after %s: the container did not finish", delay)
		}
		t.Logf("servers back after %s: container done after %s", delay, time.Since(start).Round(time.Second))
		if _, err := os.Stat(filepath.Join(state, "docker-wait.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the plugin learned a Docker wait on Docker 26 (%v): Docker abandoned a mount", err)
		}
	})
}

// TestTrixieEngineSwarmStack is TestSwarmStackSurvivesAServerDown on a
// one-node Swarm of Docker Engine 26.
func TestTrixieEngineSwarmStack(t *testing.T) {
	ensureStandinImages(t, "web")
	n := startEngineNode(t, "gte2e-trx-swarm", 203)
	testSwarmStack(t, newSwarmBedOn(t, n, "gte2e-trx-swarm", 204))
}
