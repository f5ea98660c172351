//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// writerScript appends a counter to /data/log five times a second and reads
// each line back; it exits non-zero at the first write or read that fails,
// so a writer still running has never seen its volume fail.
const writerScript = `i=0
while :; do
  i=$((i+1))
  echo $i >>/data/log || { echo "write $i failed" >&2; exit 1; }
  [ "$(tail -n 1 /data/log)" = "$i" ] || { echo "read $i failed" >&2; exit 1; }
  sleep 0.2
done`

// healTimeout bounds waiting for pending heals to drain after a server
// returns: the self-heal daemon needs a few seconds to connect to a new
// brick process, then heals the entries written meanwhile.
const healTimeout = 3 * time.Minute

// TestTrixieMixedVersions proves that GlusterFS 10 and 11 work together as
// they meet during a rolling upgrade: GlusterFS 11 clients (the plugin on
// Debian 13) on GlusterFS 10 servers, then the pool upgraded to 11 one
// server at a time while a 10 and an 11 client keep writing and reading,
// the op-version raised at the end, and GlusterFS 10 clients on the
// upgraded pool.
func TestTrixieMixedVersions(t *testing.T) {
	start := time.Now()
	rootfs11 := testbed.BuildTrixie(t)
	t.Logf("Debian 13 server image and plugin rootfs built in %s", time.Since(start).Round(time.Second))

	c := testbed.NewCluster(t, "gte2e-trx-mix", 200, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p10 := testbed.InstallPlugin(t, c, "gte2e-trx-c10")
	p11 := testbed.InstallPluginFrom(t, c, "gte2e-trx-c11", rootfs11)
	assertServerVersions(t, c, "10.")
	ctx := context.Background()

	t.Run("GlusterFS 10 servers, 10 and 11 clients: mount, write, read", func(t *testing.T) {
		for _, tc := range []struct {
			plugin  *testbed.Plugin
			volume  string
			version string
		}{
			{p10, "gte2e-trx-v10", "10."},
			{p11, "gte2e-trx-v11", "11."},
		} {
			assertReadWrite(t, c, tc.plugin, tc.volume, tc.version)
		}
	})

	writers := map[string]string{"gte2e-trx-w10": "gte2e-trx-v10", "gte2e-trx-w11": "gte2e-trx-v11"}
	for name, vol := range writers {
		testbed.Docker(ctx, "rm", "-f", name)
		testbed.MustDocker(t, "run", "-d", "--name", name, "--label", "gluster-testbed=1",
			"-v", vol+":/data", testbed.ClientImage, "sh", "-c", writerScript)
		t.Cleanup(func() { testbed.Docker(context.Background(), "rm", "-f", name) })
	}

	t.Run("rolling upgrade to GlusterFS 11, one server at a time, under running writers", func(t *testing.T) {
		for _, s := range c.Servers {
			before := writerProgress(t, writers)
			upgraded := time.Now()
			s.Image = testbed.ServerImageTrixie
			s.Recreate(t)
			// Until every server runs GlusterFS 11, servers of the two
			// versions reject each other as peers: their pool refuses to
			// create or delete volumes, but the bricks serve clients and
			// heal.
			for _, vol := range writers {
				waitOwnBrickOnline(t, s, vol)
				waitNoPendingHeals(t, s, vol)
			}
			t.Logf("%s on GlusterFS 11, its bricks online and healed, in %s", s.Name, time.Since(upgraded).Round(time.Second))
			after := writerProgress(t, writers)
			for name := range writers {
				if after[name] <= before[name] {
					t.Errorf("writer %s made no progress while %s was upgraded: %d lines before, %d after", name, s.Name, before[name], after[name])
				}
			}
		}
		// GlusterFS 11 rewrites the volumes' files without the GlusterFS
		// 10 option nfs.disable; each server rejected the other while
		// their checksums differed, and only a restart of glusterd
		// compares them again, now equal.
		rejoined := time.Now()
		for _, s := range c.Servers {
			testbed.MustDocker(t, "restart", s.Name)
			waitPeersInCluster(t, c)
			for _, vol := range writers {
				c.WaitBricksOnline(t, vol, time.Minute)
				waitNoPendingHeals(t, s, vol)
			}
		}
		t.Logf("servers restarted one at a time, pool whole again, in %s", time.Since(rejoined).Round(time.Second))
		assertServerVersions(t, c, "11.")

		srv := c.Servers[0]
		maxOp := glusterOption(t, srv, "cluster.max-op-version")
		if _, err := srv.Gluster(ctx, "volume", "set", "all", "cluster.op-version", maxOp); err != nil {
			t.Fatalf("raising the op-version to %s: %v", maxOp, err)
		}
		for _, s := range c.Servers {
			if got := glusterOption(t, s, "cluster.op-version"); got != maxOp {
				t.Errorf("op-version on %s: %s, want %s", s.Name, got, maxOp)
			}
		}
		t.Logf("op-version raised to %s", maxOp)

		for name, vol := range writers {
			// Still running: not one write or read failed.
			if state := testbed.MustDocker(t, "inspect", "-f", "{{.State.Running}}", name); state != "true" {
				logs, _ := testbed.Docker(ctx, "logs", "--tail", "5", name)
				t.Errorf("writer %s on %s stopped during the upgrade: %s", name, vol, logs)
			}
			testbed.MustDocker(t, "rm", "-f", name)
		}
		for _, vol := range writers {
			waitBricksHealed(t, vol, c.Servers[0], c.Servers[1])
			// Every line written, in order, none lost.
			if out, err := testbed.RunContainer(t, vol, `awk 'NR != $1 { print "line " NR ": " $0; exit 1 } END { print NR }' /data/log`); err != nil {
				t.Errorf("log of %s after the upgrade: %s, %v", vol, out, err)
			} else {
				t.Logf("%s: %s lines written through the upgrade, none lost", vol, out)
			}
		}
	})

	t.Run("GlusterFS 11 servers, 10 and 11 clients: create, mount, write, read", func(t *testing.T) {
		for _, tc := range []struct {
			plugin  *testbed.Plugin
			volume  string
			version string
		}{
			{p10, "gte2e-trx-n10", "10."},
			{p11, "gte2e-trx-n11", "11."},
		} {
			assertReadWrite(t, c, tc.plugin, tc.volume, tc.version)
		}
	})
}

// assertReadWrite creates a replica 2 volume through plugin, writes a file
// from one container and reads it from another, checks both bricks, and
// that the mount ran the GlusterFS client version wanted.
func assertReadWrite(t *testing.T, c *testbed.Cluster, plugin *testbed.Plugin, volume, version string) {
	t.Helper()
	testbed.MustDocker(t, "volume", "create", "-d", plugin.Name, "-o", "replica=2", volume)
	want := "written by " + plugin.Name
	if out, err := testbed.RunContainer(t, volume, "echo '"+want+"' >/data/f"); err != nil {
		t.Fatalf("writing through %s: %s, %v", plugin.Name, out, err)
	}
	if out, err := testbed.RunContainer(t, volume, "cat /data/f"); err != nil || out != want {
		t.Errorf("reading through %s: %q, %v; want %q", plugin.Name, out, err, want)
	}
	b := &pluginBed{cluster: c, plugin: plugin}
	b.assertInEveryBrick(t, volume, "f", want+"\n")
	assertClientVersion(t, plugin, volume, version)
}

// clientVersion matches the line a gluster client logs when it starts.
var clientVersion = regexp.MustCompile(`Started running version \[\{arg=[^}]*\}, \{version=([0-9.]+)\}`)

// assertClientVersion checks, in the plugin's client log of a gluster
// volume, that every client that mounted it was of version (a prefix).
func assertClientVersion(t *testing.T, p *testbed.Plugin, gluster, version string) {
	t.Helper()
	log, err := os.ReadFile(p.ClientLog(gluster))
	if err != nil {
		t.Fatalf("client log of %s through %s: %v", gluster, p.Name, err)
	}
	started := clientVersion.FindAllStringSubmatch(string(log), -1)
	if len(started) == 0 {
		t.Fatalf("client log of %s through %s names no version", gluster, p.Name)
	}
	for _, m := range started {
		if !strings.HasPrefix(m[1], version) {
			t.Errorf("client of %s through %s: version %s, want %s*", gluster, p.Name, m[1], version)
		}
	}
}

// assertServerVersions checks that every server runs glusterd of version (a
// prefix).
func assertServerVersions(t *testing.T, c *testbed.Cluster, version string) {
	t.Helper()
	for _, s := range c.Servers {
		out := testbed.MustDocker(t, "exec", s.Name, "glusterd", "--version")
		first, _, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(first, "glusterfs "+version) {
			t.Fatalf("%s runs %q, want glusterfs %s*", s.Name, first, version)
		}
	}
}

// writerProgress counts the lines each writer container has written.
func writerProgress(t *testing.T, writers map[string]string) map[string]int {
	t.Helper()
	lines := map[string]int{}
	for name := range writers {
		out := testbed.MustDocker(t, "exec", name, "wc", "-l", "/data/log")
		n, err := strconv.Atoi(strings.Fields(out)[0])
		if err != nil {
			t.Fatalf("lines written by %s: %q", name, out)
		}
		lines[name] = n
	}
	return lines
}

// heals matches the pending entries of each brick in `volume heal info`.
var heals = regexp.MustCompile(`Number of entries: (\S+)`)

// waitNoPendingHeals waits until, as s sees it, no brick of volume has
// entries left to heal, asking for a heal meanwhile.
func waitNoPendingHeals(t *testing.T, s *testbed.Server, volume string) {
	t.Helper()
	testbed.Eventually(t, healTimeout, "no pending heals on "+volume, func() error {
		ctx := context.Background()
		out, err := s.Gluster(ctx, "volume", "heal", volume, "info")
		if err != nil {
			return err
		}
		counts := heals.FindAllStringSubmatch(out, -1)
		if len(counts) == 0 {
			return fmt.Errorf("heal info of %s: %s", volume, out)
		}
		for _, m := range counts {
			if m[1] != "0" {
				_, _ = s.Gluster(ctx, "volume", "heal", volume)
				return fmt.Errorf("entries to heal: %s", strings.Join(heals.FindAllString(out, -1), ", "))
			}
		}
		return nil
	})
}

// waitOwnBrickOnline waits until s, asked itself, runs its brick of volume.
func waitOwnBrickOnline(t *testing.T, s *testbed.Server, volume string) {
	t.Helper()
	online := regexp.MustCompile(`(?m)^Brick ` + regexp.QuoteMeta(s.Address+":/bricks/"+volume) + `\s+\S+\s+\S+\s+Y\s`)
	testbed.Eventually(t, time.Minute, s.Name+"'s brick of "+volume+" online", func() error {
		out, err := s.Gluster(context.Background(), "volume", "status", volume)
		if err != nil {
			return err
		}
		if !online.MatchString(out) {
			return fmt.Errorf("volume status:\n%s", out)
		}
		return nil
	})
}

// waitPeersInCluster waits until every server sees every other one as a
// connected member of the pool, not a rejected one.
func waitPeersInCluster(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	testbed.Eventually(t, poolTimeout, "every peer in the pool", func() error {
		for _, s := range c.Servers {
			out, err := s.Gluster(context.Background(), "peer", "status")
			if err != nil {
				return err
			}
			if n := strings.Count(out, "State: Peer in Cluster (Connected)"); n != len(c.Servers)-1 {
				return fmt.Errorf("%s: peer status:\n%s", s.Name, out)
			}
		}
		return nil
	})
}

// glusterOption reads an option of all volumes (`volume get all`) on s.
func glusterOption(t *testing.T, s *testbed.Server, option string) string {
	t.Helper()
	out, err := s.Gluster(context.Background(), "volume", "get", "all", option)
	if err != nil {
		t.Fatalf("gluster volume get all %s on %s: %v", option, s.Name, err)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == option {
			return f[1]
		}
	}
	t.Fatalf("gluster volume get all %s on %s: %q", option, s.Name, out)
	return ""
}
