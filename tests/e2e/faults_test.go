//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// faultTime is how long faults are injected in `make test`; FAULT_TIME
// sets another (`make faults` runs 15 minutes).
const faultTime = 2 * time.Minute

// Faults last faultHold and come faultGap after the server before is back,
// both drawn at random within their bounds: shorter than a heal, so that
// servers fail one after the other before the heal of the one before
// finished. Each fault hits another server than the one before, as a
// rolling failure does.
var (
	faultHold = [2]time.Duration{2 * time.Second, 6 * time.Second}
	faultGap  = [2]time.Duration{0, time.Second}
)

// A fault is done to one server and undone before the next.
type fault struct {
	name string
	do   func(t *testing.T, s *testbed.Server) (undo func())
}

var faults = []fault{
	{"stop", func(t *testing.T, s *testbed.Server) func() { s.Stop(t); return func() { s.Start(t) } }},
	{"kill -9", func(t *testing.T, s *testbed.Server) func() { s.Kill(t); return func() { s.Start(t) } }},
	{"restart", func(t *testing.T, s *testbed.Server) func() { s.Restart(t); return func() {} }},
	{"partition", func(t *testing.T, s *testbed.Server) func() { return s.Partition(t) }},
	{"freeze", func(t *testing.T, s *testbed.Server) func() { s.Pause(t); return func() { s.Unpause(t) } }},
}

// recordFile is one writer's file and what it knows of it.
type recordFile struct {
	volume string
	path   string
	acked  atomic.Int64 // the last version a write acknowledged
	counts *faultCounts
}

// faultCounts are what the run did, for its report.
type faultCounts struct {
	writes, failedWrites, reads, failedReads, anomalies atomic.Int64
	mu                                                  sync.Mutex
	examples                                            []string
}

func (c *faultCounts) anomaly(format string, args ...any) {
	c.anomalies.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.examples) < 10 {
		c.examples = append(c.examples, fmt.Sprintf(format, args...))
	}
}

// TestRandomFaults: a random schedule of stops, kills, restarts, network
// partitions and freezes, one server at a time, while writers write
// versioned records and readers check every read: no read may be older
// than the last write acknowledged before it began, on a replica 2 volume
// with a witness and a replica 3 volume with an arbiter. Once the servers
// are back every file is readable, current and the same on every brick,
// with nothing in split-brain. FAULT_SEED replays a schedule.
func TestRandomFaults(t *testing.T) {
	duration := faultTime
	if s := os.Getenv("FAULT_TIME"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("FAULT_TIME=%q: %v", s, err)
		}
		duration = d
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("fault schedule: FAULT_SEED=%d, %s", seed, duration)
	rng := rand.New(rand.NewPCG(seed, seed))

	c, _ := witnessCluster(t, "gte2e-faults", 66)
	ctx := context.Background()
	counts := &faultCounts{}
	var files []*recordFile
	var volumes []string
	for layout, req := range protectedLayouts(c) {
		name := "faults-" + layout
		volumes = append(volumes, name)
		req.Name, req.Options = name, pluginLabel(name)
		if _, err := c.Servers[0].Client().Create(ctx, req); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		c.WaitBricksOnline(t, name, time.Minute)
		mnt := testbed.MountFUSE(t, c.Servers[2].Address, name)
		for i := range 2 {
			f := &recordFile{volume: name, path: filepath.Join(mnt, fmt.Sprintf("record-%d", i)), counts: counts}
			if err := writeVersion(f.path, 0); err != nil {
				t.Fatalf("%s: first write: %v", f.path, err)
			}
			files = append(files, f)
		}
	}

	stop := make(chan struct{})
	var workers sync.WaitGroup
	for _, f := range files {
		workers.Go(func() { f.write(stop) })
		workers.Go(func() { f.read(stop) })
	}
	done := map[string]int{}
	previous := -1
	for deadline := time.Now().Add(duration); time.Now().Before(deadline); {
		next := rng.IntN(len(c.Servers))
		if previous >= 0 {
			if next = rng.IntN(len(c.Servers) - 1); next >= previous {
				next++
			}
		}
		previous = next
		s := c.Servers[next]
		fl := faults[rng.IntN(len(faults))]
		hold := between(rng, faultHold)
		undo := fl.do(t, s)
		time.Sleep(hold)
		undo()
		done[fl.name]++
		undone := time.Now()
		for _, name := range volumes {
			c.WaitBricksOnline(t, name, 2*time.Minute)
		}
		t.Logf("%s of %s for %.1f s; bricks online %.1f s later", fl.name, s.Name, hold.Seconds(), time.Since(undone).Seconds())
		time.Sleep(between(rng, faultGap))
	}
	close(stop)
	workers.Wait()

	vols := make([]*rollingVolume, 0, len(files))
	for _, f := range files {
		v := &rollingVolume{name: f.volume, file: f.path, acked: int(f.acked.Load())}
		vols = append(vols, v)
	}
	settle(t, c, vols)
	t.Logf("faults %v; writes acknowledged %d, refused %d; reads %d, refused %d; anomalies %d",
		done, counts.writes.Load(), counts.failedWrites.Load(), counts.reads.Load(), counts.failedReads.Load(), counts.anomalies.Load())
	if n := counts.anomalies.Load(); n > 0 {
		t.Errorf("%d reads older than the last acknowledged write, such as %v", n, counts.examples)
	}
	if counts.writes.Load() == 0 || counts.reads.Load() == 0 {
		t.Errorf("no write or no read went through: the run checked nothing")
	}
}

// between draws a duration within bounds.
func between(rng *rand.Rand, bounds [2]time.Duration) time.Duration {
	return bounds[0] + time.Duration(rng.Int64N(int64(bounds[1]-bounds[0])))
}

// write writes the next version every 50 ms until stop is closed.
func (f *recordFile) write(stop <-chan struct{}) {
	for n := int64(1); ; n++ {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if err := writeVersion(f.path, int(n)); err != nil {
			f.counts.failedWrites.Add(1)
			continue
		}
		f.acked.Store(n)
		f.counts.writes.Add(1)
	}
}

// read reads the file every 20 ms until stop is closed, checking each read
// against the last version acknowledged before it began.
func (f *recordFile) read(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		before := f.acked.Load()
		data, err := os.ReadFile(f.path)
		if err != nil {
			f.counts.failedReads.Add(1)
			continue
		}
		f.counts.reads.Add(1)
		got, err := parseVersion(data)
		switch {
		case err != nil:
			f.counts.anomaly("%s: %v", f.path, err)
		case int64(got) < before:
			f.counts.anomaly("%s: version %d after %d was acknowledged", f.path, got, before)
		}
	}
}
