//go:build bench

package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/driver"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// The baseline lane's names: its cluster, the gluster volume the baseline
// clients mount, and the plugin and volumes of the List and Get measures.
const (
	baselineLaneName  = "gbench-b"
	baselineLaneOctet = 161
	baselineVolume    = "gbench-b-data"
	listPlugin        = "gbench-l"
	listVolumePrefix  = "gbench-l-v"
	elsewherePrefix   = "gbench-l-x" // volumes made while the plugin's snapshot is in use
)

// pluginListAge is the age of the plugin's snapshot of the cluster's volume
// list after which a call refreshes it in the background (plugin/main.go).
const pluginListAge = 2 * time.Second

// listSettleTimeout bounds waiting for the plugin to list volumes just
// made: a list of 500 takes glusterd about a second.
const listSettleTimeout = time.Minute

// callsPerRun is how many List or Get calls make one run's median.
const callsPerRun = 10

type baselineLaneBed struct {
	*bench
	m       *measures
	cluster *testbed.Cluster
	dir     string
}

func baselineLane(t *testing.T, b *bench, m *measures) {
	c := testbed.NewCluster(t, baselineLaneName, baselineLaneOctet, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), poolTimeout)
	defer cancel()
	if _, err := c.Servers[0].Client().Create(ctx, control.CreateRequest{Name: baselineVolume, Replica: 2}); err != nil {
		t.Fatal(err)
	}
	c.WaitBricksOnline(t, baselineVolume, poolTimeout)
	l := &baselineLaneBed{bench: b, m: m, cluster: c, dir: mountDir(t)}
	for run := range b.cfg.runs {
		t.Logf("tutorial client, all servers up, run %d", run+1)
		l.tutorialHealthy(t)
	}
	for run := range b.cfg.runs {
		t.Logf("baseline clients with a server down, run %d", run+1)
		l.serversDown(t)
	}
	l.listAndGet(t)
}

// tutorialHealthy: item 8 against item 1, all servers up.
func (l *baselineLaneBed) tutorialHealthy(t *testing.T) {
	took, err := timed(func() error {
		return tutorialMount(context.Background(), l.cluster.Addresses(), baselineVolume, l.dir, l.cfg.pings)
	})
	if err != nil {
		t.Fatal(err)
	}
	unmount(t, l.dir, baselineVolume)
	l.seconds(&l.m.mountTutorial.Base, took)
}

// serversDown: item 2 and 8, the baseline clients' side: a mount just after
// a server stopped and one after the host forgot its address.
func (l *baselineLaneBed) serversDown(t *testing.T) {
	servers := l.cluster.Addresses()
	naive := func(ctx context.Context) error { return naiveMount(ctx, servers, baselineVolume, l.dir) }
	tutorial := func(ctx context.Context) error {
		return tutorialMount(ctx, servers, baselineVolume, l.dir, l.cfg.pings)
	}
	type scenario struct {
		server        int
		mount         func(context.Context) error
		fresh, steady *Measure
	}
	var scenarios []scenario
	if l.cfg.naiveFirstDown {
		scenarios = append(scenarios, scenario{0, naive, l.m.firstFresh, l.m.firstSteady})
	}
	scenarios = append(scenarios,
		scenario{0, tutorial, l.m.tutorialFresh, l.m.tutorialSteady},
		scenario{1, naive, l.m.secondFresh, l.m.secondSteady})
	for _, s := range scenarios {
		srv := l.cluster.Servers[s.server]
		testbed.MustDocker(t, "stop", srv.Name)
		l.seconds(&s.fresh.Base, l.timedMount(t, s.mount))
		forgetAddress(t, srv.Address)
		l.seconds(&s.steady.Base, l.timedMount(t, s.mount))
		testbed.MustDocker(t, "start", srv.Name)
		l.cluster.WaitBricksOnline(t, baselineVolume, poolTimeout)
	}
}

func (l *baselineLaneBed) timedMount(t *testing.T, mount func(context.Context) error) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mountLimit)
	defer cancel()
	took, err := timed(func() error { return mount(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	unmount(t, l.dir, baselineVolume)
	return took
}

// listAndGet: item 5. The volumes are made with the gluster CLI, many
// commands to one session, created but not started, each marked as a
// Docker volume of the plugin the way the plugin marks its own.
func (l *baselineLaneBed) listAndGet(t *testing.T) {
	p := testbed.InstallPlugin(t, l.cluster, listPlugin)
	api := newPluginAPI(t, p)
	ctx := context.Background()
	made := 0
	for i, n := range l.cfg.volumeCounts {
		t.Logf("List and Get with %d volumes", n)
		l.makeVolumes(t, made, n)
		made = n
		// The plugin shows volumes made elsewhere once its snapshot
		// refreshed in the background.
		testbed.Eventually(t, listSettleTimeout, fmt.Sprintf("List showing the %d volumes", n), func() error { return api.listed(ctx, listVolumePrefix, n) })
		for run := range l.cfg.runs {
			// Get of a volume not looked at before: the newest ones.
			fresh := volumeName(n - 1 - run%n)
			elsewhere := fmt.Sprintf("%s%04d-%d", elsewherePrefix, n, run)
			time.Sleep(pluginListAge + 100*time.Millisecond) // let the plugin's snapshot age
			calls := []struct {
				first, rest *Measure
				call        func() error
			}{
				{l.m.listExpired[i], l.m.list[i], func() error { return api.listed(ctx, listVolumePrefix, n) }},
				{l.m.getFirst[i], l.m.get[i], func() error {
					return api.call(ctx, "VolumeDriver.Get", map[string]string{"Name": fresh}, nil)
				}},
			}
			for _, c := range calls {
				var took []float64
				for range callsPerRun {
					d, err := timed(c.call)
					if err != nil {
						t.Fatal(err)
					}
					took = append(took, float64(d.Microseconds())/1000)
				}
				l.record(&c.first.Plugin, took[0])
				l.record(&c.rest.Plugin, Summarize(took[1:]).Median)
			}
			l.makeVolume(t, elsewhere)
			took, err := timed(func() error {
				return api.call(ctx, "VolumeDriver.Get", map[string]string{"Name": elsewhere}, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			l.record(&l.m.getElsewhere[i].Plugin, float64(took.Microseconds())/1000)
		}
	}
	// The rows of larger counts compare with the smallest.
	l.mu.Lock()
	for i := 1; i < len(l.cfg.volumeCounts); i++ {
		for _, ms := range [][]*Measure{l.m.list, l.m.listExpired, l.m.get, l.m.getFirst} {
			ms[i].Base = slices.Clone(ms[0].Plugin)
		}
	}
	l.mu.Unlock()
	l.memory(t, p, api)
	// The plugin's own removal would remove every volume it lists, one by
	// one; the cluster's removal takes them all at once.
	testbed.MustDocker(t, "plugin", "rm", "-f", p.Name)
}

func volumeName(i int) string { return numbered(listVolumePrefix, i) }

// numbered is the name of volume i of those named prefix and a number.
func numbered(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

// numberedRange names the volumes from to to-1 of those named prefix and
// a number.
func numberedRange(prefix string, from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, numbered(prefix, i))
	}
	return names
}

// makeVolumes creates the volumes numbered from to to-1.
func (l *baselineLaneBed) makeVolumes(t *testing.T, from, to int) {
	l.makeVolume(t, numberedRange(listVolumePrefix, from, to)...)
}

// makeVolume creates volumes as the plugin on another host would.
func (l *baselineLaneBed) makeVolume(t *testing.T, names ...string) {
	glusterBatch(t, l.cluster.Servers[0], createCommands(l.cluster, names))
}

// createCommands are the gluster commands that create replica 2 volumes
// on the first two servers of c, labelled as the plugin labels its own.
func createCommands(c *testbed.Cluster, names []string) []string {
	s1, s2 := c.Servers[0], c.Servers[1]
	created := time.Now().UTC().Format(time.RFC3339)
	var cmds []string
	for _, v := range names {
		cmds = append(cmds,
			fmt.Sprintf("volume create %s replica 2 %s:/bricks/%s %s:/bricks/%s force", v, s1.Address, v, s2.Address, v),
			fmt.Sprintf("volume set %s %s %s %s %s", v, driver.DockerVolumeOption, v, control.CreatedAtOption, created))
	}
	return cmds
}

// batchTimeout bounds one session of gluster commands: creating, labelling
// and starting 400 volumes at once, as item 10 does, takes glusterd
// minutes, and slows as the number of volumes grows.
const batchTimeout = 30 * time.Minute

// glusterBatch runs gluster commands in one session on server s and fails
// unless each succeeded. glusterd refuses a command while another
// transaction holds its volume (the plugin and the servers' health rounds
// ask about volumes all the time): those are run again, a few times.
func glusterBatch(t *testing.T, s *testbed.Server, cmds []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		out, err := s.GlusterBatch(ctx, cmds)
		busy, ok := busyCommands(cmds, out)
		if (ok && len(busy) == 0) || strings.Count(out, "success") == len(cmds) {
			return
		}
		if !ok || attempt == batchAttempts {
			t.Fatalf("%d gluster commands, not all succeeded (attempt %d): %v\n%s", len(cmds), attempt, err, out)
		}
		time.Sleep(time.Second)
		cmds = busy
	}
}

// memory: item 9. The first volumes of the List and Get measures started
// and mounted through the plugin, more and more of them; the resident
// memory of the plugin and of each FUSE client with each count mounted.
func (l *baselineLaneBed) memory(t *testing.T, p *testbed.Plugin, api *pluginAPI) {
	most := slices.Max(l.cfg.mountCounts)
	if most > slices.Max(l.cfg.volumeCounts) {
		t.Fatalf("%d volumes to mount, %d made", most, slices.Max(l.cfg.volumeCounts))
	}
	t.Logf("memory with up to %d mounted volumes", most)
	vols := numberedRange(listVolumePrefix, 0, most)
	glusterBatch(t, l.cluster.Servers[0], startCommands(vols))
	const id = "gbench-memory"
	defer func() {
		if err := api.mountAll("VolumeDriver.Unmount", id, vols); err != nil {
			t.Error(err)
		}
	}()
	mounted := 0
	for i, n := range l.cfg.mountCounts {
		if err := api.mountAll("VolumeDriver.Mount", id, vols[mounted:n]); err != nil {
			t.Fatal(err)
		}
		mounted = n
		var clients []float64
		for _, pid := range testbed.FUSEClientPIDs(vols[:n]...) {
			clients = append(clients, rssMiB(pid))
		}
		l.record(&l.m.pluginRSS[i].Plugin, rssMiB(p.PID(t)))
		l.record(&l.m.clientRSS[i].Plugin, Summarize(clients).Median)
	}
}

// startCommands are the gluster commands that start volumes.
func startCommands(names []string) []string {
	cmds := make([]string, len(names))
	for i, v := range names {
		cmds[i] = "volume start " + v
	}
	return cmds
}

// mountWorkers is how many volumes the memory measure mounts at once: as
// many as a few containers starting together would.
const mountWorkers = 4

// parallel calls f for every item, workers at a time, and returns the
// first error.
func parallel(workers int, items []string, f func(string) error) error {
	work := make(chan string)
	errs := make(chan error, len(items))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for item := range work {
				errs <- f(item)
			}
		})
	}
	for _, item := range items {
		work <- item
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
