package testbed

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/glusterdocker/gluster/control"
)

// Witness is a thin arbiter container on a cluster's network, as a third
// host would run it: `gluster-server witness`, its state in a host
// directory.
type Witness struct {
	Name    string
	Address string
	Dir     string // host directory of its replica states
	Image   string // ServerImage if empty
	cluster *Cluster
}

// NewWitness prepares a witness at address on c's network; Run starts it.
// It is removed when the test ends.
func (c *Cluster) NewWitness(t testing.TB, address string) *Witness {
	t.Helper()
	w := &Witness{Name: c.Name + "-witness", Address: address, Dir: filepath.Join(StateRoot, c.Name, "witness"), cluster: c}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Registered after the cluster's clean-up, so run before it: the
	// network goes last.
	t.Cleanup(func() { w.remove(t) })
	w.remove(t)
	return w
}

// Run creates and starts the witness's container.
func (w *Witness) Run(t testing.TB) {
	t.Helper()
	w.cluster.must(t, "run", "-d", "--name", w.Name, "--hostname", w.Name,
		"--network", w.cluster.Network, "--ip", w.Address, "--tmpfs", "/run",
		// The replica states are trusted extended attributes.
		"--cap-add", "SYS_ADMIN",
		"--label", "gluster-testbed="+w.cluster.Name,
		"-v", w.Dir+":"+control.WitnessDir,
		cmp.Or(w.Image, ServerImage), "witness")
}

// Stop stops the witness's container.
func (w *Witness) Stop(t testing.TB) {
	t.Helper()
	w.cluster.must(t, "stop", w.Name)
}

// Start starts the witness's stopped container again.
func (w *Witness) Start(t testing.TB) {
	t.Helper()
	w.cluster.must(t, "start", w.Name)
}

func (w *Witness) remove(t testing.TB) {
	t.Helper()
	if _, err := w.cluster.docker(context.Background(), "container", "inspect", w.Name); err == nil {
		w.cluster.must(t, "rm", "-f", "-v", w.Name)
	}
}
