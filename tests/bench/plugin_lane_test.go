//go:build bench

package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// The plugin lane's names: its cluster and plugin, the Docker volume most
// measures use, and its containers.
const (
	pluginLaneName  = "gbench-p"
	pluginLaneOctet = 160
	dataVolume      = "gbench-p-data" // also the gluster volume's name
	runContainer    = "gbench-p-run"
	raceContainer   = "gbench-p-race"
)

type pluginLaneBed struct {
	*bench
	m       *measures
	cluster *testbed.Cluster
	plugin  *testbed.Plugin
	api     *pluginAPI
}

func pluginLane(t *testing.T, b *bench, m *measures) {
	c := testbed.NewCluster(t, pluginLaneName, pluginLaneOctet, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPlugin(t, c, pluginLaneName)
	pid := p.PID(t)
	cpuBefore := cpuTime(t, pid)
	l := &pluginLaneBed{bench: b, m: m, cluster: c, plugin: p, api: newPluginAPI(t, p)}
	l.removeContainers()
	t.Cleanup(l.removeContainers)
	testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", dataVolume)
	if _, err := l.run(dataVolume, "echo up > /data/probe.txt"); err != nil {
		t.Fatal(err)
	}
	waitNoClient(t, dataVolume)

	steps := []struct {
		name string
		run  func(t *testing.T, run int)
	}{
		{"start and mount", l.startAndMount},
		{"servers down", l.serversDown},
		{"startup race", l.startupRace},
		{"containers at once", l.containersAtOnce},
		{"create", l.create},
		{"data path", l.dataPath},
	}
	for _, s := range steps {
		for run := range b.cfg.runs {
			t.Logf("%s, run %d", s.name, run+1)
			s.run(t, run)
		}
	}
	if p.PID(t) != pid {
		t.Fatal("the plugin restarted during its lane: its CPU time is lost")
	}
	l.seconds(&m.pluginCPU.Plugin, cpuTime(t, pid)-cpuBefore)
}

// containerNames are the names of the lane's containers.
func (l *pluginLaneBed) containerNames() []string {
	names := []string{runContainer, raceContainer}
	for i := range l.cfg.containers {
		names = append(names, fmt.Sprintf("%s-c%02d", pluginLaneName, i))
	}
	return names
}

// removeContainers removes the lane's containers that exist, leftovers of
// an earlier run included.
func (l *pluginLaneBed) removeContainers() {
	ctx := context.Background()
	for _, n := range l.containerNames() {
		if _, err := testbed.Docker(ctx, "container", "inspect", n); err == nil {
			_, _ = testbed.Docker(ctx, "rm", "-f", n)
		}
	}
}

// run runs script, with scriptArgs as $1..., in a throwaway container with
// volume (a Docker volume or a host directory, or none if empty) at /data.
func (l *pluginLaneBed) run(volume, script string, scriptArgs ...string) (string, error) {
	return runScript(pluginLaneName, runContainer, volume, script, scriptArgs...)
}

// runScript runs script, with scriptArgs as $1..., in a throwaway container
// named name, labelled as owned by cluster, with volume (a Docker volume or
// a host directory, or none if empty) at /data.
func runScript(cluster, name, volume, script string, scriptArgs ...string) (string, error) {
	args := []string{"run", "--rm", "--name", name, "--label", "gluster-testbed=" + cluster}
	if volume != "" {
		args = append(args, "-v", volume+":/data")
	}
	args = append(args, testbed.ClientImage, "sh", "-c", script, "sh")
	return testbed.Docker(context.Background(), append(args, scriptArgs...)...)
}

// timedRun is run, timed from the docker command's start to its end.
func (l *pluginLaneBed) timedRun(t *testing.T, volume, script string) time.Duration {
	t.Helper()
	took, err := timed(func() error {
		_, err := l.run(volume, script)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return took
}

// startAndMount: item 1. A container with and without the volume; the
// plugin's Mount call against a raw mount of the same gluster volume.
func (l *pluginLaneBed) startAndMount(t *testing.T, run int) {
	var none, with time.Duration
	// Alternating the order spreads what the first of a pair pays.
	first := func() { none = l.timedRun(t, "", "true") }
	second := func() {
		with = l.timedRun(t, dataVolume, "true")
		waitNoClient(t, dataVolume)
	}
	inTurn(run, first, second)
	l.seconds(&l.m.startVolume.Base, none)
	l.seconds(&l.m.startVolume.Plugin, with)

	ctx := context.Background()
	var plugin, raw time.Duration
	viaPlugin := func() {
		id := map[string]string{"Name": dataVolume, "ID": "gbench-mount-" + strconv.Itoa(run)}
		mark := testbed.MarkDaemonLog(t)
		var err error
		if plugin, err = timed(func() error { return l.api.call(ctx, "VolumeDriver.Mount", id, nil) }); err != nil {
			t.Fatal(err)
		}
		l.splitMount(t, mark)
		if err := l.api.call(ctx, "VolumeDriver.Unmount", id, nil); err != nil {
			t.Fatal(err)
		}
		waitNoClient(t, dataVolume)
	}
	viaRaw := func() {
		dir := mountDir(t)
		var err error
		if raw, err = timed(func() error { return rawMount(ctx, l.cluster.Servers[0].Address, dataVolume, dir) }); err != nil {
			t.Fatal(err)
		}
		unmount(t, dir, dataVolume)
	}
	inTurn(run, viaPlugin, viaRaw)
	l.seconds(&l.m.mountRaw.Base, raw)
	l.seconds(&l.m.mountRaw.Plugin, plugin)
	l.seconds(&l.m.mountTutorial.Plugin, plugin)
}

// splitMount records where the time of the Mount call made since mark
// went, as the plugin logged it: the mounter's probe and mount(8), and
// the rest of the driver's call.
func (l *pluginLaneBed) splitMount(t *testing.T, mark testbed.DaemonLogMark) {
	mounter := loggedTimes(t, mark, l.plugin, "mounted", dataVolume, 1)[0]
	driver := loggedTimes(t, mark, l.plugin, "volume mounted", dataVolume, 1)[0]
	l.record(&l.m.mountProbe.Plugin, milliseconds(mounter["probe"]))
	l.record(&l.m.mountRun.Plugin, milliseconds(mounter["mount"]))
	l.record(&l.m.mountRest.Plugin, milliseconds(driver["elapsed"]-mounter["probe"]-mounter["mount"]))
}

// serversDown: item 2, the plugin's side. A container started with every
// server up, then just after a server stopped, then again once the host
// forgot the server's address.
func (l *pluginLaneBed) serversDown(t *testing.T, run int) {
	cases := []struct {
		server        int
		fresh, steady []*Measure
	}{
		{0, []*Measure{l.m.upFirstFresh, l.m.firstFresh, l.m.tutorialFresh}, []*Measure{l.m.upFirstSteady, l.m.firstSteady, l.m.tutorialSteady}},
		{1, []*Measure{l.m.upSecondFresh, l.m.secondFresh}, []*Measure{l.m.upSecondSteady, l.m.secondSteady}},
	}
	for _, c := range cases {
		srv := l.cluster.Servers[c.server]
		up := l.timedRun(t, dataVolume, "cat /data/probe.txt")
		waitNoClient(t, dataVolume)
		for _, m := range []*Measure{c.fresh[0], c.steady[0]} {
			l.seconds(&m.Base, up)
		}
		testbed.MustDocker(t, "stop", srv.Name)
		fresh := l.timedRun(t, dataVolume, "cat /data/probe.txt")
		forgetAddress(t, srv.Address)
		steady := l.timedRun(t, dataVolume, "cat /data/probe.txt")
		for _, m := range c.fresh {
			l.seconds(&m.Plugin, fresh)
		}
		for _, m := range c.steady {
			l.seconds(&m.Plugin, steady)
		}
		testbed.MustDocker(t, "start", srv.Name)
		l.cluster.WaitBricksOnline(t, dataVolume, poolTimeout)
		waitNoClient(t, dataVolume)
	}
}

// startupRace: item 3. Both servers stopped, a container asked for, the
// servers started after a delay. The container is retried until it runs,
// as a restart policy or Swarm would.
func (l *pluginLaneBed) startupRace(t *testing.T, run int) {
	names := []string{l.cluster.Servers[0].Name, l.cluster.Servers[1].Name}
	for i, delay := range l.cfg.raceDelays {
		testbed.MustDocker(t, append([]string{"stop"}, names...)...)
		requested := time.Now()
		type outcome struct {
			firstOK bool
			running time.Duration
			err     error
		}
		done := make(chan outcome, 1)
		go func() {
			var o outcome
			ctx := context.Background()
			for attempt := 0; ; attempt++ {
				_, _ = testbed.Docker(ctx, "rm", "-f", raceContainer)
				_, err := testbed.Docker(ctx, "run", "-d", "--name", raceContainer, "--label", "gluster-testbed="+pluginLaneName,
					"-v", dataVolume+":/data", testbed.ClientImage, "sleep", "600")
				if err == nil {
					o.firstOK, o.running = attempt == 0, time.Since(requested)
					break
				}
				if time.Since(requested) > delay+poolTimeout {
					o.err = fmt.Errorf("no container running %s after the request: %w", time.Since(requested), err)
					break
				}
			}
			done <- o
		}()
		time.Sleep(delay) // the experiment's delay, not a wait for a condition
		testbed.MustDocker(t, append([]string{"start"}, names...)...)
		ready, err := l.firstServerReady(t, requested, delay+poolTimeout)
		if err != nil {
			t.Fatal(err)
		}
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		success := 0.0
		if o.firstOK {
			success = 1
		}
		l.record(&l.m.raceSuccess[i].Plugin, success)
		l.seconds(&l.m.raceReady[i].Base, ready)
		l.seconds(&l.m.raceReady[i].Plugin, o.running)
		testbed.MustDocker(t, "rm", "-f", raceContainer)
		l.cluster.WaitBricksOnline(t, dataVolume, poolTimeout)
		waitNoClient(t, dataVolume)
	}
}

// firstServerReady polls the servers' network namespaces until one has
// glusterd and a brick process listening, and returns when that was, since
// requested. The tables are read from the host (/proc/PID/net/tcp), so
// polling costs the servers nothing and is exact to the poll interval.
func (l *pluginLaneBed) firstServerReady(t *testing.T, requested time.Time, limit time.Duration) (time.Duration, error) {
	var pids []int
	for _, s := range l.cluster.Servers {
		out := testbed.MustDocker(t, "inspect", "-f", "{{.State.Pid}}", s.Name)
		pid, err := strconv.Atoi(out)
		if err != nil {
			return 0, fmt.Errorf("pid of %s: %q", s.Name, out)
		}
		pids = append(pids, pid)
	}
	// A fixed, short interval rather than testbed.Poll's backoff: the
	// moment found is a measurement.
	for time.Since(requested) < limit {
		for _, pid := range pids {
			if serving(pid) {
				return time.Since(requested), nil
			}
		}
		time.Sleep(readyPoll)
	}
	return 0, fmt.Errorf("no server had glusterd and a brick listening within %s of the request", limit)
}

// readyPoll is how often firstServerReady looks.
const readyPoll = 50 * time.Millisecond

// glusterdPort and firstBrickPort are where glusterd listens and where
// brick ports start (gluster's base-port).
const (
	glusterdPort   = 24007
	firstBrickPort = 49152
)

// serving reports whether the network namespace of the process pid has
// glusterd and at least one brick listening.
func serving(pid int) bool {
	glusterd, brick := false, false
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != tcpListen {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				continue
			}
			glusterd = glusterd || port == glusterdPort
			brick = brick || port >= firstBrickPort
		}
	}
	return glusterd && brick
}

// tcpListen is the LISTEN state in /proc/net/tcp.
const tcpListen = "0A"

// containersAtOnce: item 4. The same containers started at once with and
// without the volume; the FUSE client processes serving the volume once all
// run (counted then: glusterfs forks to daemonize, so that a process seen
// earlier may be the same client's parent).
func (l *pluginLaneBed) containersAtOnce(t *testing.T, run int) {
	names := l.containerNames()[2:]
	// start starts the containers at once, calls running once they all
	// run, and removes them.
	start := func(volume bool, running func()) time.Duration {
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		began := time.Now()
		for i, n := range names {
			args := []string{"run", "-d", "--name", n, "--label", "gluster-testbed=" + pluginLaneName}
			if volume {
				args = append(args, "-v", dataVolume+":/data")
			}
			wg.Go(func() {
				_, errs[i] = testbed.Docker(context.Background(), append(args, testbed.ClientImage, "sleep", "600")...)
			})
		}
		wg.Wait()
		took := time.Since(began)
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		running()
		testbed.MustDocker(t, append([]string{"rm", "-f"}, names...)...)
		return took
	}
	var none, with time.Duration
	clients := 0
	withVolume := func() {
		mark := testbed.MarkDaemonLog(t)
		with = start(true, func() { clients = testbed.FUSEClients(dataVolume) })
		l.splitMounts(t, mark, len(names))
		waitNoClient(t, dataVolume)
	}
	withoutVolume := func() { none = start(false, func() {}) }
	inTurn(run, withoutVolume, withVolume)
	l.seconds(&l.m.manyWall.Base, none)
	l.seconds(&l.m.manyWall.Plugin, with)
	l.record(&l.m.manyClients.Plugin, float64(clients))
}

// splitMounts records where the time of the n Mount calls made at once
// since mark went, as the plugin logged it.
func (l *pluginLaneBed) splitMounts(t *testing.T, mark testbed.DaemonLogMark, n int) {
	var slowest, waited, fuse, saved time.Duration
	for _, call := range loggedTimes(t, mark, l.plugin, "volume mounted", dataVolume, n) {
		slowest, waited = max(slowest, call["elapsed"]), max(waited, call["waited"])
		fuse += call["fuse"]
		saved += call["saved"]
	}
	l.record(&l.m.manySlowest.Plugin, milliseconds(slowest))
	l.record(&l.m.manyWaited.Plugin, milliseconds(waited))
	l.record(&l.m.manyFUSE.Plugin, milliseconds(fuse))
	l.record(&l.m.manySaved.Plugin, milliseconds(saved))
}

// create: item 6. docker volume create against the gluster CLI's create and
// start on a server, each for a new replica 2 volume.
func (l *pluginLaneBed) create(t *testing.T, run int) {
	ctx := context.Background()
	s1, s2 := l.cluster.Servers[0], l.cluster.Servers[1]
	docker := fmt.Sprintf("%s-new%d", pluginLaneName, run)
	raw := fmt.Sprintf("%s-raw%d", pluginLaneName, run)
	viaPlugin := func() (time.Duration, error) {
		return timed(func() error {
			_, err := testbed.Docker(ctx, "volume", "create", "-d", l.plugin.Name, "-o", "replica=2", docker)
			return err
		})
	}
	viaCLI := func() (time.Duration, error) {
		return timed(func() error {
			if _, err := s1.Gluster(ctx, "volume", "create", raw, "replica", "2",
				s1.Address+":/bricks/"+raw, s2.Address+":/bricks/"+raw, "force"); err != nil {
				return err
			}
			_, err := s1.Gluster(ctx, "volume", "start", raw)
			return err
		})
	}
	var plugin, base time.Duration
	var errP, errB error
	inTurn(run,
		func() { plugin, errP = viaPlugin() },
		func() { base, errB = viaCLI() })
	if errP != nil || errB != nil {
		t.Fatalf("creating volumes: plugin: %v; gluster CLI: %v", errP, errB)
	}
	l.seconds(&l.m.create.Base, base)
	l.seconds(&l.m.create.Plugin, plugin)
	logged := serverTimes(t, l.cluster, "volume created", docker)
	if len(logged) != 1 {
		t.Fatalf("%d servers logged the create of %s, want 1", len(logged), docker)
	}
	for i, step := range createSteps {
		l.record(&l.m.createSteps[i].Plugin, milliseconds(logged[0][step.key]))
	}
	testbed.MustDocker(t, "volume", "rm", docker)
	// Made with the gluster CLI, so removed with it: the control API
	// changes only volumes the plugin created.
	for _, args := range [][]string{{"volume", "stop", raw}, {"volume", "delete", raw}} {
		if out, err := s1.Gluster(ctx, args...); err != nil {
			t.Fatalf("removing %s: %s %v", raw, out, err)
		}
	}
	for _, s := range []*testbed.Server{s1, s2} {
		if err := os.RemoveAll(s.BrickDir(raw)); err != nil {
			t.Fatal(err)
		}
	}
}

// dataPath: item 7. The same container scripts on the plugin's mount and on
// a raw FUSE mount bound into the container, each pair back to back (the
// machine's load changes within seconds), each side in its own directory of
// the volume. Every step gets a new mount, so that reads come from the
// servers, not from this host's page cache.
func (l *pluginLaneBed) dataPath(t *testing.T, run int) {
	dir := mountDir(t)
	server := l.cluster.Servers[0].Address
	viaPlugin := func(script string) (string, error) {
		defer waitNoClient(t, dataVolume)
		return l.run(dataVolume, script, "/data/plugin")
	}
	viaRaw := func(script string) (string, error) {
		if err := rawMount(context.Background(), server, dataVolume, dir); err != nil {
			return "", err
		}
		defer unmount(t, dir, dataVolume)
		return l.run(dir, script, "/data/raw")
	}
	sides := []struct {
		run    func(string) (string, error)
		series func(*Measure) *[]float64
	}{
		{viaRaw, func(m *Measure) *[]float64 { return &m.Base }},
		{viaPlugin, func(m *Measure) *[]float64 { return &m.Plugin }},
	}
	if run%2 == 1 {
		sides[0], sides[1] = sides[1], sides[0]
	}
	for i, step := range dataScripts(l.cfg) {
		for _, side := range sides {
			took, err := runStep(side.run, step)
			if err != nil {
				t.Fatal(err)
			}
			l.seconds(side.series(l.m.data[i]), took)
		}
	}
	for _, side := range sides {
		if _, err := side.run(dataCleanup); err != nil {
			t.Fatal(err)
		}
	}
}

// dataStep is one step of the data path: a container script that is given
// a directory of the volume as $1 and prints how many nanoseconds its timed
// part took.
type dataStep struct {
	name   string // what it does, the start of its measures' names
	script string
}

// dataScripts are the data path's steps, which items 7 and 11 run, in the
// order they must run: the read reads what the write wrote. dataCleanup
// then removes what they made.
func dataScripts(cfg config) []dataStep {
	const clock = "$(date +%s%N)"
	return []dataStep{
		{fmt.Sprintf("sequential write of %d MiB", cfg.bigMiB),
			fmt.Sprintf(`set -e; mkdir -p "$1"; s=%s; dd if=/dev/zero of="$1/big" bs=1M count=%d conv=fsync status=none; echo $((%s-s))`, clock, cfg.bigMiB, clock)},
		{fmt.Sprintf("sequential read of %d MiB", cfg.bigMiB),
			fmt.Sprintf(`set -e; s=%s; dd if="$1/big" of=/dev/null bs=1M status=none; echo $((%s-s))`, clock, clock)},
		{fmt.Sprintf("creating %d small files", cfg.smallFiles),
			fmt.Sprintf(`set -e; mkdir "$1/small"; cd "$1/small"; s=%s; seq -f f%%g %d | xargs touch; echo $((%s-s))`, clock, cfg.smallFiles, clock)},
	}
}

// dataCleanup removes the directory the data path's steps were given.
const dataCleanup = `rm -rf "$1"`

// runStep runs step with run, which runs a container script on one side,
// and returns the time the step printed.
func runStep(run func(script string) (string, error), step dataStep) (time.Duration, error) {
	out, err := run(step.script)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", step.name, err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: the script printed %q, not its nanoseconds: %w", step.name, out, err)
	}
	return time.Duration(ns), nil
}

// inTurn runs a then b on even runs and b then a on odd ones, so that
// neither side always runs first, on a warmer or a busier machine.
func inTurn(run int, a, b func()) {
	if run%2 == 1 {
		a, b = b, a
	}
	a()
	b()
}
