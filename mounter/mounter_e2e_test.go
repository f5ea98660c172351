//go:build e2e

package mounter

// End-to-end tests against a real two-server GlusterFS cluster of the test
// bed (tests/testbed), mounted on this host. They need root, dockerd, the
// server image (make server-image) and mount.glusterfs:
//
//	go test -tags e2e -v -run TestE2E ./mounter/

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

const (
	e2eCluster = "mounterdev-e2e"
	e2eOctet   = 88
	e2eVolume  = "gv"
)

// Waits of the tests, each with room for a slow machine.
const (
	// A pool of two forms within seconds; glusterd may take longer to
	// come up on a loaded machine.
	e2ePoolTimeout = 90 * time.Second
	// Bricks come back within seconds of their server, and glusterd may
	// take a minute to notice a brick process.
	e2eBricksTimeout = time.Minute
	// A gluster client exits a moment after its FUSE session closes.
	e2eClientExitTimeout = 10 * time.Second
	// A killed client's mount answers ENOTCONN at once; unshare execs its
	// command as soon as the namespace is made.
	e2eQuickTimeout = 5 * time.Second
)

func TestE2E(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	c := startCluster(t)
	m := &Mounter{Logger: testLogger(t)}
	ctx := context.Background()
	first := c.Servers[0]

	t.Run("[Success] mount and write through it and unmount", func(t *testing.T) {
		req := e2eRequest(t, m, c, e2eVolume, "")
		elapsed := mountTimed(t, m, req)
		t.Logf("healthy mount took %s", elapsed)
		writeAndCheck(t, c, req, "hello")
		if err := os.MkdirAll(filepath.Join(req.Target, "apps"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := m.Unmount(ctx, req.Target); err != nil {
			t.Fatal(err)
		}
		if mounted, err := m.IsMounted(req.Target); mounted || err != nil {
			t.Fatalf("IsMounted() after Unmount = %v, %v", mounted, err)
		}
		// The client ends by itself once the kernel closed its FUSE session,
		// a moment after umount returned.
		testbed.Eventually(t, e2eQuickTimeout, "the gluster client to exit after unmounting", func() error {
			return noClientsOf(t, req.Target)
		})
	})

	t.Run("[Success] subdirectory", func(t *testing.T) {
		req := e2eRequest(t, m, c, e2eVolume, "apps")
		mountTimed(t, m, req)
		writeAndCheck(t, c, req, "in-subdir")
	})

	t.Run("[Success] mount already there is kept", func(t *testing.T) {
		req := e2eRequest(t, m, c, e2eVolume, "")
		mountTimed(t, m, req)
		mountTimed(t, m, req)
		if n := len(clientsOf(t, req.Target)); n != 1 {
			t.Errorf("%d gluster clients for the target, want 1", n)
		}
	})

	t.Run("[Error] mount in use is not detached", func(t *testing.T) {
		req := e2eRequest(t, m, c, e2eVolume, "")
		mountTimed(t, m, req)
		f, err := os.Open(filepath.Join(req.Target, "apps"))
		if err != nil {
			t.Fatal(err)
		}
		err = m.Unmount(ctx, req.Target)
		t.Logf("Unmount() while in use: %v", err)
		if !errors.Is(err, ErrBusy) {
			t.Errorf("Unmount() = %v, want ErrBusy", err)
		}
		if mounted, _ := m.IsMounted(req.Target); !mounted {
			t.Error("busy mount was detached")
		}
		f.Close()
		if err := m.Unmount(ctx, req.Target); err != nil {
			t.Errorf("Unmount() after closing = %v", err)
		}
	})

	t.Run("[Error] missing subdirectory fails at once", func(t *testing.T) {
		req := e2eRequest(t, m, c, e2eVolume, "no/such/dir")
		err := mountFails(t, m, req, ErrSubdirNotFound)
		t.Logf("error:\n%v", err)
	})

	t.Run("[Error] missing volume fails at once", func(t *testing.T) {
		req := e2eRequest(t, m, c, "nope", "")
		err := mountFails(t, m, req, ErrVolumeNotFound)
		for _, s := range append([]string{`"nope"`, "gluster volume info nope", "failed to get the 'volume file'"}, c.Addresses()...) {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error lacks %q", s)
			}
		}
		t.Logf("error:\n%v", err)
	})

	t.Run("[Success] mount whose client died is repaired and its consumers heal", func(t *testing.T) {
		req := e2eRequest(t, m, c, e2eVolume, "")
		// As Docker does for a plugin's mounts: the directory above the
		// mount is shared, and a consumer in another mount namespace holds
		// a copy of the mount that receives what is mounted on top of it.
		shareMounts(t, filepath.Dir(req.Target))
		pid, err := m.Mount(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if clients := clientsOf(t, req.Target); !slices.Equal(clients, []int{pid}) {
			t.Errorf("Mount() returned pid %d; clients of the target: %v", pid, clients)
		}
		writeAndCheck(t, c, req, "before")
		consumer := startConsumer(t)
		file := filepath.Join(req.Target, "before-0")
		if got, err := consumer.read(file); err != nil || got != "before-0" {
			t.Fatalf("consumer reads %q, %v before the client died", got, err)
		}

		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testbed.Eventually(t, e2eQuickTimeout, "mount to go stale", func() error {
			if !m.IsStale(req.Target) {
				return errors.New("the mount still answers")
			}
			return nil
		})
		if _, err := consumer.read(file); err == nil || !strings.Contains(err.Error(), "not connected") {
			t.Fatalf("consumer read through a dead client: %v, want Transport endpoint is not connected", err)
		}

		repaired, err := m.Mount(ctx, req)
		if err != nil {
			t.Fatalf("Mount() on a stale mount: %v", err)
		}
		if m.IsStale(req.Target) {
			t.Fatal("still stale after Mount()")
		}
		if clients := clientsOf(t, req.Target); len(clients) != 0 {
			t.Errorf("clients mounted on the target itself: %v, want none (the fresh one is bound from staging)", clients)
		}
		if got, err := consumer.read(file); err != nil || got != "before-0" {
			t.Errorf("consumer reads %q, %v after the repair, want the file", got, err)
		}
		writeAndCheck(t, c, req, "after")

		// Unmount removes the repaired mount and the dead one beneath.
		if err := m.Unmount(ctx, req.Target); err != nil {
			t.Fatal(err)
		}
		if mounted, _ := m.IsMounted(req.Target); mounted {
			t.Fatal("still mounted after Unmount")
		}
		consumer.stop()
		testbed.Eventually(t, e2eClientExitTimeout, "the repairing client to exit", func() error {
			if testbed.Alive(repaired) {
				return fmt.Errorf("client %d runs", repaired)
			}
			return nil
		})
	})

	t.Run("[Success] first server frozen", func(t *testing.T) {
		first.Pause(t)
		defer func() {
			first.Unpause(t)
			c.WaitBricksOnline(t, e2eVolume, e2eBricksTimeout)
		}()
		req := e2eRequest(t, m, c, e2eVolume, "")
		elapsed := mountTimed(t, m, req)
		t.Logf("mount with the first server frozen (docker pause) took %s", elapsed)
		writeAndCheckOn(t, c, req, "while-frozen", 1)
	})

	t.Run("[Success] first server stopped", func(t *testing.T) {
		// A probe just before the stop leaves this host's neighbour entry
		// for the server fresh, as after recent traffic.
		if live, _ := m.Probe(ctx, []string{first.Address}); len(live) != 1 {
			t.Fatal("first server not live before stopping it")
		}
		first.Stop(t)
		stopped := time.Now()
		defer func() {
			first.Start(t)
			c.WaitBricksOnline(t, e2eVolume, e2eBricksTimeout)
		}()

		req := e2eRequest(t, m, c, e2eVolume, "")
		elapsed := mountTimed(t, m, req)
		t.Logf("mount with the first server stopped just before took %s", elapsed)
		writeAndCheckOn(t, c, req, "just-stopped", 1)
		if err := m.Unmount(ctx, req.Target); err != nil {
			t.Fatal(err)
		}

		wait := time.Until(stopped.Add(90 * time.Second))
		t.Logf("waiting %s for this host to forget the stopped server", wait.Round(time.Second))
		time.Sleep(wait)
		elapsed = mountTimed(t, m, req)
		t.Logf("mount with the first server stopped long before took %s", elapsed)
		writeAndCheckOn(t, c, req, "long-stopped", 1)
	})

	t.Run("[Error] interrupted mount leaves nothing behind", func(t *testing.T) {
		first.Pause(t)
		defer func() {
			first.Unpause(t)
			c.WaitBricksOnline(t, e2eVolume, e2eBricksTimeout)
		}()
		// A probe that takes the frozen server for live makes mount hang on
		// its volume file, as when a server freezes right after the probe.
		fooled := &Mounter{Logger: m.Logger, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go answerPings(server)
			return client, nil
		}}
		req := e2eRequest(t, m, c, e2eVolume, "")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, err := fooled.Mount(ctx, req)
		t.Logf("Mount() returned after %s: %v", time.Since(start), err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Mount() = %v, want context.DeadlineExceeded", err)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("Mount() took %s after its context ended", time.Since(start))
		}
		if mounted, _ := m.IsMounted(req.Target); mounted {
			t.Error("mount left behind")
		}
		if clients := clientsOf(t, req.Target); len(clients) > 0 {
			t.Errorf("gluster clients left behind: %v", clients)
		}
	})

	t.Run("[Error] all servers down fails after the deadline", func(t *testing.T) {
		for _, s := range c.Servers {
			s.Stop(t)
		}
		short := &Mounter{Logger: m.Logger, Deadline: 5 * time.Second}
		req := e2eRequest(t, short, c, e2eVolume, "")
		start := time.Now()
		_, err := short.Mount(ctx, req)
		t.Logf("Mount() failed after %s:\n%v", time.Since(start), err)
		if !errors.Is(err, ErrNoServer) {
			t.Errorf("Mount() = %v, want ErrNoServer", err)
		}
		if err != nil && !strings.Contains(err.Error(), "unreachable on port 24007") {
			t.Errorf("error does not say that no server answered")
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("Mount() took %s with a deadline of 5s", time.Since(start))
		}
		if mounted, _ := m.IsMounted(req.Target); mounted {
			t.Error("mount left behind")
		}
	})
}

// startCluster starts two gluster servers with a replica 2 volume; the test
// bed removes them when the test ends.
func startCluster(t *testing.T) *testbed.Cluster {
	t.Helper()
	c := testbed.NewCluster(t, e2eCluster, e2eOctet, 2)
	c.StartAll(t)
	c.WaitPool(t, e2ePoolTimeout)
	if _, err := c.Servers[0].Client().Create(context.Background(), control.CreateRequest{Name: e2eVolume, Replica: 2}); err != nil {
		t.Fatalf("creating volume %s: %v", e2eVolume, err)
	}
	c.WaitBricksOnline(t, e2eVolume, e2eBricksTimeout)
	return c
}

// e2eRequest returns a request for the test cluster on a fresh target that is
// unmounted before the test's directories are removed.
func e2eRequest(t *testing.T, m *Mounter, c *testbed.Cluster, volume, subdir string) Request {
	dir := t.TempDir()
	req := Request{
		Volume:  volume,
		Subdir:  subdir,
		Servers: c.Addresses(),
		Bricks:  c.Addresses(),
		Target:  filepath.Join(dir, "mnt"),
		LogFile: filepath.Join(dir, "client.log"),
	}
	if err := os.Mkdir(req.Target, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(context.Background(), req.Target); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return req
}

func mountTimed(t *testing.T, m *Mounter, req Request) time.Duration {
	t.Helper()
	start := time.Now()
	_, err := m.Mount(context.Background(), req)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Mount() after %s: %v", elapsed, err)
	}
	if mounted, err := m.IsMounted(req.Target); !mounted || err != nil {
		t.Fatalf("IsMounted() after Mount = %v, %v", mounted, err)
	}
	if elapsed > 30*time.Second {
		t.Errorf("Mount() took %s", elapsed)
	}
	return elapsed
}

func mountFails(t *testing.T, m *Mounter, req Request, want error) error {
	t.Helper()
	start := time.Now()
	_, err := m.Mount(context.Background(), req)
	if !errors.Is(err, want) {
		t.Fatalf("Mount() = %v, want %v", err, want)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Mount() failed only after %s", elapsed)
	}
	if mounted, _ := m.IsMounted(req.Target); mounted {
		t.Error("mount left behind")
	}
	return err
}

// writeAndCheck writes a file through the mount and finds it on the bricks.
func writeAndCheck(t *testing.T, c *testbed.Cluster, req Request, name string) {
	t.Helper()
	for i := range c.Servers {
		writeAndCheckOn(t, c, req, fmt.Sprintf("%s-%d", name, i), i)
	}
}

// writeAndCheckOn writes a file through the mount and finds it on server i's brick.
func writeAndCheckOn(t *testing.T, c *testbed.Cluster, req Request, name string, i int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(req.Target, name), []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
	brickFile := filepath.Join(c.Servers[i].BrickDir(req.Volume), req.Subdir, name)
	if got, err := os.ReadFile(brickFile); err != nil || string(got) != name {
		t.Errorf("brick file %s holds %q, %v; want %q", brickFile, got, err, name)
	}
}

// clientsOf lists the gluster client processes serving target.
func clientsOf(t *testing.T, target string) []int {
	t.Helper()
	return testbed.FindProcesses(func(p procfs.Proc, _ []string) bool {
		return isClientOf(p.PID, target) && testbed.Alive(p.PID)
	})
}

// noClientsOf fails while a gluster client process serves target.
func noClientsOf(t *testing.T, target string) error {
	if clients := clientsOf(t, target); len(clients) > 0 {
		return fmt.Errorf("gluster clients %v serve %s", clients, target)
	}
	return nil
}

// shareMounts makes dir a shared mount of its own until the test ends.
func shareMounts(t *testing.T, dir string) {
	t.Helper()
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
}

// consumer is a process in a mount namespace of its own whose mounts are
// slave copies of this one's, as a container's volume mounts are.
type consumer struct{ cmd *exec.Cmd }

func startConsumer(t *testing.T) *consumer {
	t.Helper()
	cmd := exec.Command("unshare", "--mount", "--propagation", "slave", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &consumer{cmd: cmd}
	t.Cleanup(c.stop)
	// unshare execs sleep once the namespace is made.
	testbed.Eventually(t, e2eQuickTimeout, "the consumer's mount namespace", func() error {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
		if !strings.HasSuffix(exe, "/sleep") {
			return fmt.Errorf("consumer runs %q, %v", exe, err)
		}
		return nil
	})
	return c
}

// read reads a file in the consumer's mount namespace.
func (c *consumer) read(file string) (string, error) {
	out, err := exec.Command("nsenter", "--target", strconv.Itoa(c.cmd.Process.Pid), "--mount", "cat", file).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (c *consumer) stop() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}
