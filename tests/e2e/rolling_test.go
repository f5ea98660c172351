//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// rollingRounds is how many times the rolling failure runs over the same
// file: server 1 down and a write, server 1 back, server 2 down at once.
const rollingRounds = 3

// healOff stops every heal during the rounds: the window in which a server
// comes back with an outdated copy then lasts the whole round, instead of
// the second or so a heal takes, so each round meets it.
var healOff = map[string]string{
	"cluster.self-heal-daemon": "off", "cluster.data-self-heal": "off",
	"cluster.metadata-self-heal": "off", "cluster.entry-self-heal": "off",
}

// rollingVolume is a volume under the rolling failure: its file on the
// host's mount, and the last version of it a write acknowledged.
type rollingVolume struct {
	name  string
	file  string
	acked int
	stale []string // reads older than acked
}

// TestRollingFailure: servers fail one after the other before a heal
// finished. Two copies without a third voter serve stale data then; with a
// witness or an arbiter a read gives the last acknowledged write or fails,
// and nothing is left in split-brain once the servers are back.
func TestRollingFailure(t *testing.T) {
	t.Run("replica 2 without a third voter serves stale data", func(t *testing.T) {
		c := testbed.NewCluster(t, "gte2e-roll2", 63, 2)
		c.StartAll(t)
		c.WaitPool(t, poolTimeout)
		vols := rollingVolumes(t, c, map[string]control.CreateRequest{"roll-plain": {Replica: 2}})
		rollServers(t, c, vols)
		healOn(t, c, vols)
		if len(vols[0].stale) == 0 {
			t.Errorf("no stale read on replica 2 without a third voter: the test no longer meets the window it is about")
		}
		t.Logf("stale reads, as docker volume inspect warns: %v", vols[0].stale)
		settle(t, c, vols)
	})
	t.Run("a witness and an arbiter keep every read current", func(t *testing.T) {
		c, w := witnessCluster(t, "gte2e-roll3", 64)
		vols := rollingVolumes(t, c, map[string]control.CreateRequest{
			"roll-witness": protectedLayouts(c)["witness"],
			"roll-arbiter": protectedLayouts(c)["arbiter"],
		})
		ctx := context.Background()
		if got, err := c.Volume(ctx, "roll-witness"); err != nil || got.Witness != w.Address+":"+control.WitnessDir {
			t.Fatalf("roll-witness has witness %q, %v; want %s:%s", got.Witness, err, w.Address, control.WitnessDir)
		}
		if got, err := c.Volume(ctx, "roll-arbiter"); err != nil || got.Witness != "" {
			t.Fatalf("roll-arbiter has witness %q, %v; want none beside its arbiter brick", got.Witness, err)
		}
		rollServers(t, c, vols)
		healOn(t, c, vols)
		for _, v := range vols {
			if len(v.stale) > 0 {
				t.Errorf("%s: stale reads %v", v.name, v.stale)
			}
		}
		settle(t, c, vols)
	})
}

// witnessCluster starts three servers on subnet 172.30.octet.0/24 and a
// witness at .20 that the servers name in WITNESS.
func witnessCluster(t *testing.T, name string, octet int) (*testbed.Cluster, *testbed.Witness) {
	t.Helper()
	c := testbed.NewCluster(t, name, octet, 3)
	w := c.NewWitness(t, fmt.Sprintf("172.30.%d.20", octet))
	w.Run(t)
	for _, s := range c.Servers {
		s.Env = append(s.Env, "WITNESS="+w.Address)
	}
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	return c, w
}

// protectedLayouts are the layouts with a third voter on a witnessCluster:
// two copies on the first two servers and the witness, and three bricks,
// one of them an arbiter.
func protectedLayouts(c *testbed.Cluster) map[string]control.CreateRequest {
	return map[string]control.CreateRequest{
		"witness": {Replica: 2, Servers: c.Addresses()[:2]},
		"arbiter": {Replica: 3, Arbiter: true},
	}
}

// rollingVolumes creates the volumes with healing off, mounts each on the
// host and writes version 0 of its file.
func rollingVolumes(t *testing.T, c *testbed.Cluster, reqs map[string]control.CreateRequest) []*rollingVolume {
	t.Helper()
	ctx := context.Background()
	var vols []*rollingVolume
	for name, req := range reqs {
		req.Name, req.Options = name, pluginLabel(name)
		for k, v := range healOff {
			req.Options[k] = v
		}
		if _, err := c.Servers[0].Client().Create(ctx, req); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		c.WaitBricksOnline(t, name, time.Minute)
		mnt := testbed.MountFUSE(t, c.Servers[2%len(c.Servers)].Address, name)
		v := &rollingVolume{name: name, file: filepath.Join(mnt, "record")}
		if err := writeVersion(v.file, 0); err != nil {
			t.Fatalf("%s: first write: %v", name, err)
		}
		vols = append(vols, v)
	}
	return vols
}

// rollServers runs the rounds: server 1 down, a write; server 1 back (its
// bricks online, no heal awaited); server 2 down at once, a read and a
// write; server 2 back, a read.
func rollServers(t *testing.T, c *testbed.Cluster, vols []*rollingVolume) {
	t.Helper()
	srv1, srv2 := c.Servers[0], c.Servers[1]
	for round := 1; round <= rollingRounds; round++ {
		srv1.Stop(t)
		for _, v := range vols {
			v.write(t, 2*round-1)
		}
		srv1.Start(t)
		waitConnected(t, c, vols)
		srv2.Stop(t)
		for _, v := range vols {
			v.read(t, fmt.Sprintf("round %d, server 2 down", round))
			v.write(t, 2*round)
		}
		srv2.Start(t)
		waitConnected(t, c, vols)
		for _, v := range vols {
			v.read(t, fmt.Sprintf("round %d, both back", round))
		}
	}
}

// waitConnected waits until every brick of the volumes is online and the
// host's client is connected to it again.
func waitConnected(t *testing.T, c *testbed.Cluster, vols []*rollingVolume) {
	t.Helper()
	for _, v := range vols {
		c.WaitBricksOnline(t, v.name, 2*time.Minute)
		testbed.Eventually(t, time.Minute, "the host's client connected to every brick of "+v.name, func() error {
			meta := filepath.Join(filepath.Dir(v.file), ".meta", "graphs", "active")
			for i := range len(c.Servers) {
				private, err := os.ReadFile(filepath.Join(meta, fmt.Sprintf("%s-client-%d", v.name, i), "private"))
				if os.IsNotExist(err) {
					continue // a volume with fewer bricks
				}
				if err != nil || !strings.Contains(string(private), "connected = 1") {
					return fmt.Errorf("client %d not connected: %v", i, err)
				}
			}
			return nil
		})
	}
}

// write writes version n and fsyncs it; a write that fails is not
// acknowledged.
func (v *rollingVolume) write(t *testing.T, n int) {
	t.Helper()
	if err := writeVersion(v.file, n); err != nil {
		t.Logf("%s: write of version %d refused: %v", v.name, n, err)
		return
	}
	v.acked = n
}

// read checks that the file holds the last acknowledged version, or fails.
func (v *rollingVolume) read(t *testing.T, when string) {
	t.Helper()
	data, err := os.ReadFile(v.file)
	if err != nil {
		t.Logf("%s, %s: read refused: %v", v.name, when, err)
		return
	}
	got, err := parseVersion(data)
	if err != nil {
		t.Errorf("%s, %s: %v", v.name, when, err)
		return
	}
	if got < v.acked {
		v.stale = append(v.stale, fmt.Sprintf("%s: version %d after %d was acknowledged", when, got, v.acked))
	}
}

// healOn turns healing back on for the volumes and starts their heals.
func healOn(t *testing.T, c *testbed.Cluster, vols []*rollingVolume) {
	t.Helper()
	ctx := context.Background()
	for _, v := range vols {
		for k := range healOff {
			if out, err := c.Servers[0].Gluster(ctx, "volume", "set", v.name, k, "on"); err != nil {
				t.Fatalf("%s: %s on: %v\n%s", v.name, k, err, out)
			}
		}
		if out, err := c.Servers[0].Gluster(ctx, "volume", "heal", v.name); err != nil {
			t.Logf("%s: volume heal: %v\n%s", v.name, err, out)
		}
	}
}

// settle waits until every volume healed, with nothing in split-brain, and
// checks that each file is readable, holds at least its last acknowledged
// version and is the same on every data brick (an arbiter brick holds no
// data).
func settle(t *testing.T, c *testbed.Cluster, vols []*rollingVolume) {
	t.Helper()
	ctx := context.Background()
	healed := map[string]bool{}
	for _, v := range vols {
		if healed[v.name] {
			continue
		}
		healed[v.name] = true
		testbed.Eventually(t, 2*time.Minute, v.name+" healed", func() error {
			h, err := c.Servers[0].Client().Heal(ctx, v.name)
			switch {
			case err != nil:
				return err
			case h.SplitBrain > 0:
				return fmt.Errorf("%d entries in split-brain", h.SplitBrain)
			case !h.Done:
				return fmt.Errorf("%d entries to heal", h.Pending)
			}
			return nil
		})
	}
	for _, v := range vols {
		data, err := os.ReadFile(v.file)
		if err != nil {
			t.Errorf("%s: unreadable once the servers are back: %v", v.file, err)
			continue
		}
		if final, err := parseVersion(data); err != nil || final < v.acked {
			t.Errorf("%s: reads %q once healed, version %d was acknowledged", v.file, data, v.acked)
		}
		for _, s := range dataServers(t, c, v.name) {
			brick, err := os.ReadFile(filepath.Join(s.BrickDir(v.name), filepath.Base(v.file)))
			if err != nil || string(brick) != string(data) {
				t.Errorf("%s: brick on %s holds %q, %v; the mount reads %q", v.file, s.Name, brick, err, data)
			}
		}
	}
}

// dataServers are the servers holding a brick of volume that is not an
// arbiter's: those with its files' content.
func dataServers(t *testing.T, c *testbed.Cluster, volume string) []*testbed.Server {
	t.Helper()
	vol, err := c.Volume(context.Background(), volume)
	if err != nil {
		t.Fatalf("%s: %v", volume, err)
	}
	var servers []*testbed.Server
	for _, b := range vol.Bricks {
		for _, s := range c.Servers {
			if s.Address == b.Server && !b.Arbiter {
				servers = append(servers, s)
			}
		}
	}
	if len(servers) < 2 {
		t.Fatalf("%s has data bricks on %d servers, want 2 or more", volume, len(servers))
	}
	return servers
}
