//go:build e2e

package mounter

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestE2EDeadServerCost measures what a stopped server costs a mount, split
// into the probe and mount(8), with the settings of before (the probe waits
// for every server up to its limit; dead bricks get a 2 s connect timeout)
// and of now (a grace after the first answer, none for a server seen dead a
// moment ago; 1 s), and shows that a server that comes back is used again.
// make bench holds the targets; the bounds here only catch the 42 s TCP
// timeout coming back.
func TestE2EDeadServerCost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	c := testbed.NewCluster(t, "gte2e-perf-mnt", 225, 2)
	c.StartAll(t)
	c.WaitPool(t, e2ePoolTimeout)
	if _, err := c.Servers[0].Client().Create(context.Background(), control.CreateRequest{Name: e2eVolume, Replica: 2}); err != nil {
		t.Fatal(err)
	}
	c.WaitBricksOnline(t, e2eVolume, e2eBricksTimeout)

	before := func() *Mounter {
		return &Mounter{Logger: testLogger(t), ProbeGrace: DefaultProbeTimeout, deadBrickTimeout: 2 * time.Second}
	}
	now := func() *Mounter { return &Mounter{Logger: testLogger(t)} }
	healthy := timedMounts(t, c, now(), 3, -1)
	t.Logf("all servers up: %s", healthy)

	for stopped := range c.Servers {
		live := 1 - stopped
		t.Run(fmt.Sprintf("server %d stopped", stopped+1), func(t *testing.T) {
			c.Servers[stopped].Stop(t)
			remembering := now()
			results := []struct {
				name string
				took []breakdown
			}{
				{"before: probe waits for its limit, 2 s dead brick timeout", timedMounts(t, c, before(), 1, live)},
				{"now, first mount: grace after the first answer, 1 s dead brick timeout", timedMounts(t, c, remembering, 1, live)},
				{"now, server dead a moment ago", timedMounts(t, c, remembering, 3, live)},
			}
			for _, r := range results {
				t.Logf("%s: %s (healthy %s)", r.name, r.took, healthy)
				for _, b := range r.took {
					if b.total > 20*time.Second {
						t.Errorf("%s: mount took %s", r.name, b.total)
					}
				}
			}

			c.Servers[stopped].Start(t)
			c.WaitBricksOnline(t, e2eVolume, e2eBricksTimeout)
			// The mounter still remembers the server dead: it is used again
			// all the same, and writes reach its brick.
			req := e2eRequest(t, remembering, c, e2eVolume, "")
			mountTimed(t, remembering, req)
			testbed.Eventually(t, time.Minute, "a write on the brick of the server that came back", func() error {
				name := fmt.Sprintf("back-%d", time.Now().UnixNano())
				if err := os.WriteFile(filepath.Join(req.Target, name), []byte(name), 0o644); err != nil {
					return err
				}
				if _, err := os.Stat(filepath.Join(c.Servers[stopped].BrickDir(e2eVolume), name)); err != nil {
					return err
				}
				return nil
			})
		})
	}
}

// breakdown is one mount's time: the probe alone, then the whole Mount.
type breakdown struct{ probe, total time.Duration }

func (b breakdown) String() string {
	return fmt.Sprintf("%s (probe %s)", b.total.Round(time.Millisecond), b.probe.Round(time.Millisecond))
}

// timedMounts mounts n times, each on a new target, and checks that a write
// reaches the brick on server live (-1: every brick). The probe is timed on
// a copy of the mounter's memory, so that it does not change what the
// mount sees.
func timedMounts(t *testing.T, c *testbed.Cluster, m *Mounter, n, live int) []breakdown {
	t.Helper()
	var out []breakdown
	for i := range n {
		req := e2eRequest(t, m, c, e2eVolume, "")
		probe := &Mounter{Logger: m.Logger, ProbeGrace: m.ProbeGrace}
		m.health.mu.Lock()
		probe.health.last = maps.Clone(m.health.last)
		m.health.mu.Unlock()
		start := time.Now()
		probe.Probe(context.Background(), uniqueHosts(req.Servers, req.Bricks))
		probed := time.Since(start)
		total := mountTimed(t, m, req)
		bricks := []int{live}
		if live < 0 {
			bricks = []int{0, 1}
		}
		for _, b := range bricks {
			writeAndCheckOn(t, c, req, fmt.Sprintf("w%d-%d", time.Now().UnixNano(), i), b)
		}
		out = append(out, breakdown{probe: probed, total: total})
		if err := m.Unmount(context.Background(), req.Target); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(out, func(a, b breakdown) int { return int(a.total - b.total) })
	return out
}
