package testbed

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The Debian 13 variants: GlusterFS 11 servers and plugin clients.
var trixieBuild struct {
	once sync.Once
	out  []byte
	err  error
}

// BuildTrixie builds, once per test process, the server image
// ServerImageTrixie and the plugin root filesystem with the GlusterFS 11
// client from the working tree (the shared e2e wrapper builds only the
// Debian 12 ones), and returns that root filesystem's directory. The first
// build on a machine debootstraps Debian 13 (about 2 minutes); later ones
// only copy the binaries in.
func BuildTrixie(t testing.TB) string {
	t.Helper()
	trixieBuild.once.Do(func() {
		cmd := exec.Command("make", "--no-print-directory", "-C", repoRoot(), "server-image-trixie", "rootfs-trixie")
		trixieBuild.out, trixieBuild.err = cmd.CombinedOutput()
	})
	if trixieBuild.err != nil {
		t.Fatalf("building the Debian 13 server image and plugin rootfs: %v\n%s", trixieBuild.err, trixieBuild.out)
	}
	return filepath.Join(repoRoot(), "rootfs-trixie")
}
