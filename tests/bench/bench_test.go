//go:build bench

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// poolTimeout bounds the forming of a storage pool and bricks coming online.
const poolTimeout = 3 * time.Minute

// config is what BENCH_QUICK and BENCH_RUNS choose.
type config struct {
	quick        bool
	runs         int
	pings        int             // the tutorial client's pings per peer
	containers   int             // started at once
	bigMiB       int             // the sequentially written and read file
	smallFiles   int             // files created one after the other
	volumeCounts []int           // volumes behind List and Get
	mountCounts  []int           // volumes mounted at once for the memory measures
	manyCounts   []int           // started and mounted volumes of item 10
	manyCalls    int             // Create, List and Mount calls timed at each of them
	raceDelays   []time.Duration // between a mount request and the servers' start
	// naiveFirstDown includes the naive client with the first server
	// stopped, whose fresh mount alone takes about 55 s.
	naiveFirstDown bool
	results        string // where the table, JSON record and chart go
}

// loadConfig reads BENCH_QUICK=1 (one run of everything, small sizes: a
// check that the harness works, for make test) and BENCH_RUNS (at least 5
// for figures worth reporting). BENCH_VOLUMES and BENCH_MOUNTS override the
// volume counts of item 5 and item 9, BENCH_MANY those of item 10
// (comma-separated, rising), to measure those alone in a quick run.
// BENCH_RESULTS overrides the results directory.
func loadConfig(t *testing.T) config {
	t.Helper()
	cfg := config{
		runs: 5, pings: 10, containers: 20, bigMiB: 256, smallFiles: 2000,
		volumeCounts:   []int{10, 100, 500},
		mountCounts:    []int{1, 20, 100},
		manyCounts:     []int{10, 100, 500},
		manyCalls:      5,
		raceDelays:     []time.Duration{5 * time.Second, 20 * time.Second, 60 * time.Second},
		naiveFirstDown: true,
		results:        filepath.Join("..", "..", "results"),
	}
	if os.Getenv("BENCH_QUICK") == "1" {
		cfg = config{
			quick: true, runs: 1, pings: 2, containers: 5, bigMiB: 16, smallFiles: 100,
			volumeCounts: []int{10},
			mountCounts:  []int{1, 5},
			manyCounts:   []int{2, 5},
			manyCalls:    2,
			raceDelays:   []time.Duration{5 * time.Second},
			results:      cfg.results,
		}
	}
	if v := os.Getenv("BENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("BENCH_RUNS=%q: want a positive number", v)
		}
		cfg.runs = n
	}
	for _, o := range []struct {
		name   string
		counts *[]int
	}{{"BENCH_VOLUMES", &cfg.volumeCounts}, {"BENCH_MOUNTS", &cfg.mountCounts}, {"BENCH_MANY", &cfg.manyCounts}} {
		if v := os.Getenv(o.name); v != "" {
			*o.counts = parseCounts(t, o.name, v)
		}
	}
	if v := os.Getenv("BENCH_RESULTS"); v != "" {
		cfg.results = v
	}
	return cfg
}

// parseCounts reads a comma-separated list of rising positive counts.
func parseCounts(t *testing.T, name, value string) []int {
	var counts []int
	for _, f := range strings.Split(value, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(counts) > 0 && n <= counts[len(counts)-1]) {
			t.Fatalf("%s=%q: want rising positive counts, such as 10,100,500", name, value)
		}
		counts = append(counts, n)
	}
	return counts
}

// bench collects the values both lanes measure.
type bench struct {
	cfg    config
	mu     sync.Mutex
	report *Report
}

// measure adds a row to the table.
func (b *bench) measure(m Measure) *Measure {
	b.report.Measures = append(b.report.Measures, &m)
	return &m
}

// record appends one run's value to a series; the lanes record at once.
func (b *bench) record(series *[]float64, v float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*series = append(*series, v)
}

// seconds records a duration in seconds.
func (b *bench) seconds(series *[]float64, d time.Duration) {
	b.record(series, d.Seconds())
}

// measures are the rows of the table, in the order of the issue that asked
// for them.
type measures struct {
	startVolume, mountRaw, mountTutorial               *Measure
	mountProbe, mountRun, mountRest                    *Measure // the plugin's Mount call, split
	firstFresh, firstSteady, secondFresh, secondSteady *Measure // against the naive mount
	upFirstFresh, upFirstSteady                        *Measure // against all servers up
	upSecondFresh, upSecondSteady                      *Measure
	tutorialFresh, tutorialSteady                      *Measure
	raceSuccess, raceReady                             []*Measure // by cfg.raceDelays
	manyWall, manyClients                              *Measure
	manySlowest, manyWaited, manyFUSE, manySaved       *Measure   // the plugin's Mount calls, split
	list, listExpired, get, getFirst, getElsewhere     []*Measure // by cfg.volumeCounts
	create                                             *Measure
	createSteps                                        []*Measure // by createSteps
	data                                               []*Measure // by dataScripts
	pluginRSS, clientRSS                               []*Measure // by cfg.mountCounts
	pluginCPU                                          *Measure
	manyVolumes                                        []*manyMeasures // by manyModes
	tlsCreate, tlsStart                                *Measure        // TLS on against TLS off
	tlsData                                            []*Measure      // by dataScripts
}

func (b *bench) defineMeasures() *measures {
	cfg := b.cfg
	m := &measures{}
	m.startVolume = b.measure(Measure{Item: 1, Name: "container start with a gluster volume", Baseline: "no volume", Unit: Seconds, Figure: Difference})
	m.mountRaw = b.measure(Measure{Item: 1, Name: "mount, all servers up: the plugin's Mount call", Baseline: "raw mount -t glusterfs", Unit: Seconds, Figure: Ratio,
		Target: AtMost(OnFigure, 1.1, "≤ 1.1×")})
	part := func(name string) *Measure {
		return b.measure(Measure{Item: 1, Name: "the plugin's Mount call, all servers up: " + name, Unit: Milliseconds})
	}
	m.mountProbe = part("probing the servers")
	m.mountRun = part("mount -t glusterfs")
	m.mountRest = part("the rest (lookup, mount table, state)")
	m.mountTutorial = b.measure(Measure{Item: 8, Name: "mount, all servers up: the plugin's Mount call", Baseline: "tutorial client", Unit: Seconds, Figure: Ratio})
	down := func(name string) (vsUp, vsNaive *Measure) {
		vsUp = b.measure(Measure{Item: 2, Name: "container start, " + name, Baseline: "all servers up", Unit: Seconds, Figure: Difference,
			Target: AtMost(OnFigure, 1.5, "≤ +1.5 s")})
		vsNaive = b.measure(Measure{Item: 2, Name: "container start, " + name, Baseline: "naive mount", Unit: Seconds, Figure: Ratio})
		return vsUp, vsNaive
	}
	m.upFirstFresh, m.firstFresh = down("first-listed server stopped just before")
	m.upFirstSteady, m.firstSteady = down("first-listed server stopped long before")
	m.upSecondFresh, m.secondFresh = down("second server stopped just before")
	m.upSecondSteady, m.secondSteady = down("second server stopped long before")
	m.tutorialFresh = b.measure(Measure{Item: 8, Name: "container start, first-listed server stopped just before", Baseline: "tutorial client", Unit: Seconds, Figure: Ratio})
	m.tutorialSteady = b.measure(Measure{Item: 8, Name: "container start, first-listed server stopped long before", Baseline: "tutorial client", Unit: Seconds, Figure: Ratio})
	for _, d := range cfg.raceDelays {
		m.raceSuccess = append(m.raceSuccess, b.measure(Measure{Item: 3,
			Name: fmt.Sprintf("servers started %s after the mount request: first docker run succeeds", secondsText(d)), Unit: Success}))
		m.raceReady = append(m.raceReady, b.measure(Measure{Item: 3,
			Name:     fmt.Sprintf("servers started %s after the mount request: container running, from the request", secondsText(d)),
			Baseline: "first server ready", Unit: Seconds, Figure: Difference, Target: AtMost(OnFigure, 2, "≤ +2 s")}))
	}
	m.manyWall = b.measure(Measure{Item: 4, Name: fmt.Sprintf("%d containers started at once, wall time", cfg.containers),
		Baseline: "no volume", Unit: Seconds, Figure: Difference, Target: AtMost(OnFigure, 0.2, "≤ +0.2 s")})
	m.manyClients = b.measure(Measure{Item: 4, Name: fmt.Sprintf("%d containers started at once, FUSE client processes", cfg.containers),
		Unit: Count, Target: Between(OnPlugin, 1, 1, "1")})
	many := func(name string) *Measure {
		return b.measure(Measure{Item: 4, Name: fmt.Sprintf("%d containers started at once: the plugin's Mount calls, %s", cfg.containers, name), Unit: Milliseconds})
	}
	m.manySlowest = many("the slowest")
	m.manyWaited = many("the longest wait for the volume's lock")
	m.manyFUSE = many("the FUSE mount")
	m.manySaved = many("saving the state, in all")
	for _, n := range cfg.volumeCounts {
		row := func(call string) *Measure {
			base := ""
			if n != cfg.volumeCounts[0] {
				base = fmt.Sprintf("%d volumes", cfg.volumeCounts[0])
			}
			return b.measure(Measure{Item: 5, Name: fmt.Sprintf("%s, %d volumes", call, n), Baseline: base,
				Unit: Milliseconds, Figure: Ratio, Target: AtMost(OnPlugin, 20, "< 20 ms")})
		}
		m.list = append(m.list, row("List"))
		m.listExpired = append(m.listExpired, row("List, first call after the snapshot aged"))
		m.get = append(m.get, row("Get"))
		m.getFirst = append(m.getFirst, row("Get, first look at the volume"))
		m.getElsewhere = append(m.getElsewhere, b.measure(Measure{Item: 5,
			Name: fmt.Sprintf("Get of a volume created elsewhere since the last list, %d volumes", n), Unit: Milliseconds}))
	}
	m.create = b.measure(Measure{Item: 6, Name: "docker volume create (replica 2, started)", Baseline: "gluster volume create + start",
		Unit: Seconds, Figure: Ratio, Target: AtMost(OnFigure, 1.2, "≤ 1.2×")})
	for _, step := range createSteps {
		m.createSteps = append(m.createSteps, b.measure(Measure{Item: 6, Name: "docker volume create, on the server: " + step.name, Unit: Milliseconds}))
	}
	for _, step := range dataScripts(cfg) {
		m.data = append(m.data, b.measure(Measure{Item: 7, Name: step.name + ", in a container", Baseline: "raw FUSE mount", Unit: Seconds, Figure: Ratio,
			Target: Between(OnFigure, 0.95, 1.05, "0.95–1.05×")}))
	}
	for _, n := range cfg.mountCounts {
		m.pluginRSS = append(m.pluginRSS, b.measure(Measure{Item: 9, Name: fmt.Sprintf("memory (RSS) with %d mounted volumes: the plugin", n), Unit: MiB}))
		m.clientRSS = append(m.clientRSS, b.measure(Measure{Item: 9, Name: fmt.Sprintf("memory (RSS) with %d mounted volumes: each FUSE client", n), Unit: MiB}))
	}
	m.pluginCPU = b.measure(Measure{Item: 9, Name: "CPU time of the plugin over its lane (every measure above but item 5)", Unit: Seconds})
	for _, mode := range manyModes {
		m.manyVolumes = append(m.manyVolumes, b.defineManyMeasures(mode))
	}
	tls := func(name string) *Measure {
		return b.measure(Measure{Item: 11, Name: name + ", TLS on", Baseline: "TLS off", Unit: Seconds, Figure: Ratio})
	}
	m.tlsCreate = tls("docker volume create (replica 2, started)")
	m.tlsStart = tls("container start with the volume")
	for _, step := range dataScripts(cfg) {
		m.tlsData = append(m.tlsData, tls(step.name))
	}
	return m
}

// TestBench measures the plugin against the raw gluster client. Two lanes
// run at the same time, each on its own servers: the plugin's, and the
// baseline clients' whose mounts mostly wait for TCP timeouts (and then
// List and Get with many volumes). Then, alone, item 10 on its own servers:
// memory and call times with many started volumes; and item 11: what TLS
// costs, on a cluster with TLS and one without. Only harness errors fail
// it; a missed target shows as "fail" in the table.
func TestBench(t *testing.T) {
	cfg := loadConfig(t)
	host, _ := os.Hostname()
	b := &bench{cfg: cfg, report: &Report{Host: host, Quick: cfg.quick, Runs: cfg.runs, Notes: notes(cfg)}}
	m := b.defineMeasures()
	t.Run("lanes", func(t *testing.T) {
		t.Run("plugin", func(t *testing.T) {
			t.Parallel()
			pluginLane(t, b, m)
		})
		t.Run("baselines", func(t *testing.T) {
			t.Parallel()
			baselineLane(t, b, m)
		})
	})
	t.Run("many volumes", func(t *testing.T) { manyVolumes(t, b, m) })
	t.Run("tls", func(t *testing.T) { tlsCost(t, b, m) })
	b.report.Date = time.Now()
	b.write(t)
}

func notes(cfg config) []string {
	n := []string{
		"Cells: median (min–max) over the runs; ratio and difference are taken run by run and judged on their median. " +
			"Both lanes run at the same time on a shared machine.",
		"Naive mount: `mount -t glusterfs -o backup-volfile-servers=S2 S1:/VOL`. Tutorial client: `ping -c " + strconv.Itoa(cfg.pings) +
			"` each peer in turn, then `mount -t glusterfs` from the first that answers. " +
			"Just before: the server stopped right before the mount; long before: the host has forgotten its link-layer address (`ip neigh flush`).",
		"Item 3: the first docker run waits at most the mount timeout (MOUNT_TIMEOUT=auto: 100 s, 25 s once Docker 20.10 was seen to give up after 30 s); a failed one is retried at once until the container runs. " +
			"Server ready: glusterd and a brick process listen in its network namespace (polled every 50 ms).",
		"Items 1 and 4, the plugin's Mount calls split: from the plugin's own log lines (the mounter's probe and mount -t glusterfs, the driver's lock wait, FUSE mount and state save). " +
			"Item 9: the plugin lane's plugin from its installation to the end of its lane; memory on the List and Get lane's plugin, its volumes started and mounted through the plugin's socket, one FUSE client each (the median client shown).",
		"Item 5: Docker's volume API called on the plugin's socket; the volumes are created but not started (as many started replica volumes would need two brick processes each). " +
			"The plugin answers from its snapshot of the cluster's list and refreshes it in the background once 2 s old: List after that, and Get of a volume not looked at before, were the calls that asked the servers. " +
			"A volume created elsewhere since the last list (with the gluster CLI, just before the Get) is the one call that asks the servers for one volume.",
	}
	n = append(n, manyNote(cfg),
		"Item 11: two clusters of 2 servers, each with its own plugin: servers with TLS=on and a plugin with their CA_FINGERPRINT, against servers with TLS=off and a plugin without. "+
			"Each step runs on both back to back, alternating which goes first: docker volume create of a new replica 2 volume (removed after), "+
			"docker run --rm of true with the volume, and item 7's container scripts, each container on a new mount. "+
			"Each side's volume is mounted once before the runs, where the plugin with TLS enrolls its host.")
	if cfg.quick {
		n = append(n, "Quick mode: one run and small sizes, to keep the harness working; the figures mean little.")
	}
	return n
}

// write prints the table and saves it with the JSON record and the chart.
func (b *bench) write(t *testing.T) {
	table := b.report.Table()
	fmt.Printf("\n%s\n", table)
	data, err := b.report.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(b.cfg.results, 0o755); err != nil {
		t.Fatal(err)
	}
	name := "bench-" + b.report.Date.Format("20060102-150405")
	latest := "bench-latest"
	if b.cfg.quick {
		name, latest = "bench-quick", "bench-quick"
	}
	files := map[string][]byte{
		name + ".json":   data,
		latest + ".json": data,
		latest + ".md":   []byte(table),
		latest + ".svg":  []byte(b.report.Chart()),
	}
	for f, content := range files {
		if err := os.WriteFile(filepath.Join(b.cfg.results, f), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(b.cfg.results)
	fmt.Printf("results in %s: %s.json, %s.{json,md,svg}\n", abs, name, latest)
}

// createSteps are the steps of a create the control API logs (control/service.go).
var createSteps = []struct{ key, name string }{
	{"placement", "reading the pool and the volumes"},
	{"bricks", "making the brick directories"},
	{"create", "gluster volume create"},
	{"options", "gluster volume set (labels and options, one transaction)"},
	{"start", "gluster volume start, and volume info (the answer) meanwhile"},
}

// secondsText writes a duration as the table does: "60 s".
func secondsText(d time.Duration) string {
	return fmt.Sprintf("%g s", d.Seconds())
}
