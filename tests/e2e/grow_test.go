//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
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
// a fourth, then drains the third onto a fifth, all through gluster-admin,
// while a container writes to the volume throughout.
func TestGrowAndRepair(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-grow", 230, 5)
	srv1, srv2, srv3, srv4, srv5 := c.Servers[0], c.Servers[1], c.Servers[2], c.Servers[3], c.Servers[4]
	first := []string{srv1.Address, srv2.Address}
	srv1.Peers, srv2.Peers = first, first
	// New servers are told about members, as their owner would: glusterd
	// refuses their own probes from outside the pool, a member adds them.
	srv3.Peers = []string{srv1.Address}
	srv4.Peers = []string{srv2.Address}
	srv5.Peers = []string{srv2.Address}
	srv1.Run(t)
	srv2.Run(t)
	testbed.WaitMembers(t, poolTimeout, srv1, srv2)
	p := testbed.InstallPlugin(t, c, "gte2e-grow")
	testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", "grow.data")
	writer := startFileWriter(t, "gte2e-grow-writer", "grow.data")

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

	t.Run("refused: changes to a volume the plugin did not make, arguments gluster would read as options, no token", func(t *testing.T) {
		refusedChanges(t, srv3, srv2, srv4)
	})

	t.Run("a 4-brick distributed-replicated volume serves with one server down", func(t *testing.T) {
		srv5.Run(t)
		admin(t, srv2, "add-server", srv5.Address)
		testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", "-o", "bricks=4", "grow.wide")
		got := inspect(t, "grow.wide", "{{.Status.replica}} {{.Status.bricks}}")
		for _, s := range []*testbed.Server{srv2, srv3, srv4, srv5} {
			if strings.Count(got, s.Address+":") != 1 {
				t.Errorf("bricks of grow.wide: %s, want one on each of the 4 servers", got)
			}
		}
		if !strings.HasPrefix(got, "2 [") {
			t.Errorf("replica of grow.wide: %s, want 2", got)
		}
		mustRunOn(t, "grow.wide", "for i in $(seq 1 20); do echo $i > /data/f$i; done")
		srv5.Stop(t)
		if got := mustRunOn(t, "grow.wide", "cat /data/f* | wc -l && echo more > /data/g && cat /data/g"); got != "20\nmore" {
			t.Errorf("with %s down, grow.wide reads %q, want its 20 files and a new one", srv5.Name, got)
		}
		srv5.Start(t)
		c.WaitBricksOnline(t, "grow__wide", poolTimeout)
		testbed.Eventually(t, removeTimeout, "grow.wide removed", func() error {
			_, err := testbed.Docker(context.Background(), "volume", "rm", "grow.wide")
			return err
		})
	})

	t.Run("a live server drained: its bricks move, then it leaves the pool", func(t *testing.T) {
		out := admin(t, srv2, "drain", srv3.Address)
		for _, want := range []string{"grow__data: brick moved off", "grow__new: brick moved off", srv3.Address + " left the pool", "grow__data: healed", "grow__new: healed"} {
			if !strings.Contains(out, want) {
				t.Errorf("drain said %q, want %q", out, want)
			}
		}
		eventuallyInspect(t, "grow.data", "{{.Status.heal}} {{.Status.bricks}}", func(got string) bool {
			return strings.HasPrefix(got, "done [") && !strings.Contains(got, srv3.Address+":") && strings.Contains(got, srv5.Address+":") && strings.Count(got, "(online)") == 3
		})
		if peers := admin(t, srv2, "servers"); strings.Contains(peers, srv3.Address) {
			t.Errorf("pool after the drain:\n%s", peers)
		}
	})

	t.Run("no write failed, no file lost, bricks identical", func(t *testing.T) {
		sums := writer.stop(t)
		t.Logf("%d files written", len(sums))
		if len(sums) < 50 {
			t.Errorf("only %d files written", len(sums))
		}
		testbed.Eventually(t, bricksAgreeTimeout, "bricks identical to what was written", func() error {
			for _, s := range []*testbed.Server{srv2, srv4, srv5} {
				if err := sameFiles(filepath.Join(s.BrickDir("grow__data"), "w"), sums); err != nil {
					return fmt.Errorf("brick on %s: %w", s.Name, err)
				}
			}
			return nil
		})
	})
}

// refusedChanges attacks the control API of server with changes it must
// refuse, and checks that none changed anything: a volume without the
// plugin's label (on servers a and b) keeps its bricks, and no argument
// reached the gluster CLI as an option (--log-file=PATH would make it write
// PATH as root).
func refusedChanges(t *testing.T, server, a, b *testbed.Server) {
	t.Helper()
	ctx := context.Background()
	api := server.Client()
	manual, err := api.Create(ctx, control.CreateRequest{Name: "manual", Replica: 2, Servers: []string{a.Address, b.Address}})
	if err != nil {
		t.Fatal(err)
	}
	option := cliOptionAttack
	attempts := []struct {
		name string
		err  error
		call func() error
	}{
		{"raise a volume the plugin did not make", control.ErrConflict, func() error {
			_, err := api.RaiseReplica(ctx, "manual", control.ReplicaRequest{Replica: 3})
			return err
		}},
		{"move a brick of a volume the plugin did not make", control.ErrConflict, func() error {
			_, err := api.ReplaceBrick(ctx, "manual", control.ReplaceRequest{From: a.Address})
			return err
		}},
		{"add an option as a server", control.ErrInvalid, func() error { _, err := api.AddPeer(ctx, option); return err }},
		{"remove an option as a server", control.ErrInvalid, func() error { return api.RemovePeer(ctx, option) }},
		{"raise onto an option as a server", control.ErrInvalid, func() error {
			_, err := api.RaiseReplica(ctx, "grow__data", control.ReplicaRequest{Replica: 4, Servers: []string{option}})
			return err
		}},
		{"move a brick onto an option", control.ErrInvalid, func() error {
			_, err := api.ReplaceBrick(ctx, "grow__data", control.ReplaceRequest{From: a.Address, To: option})
			return err
		}},
		{"move a brick off an option", control.ErrInvalid, func() error {
			_, err := api.ReplaceBrick(ctx, "grow__data", control.ReplaceRequest{From: option})
			return err
		}},
		{"an option as the volume", control.ErrInvalid, func() error {
			_, err := api.RaiseReplica(ctx, option, control.ReplicaRequest{Replica: 3})
			return err
		}},
		{"no token", control.ErrUnauthorized, func() error {
			other := control.NewClient(server.Address, control.DefaultPort, "not-the-token-of-this-pool", nil)
			_, err := other.RaiseReplica(ctx, "grow__data", control.ReplicaRequest{Replica: 4})
			return err
		}},
	}
	for _, at := range attempts {
		if err := at.call(); !errors.Is(err, at.err) {
			t.Errorf("%s: %v, want %v", at.name, err, at.err)
		}
	}
	after, err := api.Volume(ctx, "manual")
	if err != nil || !slices.Equal(brickAddresses(after), brickAddresses(manual)) {
		t.Errorf("volume manual after the refusals: %+v, %v; want the bricks of %+v", after, err, manual)
	}
	if data, err := api.Volume(ctx, "grow__data"); err != nil || len(data.Bricks) != 3 {
		t.Errorf("volume grow__data after the refusals: %+v, %v", data, err)
	}
	assertNothingPlanted(t, server, a, b)
}

// cliOptionAttack is an argument the gluster CLI would take for its own
// option, were it passed as a server or volume name: it would write its
// log to plantedByGluster.
const cliOptionAttack = "--log-file=" + plantedByGluster

const plantedByGluster = "/tmp/planted-by-gluster"

// assertNothingPlanted checks that no server's gluster CLI took
// cliOptionAttack for its option.
func assertNothingPlanted(t *testing.T, servers ...*testbed.Server) {
	t.Helper()
	for _, s := range servers {
		if _, err := testbed.Docker(context.Background(), "exec", s.Name, "test", "-e", plantedByGluster); err == nil {
			t.Errorf("%s exists on %s: an argument reached the gluster CLI as an option", plantedByGluster, s.Name)
		}
	}
}

func brickAddresses(v control.Volume) []string {
	out := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		out[i] = b.Server + ":" + b.Path
	}
	return out
}

// removeTimeout bounds removing a volume after a server came back: its
// self-heal daemon may look like a client for about 10 s (see
// package selfheal).
const removeTimeout = 30 * time.Second

func mustRunOn(t *testing.T, volume, script string) string {
	t.Helper()
	out, err := testbed.RunContainer(t, volume, script)
	if err != nil {
		t.Fatalf("container on %s: %v", volume, err)
	}
	return out
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

// startFileWriter runs the container name writing files into /w of volume.
func startFileWriter(t *testing.T, name, volume string) *fileWriter {
	t.Helper()
	w := &fileWriter{name: name}
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
