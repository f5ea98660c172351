//go:build bench

package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// Item 11's clusters, each with a plugin of its name: one whose servers run
// with TLS=on and whose plugin pins their CA, and one with TLS=off.
const (
	tlsOnName   = "gbench-t"
	tlsOnOctet  = 183
	tlsOffName  = "gbench-u"
	tlsOffOctet = 184
)

// tlsSide is one side of item 11: a cluster, its plugin, and the series of
// the measures it records into.
type tlsSide struct {
	*bench
	cluster *testbed.Cluster
	plugin  *testbed.Plugin
	series  func(*Measure) *[]float64
}

// tlsCost: item 11. The same steps on a cluster with TLS and on one
// without, each pair back to back, alternating which side goes first.
func tlsCost(t *testing.T, b *bench, m *measures) {
	start := time.Now()
	on := testbed.NewCluster(t, tlsOnName, tlsOnOctet, 2)
	on.UseTLS()
	off := testbed.NewCluster(t, tlsOffName, tlsOffOctet, 2)
	// Started together, so that both pools form at once.
	on.StartAll(t)
	off.StartAll(t)
	fingerprint := on.CAFingerprint(t)
	on.WaitPool(t, poolTimeout)
	off.WaitPool(t, poolTimeout)
	sides := [2]*tlsSide{
		newTLSSide(t, b, off, func(m *Measure) *[]float64 { return &m.Base }),
		newTLSSide(t, b, on, func(m *Measure) *[]float64 { return &m.Plugin }, "CA_FINGERPRINT="+fingerprint),
	}
	steps := []tlsStep{
		{"create", func(s *tlsSide, run int) { s.create(t, run, m.tlsCreate) }},
		{"container start", func(s *tlsSide, _ int) { s.start(t, m.tlsStart) }},
	}
	for i, step := range dataScripts(b.cfg) {
		steps = append(steps, tlsStep{step.name, func(s *tlsSide, _ int) { s.data(t, step, m.tlsData[i]) }})
	}
	for run := range b.cfg.runs {
		for _, step := range steps {
			t.Logf("%s, run %d", step.name, run+1)
			inTurn(run, func() { step.run(sides[0], run) }, func() { step.run(sides[1], run) })
		}
		for _, s := range sides {
			if _, err := s.run(t, dataCleanup); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("item 11 took %s", time.Since(start).Round(time.Second))
}

// tlsStep is one of item 11's steps, run on one side.
type tlsStep struct {
	name string
	run  func(s *tlsSide, run int)
}

// newTLSSide installs the cluster's plugin with settings and creates its
// data volume, mounted once so that the first measured mount pays nothing
// once-only: the plugin with TLS enrolls its host on its first mount.
func newTLSSide(t *testing.T, b *bench, c *testbed.Cluster, series func(*Measure) *[]float64, settings ...string) *tlsSide {
	s := &tlsSide{bench: b, cluster: c, series: series}
	s.plugin = testbed.InstallPlugin(t, c, c.Name, settings...)
	s.removeContainer()
	t.Cleanup(s.removeContainer)
	testbed.MustDocker(t, "volume", "create", "-d", s.plugin.Name, "-o", "replica=2", s.volume())
	if _, err := s.run(t, "true"); err != nil {
		t.Fatalf("the first mount of %s: %v", s.volume(), err)
	}
	return s
}

// volume is the side's Docker volume the container steps use, also the
// gluster volume's name.
func (s *tlsSide) volume() string { return s.cluster.Name + "-data" }

// container is the name of the side's throwaway containers.
func (s *tlsSide) container() string { return s.cluster.Name + "-run" }

// removeContainer removes the side's container if it exists, a leftover of
// an earlier run.
func (s *tlsSide) removeContainer() {
	ctx := context.Background()
	if _, err := testbed.Docker(ctx, "container", "inspect", s.container()); err == nil {
		_, _ = testbed.Docker(ctx, "rm", "-f", s.container())
	}
}

// run runs script, with the side's directory of its volume as $1, in a
// throwaway container on a new mount of the volume, and waits for the
// volume's FUSE client to be gone, so that the next run mounts anew.
func (s *tlsSide) run(t *testing.T, script string) (string, error) {
	defer waitNoClient(t, s.volume())
	return runScript(s.cluster.Name, s.container(), s.volume(), script, tlsDataDir)
}

// tlsDataDir is where in the volume the data steps work.
const tlsDataDir = "/data/bench"

// create records the time of a docker volume create of a new replica 2
// volume, which it then removes.
func (s *tlsSide) create(t *testing.T, run int, m *Measure) {
	name := fmt.Sprintf("%s-new%d", s.cluster.Name, run)
	took, err := timed(func() error {
		_, err := testbed.Docker(context.Background(), "volume", "create", "-d", s.plugin.Name, "-o", "replica=2", name)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.seconds(s.series(m), took)
	testbed.MustDocker(t, "volume", "rm", name)
}

// start records the time of a docker run of true with the volume, the
// wait for its FUSE client to end left out.
func (s *tlsSide) start(t *testing.T, m *Measure) {
	took, err := timed(func() error {
		_, err := runScript(s.cluster.Name, s.container(), s.volume(), "true")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitNoClient(t, s.volume())
	s.seconds(s.series(m), took)
}

// data records the time step printed.
func (s *tlsSide) data(t *testing.T, step dataStep, m *Measure) {
	took, err := runStep(func(script string) (string, error) { return s.run(t, script) }, step)
	if err != nil {
		t.Fatal(err)
	}
	s.seconds(s.series(m), took)
}
