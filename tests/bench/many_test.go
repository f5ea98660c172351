//go:build bench

package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// Item 10's names: its cluster and plugin, the ID of its mounts, and its
// pool.
const (
	manyName    = "gbench-m"
	manyOctet   = 182
	manyMountID = "gbench-m"
	manyPool    = "gbench-m"
	// manyPoolVolume is the gluster volume of pool manyPool, as the
	// plugin names it.
	manyPoolVolume = "pool__" + manyPool
)

// unmuxedMost is the most volumes dedicated volumes without brick
// multiplexing are measured with: every started replica 2 volume is a
// brick process of about 19 MiB on each server, so 500 would be 1,000 brick
// processes, about 19 GB of this machine's 23 GB.
const unmuxedMost = 100

// muxBricksPerProcess is the bound on bricks per multiplexed process that
// item 10 sets when it turns multiplexing on by hand: what the servers set
// with BRICK_MULTIPLEX=on under this machine's 20,000 open files (400 a
// brick). Past about 76 bricks a process failed to attach more here.
const muxBricksPerProcess = 50

// manyMode is one way of giving Docker many volumes.
type manyMode struct {
	name      string
	prefix    string            // of its Docker volumes
	opts      map[string]string // of the plugin's Create
	pooled    bool
	multiplex bool
	most      int // the most volumes it is measured with; 0: no limit
}

// manyModes are measured in this order: the pool and the dedicated volumes
// without multiplexing are removed before the next mode (multiplexing is
// switched with every volume stopped); the last mode's hundreds of volumes
// go with the cluster.
var manyModes = []manyMode{
	{name: "pooled volumes", prefix: "gbench-m-p", opts: map[string]string{"pool": manyPool, "replica": "2"}, pooled: true},
	{name: "dedicated volumes", prefix: "gbench-m-d", opts: map[string]string{"replica": "2"}, most: unmuxedMost},
	{name: "dedicated volumes, brick multiplexing", prefix: "gbench-m-x", opts: map[string]string{"replica": "2"}, multiplex: true},
}

// counts are those of counts the mode is measured with.
func (mode manyMode) counts(counts []int) []int {
	var out []int
	for _, n := range counts {
		if mode.most == 0 || n <= mode.most {
			out = append(out, n)
		}
	}
	return out
}

// The counts the issue (#19) states its pooled volumes' targets at: 500
// volumes against 10.
const (
	issueFewVolumes  = 10
	issueManyVolumes = 500
)

// manyMeasures are item 10's rows of one mode.
type manyMeasures struct {
	counts                   []int
	servers, client          []*Measure // by counts
	serverSlope, clientSlope []*Measure // by counts; nil for the first
	create, list, mount      []*Measure // by counts
}

func (b *bench) defineManyMeasures(mode manyMode) *manyMeasures {
	mm := &manyMeasures{counts: mode.counts(b.cfg.manyCounts)}
	if len(mm.counts) == 0 {
		return mm
	}
	first := mm.counts[0]
	for _, n := range mm.counts {
		at := fmt.Sprintf("%s, %d started", mode.name, n)
		memory := func(what string, moreAtMost float64) *Measure {
			m := Measure{Item: 10, Name: at + ": " + what, Unit: MiB}
			if n != first {
				m.Baseline, m.Figure = fmt.Sprintf("%d volumes", first), Difference
			}
			if mode.pooled && first == issueFewVolumes && n == issueManyVolumes {
				m.Target = AtMost(OnFigure, moreAtMost*megabyte, fmt.Sprintf("< +%g MB", moreAtMost))
			}
			return b.measure(m)
		}
		mm.servers = append(mm.servers, memory("each server's memory (RSS of its container's processes)", 300))
		mm.client = append(mm.client, memory("the client host's memory (RSS of the plugin and its FUSE clients, every volume mounted)", 100))
		var serverSlope, clientSlope *Measure
		if n != first {
			slope := func(what string, target Target) *Measure {
				return b.measure(Measure{Item: 10, Name: fmt.Sprintf("%s, %d → %d started: %s per added volume", mode.name, first, n, what),
					Unit: MiBPerVolume, Target: target})
			}
			var perVolume Target
			if mode.multiplex {
				perVolume = AtMost(OnPlugin, 2*megabyte, "< 2 MB")
			}
			serverSlope = slope("each server's memory", perVolume)
			clientSlope = slope("the client host's memory", Target{})
		}
		mm.serverSlope = append(mm.serverSlope, serverSlope)
		mm.clientSlope = append(mm.clientSlope, clientSlope)
		call := func(name string) *Measure {
			return b.measure(Measure{Item: 10, Name: at + ": the plugin's " + name + " call", Unit: Milliseconds})
		}
		mm.create = append(mm.create, call("Create"))
		mm.list = append(mm.list, call("List"))
		mm.mount = append(mm.mount, call("Mount"))
	}
	return mm
}

func manyNote(cfg config) string {
	return fmt.Sprintf("Item 10: after both lanes, alone, on its own two servers and plugin (`%s`). At each count, the volumes are made with the gluster CLI in one session "+
		"(dedicated ones created with the plugin's labels and started; pooled ones recorded on the pool, as the plugin's Create records them), "+
		"but the last %d, made by the plugin's Create calls, timed; then as many List calls, and every volume mounted through the plugin's socket "+
		"(%d at a time, those %d one by one, timed); cells show the median call. "+
		"Memory: each server's container processes (glusterd, brick processes, self-heal daemon, control API), each server a sample; "+
		"the client host: the plugin and the FUSE clients of its mounts. Per added volume: the change from the smallest count, server by server, "+
		"over the volumes added. Dedicated volumes without brick multiplexing are measured up to %d volumes only: 500 would be 1,000 brick processes, "+
		"about 19 GB of this machine's 23 GB. Multiplexing is switched on with `gluster volume set all cluster.brick-multiplex on` "+
		"(what BRICK_MULTIPLEX=on sets as the pool forms) with no volume left, and each brick process serves at most %d bricks "+
		"(`cluster.max-bricks-per-process`, what BRICK_MULTIPLEX=on sets under this machine's limit of 20,000 open files).",
		manyName, cfg.manyCalls, mountWorkers, cfg.manyCalls, unmuxedMost, muxBricksPerProcess)
}

type manyBed struct {
	*bench
	cluster *testbed.Cluster
	plugin  *testbed.Plugin
	api     *pluginAPI
	mounted []string // Docker volumes mounted through the plugin
}

// manyVolumes: item 10. Memory of the servers and of a client host, and
// the plugin's Create, List and Mount calls, with more and more started
// volumes, in each mode.
func manyVolumes(t *testing.T, b *bench, m *measures) {
	start := time.Now()
	c := testbed.NewCluster(t, manyName, manyOctet, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPlugin(t, c, manyName)
	l := &manyBed{bench: b, cluster: c, plugin: p, api: newPluginAPI(t, p)}
	// Runs before the plugin's own cleanup, which would remove its hundreds
	// of volumes one by one; the cluster's removal takes them all at once.
	t.Cleanup(func() {
		if err := l.unmountAll(); err != nil {
			t.Error(err)
		}
		if _, err := testbed.Docker(context.Background(), "plugin", "rm", "-f", p.Name); err != nil {
			t.Error(err)
		}
	})
	for i, mode := range manyModes {
		mm := m.manyVolumes[i]
		if len(mm.counts) == 0 {
			continue
		}
		began := time.Now()
		l.measureMode(t, mode, mm)
		if i < len(manyModes)-1 {
			l.removeVolumes(t, mode, mm)
		}
		t.Logf("%s took %s", mode.name, time.Since(began).Round(time.Second))
	}
	t.Logf("item 10 took %s", time.Since(start).Round(time.Second))
}

// measureMode makes, mounts and measures the mode's volumes, count by
// count, and unmounts them.
func (l *manyBed) measureMode(t *testing.T, mode manyMode, mm *manyMeasures) {
	if mode.multiplex {
		// It applies to bricks started afterwards: those of the earlier
		// modes are gone.
		glusterBatch(t, l.cluster.Servers[0], []string{
			"volume set all cluster.brick-multiplex on",
			fmt.Sprintf("volume set all cluster.max-bricks-per-process %d", muxBricksPerProcess),
		})
	}
	made := 0
	if mode.pooled {
		// The plugin makes the pool with its first volume, untimed: the
		// timed creates record a volume on an existing pool.
		l.call(t, nil, "VolumeDriver.Create", createRequest(mode, numbered(mode.prefix, 0)))
		made = 1
	}
	for i, n := range mm.counts {
		began := time.Now()
		calls := min(l.cfg.manyCalls, n-made)
		bulk := numberedRange(mode.prefix, made, n-calls)
		timed := numberedRange(mode.prefix, n-calls, n)
		t.Logf("%s: %d volumes, %d made at once, %d by the plugin", mode.name, n, len(bulk), len(timed))
		l.makeVolumes(t, mode, bulk)
		for _, v := range timed {
			l.call(t, &mm.create[i].Plugin, "VolumeDriver.Create", createRequest(mode, v))
		}
		testbed.Eventually(t, listSettleTimeout, fmt.Sprintf("List showing the %d %s", n, mode.name), func() error {
			return l.api.listed(context.Background(), mode.prefix, n)
		})
		for range calls {
			l.call(t, &mm.list[i].Plugin, "VolumeDriver.List", struct{}{})
		}
		// Marked mounted first, so that a failure unmounts those that did.
		unmounted := numberedRange(mode.prefix, len(l.mounted), n-calls)
		l.mounted = append(l.mounted, unmounted...)
		if err := l.api.mountAll("VolumeDriver.Mount", manyMountID, unmounted); err != nil {
			t.Fatal(err)
		}
		for _, v := range timed {
			l.call(t, &mm.mount[i].Plugin, "VolumeDriver.Mount", map[string]string{"Name": v, "ID": manyMountID})
			l.mounted = append(l.mounted, v)
		}
		l.memory(t, mode, mm, i)
		t.Logf("%s: %d volumes made, mounted and measured in %s", mode.name, n, time.Since(began).Round(time.Second))
		made = n
	}
	for i := 1; i < len(mm.counts); i++ {
		mm.servers[i].Base = slices.Clone(mm.servers[0].Plugin)
		mm.client[i].Base = slices.Clone(mm.client[0].Plugin)
		mm.serverSlope[i].Plugin = Slopes(mm.servers[0].Plugin, mm.servers[i].Plugin, mm.counts[0], mm.counts[i])
		mm.clientSlope[i].Plugin = Slopes(mm.client[0].Plugin, mm.client[i].Plugin, mm.counts[0], mm.counts[i])
	}
	if err := l.unmountAll(); err != nil {
		t.Fatal(err)
	}
}

func createRequest(mode manyMode, volume string) map[string]any {
	return map[string]any{"Name": volume, "Opts": mode.opts}
}

// call calls the plugin and records how long the call took in series,
// unless it is nil.
func (l *manyBed) call(t *testing.T, series *[]float64, method string, in any) {
	t.Helper()
	took, err := timed(func() error { return l.api.call(context.Background(), method, in, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if series != nil {
		l.record(series, milliseconds(took))
	}
}

// makeVolumes makes volumes as the plugin on another host would, in one
// gluster session.
func (l *manyBed) makeVolumes(t *testing.T, mode manyMode, names []string) {
	if len(names) == 0 {
		return
	}
	cmds := poolRecordCommands(t, names)
	if !mode.pooled {
		cmds = append(createCommands(l.cluster, names), startCommands(names)...)
	}
	glusterBatch(t, l.cluster.Servers[0], cmds)
}

// recordsPerSet is how many pooled volumes one gluster volume set records:
// several pairs to a transaction, with lines short enough for the CLI.
const recordsPerSet = 5

// poolRecordCommands are the gluster commands that record pooled volumes
// on the pool's gluster volume as the plugin's Create records each
// (control.AddSubvolume), a few to a command, under the test plugins'
// removal policy.
func poolRecordCommands(t *testing.T, names []string) []string {
	var cmds []string
	for chunk := range slices.Chunk(names, recordsPerSet) {
		args := []string{"volume", "set", manyPoolVolume}
		for _, v := range chunk {
			key, err := control.SubvolumeOption(v)
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, key, v, control.SubvolumeOnRemoveOptionPrefix+strings.TrimPrefix(key, control.SubvolumeOptionPrefix), control.OnRemoveDelete)
		}
		cmds = append(cmds, strings.Join(args, " "))
	}
	return cmds
}

// manySettle bounds waiting for the FUSE clients of volumes just mounted:
// a client forks to daemonize, and the parent may outlive the mount call
// a moment.
const manySettle = 30 * time.Second

// memory records each server's resident memory and the client host's:
// the plugin's and its FUSE clients', one per mounted dedicated volume or
// one for the pool.
func (l *manyBed) memory(t *testing.T, mode manyMode, mm *manyMeasures, i int) {
	n := mm.counts[i]
	for _, s := range l.cluster.Servers {
		procs, err := s.Processes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resident, bricks := 0.0, 0
		for pid, command := range procs {
			resident += rssMiB(pid)
			if command == "glusterfsd" {
				bricks++
			}
		}
		l.record(&mm.servers[i].Plugin, resident)
		t.Logf("%s, %d volumes: %s: %.0f MiB in %d processes, %d of them brick processes", mode.name, n, s.Name, resident, len(procs), bricks)
	}
	volumes, want := l.mounted, n
	if mode.pooled {
		volumes, want = []string{manyPoolVolume}, 1
	}
	var clients []int
	testbed.Eventually(t, manySettle, fmt.Sprintf("%d FUSE clients of the %s", want, mode.name), func() error {
		if clients = testbed.FUSEClientPIDs(volumes...); len(clients) != want {
			return fmt.Errorf("%d FUSE clients", len(clients))
		}
		return nil
	})
	resident := rssMiB(l.plugin.PID(t))
	for _, pid := range clients {
		resident += rssMiB(pid)
	}
	l.record(&mm.client[i].Plugin, resident)
	t.Logf("%s, %d volumes: this host: %.0f MiB in the plugin and %d FUSE clients", mode.name, n, resident, len(clients))
}

// unmountAll unmounts every volume mounted through the plugin.
func (l *manyBed) unmountAll() error {
	if err := l.api.mountAll("VolumeDriver.Unmount", manyMountID, l.mounted); err != nil {
		return err
	}
	l.mounted = nil
	return nil
}

// removeVolumes deletes the mode's gluster volumes, its pool or its
// dedicated volumes, in one gluster session. glusterd refuses a command
// while another transaction holds its volume (the plugin and the servers'
// health rounds ask about volumes all the time): what the session left is
// removed one volume at a time through the CLI, which waits such refusals
// out.
func (l *manyBed) removeVolumes(t *testing.T, mode manyMode, mm *manyMeasures) {
	gluster := []string{manyPoolVolume}
	if !mode.pooled {
		gluster = numberedRange(mode.prefix, 0, slices.Max(mm.counts))
	}
	var cmds []string
	for _, verb := range []string{"stop", "delete"} {
		for _, v := range gluster {
			cmds = append(cmds, fmt.Sprintf("volume %s %s", verb, v))
		}
	}
	s := l.cluster.Servers[0]
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	if _, err := s.GlusterBatch(ctx, cmds); err != nil {
		t.Logf("removing the %s one at a time: the session left some: %v", mode.name, err)
	}
	cli := s.CLI()
	left, err := cli.Volumes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range left {
		if !slices.Contains(gluster, v.Name) {
			continue
		}
		if err := cli.Stop(ctx, v.Name); err != nil {
			t.Fatal(err)
		}
		err := cli.Delete(ctx, v.Name)
		if err != nil && strings.Contains(err.Error(), "needs to be stopped") {
			// A stop cut short by a busy peer can leave the volume
			// stopped on one server and started on another, where the
			// CLI's stop finds nothing to do: force it on every server.
			if _, err := s.GlusterBatch(ctx, []string{"volume stop " + v.Name + " force"}); err != nil {
				t.Fatal(err)
			}
			err = cli.Delete(ctx, v.Name)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
