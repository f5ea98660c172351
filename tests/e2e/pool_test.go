//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestPool proves pooled volumes on real gluster: two Docker volumes of one
// pool are directories of one gluster volume served by one FUSE client on
// the host, each with its own size limit, owner and mode; a container of
// one cannot reach the other through links or ".."; a replica setting
// other than the pool's, or a size the bricks cannot hold, creates nothing
// (not even a new pool); and removing one leaves the other's data, under
// delete deleting only its own directory.
func TestPool(t *testing.T) {
	start := time.Now()
	b := newPluginBed(t, "gte2e-pool", 240)
	ctx := context.Background()
	const pool = "pool__gtpool" // the gluster volume of pool gtpool

	t.Run("two pooled volumes share one gluster volume and one FUSE client", func(t *testing.T) {
		b.create(t, "poola", "pool=gtpool", "replica=2", "size=5M", "uid=1000", "gid=1000", "mode=0700", "on-remove=retain")
		b.create(t, "poolb", "pool=gtpool", "size=10M", "uid=2000", "gid=2000", "mode=0750", "on-remove=delete")
		if _, err := b.cluster.Volume(ctx, pool); err != nil {
			t.Fatalf("the pool's gluster volume: %v", err)
		}
		for _, v := range []string{"poola", "poolb"} {
			if _, err := b.cluster.Volume(ctx, v); err == nil {
				t.Errorf("a gluster volume of its own for pooled volume %s", v)
			}
		}
		name := "gte2e-pool-both"
		testbed.MustDocker(t, "run", "-d", "--name", name, "--label", "gluster-testbed=1", "-v", "poola:/a", "-v", "poolb:/b", testbed.ClientImage, "sleep", "600")
		t.Cleanup(func() { _, _ = testbed.Docker(context.Background(), "rm", "-f", name) })
		clients := testbed.FUSEClientPIDs(pool)
		if len(clients) != 1 {
			t.Errorf("FUSE clients of the pool with both volumes in use: %d, want 1", len(clients))
		}
		for _, s := range b.cluster.Servers {
			bricks, err := s.BrickProcesses(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(bricks) != 1 {
				t.Errorf("brick processes on %s with two pooled volumes: %d, want the pool's one", s.Name, len(bricks))
			}
			t.Logf("%s: pool's brick process %d MiB resident", s.Name, testbed.ResidentBytes(bricks)>>20)
		}
		t.Logf("the pool's FUSE client on this host, both volumes in use: %d MiB resident", testbed.ResidentBytes(clients)>>20)
		if got := testbed.MustDocker(t, "exec", name, "stat", "-c", "%u:%g %a", "/a", "/b"); got != "1000:1000 700\n2000:2000 750" {
			t.Errorf("owner and mode of the two volumes: %q, want 1000:1000 700 and 2000:2000 750", got)
		}
		testbed.MustDocker(t, "rm", "-f", name)
	})

	t.Run("each pooled volume has its own size limit", func(t *testing.T) {
		if out := writePast(t, "poola", "big", 7); !strings.Contains(out, "Disk quota exceeded") {
			t.Errorf("7 MiB into the 5M poola: %s; want Disk quota exceeded", out)
		}
		if out := writePast(t, "poolb", "big", 7); strings.Contains(out, "exceeded") {
			t.Errorf("7 MiB into the 10M poolb: %s; want it written", out)
		}
	})

	t.Run("a container of one pooled volume cannot reach its sibling", func(t *testing.T) {
		b.run(t, "poolb", "echo secret-b > /data/secret")
		// Links and ".." planted in poola's directory aim at poolb's,
		// which lies beside it in the pool.
		out, _ := testbed.RunContainer(t, "poola", `cd /data
ln -s ../poolb up; ln -s /data/../poolb abs; ln -s ../../pool__gtpool/poolb deep
for p in up/secret abs/secret deep/secret ../poolb/secret /data/../poolb/secret; do
  cat "$p" 2>/dev/null && echo "REACHED $p"
  echo overwritten > "$p" 2>/dev/null && echo "WROTE $p"
done
ls -a /data/.. | grep -x poolb && echo "SEES poolb"
true`)
		if strings.Contains(out, "secret-b") || strings.Contains(out, "REACHED") || strings.Contains(out, "WROTE") || strings.Contains(out, "SEES") {
			t.Errorf("a container of poola reached poolb: %s", out)
		}
		if got := b.run(t, "poolb", "cat /data/secret; ls /data"); got != "secret-b\nbig\nsecret" {
			t.Errorf("poolb after the attack: %q, want its secret and its file only", got)
		}
		// The links stay in poola's own directory and nowhere else.
		for _, s := range b.cluster.Servers {
			for _, planted := range []string{"up", "abs", "deep"} {
				if _, err := os.Lstat(filepath.Join(s.BrickDir(pool), "poolb", planted)); err == nil {
					t.Errorf("%s planted in poolb's directory on %s", planted, s.Name)
				}
			}
		}
	})

	t.Run("a replica other than the pool's creates nothing", func(t *testing.T) {
		_, err := testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", "pool=gtpool", "-o", "replica=1", "poolc")
		if err == nil || !strings.Contains(err.Error(), "pool gtpool has replica 2, replica=1 was asked for") {
			t.Fatalf("create with replica=1 in a replica 2 pool: %v; want refused with the pool's replica", err)
		}
		if _, err := testbed.Docker(ctx, "volume", "inspect", "poolc"); err == nil {
			t.Error("Docker volume poolc exists")
		}
		vol, err := b.cluster.Volume(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		for k := range vol.Options {
			if strings.Contains(k, "poolc") {
				t.Errorf("poolc recorded on the pool: %s", k)
			}
		}
	})

	t.Run("a size the bricks cannot hold leaves no pool behind", func(t *testing.T) {
		_, err := testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", "pool=gthuge", "-o", "size=100T", "poolhuge")
		if err == nil || !strings.Contains(err.Error(), "free of") {
			t.Fatalf("create with size=100T in a new pool: %v; want refused with the bricks' numbers", err)
		}
		b.assertNothingLeft(t, "pool__gthuge")
		if _, err := testbed.Docker(ctx, "volume", "inspect", "poolhuge"); err == nil {
			t.Error("Docker volume poolhuge exists")
		}
	})

	t.Run("removing one pooled volume leaves the other's data and the pool", func(t *testing.T) {
		testbed.MustDocker(t, "volume", "rm", "poolb") // on-remove=delete
		if _, err := testbed.Docker(ctx, "volume", "inspect", "poolb"); err == nil {
			t.Error("docker volume inspect finds poolb after its removal")
		}
		for _, s := range b.cluster.Servers {
			if _, err := os.Stat(filepath.Join(s.BrickDir(pool), "poolb")); err == nil {
				t.Errorf("poolb's directory left in the brick on %s under on-remove=delete", s.Name)
			}
		}
		if got := b.run(t, "poola", "ls /data"); !strings.Contains(got, "big") {
			t.Errorf("poola after poolb's removal: %q, want its file", got)
		}
		testbed.MustDocker(t, "volume", "rm", "poola") // on-remove=retain
		for _, s := range b.cluster.Servers {
			if _, err := os.Stat(filepath.Join(s.BrickDir(pool), "poola", "big")); err != nil {
				t.Errorf("poola's data in the brick on %s after its removal under retain: %v", s.Name, err)
			}
		}
		if _, err := b.cluster.Volume(ctx, pool); err != nil {
			t.Errorf("the pool's gluster volume after its last volume went: %v", err)
		}
		if listed := b.plugin.Volumes(t); !slices.Contains(listed, "pool.gtpool") {
			t.Errorf("docker volume ls after the last pooled volume went: %q, want pool.gtpool listed", listed)
		}
		b.assertNoMounts(t)
	})
	t.Logf("TestPool took %s", time.Since(start).Round(time.Second))
}

// muxVolumes is how many started volumes the measurement of brick
// multiplexing holds: enough that the cost per volume shows over the
// servers' own, few enough to start in well under a minute.
const muxVolumes = 20

// muxSettle is how long a server takes to show a volume's bricks after it
// started them, before their memory is read.
const muxSettle = 60 * time.Second

// muxMemorySettle is how long started bricks are left before their memory
// is read: within seconds of a start, the self-heal daemons connect to the
// new bricks, which then make their inode tables and answer first lookups.
const muxMemorySettle = 10 * time.Second

// TestPoolBrickMultiplex proves that BRICK_MULTIPLEX=on is applied to the
// pool when it forms, so that the bricks of muxVolumes started volumes run
// in one process per server, with glibc's malloc arenas capped; it measures
// the brick processes' resident memory on each server with one and with
// muxVolumes volumes started (what each more volume costs) and, after
// turning multiplexing off and restarting the volumes, with one process
// per volume.
func TestPoolBrickMultiplex(t *testing.T) {
	start := time.Now()
	c := testbed.NewCluster(t, "gte2e-pool-mux", 241, 2)
	for _, s := range c.Servers {
		s.Env = []string{"BRICK_MULTIPLEX=on"}
	}
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	ctx := context.Background()
	first := c.Servers[0]
	// A multiplexed process past its open-file limit fails to attach more
	// bricks (about 260 open files each) while `volume start` succeeds:
	// the servers bound the bricks per process by the limit they run
	// under, 400 files a brick, at most gluster's own 250.
	limits, err := testbed.Docker(ctx, "exec", first.Name, "cat", "/proc/1/limits")
	if err != nil {
		t.Fatal(err)
	}
	bricksPerProcess := ""
	for _, line := range strings.Split(limits, "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			hard, err := strconv.ParseUint(strings.Fields(rest)[1], 10, 64)
			if err != nil {
				t.Fatalf("open-file limit in %q: %v", line, err)
			}
			bricksPerProcess = strconv.FormatUint(max(1, min(250, hard/400)), 10)
		}
	}
	for option, want := range map[string]string{"cluster.brick-multiplex": "on", "cluster.max-bricks-per-process": bricksPerProcess} {
		testbed.Eventually(t, poolTimeout, "the pool's "+option+" is "+want, func() error {
			out, err := first.Gluster(ctx, "volume", "get", "all", option)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == option && f[1] == want {
					return nil
				}
			}
			return fmt.Errorf("volume get all: %s", out)
		})
	}
	t.Logf("bricks per process: %s", bricksPerProcess)

	var create, startRest, restart []string
	for i := range muxVolumes {
		v := fmt.Sprintf("gmux%02d", i)
		create = append(create, fmt.Sprintf("volume create %s replica 2 %s:/bricks/%s %s:/bricks/%s force", v, c.Servers[0].Address, v, c.Servers[1].Address, v))
		if i > 0 {
			startRest = append(startRest, "volume start "+v)
		}
		restart = append(restart, "volume stop "+v, "volume start "+v)
	}
	glusterBatch(t, first, append(create, "volume start gmux00"))
	waitBricks(t, c, 1)
	time.Sleep(muxMemorySettle)
	one := brickMemory(t, c)
	glusterBatch(t, first, startRest)
	waitBricks(t, c, 1)
	time.Sleep(muxMemorySettle)
	on := brickMemory(t, c)
	for _, s := range c.Servers {
		assertArenasCapped(t, s)
	}

	glusterBatch(t, first, append([]string{"volume set all cluster.brick-multiplex off"}, restart...))
	off := waitBricks(t, c, muxVolumes)
	for _, s := range c.Servers {
		t.Logf("%s, started replica 2 volumes multiplexed: 1: %.1f MiB resident, %d: %.1f MiB (%.2f MiB a volume more); one process per volume (arenas still capped): %d MiB resident (%.1f MiB a volume)",
			s.Name, one[s.Name], muxVolumes, on[s.Name], (on[s.Name]-one[s.Name])/float64(muxVolumes-1),
			off[s.Name]>>20, float64(off[s.Name])/float64(muxVolumes)/(1<<20))
	}
	t.Logf("TestPoolBrickMultiplex took %s", time.Since(start).Round(time.Second))
}

// brickMemory reads the resident memory of each server's brick processes,
// in MiB.
func brickMemory(t *testing.T, c *testbed.Cluster) map[string]float64 {
	t.Helper()
	resident := map[string]float64{}
	for _, s := range c.Servers {
		pids, err := s.BrickProcesses(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resident[s.Name] = float64(testbed.ResidentBytes(pids)) / (1 << 20)
	}
	return resident
}

// assertArenasCapped fails unless server s's brick processes run with the
// malloc arena cap the server sets when bricks are multiplexed.
func assertArenasCapped(t *testing.T, s *testbed.Server) {
	t.Helper()
	pids, err := s.BrickProcesses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		environ, err := testbed.Environment(pid)
		if err != nil {
			t.Fatalf("environment of brick process %d on %s: %v", pid, s.Name, err)
		}
		if !slices.Contains(environ, "MALLOC_ARENA_MAX=2") {
			t.Errorf("brick process %d on %s runs without MALLOC_ARENA_MAX=2", pid, s.Name)
		}
	}
}

// glusterBatch runs gluster commands in one session on server s and fails
// unless each succeeded.
func glusterBatch(t *testing.T, s *testbed.Server, commands []string) {
	t.Helper()
	out, err := s.GlusterBatch(context.Background(), commands)
	if err != nil {
		t.Fatal(err)
	}
	if ok := strings.Count(out, "success"); ok != len(commands) {
		t.Fatalf("%d of %d gluster commands succeeded:\n%s", ok, len(commands), out)
	}
}

// waitBricks waits until every server runs want brick processes, and
// returns their resident memory by server.
func waitBricks(t *testing.T, c *testbed.Cluster, want int) map[string]uint64 {
	t.Helper()
	resident := map[string]uint64{}
	for _, s := range c.Servers {
		testbed.Eventually(t, muxSettle, fmt.Sprintf("%d brick processes on %s", want, s.Name), func() error {
			pids, err := s.BrickProcesses(context.Background())
			if err != nil {
				return err
			}
			if len(pids) != want {
				return fmt.Errorf("%d brick processes", len(pids))
			}
			resident[s.Name] = testbed.ResidentBytes(pids)
			return nil
		})
	}
	return resident
}
