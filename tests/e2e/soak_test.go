//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/names"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// What the soak test makes: cluster, plugin and containers are named
// gte2e-soak..., Docker volumes soak... (gluster volumes follow from them).
const (
	soakName         = "gte2e-soak"
	soakOctet        = 150
	soakVolumePrefix = "soak"
	// soakClients labels the test's client containers, so that those of
	// an earlier run can be found and removed.
	soakClients = "gluster-testbed=" + soakName + "-clients"
	// soakMetrics is where the plugin serves its metrics: the host's
	// address on the test's own bridge, which no other test uses.
	soakMetrics = "172.30.150.1:9474"
)

// The soak's size, from the environment: SOAK_VOLUMES gluster volumes,
// SOAK_WORKERS of them in flight at once, none started after SOAK_TIME.
// The defaults keep the test within 6 minutes: gluster creates and deletes
// about 10 to 14 volumes a minute on two cores, serialized by glusterd's
// cluster lock, and more workers only make each call slower, up to
// Docker's 30 s limit. SOAK_VOLUMES=1000 SOAK_TIME=2h runs for over an
// hour.
const (
	soakDefaultVolumes = 40
	soakDefaultWorkers = 4
	soakDefaultTime    = 3 * time.Minute
)

// The client containers: the writer writes a file and waits until the
// reader, running at the same time, has read it. The reader finds it in
// $DIR of its volume: the writer's may be a subdirectory of the reader's.
const (
	soakWriter = `echo "$TOKEN" > /data/f.tmp && mv /data/f.tmp /data/f
i=0; while [ ! -e /data/done ]; do i=$((i+1)); [ $i -le 600 ] || exit 1; sleep 0.1; done`
	soakReader = `i=0; while [ ! -e "/data/$DIR/f" ]; do i=$((i+1)); [ $i -le 600 ] || exit 1; sleep 0.1; done
cat "/data/$DIR/f" && touch "/data/$DIR/done"`
)

// soakSubdir is the subdirectory the odd cycles' second Docker volume uses.
const soakSubdir = "sub"

// TestSoak churns through many volumes, each created, used by two
// containers at once and removed, while a server is stopped for a while,
// then has Docker give up on a mount; at the end nothing of it may be left:
// no FUSE mount or client, no directory under the plugin's mounts, no
// brick directory, gluster volume, state entry or client log. Every other
// cycle adds a Docker volume on a subdirectory of the first, so that two
// Docker volumes share one FUSE mount.
func TestSoak(t *testing.T) {
	volumes := envInt(t, "SOAK_VOLUMES", soakDefaultVolumes)
	workers := envInt(t, "SOAK_WORKERS", soakDefaultWorkers)
	limit := soakDefaultTime
	if v := os.Getenv("SOAK_TIME"); v != "" {
		var err error
		if limit, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SOAK_TIME=%q: %v", v, err)
		}
	}
	c := testbed.NewCluster(t, soakName, soakOctet, 3)
	removeSoakClients(t)
	t.Cleanup(func() { removeSoakClients(t) })
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPlugin(t, c, soakName, "METRICS_ADDRESS="+soakMetrics)
	r := &soakRun{t: t, cluster: c, plugin: p, stats: map[string]*opStats{}}

	start := time.Now()
	tried := r.churn(volumes, workers, limit)
	churned := time.Since(start)
	r.report(len(tried), workers, churned)

	t.Run("mount abandoned by Docker", func(t *testing.T) {
		tried = append(tried, r.abandonedMount(t))
	})
	r.removeLeftovers()
	r.assertNothingLeft(tried)
	t.Logf("soak: churn took %s, the whole soak %s", churned.Round(time.Second), time.Since(start).Round(time.Second))
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// removeSoakClients removes the test's client containers, of this run or
// an earlier one.
func removeSoakClients(t *testing.T) {
	t.Helper()
	ids := strings.Fields(testbed.MustDocker(t, "ps", "-aq", "--filter", "label="+soakClients))
	if len(ids) > 0 {
		testbed.MustDocker(t, append([]string{"rm", "-f"}, ids...)...)
	}
}

// soakVolume names the i-th volume; odd ones have a dot, which the plugin
// maps onto gluster's names, and a second Docker volume on a subdirectory.
func soakVolume(i int) (volume, sub string) {
	if i%2 == 1 {
		volume = fmt.Sprintf("%s.%04d", soakVolumePrefix, i)
		return volume, volume + "." + soakSubdir
	}
	return fmt.Sprintf("%s%04d", soakVolumePrefix, i), ""
}

// soakRun is the state of one soak: what it did and how that went.
type soakRun struct {
	t       *testing.T
	cluster *testbed.Cluster
	plugin  *testbed.Plugin

	mu        sync.Mutex
	stats     map[string]*opStats
	disturbed []window // while a server was down or rejoining
	unremoved []string // volumes whose removal failed, to retry at the end
	failed    []string // volumes whose creation failed
}

type window struct{ from, to time.Time } // to is zero while it lasts

// opStats counts one kind of operation.
type opStats struct {
	ok, failed int
	gaveUp     int // failures where Docker stopped waiting for the plugin
	total, max time.Duration
	errors     []string // the first few failures
}

// soakOps are the kinds of operations, in the order of a cycle.
var soakOps = []string{"create", "create-sub", "use", "remove-sub", "remove"}

// do runs one operation on a volume and records how it went. The plugin
// may fail only while a server is down or rejoining. Docker giving up on
// a slow plugin is counted, not failed: how slow depends on the machine.
func (r *soakRun) do(op, volume string, f func() error) error {
	start := time.Now()
	err := f()
	end := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats[op]
	if s == nil {
		s = &opStats{}
		r.stats[op] = s
	}
	s.total += end.Sub(start)
	s.max = max(s.max, end.Sub(start))
	if err == nil {
		s.ok++
		return nil
	}
	s.failed++
	if len(s.errors) < 3 {
		s.errors = append(s.errors, fmt.Sprintf("%s: %v", volume, err))
	}
	switch {
	case dockerGaveUp(err):
		s.gaveUp++
	case !r.disturbedLocked(start, end):
		r.t.Errorf("%s %s with every server up: %v", op, volume, err)
	}
	return err
}

// disturbedLocked tells whether start to end overlaps a disturbance.
func (r *soakRun) disturbedLocked(start, end time.Time) bool {
	for _, w := range r.disturbed {
		if !end.Before(w.from) && (w.to.IsZero() || !start.After(w.to)) {
			return true
		}
	}
	return false
}

func (r *soakRun) disturb() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disturbed = append(r.disturbed, window{from: time.Now()})
}

func (r *soakRun) settled() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disturbed[len(r.disturbed)-1].to = time.Now()
}

// churn runs the volumes through workers, stopping the first server (the
// one the plugin asks first) for the second fifth of them. It starts no
// more volumes once limit has passed. It returns the names of every volume
// it started.
func (r *soakRun) churn(volumes, workers int, limit time.Duration) []string {
	t := r.t
	victim := r.cluster.Servers[0]
	stopAt, startAt := volumes/5, 2*volumes/5
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				r.cycle(i)
			}
		})
	}
	// rejoined is closed once the stopped server is back in the pool.
	rejoined := make(chan struct{})
	stopped, started := false, false
	deadline := time.Now().Add(limit)
	var tried []string
	for i := range volumes {
		if time.Now().After(deadline) {
			t.Logf("SOAK_TIME %s is over: starting no more volumes after %d of %d", limit, i, volumes)
			break
		}
		switch {
		case i == stopAt && !stopped:
			stopped = true
			r.disturb()
			t.Logf("stopping %s (%s) at volume %d", victim.Name, victim.Address, i)
			testbed.MustDocker(t, "stop", victim.Name)
		case i == startAt && stopped:
			started = true
			t.Logf("starting %s again at volume %d", victim.Name, i)
			testbed.MustDocker(t, "start", victim.Name)
			go func() {
				defer close(rejoined)
				start := time.Now()
				if err := testbed.Poll(poolTimeout, r.cluster.PoolComplete); err != nil {
					t.Errorf("%s did not rejoin the pool: %v", victim.Name, err)
				}
				t.Logf("%s back in the pool after %s", victim.Name, time.Since(start).Round(time.Millisecond))
				r.settled()
			}()
		}
		jobs <- i
		name, _ := soakVolume(i)
		tried = append(tried, name)
	}
	close(jobs)
	wg.Wait()
	switch {
	case started:
		<-rejoined
	case stopped:
		testbed.MustDocker(t, "start", victim.Name)
		r.cluster.WaitPool(t, poolTimeout)
		r.settled()
	}
	return tried
}

// cycle creates volume i (and for odd i a volume on a subdirectory of
// it), uses it from two containers at once and removes it.
func (r *soakRun) cycle(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name, sub := soakVolume(i)
	if r.create(ctx, "create", name, "replica=2") != nil {
		return
	}
	// The writer uses the subdirectory volume where there is one, the
	// reader the whole gluster volume.
	writer, dir := name, "."
	if sub != "" {
		gluster, _ := names.FromDocker(name)
		if r.create(ctx, "create-sub", sub, "volume="+gluster, "subdir="+soakSubdir) == nil {
			writer, dir = sub, soakSubdir
		}
	}
	_ = r.do("use", name, func() error { return useFromTwoContainers(ctx, i, writer, name, dir) })
	if writer != name {
		// Before the volume it lies in.
		r.remove(ctx, "remove-sub", sub)
	}
	r.remove(ctx, "remove", name)
}

// create creates a volume, and remembers it when that failed.
func (r *soakRun) create(ctx context.Context, op, name string, opts ...string) error {
	args := []string{"volume", "create", "-d", r.plugin.Name}
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	err := r.do(op, name, func() error {
		_, err := testbed.Docker(ctx, append(args, name)...)
		return err
	})
	if err != nil {
		r.mu.Lock()
		r.failed = append(r.failed, name)
		r.mu.Unlock()
	}
	return err
}

// remove removes a volume, and remembers it when that failed.
func (r *soakRun) remove(ctx context.Context, op, name string) {
	err := r.do(op, name, func() error {
		_, err := testbed.Docker(ctx, "volume", "rm", name)
		return err
	})
	if err != nil {
		r.mu.Lock()
		r.unremoved = append(r.unremoved, name)
		r.mu.Unlock()
	}
}

// useFromTwoContainers runs a writer and a reader at the same time; both
// exit once the reader has read, in dir of its volume, what the writer
// wrote.
func useFromTwoContainers(ctx context.Context, i int, writerVolume, readerVolume, dir string) error {
	writer := fmt.Sprintf("%s-w%04d", soakName, i)
	defer testbed.Docker(context.Background(), "rm", "-f", writer)
	if _, err := testbed.Docker(ctx, "run", "-d", "--name", writer, "--label", soakClients,
		"-e", "TOKEN="+writerVolume, "-v", writerVolume+":/data", testbed.ClientImage, "sh", "-c", soakWriter); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	out, err := testbed.Docker(ctx, "run", "--rm", "--label", soakClients,
		"-e", "DIR="+dir, "-v", readerVolume+":/data", testbed.ClientImage, "sh", "-c", soakReader)
	if err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	if out != writerVolume {
		return fmt.Errorf("reader read %q, the writer wrote %q", out, writerVolume)
	}
	if code, err := testbed.Docker(ctx, "wait", writer); err != nil || code != "0" {
		return fmt.Errorf("writer exited with %q: %v", code, err)
	}
	return nil
}

// report logs the counts and timings of the churn.
func (r *soakRun) report(volumes, workers int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d gluster volumes (%d Docker volumes), %d workers, %s (%.1f gluster volumes/min)\n",
		volumes, volumes+volumes/2, workers, took.Round(time.Second), float64(volumes)/took.Minutes())
	fmt.Fprintf(&b, "  %-10s %5s %6s %13s %8s %8s\n", "", "ok", "failed", "Docker gave up", "mean", "max")
	for _, op := range soakOps {
		s := r.stats[op]
		if s == nil {
			continue
		}
		n := s.ok + s.failed
		fmt.Fprintf(&b, "  %-10s %5d %6d %13d %8s %8s\n", op, s.ok, s.failed, s.gaveUp,
			(s.total / time.Duration(n)).Round(time.Millisecond), s.max.Round(time.Millisecond))
		for _, e := range s.errors {
			fmt.Fprintf(&b, "             e.g. %s\n", firstLine(e))
		}
	}
	for _, w := range r.disturbed {
		fmt.Fprintf(&b, "  a server was down or rejoining for %s\n", w.to.Sub(w.from).Round(time.Millisecond))
	}
	r.t.Log(strings.TrimRight(b.String(), "\n"))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// abandonedMount has Docker give up on a mount while every server is down,
// with the plugin allowed more time than Docker waits, and the servers back
// after Docker gave up but before the plugin's deadline: a mount that
// succeeded then would hold a reference Docker never releases. It returns
// the volume it made.
func (r *soakRun) abandonedMount(t *testing.T) string {
	const volume, mountTimeout = soakVolumePrefix + "-late", 50 * time.Second
	// Docker 20.10 waits 30 s for a plugin's Mount.
	r.plugin.Set(t, fmt.Sprintf("MOUNT_TIMEOUT=%s", mountTimeout))
	testbed.MustDocker(t, "volume", "create", "-d", r.plugin.Name, "-o", "replica=2", volume)
	gluster, _ := names.FromDocker(volume)
	servers := make([]string, len(r.cluster.Servers))
	for i, s := range r.cluster.Servers {
		servers[i] = s.Name
	}

	testbed.MustDocker(t, append([]string{"stop"}, servers...)...)
	calls := r.mountCalls(t)
	start := time.Now()
	_, err := testbed.Docker(context.Background(), "run", "--rm", "--label", soakClients, "-v", volume+":/data", testbed.ClientImage, "true")
	if err == nil {
		t.Fatal("a container started with every server down")
	}
	t.Logf("Docker failed the container after %s: %s", time.Since(start).Round(time.Millisecond), firstLine(err.Error()))
	testbed.MustDocker(t, append([]string{"start"}, servers...)...)
	testbed.Eventually(t, mountTimeout, "the plugin's Mount call ended", func() error {
		if n := r.mountCalls(t); n <= calls {
			return fmt.Errorf("%v mount calls answered, as before", n)
		}
		return nil
	})
	t.Logf("the plugin's Mount ended %s after the request", time.Since(start).Round(time.Millisecond))
	// Once the call has ended, no reference can come of it any more.
	if refs := r.plugin.StateReferences(t)[volume]; refs != 0 {
		t.Errorf("%s holds %d references after Docker gave up on its mount", volume, refs)
	}
	// A client whose mount was taken down again exits a moment later.
	if err := testbed.Poll(30*time.Second, func() error {
		if pids := testbed.FUSEClientPIDs(gluster); len(pids) > 0 {
			return fmt.Errorf("FUSE clients %v", pids)
		}
		return nil
	}); err != nil {
		t.Errorf("%s after Docker gave up on its mount: %v", gluster, err)
	}
	r.cluster.WaitPool(t, poolTimeout)
	r.cluster.WaitBricksOnline(t, gluster, 2*time.Minute)
	if out, err := testbed.RunContainer(t, volume, "echo ok > /data/f && cat /data/f"); err != nil || out != "ok" {
		t.Errorf("the volume after the abandoned mount: %q, %v", out, err)
	}
	if _, err := testbed.Docker(context.Background(), "volume", "rm", volume); err != nil {
		t.Errorf("removing %s: %v", volume, err)
	}
	return volume
}

// mountCalls counts the Mount calls the plugin has answered.
func (r *soakRun) mountCalls(t *testing.T) float64 {
	t.Helper()
	body := scrape(t, soakMetrics)
	total := 0.0
	for _, outcome := range []string{"success", "error"} {
		total += metricValue(t, body, `gluster_plugin_requests_total{method="mount",outcome="`+outcome+`"}`)
	}
	return total
}

// metricValue finds one series in a Prometheus text exposition.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	s := bufio.NewScanner(strings.NewReader(body))
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not exposed", series)
	return 0
}

// removeLeftovers removes what a user would remove again after a failure:
// volumes whose removal failed, and volumes whose creation reported an
// error but happened all the same (Docker stopped waiting, the plugin went
// on). A volume that is gone by now was removed after Docker stopped
// waiting.
func (r *soakRun) removeLeftovers() {
	t := r.t
	listed := r.plugin.Volumes(t)
	r.mu.Lock()
	again := slices.Clone(r.unremoved)
	for _, v := range r.failed {
		if slices.Contains(listed, v) {
			t.Logf("%s exists although its creation failed", v)
			again = append(again, v)
		}
	}
	r.mu.Unlock()
	t.Logf("removing %d volumes again after a failure", len(again))
	for _, v := range again {
		testbed.Eventually(t, time.Minute, "removing "+v, func() error {
			_, err := testbed.Docker(context.Background(), "volume", "rm", v)
			if err != nil && strings.Contains(err.Error(), "no such volume") {
				return nil
			}
			return err
		})
	}
}

// assertNothingLeft checks, by name, that nothing of the volumes is left
// anywhere: on this host, on the servers, in the plugin's state.
func (r *soakRun) assertNothingLeft(volumes []string) {
	t := r.t
	glusterNames := map[string]bool{}
	for _, v := range volumes {
		g, err := names.FromDocker(v)
		if err != nil {
			t.Fatalf("volume name %s: %v", v, err)
		}
		glusterNames[g] = true
	}
	var left []string
	leak := func(format string, args ...any) { left = append(left, fmt.Sprintf(format, args...)) }

	// A FUSE client exits a moment after its unmount.
	if err := testbed.Poll(30*time.Second, func() error {
		for g := range glusterNames {
			if pids := testbed.FUSEClientPIDs(g); len(pids) > 0 {
				return fmt.Errorf("gluster FUSE client %v of %s", pids, g)
			}
		}
		return nil
	}); err != nil {
		leak("%v", err)
	}
	propagated := r.plugin.PropagatedMount(t)
	mounts, err := testbed.HostMounts("fuse.glusterfs")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		_, vol, _ := strings.Cut(m.Source, ":/")
		if strings.Contains(m.Mountpoint, propagated) || glusterNames[vol] {
			leak("FUSE mount %s on %s", m.Source, m.Mountpoint)
		}
	}
	// The plugin keeps one directory of its own there, for the binds of
	// subdirectory volumes: what it holds is a leak, not the directory.
	const bindRoot = ".subdirs"
	for _, dir := range []string{propagated, filepath.Join(propagated, bindRoot)} {
		entries, err := os.ReadDir(dir)
		if err != nil && !(dir != propagated && os.IsNotExist(err)) {
			t.Errorf("reading %s: %v", dir, err)
		}
		for _, e := range entries {
			if dir != propagated || e.Name() != bindRoot {
				leak("directory %s under %s", e.Name(), dir)
			}
		}
	}
	// A brick directory a delete left on a server that did not answer is
	// removed within 30 s of its answering again.
	if err := testbed.Poll(time.Minute, func() error {
		for _, s := range r.cluster.Servers {
			for g := range glusterNames {
				if _, err := os.Stat(s.BrickDir(g)); !os.IsNotExist(err) {
					return fmt.Errorf("brick directory %s on %s (%v)", s.BrickDir(g), s.Name, err)
				}
			}
		}
		return nil
	}); err != nil {
		leak("%v", err)
	}
	out, err := r.cluster.Servers[0].Gluster(context.Background(), "volume", "list")
	if err != nil {
		t.Errorf("gluster volume list: %v", err)
	}
	for _, g := range strings.Fields(out) {
		if glusterNames[g] {
			leak("gluster volume %s", g)
		}
	}
	for g := range glusterNames {
		if _, err := os.Stat(r.plugin.ClientLog(g)); !os.IsNotExist(err) {
			leak("gluster client log %s (%v)", r.plugin.ClientLog(g), err)
		}
	}
	for v, refs := range r.plugin.StateReferences(t) {
		leak("state entry %s with %d references", v, refs)
	}
	for _, v := range r.plugin.Volumes(t) {
		leak("Docker volume %s", v)
	}
	body := scrape(t, soakMetrics)
	for _, series := range []string{"gluster_plugin_fuse_mounts", "gluster_plugin_references"} {
		if n := metricValue(t, body, series); n != 0 {
			leak("%s %v", series, n)
		}
	}
	slices.Sort(left)
	for _, l := range left {
		t.Errorf("left over: %s", l)
	}
	t.Logf("leftovers checked for %d gluster volumes: %d found", len(glusterNames), len(left))
}
