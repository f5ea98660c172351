//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// adminTimeout bounds one gluster-admin run: a replace-brick with a dead
// server takes about 12 s (glusterd's mount waits for the dead brick), and
// the command then follows the heal of a few hundred small files.
const adminTimeout = 4 * time.Minute

// bricksAgreeTimeout bounds the wait for the bricks to agree after the last
// change: self-heal copies a few hundred small files in seconds.
const bricksAgreeTimeout = 90 * time.Second

// fileWriterScript writes a new 32 KiB file every 0.2 s, synced, and prints
// its checksum, or FAIL, until /tmp/stop exists.
const fileWriterScript = `mkdir -p /data/w; i=0
while [ ! -e /tmp/stop ]; do
  i=$((i+1))
  head -c 32768 /dev/urandom > /tmp/f
  if dd if=/tmp/f of=/data/w/f$i conv=fsync status=none; then
    echo "ok $(sha256sum < /tmp/f | cut -d' ' -f1) f$i"
  else
    echo "FAIL f$i"
  fi
  sleep 0.2
done
echo done`

// TestGrowAndRepair grows a pool of two servers by a third, raises a volume
// to replica 3 onto it, loses an original server for good and replaces it by
// a fourth, all through gluster-admin, while a container writes to the
// volume throughout.
func TestGrowAndRepair(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-grow", 230, 4)
	srv1, srv2, srv3, srv4 := c.Servers[0], c.Servers[1], c.Servers[2], c.Servers[3]
	first := []string{srv1.Address, srv2.Address}
	srv1.Peers, srv2.Peers = first, first
	// New servers are told about members, as their owner would: glusterd
	// refuses their own probes from outside the pool, a member adds them.
	srv3.Peers = []string{srv1.Address}
	srv4.Peers = []string{srv2.Address}
	srv1.Run(t)
	srv2.Run(t)
	testbed.WaitMembers(t, poolTimeout, srv1, srv2)
	p := testbed.InstallPlugin(t, c, "gte2e-grow")
	testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", "grow.data")
	writer := startFileWriter(t, "grow.data")

	t.Run("a server started later joins through add-server", func(t *testing.T) {
		srv3.Run(t)
		out := admin(t, srv1, "add-server", srv3.Address)
		if !strings.Contains(out, srv3.Address+" joined the pool") {
			t.Errorf("add-server said %q", out)
		}
		testbed.WaitMembers(t, poolTimeout, srv1, srv2, srv3)
	})

	t.Run("a new volume is placed on the new server first", func(t *testing.T) {
		testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", "grow.new")
		if bricks := inspect(t, "grow.new", "{{.Status.bricks}}"); !strings.Contains(bricks, srv3.Address+":") {
			t.Errorf("bricks of a volume created after %s joined: %s", srv3.Address, bricks)
		}
	})

	t.Run("replica 2 raised to 3 onto the new server, healed", func(t *testing.T) {
		out := admin(t, srv2, "replica", "grow.data", "3")
		if !strings.Contains(out, "grow__data: replica 3") || !strings.HasSuffix(strings.TrimSpace(out), "grow__data: healed") {
			t.Errorf("replica said %q, want the new layout and its heal followed to the end", out)
		}
		eventuallyInspect(t, "grow.data", "{{.Status.replica}} {{.Status.heal}} {{.Status.bricks}}", func(got string) bool {
			return strings.HasPrefix(got, "3 done [") && strings.Contains(got, srv3.Address+":") && strings.Count(got, "(online)") == 3
		})
		if !strings.Contains(scrape(t, srv2.MetricsAddress()), `gluster_volume_heal_pending_entries{volume="grow__data"}`) {
			t.Error("no heal metric for grow__data")
		}
	})

	t.Run("an original server dies for good, a fourth replaces it", func(t *testing.T) {
		srv1.Destroy(t)
		srv4.Run(t)
		admin(t, srv2, "add-server", srv4.Address)
		out := admin(t, srv2, "replace-server", srv1.Address, srv4.Address)
		for _, want := range []string{"grow__data: brick moved off", "grow__new: brick moved off", srv1.Address + " left the pool", "grow__data: healed"} {
			if !strings.Contains(out, want) {
				t.Errorf("replace-server said %q, want %q", out, want)
			}
		}
		eventuallyInspect(t, "grow.data", "{{.Status.heal}} {{.Status.bricks}}", func(got string) bool {
			return strings.HasPrefix(got, "done [") && !strings.Contains(got, srv1.Address+":") && strings.Contains(got, srv4.Address+":") && strings.Count(got, "(online)") == 3
		})
		peers := admin(t, srv3, "servers")
		if strings.Contains(peers, srv1.Address) || !strings.Contains(peers, srv4.Address) {
			t.Errorf("pool after the replacement:\n%s", peers)
		}
	})

	t.Run("no write failed, no file lost, bricks identical", func(t *testing.T) {
		sums := writer.stop(t)
		t.Logf("%d files written", len(sums))
		if len(sums) < 50 {
			t.Errorf("only %d files written", len(sums))
		}
		testbed.Eventually(t, bricksAgreeTimeout, "bricks identical to what was written", func() error {
			for _, s := range []*testbed.Server{srv2, srv3, srv4} {
				if err := sameFiles(filepath.Join(s.BrickDir("grow__data"), "w"), sums); err != nil {
					return fmt.Errorf("brick on %s: %w", s.Name, err)
				}
			}
			return nil
		})
	})
}

func admin(t *testing.T, s *testbed.Server, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	start := time.Now()
	out, err := s.Admin(ctx, args...)
	t.Logf("gluster-admin %s on %s (%s):\n%s", strings.Join(args, " "), s.Name, time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Fatalf("gluster-admin %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func inspect(t *testing.T, volume, format string) string {
	t.Helper()
	return testbed.MustDocker(t, "volume", "inspect", "-f", format, volume)
}

// inspectRefresh bounds how long `docker volume inspect` may show a
// volume's status from before a change: the plugin answers from its cache
// and refreshes it in the background once it is older than its TTL.
const inspectRefresh = 30 * time.Second

// eventuallyInspect waits until the volume's inspected status satisfies ok.
func eventuallyInspect(t *testing.T, volume, format string, ok func(string) bool) {
	t.Helper()
	testbed.Eventually(t, inspectRefresh, "docker volume inspect "+volume, func() error {
		if got := inspect(t, volume, format); !ok(got) {
			return fmt.Errorf("shows %s", got)
		}
		return nil
	})
}

// fileWriter is a container writing files into a volume.
type fileWriter struct{ name string }

func startFileWriter(t *testing.T, volume string) *fileWriter {
	t.Helper()
	w := &fileWriter{name: "gte2e-grow-writer"}
	_, _ = testbed.Docker(context.Background(), "rm", "-f", w.name)
	testbed.MustDocker(t, "run", "-d", "--name", w.name, "--label", "gluster-testbed=1", "-v", volume+":/data", testbed.ClientImage, "sh", "-c", fileWriterScript)
	t.Cleanup(func() { _, _ = testbed.Docker(context.Background(), "rm", "-f", w.name) })
	return w
}

// stop ends the writer and returns the checksum of every file it wrote,
// failing the test for every write that failed.
func (w *fileWriter) stop(t *testing.T) map[string]string {
	t.Helper()
	testbed.MustDocker(t, "exec", w.name, "touch", "/tmp/stop")
	testbed.MustDocker(t, "wait", w.name)
	sums := map[string]string{}
	scanner := bufio.NewScanner(strings.NewReader(testbed.MustDocker(t, "logs", w.name)))
	for scanner.Scan() {
		switch f := strings.Fields(scanner.Text()); {
		case len(f) == 3 && f[0] == "ok":
			sums[f[2]] = f[1]
		case len(f) > 0 && f[0] == "done":
		default:
			t.Errorf("writer: %s", scanner.Text())
		}
	}
	return sums
}

// sameFiles checks that dir holds exactly the files of sums, with those
// checksums.
func sameFiles(dir string, sums map[string]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) != len(sums) {
		return fmt.Errorf("%d files, %d written", len(entries), len(sums))
	}
	for name, want := range sums {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			return fmt.Errorf("%s: checksum %s, written %s", name, got, want)
		}
	}
	return nil
}
