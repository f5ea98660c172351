//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// seedScript writes 200 files of 4 to 11 KiB into /data/seed before the
// volume grows, so that the rebalance has files to move, and prints their
// checksums as sha256sum does.
const seedScript = `mkdir -p /data/seed && cd /data/seed
for i in $(seq 1 200); do head -c $((4096 + i * 37)) /dev/urandom > s$i; done
sync; sha256sum s*`

// TestExpandAndRebalance grows a replica 2 volume by a second replica set
// on two servers without its bricks, through gluster-admin, while a
// container writes to it, and follows the rebalance to its end: every file
// then reads back with its checksum, lies on both bricks of exactly one
// replica set, and the new set holds some of the files written before.
func TestExpandAndRebalance(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-exp", 250, 4)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPlugin(t, c, "gte2e-exp")
	ctx := context.Background()
	testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", "exp.data")
	before, err := c.Volume(ctx, "exp__data")
	if err != nil {
		t.Fatal(err)
	}
	oldSet, newSet := splitServers(c, before)
	want := map[string]string{}
	for name, sum := range checksums(t, mustRunOn(t, "exp.data", seedScript)) {
		want["seed/"+name] = sum
	}
	writer := startFileWriter(t, "gte2e-exp-writer", "exp.data")

	t.Run("expand adds a replica set on the servers without a brick and rebalances", func(t *testing.T) {
		out := admin(t, oldSet[1], "expand", "exp.data")
		layout := fmt.Sprintf("exp__data: 2 replica sets of 2, bricks %s, %s, ", oldSet[0].Address, oldSet[1].Address)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.Contains(out, layout) || !strings.HasPrefix(lines[len(lines)-1], "exp__data: rebalanced, ") {
			t.Errorf("expand said %q, want the new layout and the rebalance followed to its end", out)
		}
		r, err := newSet[0].Client().Rebalance(ctx, "exp__data")
		if err != nil || !r.Done || r.Files == 0 || r.Failures > 0 {
			t.Errorf("rebalance through the control API: %+v, %v; want done, files moved, no failure", r, err)
		}
		for _, s := range r.Servers {
			if !slices.Contains(c.Addresses(), s.Server) {
				t.Errorf("rebalance on %q, not a server's address (%v)", s.Server, c.Addresses())
			}
		}
		eventuallyInspect(t, "exp.data", "{{.Status.replica}} {{.Status.rebalance}} {{.Status.bricks}}", func(got string) bool {
			return strings.HasPrefix(got, "2 done, ") && strings.Count(got, "(online)") == 4 &&
				strings.Contains(got, newSet[0].Address+":") && strings.Contains(got, newSet[1].Address+":")
		})
	})

	t.Run("refused: no server left without a brick, an arbiter, a volume the plugin did not make, options, no token", func(t *testing.T) {
		refusedExpands(t, c)
	})

	t.Run("no write failed, every file readable, on both bricks of one replica set", func(t *testing.T) {
		for name, sum := range writer.stop(t) {
			want["w/"+name] = sum
		}
		t.Logf("%d files in all", len(want))
		read := checksums(t, mustRunOn(t, "exp.data", "cd /data && sha256sum seed/* w/*"))
		if !maps.Equal(read, want) {
			t.Errorf("read back %d files, %d written; differing: %v", len(read), len(want), differing(read, want))
		}
		var onNew int
		testbed.Eventually(t, bricksAgreeTimeout, "each file on both bricks of one replica set", func() error {
			var err error
			onNew, err = replicaSetsHold(want, oldSet, newSet)
			return err
		})
		t.Logf("%d files on the new replica set", onNew)
		if onNew == 0 {
			t.Error("no file on the new replica set: the rebalance moved nothing")
		}
	})
}

// splitServers returns the servers holding a brick of v, in brick order,
// and the others.
func splitServers(c *testbed.Cluster, v control.Volume) (holders, others []*testbed.Server) {
	for _, b := range v.Bricks {
		i := slices.IndexFunc(c.Servers, func(s *testbed.Server) bool { return s.Address == b.Server })
		holders = append(holders, c.Servers[i])
	}
	for _, s := range c.Servers {
		if !slices.Contains(holders, s) {
			others = append(others, s)
		}
	}
	return holders, others
}

// refusedExpands asks for expansions the servers must refuse and checks
// that none changed a volume, left a brick directory or reached the gluster
// CLI as an option.
func refusedExpands(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	ctx := context.Background()
	api := c.Servers[0].Client()
	arbiter, err := api.Create(ctx, control.CreateRequest{Name: "exp__arb", Replica: 3, Arbiter: true,
		Options: map[string]string{control.DockerVolumeOption: "exp.arb"}})
	if err != nil {
		t.Fatal(err)
	}
	manual, err := api.Create(ctx, control.CreateRequest{Name: "manual", Replica: 2, Servers: []string{c.Servers[2].Address, c.Servers[3].Address}})
	if err != nil {
		t.Fatal(err)
	}
	option := cliOptionAttack
	attempts := []struct {
		name   string
		volume string
		req    control.ExpandRequest
		err    error
		says   string
	}{
		{"every server holds a brick of it", "exp__data", control.ExpandRequest{}, control.ErrUnavailable, "add a server first"},
		{"an arbiter volume", "exp__arb", control.ExpandRequest{}, control.ErrInvalid, "arbiter"},
		{"a volume the plugin did not make", "manual", control.ExpandRequest{}, control.ErrConflict, "did not create it"},
		{"an option as a server", "manual", control.ExpandRequest{Servers: []string{option, c.Servers[0].Address}}, control.ErrInvalid, ""},
		{"an option as the volume", option, control.ExpandRequest{}, control.ErrInvalid, ""},
	}
	for _, at := range attempts {
		if _, err := api.Expand(ctx, at.volume, at.req); !errors.Is(err, at.err) || !strings.Contains(fmt.Sprint(err), at.says) {
			t.Errorf("%s: %v, want %v saying %q", at.name, err, at.err, at.says)
		}
	}
	other := control.NewClient(c.Servers[0].Address, control.DefaultPort, "not-the-token-of-this-pool", nil)
	if _, err := other.Expand(ctx, "exp__data", control.ExpandRequest{}); !errors.Is(err, control.ErrUnauthorized) {
		t.Errorf("no token: %v, want ErrUnauthorized", err)
	}
	for _, v := range []control.Volume{arbiter, manual} {
		after, err := api.Volume(ctx, v.Name)
		if err != nil || !slices.Equal(brickAddresses(after), brickAddresses(v)) {
			t.Errorf("volume %s after the refusals: %+v, %v; want the bricks of %+v", v.Name, after, err, v)
		}
	}
	if data, err := api.Volume(ctx, "exp__data"); err != nil || len(data.Bricks) != 4 {
		t.Errorf("volume exp__data after the refusals: %+v, %v", data, err)
	}
	for _, s := range c.Servers {
		if slices.ContainsFunc(arbiter.Bricks, func(b control.Brick) bool { return b.Server == s.Address }) {
			continue
		}
		if _, err := os.Stat(s.BrickDir("exp__arb")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a brick directory of exp__arb on %s, which holds no brick of it: %v", s.Name, err)
		}
	}
	assertNothingPlanted(t, c.Servers...)
}

// checksums reads sha256sum's output: checksum by file name.
func checksums(t *testing.T, out string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	scanner := bufio.NewScanner(strings.NewReader(out))
	for scanner.Scan() {
		f := strings.Fields(scanner.Text())
		if len(f) != 2 {
			t.Fatalf("sha256sum printed %q", scanner.Text())
		}
		sums[f[1]] = f[0]
	}
	return sums
}

func differing(got, want map[string]string) []string {
	var out []string
	for name := range want {
		if got[name] != want[name] {
			out = append(out, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			out = append(out, name+" (not written)")
		}
	}
	slices.Sort(out)
	return out[:min(len(out), 10)]
}

// replicaSetsHold checks that every file of want lies, with its checksum,
// on both bricks of exactly one of the two replica sets, and returns how
// many lie on the second.
func replicaSetsHold(want map[string]string, sets ...[]*testbed.Server) (onSecond int, err error) {
	held := make([]map[string]string, len(sets))
	for i, set := range sets {
		for j, s := range set {
			files, err := brickFiles(s.BrickDir("exp__data"))
			if err != nil {
				return 0, fmt.Errorf("brick on %s: %w", s.Name, err)
			}
			if j == 0 {
				held[i] = files
			} else if !maps.Equal(files, held[i]) {
				return 0, fmt.Errorf("bricks of replica set %d differ: %d files on %s, %d on %s", i+1, len(held[i]), set[0].Name, len(files), s.Name)
			}
		}
	}
	for name, sum := range want {
		var on []int
		for i := range held {
			if got, ok := held[i][name]; ok {
				if got != sum {
					return 0, fmt.Errorf("%s on replica set %d: checksum %s, written %s", name, i+1, got, sum)
				}
				on = append(on, i+1)
			}
		}
		if len(on) != 1 {
			return 0, fmt.Errorf("%s on replica sets %v, want exactly one", name, on)
		}
	}
	if total := len(held[0]) + len(held[1]); total != len(want) {
		return 0, fmt.Errorf("%d files on the bricks, %d written", total, len(want))
	}
	return len(held[1]), nil
}

// brickFiles returns the checksums of the files a brick holds under seed/
// and w/, leaving out the link files gluster's distribution leaves where a
// file's name hashes but its data is not: empty, mode ---------T.
func brickFiles(brick string) (map[string]string, error) {
	files := map[string]string{}
	for _, dir := range []string{"seed", "w"} {
		entries, err := os.ReadDir(filepath.Join(brick, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				return nil, err
			}
			if info.Mode()&fs.ModeSticky != 0 && info.Size() == 0 {
				continue
			}
			data, err := os.ReadFile(filepath.Join(brick, dir, e.Name()))
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(data)
			files[dir+"/"+e.Name()] = hex.EncodeToString(sum[:])
		}
	}
	return files, nil
}
