//go:build e2e

package mounter

// End-to-end tests against a real two-server GlusterFS cluster in Docker
// containers, mounted on this host. They need root, dockerd, the image
// gluster-server-base:bookworm and mount.glusterfs:
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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

const (
	e2eNetwork = "mounterdev-e2e"
	e2eSubnet  = "172.30.88.0/24"
	e2eImage   = "gluster-server-base:bookworm"
	e2eVolume  = "gv"
)

var e2eServers = []string{"172.30.88.21", "172.30.88.22"}

func e2eContainer(i int) string { return fmt.Sprintf("mounterdev-e2e-%d", i+1) }

func TestE2E(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	startCluster(t)
	m := &Mounter{Logger: testLogger(t)}
	ctx := context.Background()

	t.Run("[Success] mount and write through it and unmount", func(t *testing.T) {
		req := e2eRequest(t, m, e2eVolume, "")
		elapsed := mountTimed(t, m, req)
		t.Logf("healthy mount took %s", elapsed)
		writeAndCheck(t, req, "hello")
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
		waitFor(t, 5*time.Second, "the gluster client to exit after unmounting", func() bool {
			return len(clientsOf(t, req.Target)) == 0
		})
	})

	t.Run("[Success] subdirectory", func(t *testing.T) {
		req := e2eRequest(t, m, e2eVolume, "apps")
		mountTimed(t, m, req)
		writeAndCheck(t, req, "in-subdir")
	})

	t.Run("[Success] mount already there is kept", func(t *testing.T) {
		req := e2eRequest(t, m, e2eVolume, "")
		mountTimed(t, m, req)
		mountTimed(t, m, req)
		if n := len(clientsOf(t, req.Target)); n != 1 {
			t.Errorf("%d gluster clients for the target, want 1", n)
		}
	})

	t.Run("[Error] mount in use is not detached", func(t *testing.T) {
		req := e2eRequest(t, m, e2eVolume, "")
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
		req := e2eRequest(t, m, e2eVolume, "no/such/dir")
		err := mountFails(t, m, req, ErrSubdirNotFound)
		t.Logf("error:\n%v", err)
	})

	t.Run("[Error] missing volume fails at once", func(t *testing.T) {
		req := e2eRequest(t, m, "nope", "")
		err := mountFails(t, m, req, ErrVolumeNotFound)
		for _, s := range append([]string{`"nope"`, "gluster volume info nope", "failed to get the 'volume file'"}, e2eServers...) {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error lacks %q", s)
			}
		}
		t.Logf("error:\n%v", err)
	})

	t.Run("[Success] mount whose client died is repaired and its consumers heal", func(t *testing.T) {
		req := e2eRequest(t, m, e2eVolume, "")
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
		writeAndCheck(t, req, "before")
		consumer := startConsumer(t)
		file := filepath.Join(req.Target, "before-0")
		if got, err := consumer.read(file); err != nil || got != "before-0" {
			t.Fatalf("consumer reads %q, %v before the client died", got, err)
		}

		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "mount to go stale", func() bool { return m.IsStale(req.Target) })
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
		writeAndCheck(t, req, "after")

		// Unmount removes the repaired mount and the dead one beneath.
		if err := m.Unmount(ctx, req.Target); err != nil {
			t.Fatal(err)
		}
		if mounted, _ := m.IsMounted(req.Target); mounted {
			t.Fatal("still mounted after Unmount")
		}
		consumer.stop()
		waitFor(t, 10*time.Second, "the repairing client to exit", func() bool { return isZombie(repaired) })
	})

	t.Run("[Success] first server frozen", func(t *testing.T) {
		docker(t, "pause", e2eContainer(0))
		defer func() {
			docker(t, "unpause", e2eContainer(0))
			waitBricksOnline(t, 0)
		}()
		req := e2eRequest(t, m, e2eVolume, "")
		elapsed := mountTimed(t, m, req)
		t.Logf("mount with the first server frozen (docker pause) took %s", elapsed)
		writeAndCheckOn(t, req, "while-frozen", 1)
	})

	t.Run("[Success] first server stopped", func(t *testing.T) {
		// A probe just before the stop leaves this host's neighbour entry
		// for the server fresh, as after recent traffic.
		if live, _ := m.Probe(ctx, e2eServers[:1]); len(live) != 1 {
			t.Fatal("first server not live before stopping it")
		}
		docker(t, "stop", e2eContainer(0))
		stopped := time.Now()
		defer func() {
			docker(t, "start", e2eContainer(0))
			waitBricksOnline(t, 0)
		}()

		req := e2eRequest(t, m, e2eVolume, "")
		elapsed := mountTimed(t, m, req)
		t.Logf("mount with the first server stopped just before took %s", elapsed)
		writeAndCheckOn(t, req, "just-stopped", 1)
		if err := m.Unmount(ctx, req.Target); err != nil {
			t.Fatal(err)
		}

		wait := time.Until(stopped.Add(90 * time.Second))
		t.Logf("waiting %s for this host to forget the stopped server", wait.Round(time.Second))
		time.Sleep(wait)
		elapsed = mountTimed(t, m, req)
		t.Logf("mount with the first server stopped long before took %s", elapsed)
		writeAndCheckOn(t, req, "long-stopped", 1)
	})

	t.Run("[Error] interrupted mount leaves nothing behind", func(t *testing.T) {
		docker(t, "pause", e2eContainer(0))
		defer func() {
			docker(t, "unpause", e2eContainer(0))
			waitBricksOnline(t, 0)
		}()
		// A probe that takes the frozen server for live makes mount hang on
		// its volume file, as when a server freezes right after the probe.
		fooled := *m
		fooled.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go answerPings(server)
			return client, nil
		}
		req := e2eRequest(t, m, e2eVolume, "")
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
		docker(t, "stop", e2eContainer(0), e2eContainer(1))
		short := *m
		short.Deadline = 5 * time.Second
		req := e2eRequest(t, &short, e2eVolume, "")
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

// startCluster starts two gluster servers with a replica 2 volume and removes
// them when the test ends.
func startCluster(t *testing.T) {
	removeCluster()
	t.Cleanup(removeCluster)
	docker(t, "network", "create", "--subnet", e2eSubnet, e2eNetwork)
	for i, ip := range e2eServers {
		docker(t, "run", "-d", "--name", e2eContainer(i), "--network", e2eNetwork, "--ip", ip,
			"--cap-add", "SYS_ADMIN", "--tmpfs", "/run", e2eImage, "glusterd", "-N", "--log-file=-")
		docker(t, "exec", e2eContainer(i), "mkdir", "-p", "/bricks")
	}
	waitFor(t, 30*time.Second, "peer probe", func() bool {
		_, err := dockerTry(glusterArgs(0, "peer", "probe", e2eServers[1])...)
		return err == nil
	})
	var bricks []string
	for _, ip := range e2eServers {
		bricks = append(bricks, ip+":/bricks/"+e2eVolume)
	}
	waitFor(t, 30*time.Second, "volume create", func() bool {
		_, err := dockerTry(glusterArgs(0, append([]string{"volume", "create", e2eVolume, "replica", "2"}, append(bricks, "force")...)...)...)
		return err == nil
	})
	docker(t, glusterArgs(0, "volume", "start", e2eVolume)...)
	waitBricksOnline(t, 0)
}

func removeCluster() {
	for i := range e2eServers {
		dockerTry("unpause", e2eContainer(i))
		dockerTry("rm", "-f", e2eContainer(i))
	}
	dockerTry("network", "rm", e2eNetwork)
}

// waitBricksOnline waits until server i reports every brick online.
func waitBricksOnline(t *testing.T, i int) {
	t.Helper()
	waitFor(t, 60*time.Second, "bricks online", func() bool {
		out, err := dockerTry(glusterArgs(i, "volume", "status", e2eVolume)...)
		if err != nil {
			return false
		}
		online := 0
		for line := range strings.Lines(out) {
			if f := strings.Fields(line); len(f) >= 6 && f[0] == "Brick" && f[4] == "Y" {
				online++
			}
		}
		return online == len(e2eServers)
	})
}

func glusterArgs(i int, args ...string) []string {
	return append([]string{"exec", e2eContainer(i), "gluster", "--mode=script"}, args...)
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dockerTry(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dockerTry(args ...string) (string, error) {
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// e2eRequest returns a request for the test cluster on a fresh target that is
// unmounted before the test's directories are removed.
func e2eRequest(t *testing.T, m *Mounter, volume, subdir string) Request {
	dir := t.TempDir()
	req := Request{
		Volume:  volume,
		Subdir:  subdir,
		Servers: e2eServers,
		Bricks:  e2eServers,
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
func writeAndCheck(t *testing.T, req Request, name string) {
	t.Helper()
	for i := range e2eServers {
		writeAndCheckOn(t, req, fmt.Sprintf("%s-%d", name, i), i)
	}
}

// writeAndCheckOn writes a file through the mount and finds it on server i's brick.
func writeAndCheckOn(t *testing.T, req Request, name string, i int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(req.Target, name), []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
	brickFile := filepath.Join("/bricks", req.Volume, req.Subdir, name)
	if got := docker(t, "exec", e2eContainer(i), "cat", brickFile); got != name {
		t.Errorf("brick file %s on %s holds %q, want %q", brickFile, e2eContainer(i), got, name)
	}
}

var pidLine = regexp.MustCompile(`^[0-9]+$`)

// clientsOf lists the gluster client processes serving target.
func clientsOf(t *testing.T, target string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		if !pidLine.MatchString(e.Name()) {
			continue
		}
		pid, _ := strconv.Atoi(e.Name())
		if isClientOf(pid, target) && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
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
	waitFor(t, 5*time.Second, "the consumer's mount namespace", func() bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
		return strings.HasSuffix(exe, "/sleep")
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

// isZombie tells whether pid is gone or a zombie.
func isZombie(pid int) bool {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return true
	}
	stat, err := p.Stat()
	return err != nil || stat.State == "Z"
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
