//go:build e2e

// Package arm tests the arm64 builds end to end on this amd64 machine,
// under emulation: Debian's qemu-user-static runs the arm64 programs through
// binfmt_misc (tests/setup.sh registers it). Emulation is slow, so this has
// its own target, `make test-arm`, which builds the arm64 server image and
// plugin root filesystem first.
package arm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

const (
	// The artifacts of `make server-image rootfs ARCH=arm64`.
	serverImage = testbed.ServerImage + "-arm64"
	baseImage   = testbed.ClientImage + "-arm64"
	rootfs      = "rootfs-arm64"

	// registry is the loopback registry the arm64 plugin tag is pushed to
	// and installed from, as users install it.
	registry = "127.0.0.1:5190"

	// poolTimeout: an emulated glusterd starts and answers several times
	// slower than a native one (26-30 s to a formed pool here, with the
	// machine busy); the margin is for a slower CI machine.
	poolTimeout = 3 * time.Minute

	// binfmtHandler is the kernel's entry for arm64 executables, which
	// names the emulator it starts for them.
	binfmtHandler = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
)

// TestARM64MixedPool: an arm64 server (a Raspberry Pi) and an amd64 server
// (an x86 NAS) form one pool with TLS, the default, and the arm64 managed
// plugin, installed from its architecture's tag and pinned to their CA,
// serves a replica 2 volume across both.
func TestARM64MixedPool(t *testing.T) {
	requireArtifacts(t)
	ctx := context.Background()
	start := time.Now()

	c := testbed.NewCluster(t, "gte2e-arm", 190, 2)
	pi, nas := c.Servers[0], c.Servers[1]
	pi.Image = serverImage
	c.UseTLS()
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	t.Logf("pool of an arm64 and an amd64 server formed after %s", time.Since(start).Round(time.Second))
	for _, tc := range []struct {
		server  *testbed.Server
		machine string
	}{{pi, "aarch64"}, {nas, "x86_64"}} {
		if got := testbed.MustDocker(t, "exec", tc.server.Name, "uname", "-m"); got != tc.machine {
			t.Errorf("%s runs on %q, want %q", tc.server.Name, got, tc.machine)
		}
	}

	p := installFromRegistry(t, c)
	if len(emulated(t, "gluster-plugin")) == 0 {
		t.Fatal("no gluster-plugin process runs through the arm64 emulator")
	}

	const volume, gluster = "pi.data", "pi__data"
	testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", volume)
	if v, err := c.Volume(ctx, gluster); err != nil || v.Options["client.ssl"] != "on" || v.Options["server.ssl"] != "on" {
		t.Errorf("the volume should carry its I/O over TLS: options %v, %v", v.Options, err)
	}
	inspect := testbed.MustDocker(t, "volume", "inspect", "-f", "{{.Status.replica}} {{.Status.bricks}}", volume)
	if !strings.HasPrefix(inspect, "2 ") || !strings.Contains(inspect, pi.Address) || !strings.Contains(inspect, nas.Address) {
		t.Errorf("volume inspect: %q, want replica 2 with a brick on each server", inspect)
	}

	// What a storage host spends on a server with one volume (the arm64
	// one's figure includes the emulator's own memory).
	for _, s := range c.Servers {
		t.Logf("memory of %s: %s", s.Name, testbed.MustDocker(t, "stats", "--no-stream", "--format", "{{.MemUsage}}", s.Name))
	}

	var sum string
	t.Run("an arm64 container writes through the emulated FUSE client", func(t *testing.T) {
		writer := runDetached(t, "gte2e-arm-writer", volume)
		out := testbed.MustDocker(t, "exec", writer, "sh", "-c",
			`uname -m; echo from-a-pi > /data/hello.txt; head -c 1048576 /dev/urandom > /data/blob; sha256sum /data/blob`)
		machine, line, _ := strings.Cut(out, "\n")
		if machine != "aarch64" {
			t.Errorf("the client container runs on %q, want aarch64", machine)
		}
		sum, _, _ = strings.Cut(line, " ")
		if !slices.ContainsFunc(emulated(t, "glusterfs"), func(args []string) bool {
			return slices.Contains(args, "--volfile-id="+gluster) || slices.Contains(args, "--volfile-id=/"+gluster)
		}) {
			t.Errorf("no FUSE client of %s runs through the arm64 emulator", gluster)
		}
	})

	t.Run("both bricks hold identical files", func(t *testing.T) {
		for _, s := range c.Servers {
			hello, err := os.ReadFile(filepath.Join(s.BrickDir(gluster), "hello.txt"))
			if err != nil || string(hello) != "from-a-pi\n" {
				t.Errorf("hello.txt in the brick on %s: %q, %v", s.Name, hello, err)
			}
			blob, err := os.ReadFile(filepath.Join(s.BrickDir(gluster), "blob"))
			if got := sha256.Sum256(blob); err != nil || hex.EncodeToString(got[:]) != sum {
				t.Errorf("blob in the brick on %s: %d bytes, sha256 %x, %v; the container wrote sha256 %s", s.Name, len(blob), got, err, sum)
			}
		}
	})

	t.Run("a new container reads them back", func(t *testing.T) {
		out, err := testbed.Docker(ctx, "run", "--rm", "--label", "gluster-testbed=1", "-v", volume+":/data", baseImage,
			"sh", "-c", "cat /data/hello.txt; sha256sum /data/blob")
		if want := "from-a-pi\n" + sum + "  /data/blob"; err != nil || out != want {
			t.Errorf("reading back: %q, %v; want %q", out, err, want)
		}
	})

	t.Run("remove deletes the gluster volume and its bricks", func(t *testing.T) {
		testbed.MustDocker(t, "volume", "rm", volume)
		if _, err := c.Volume(ctx, gluster); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("gluster volume after rm: %v", err)
		}
		for _, s := range c.Servers {
			if _, err := os.Stat(s.BrickDir(gluster)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("brick on %s after rm: %v", s.Name, err)
			}
		}
		mounts, err := testbed.HostMounts("fuse.glusterfs")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mounts {
			if strings.Contains(m.Mountpoint, p.ID(t)) {
				t.Errorf("mount left behind: %s on %s", m.Source, m.Mountpoint)
			}
		}
	})
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// requireArtifacts fails the test early, saying what to build, when the
// arm64 artifacts are missing or are not arm64.
func requireArtifacts(t *testing.T) {
	t.Helper()
	build := "build them with: make server-image rootfs ARCH=arm64 (make test-arm does)"
	for _, image := range []string{serverImage, baseImage} {
		arch, err := testbed.Docker(context.Background(), "image", "inspect", "-f", "{{.Architecture}}", image)
		if err != nil || arch != "arm64" {
			t.Fatalf("image %s: architecture %q, %v; %s", image, arch, err, build)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "..", rootfs, "usr", "local", "bin", "gluster-plugin")); err != nil {
		t.Fatalf("no arm64 plugin root filesystem: %v; %s", err, build)
	}
	if _, err := os.Stat(binfmtHandler); err != nil {
		t.Fatalf("the arm64 emulator is not registered (%v): run tests/setup.sh", err)
	}
}

// installFromRegistry pushes the arm64 plugin to a loopback registry under
// its architecture's tag and installs it from there, as a Raspberry Pi's
// Docker would, pointed at the cluster.
func installFromRegistry(t *testing.T, c *testbed.Cluster) *testbed.Plugin {
	t.Helper()
	testbed.StartRegistry(t, registry)
	ref := registry + "/gluster:e2e-arm64"
	testbed.PushPlugin(t, ref, rootfs)

	p := &testbed.Plugin{Name: "gte2e-arm", StateDir: filepath.Join(testbed.StateRoot, c.Name, "plugin-gte2e-arm")}
	p.Remove(t)
	t.Cleanup(func() { p.Remove(t) })
	// A plugin's bind mount source must exist before it is installed.
	if err := os.MkdirAll(p.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testbed.MustDocker(t, "plugin", "install", "--alias", p.Name, "--grant-all-permissions", ref,
		"SERVERS="+strings.Join(c.Addresses(), ","), "TOKEN="+c.Token, "CA_FINGERPRINT="+c.CAFingerprint(t),
		"state.source="+p.StateDir, "ON_REMOVE=delete")
	t.Logf("plugin %s installed and enabled in %s", ref, time.Since(start).Round(100*time.Millisecond))
	return p
}

// runDetached starts an arm64 container with volume at /data that waits
// for commands, and removes it when the test ends.
func runDetached(t *testing.T, name, volume string) string {
	t.Helper()
	_, _ = testbed.Docker(context.Background(), "rm", "-f", name)
	testbed.MustDocker(t, "run", "-d", "--name", name, "--label", "gluster-testbed=1", "-v", volume+":/data", baseImage, "sleep", "600")
	t.Cleanup(func() { _, _ = testbed.Docker(context.Background(), "rm", "-f", name) })
	return name
}

// emulated lists the command lines of the host's processes that run program
// (a base name) through the arm64 emulator. binfmt_misc starts the emulator
// with the program's path as its first argument.
func emulated(t *testing.T, program string) [][]string {
	t.Helper()
	emulator := emulatorPath(t)
	var found [][]string
	testbed.FindProcesses(func(_ procfs.Proc, args []string) bool {
		if len(args) >= 2 && args[0] == emulator && filepath.Base(args[1]) == program {
			found = append(found, args)
		}
		return false
	})
	return found
}

// emulatorPath reads which program the kernel starts for arm64 executables.
func emulatorPath(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(binfmtHandler)
	if err != nil {
		t.Fatalf("the arm64 emulator's binfmt_misc entry: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if path, ok := strings.CutPrefix(line, "interpreter "); ok {
			return path
		}
	}
	t.Fatalf("%s names no interpreter: %q", binfmtHandler, data)
	return ""
}
