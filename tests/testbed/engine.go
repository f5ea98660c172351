package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EngineTrixie is an image holding Debian 13's Docker Engine (docker.io
// 26.1, containerd 1.7, runc 1.1), for StartEngineNode.
const EngineTrixie = "gluster-engine-base:trixie"

// BuildEngineTrixie builds EngineTrixie offline with debootstrap, unless it
// exists (about 2 minutes the first time on a machine).
func BuildEngineTrixie(t testing.TB) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(), "build", "base-image.sh"), EngineTrixie, "docker.io,iptables,iproute2,procps")
	cmd.Env = append(os.Environ(), "DEBIAN_SUITE=trixie")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", EngineTrixie, err, out)
	}
}

// exportImage unpacks the root filesystem of image (on the main daemon)
// into dir.
func exportImage(image, dir string) error {
	ctx := context.Background()
	id, err := Docker(ctx, "create", image, "/bin/true")
	if err != nil {
		return err
	}
	defer Docker(ctx, "rm", "-f", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var exportErr, untarErr bytes.Buffer
	export := exec.Command("docker", "export", id)
	export.Stdout, export.Stderr = w, &exportErr
	untar := exec.Command("tar", "-C", dir, "-x", "--numeric-owner")
	untar.Stdin, untar.Stderr = r, &untarErr
	if err := untar.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	r.Close()
	err = export.Run()
	w.Close()
	if err != nil {
		_ = untar.Wait()
		return fmt.Errorf("docker export %s: %w: %s", image, err, strings.TrimSpace(exportErr.String()))
	}
	if err := untar.Wait(); err != nil {
		return fmt.Errorf("tar: %w: %s", err, strings.TrimSpace(untarErr.String()))
	}
	return nil
}

// EngineVersion is the version of the node's Docker Engine and of the
// containerd and runc it runs, as the daemon reports them.
func (n *Node) EngineVersion(t testing.TB) (engine, components string) {
	t.Helper()
	engine = n.MustDocker(t, "version", "-f", "{{.Server.Version}}")
	components = n.MustDocker(t, "version", "-f", "{{range .Server.Components}}{{.Name}} {{.Version}}; {{end}}")
	return engine, components
}
