package clients

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeCgroups lays out cgroup hierarchies as the kernel shows them, with
// cgroup.procs as plain files.
func fakeCgroups(t *testing.T, v2 bool) (root string, procs []string) {
	t.Helper()
	root = t.TempDir()
	dirs := []string{"."}
	if !v2 {
		dirs = []string{"cpu,cpuacct", "memory", "pids", "systemd"}
	}
	for _, d := range dirs {
		dir := filepath.Join(root, d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "cgroup.procs")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, file)
	}
	if !v2 {
		for _, link := range []string{"cpu", "cpuacct"} {
			if err := os.Symlink("cpu,cpuacct", filepath.Join(root, link)); err != nil {
				t.Fatal(err)
			}
		}
		// A file at the top is no hierarchy.
		if err := os.WriteFile(filepath.Join(root, "README"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, procs
}

// startProcess starts a process that runs until the test ends or it is
// signalled.
func startProcess(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDetach(t *testing.T) {
	for _, tc := range []struct {
		name string
		v2   bool
	}{
		{name: "[Success] cgroup v1: every controller's root"},
		{name: "[Success] cgroup v2: the unified root", v2: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cgroups, procs := fakeCgroups(t, tc.v2)
			file := filepath.Join(t.TempDir(), "clients.json")
			r, err := open(file, "/proc", cgroups, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			pid := startProcess(t).Process.Pid
			if err := r.Detach(pid, "gv"); err != nil {
				t.Fatal(err)
			}
			for _, f := range procs {
				if got, _ := os.ReadFile(f); string(got) != strconv.Itoa(pid) {
					t.Errorf("%s holds %q, want %d", f, got, pid)
				}
			}
			again, err := open(file, "/proc", cgroups, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			if len(again.clients) != 1 || again.clients[0].PID != pid || again.clients[0].Volume != "gv" {
				t.Errorf("the next instance adopted %+v, want client %d of gv", again.clients, pid)
			}
		})
	}
}

func TestDetachErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clients.json")
	pid := startProcess(t).Process.Pid
	for _, tc := range []struct {
		name    string
		cgroups string
		pid     int
		want    string
	}{
		{name: "[Error] no cgroup file system", cgroups: filepath.Join(t.TempDir(), "missing"), pid: pid, want: "mounted read-write"},
		{name: "[Error] no hierarchy in it", cgroups: t.TempDir(), pid: pid, want: "no cgroup hierarchy"},
		{name: "[Error] process gone", cgroups: t.TempDir(), pid: 1 << 30, want: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := open(file, "/proc", tc.cgroups, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			err = r.Detach(tc.pid, "gv")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Detach() = %v, want an error with %q", err, tc.want)
			}
			if len(r.clients) != 0 {
				t.Errorf("recorded %+v after a failed Detach", r.clients)
			}
		})
	}
}

func TestOpenForgetsExitedClients(t *testing.T) {
	cgroups, _ := fakeCgroups(t, true)
	file := filepath.Join(t.TempDir(), "clients.json")
	r, err := open(file, "/proc", cgroups, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	live, exited := startProcess(t), startProcess(t)
	for _, c := range []*exec.Cmd{live, exited} {
		if err := r.Detach(c.Process.Pid, "gv"); err != nil {
			t.Fatal(err)
		}
	}
	// A pid reused by another process is not the client.
	reused := Client{PID: live.Process.Pid, Started: 1, Volume: "other"}
	r.clients = append(r.clients, reused)
	if err := r.save(); err != nil {
		t.Fatal(err)
	}
	_ = exited.Process.Kill()
	_ = exited.Wait()

	again, err := open(file, "/proc", cgroups, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, c := range again.clients {
		pids = append(pids, c.PID)
	}
	if !slices.Equal(pids, []int{live.Process.Pid}) {
		t.Errorf("adopted clients %v, want only the running one %d", pids, live.Process.Pid)
	}
}

func TestOpenDamaged(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clients.json")
	if err := os.WriteFile(file, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := open(file, "/proc", t.TempDir(), quietLogger()); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("open(damaged) = %v, want an error saying what to do", err)
	}
}

func TestRelease(t *testing.T) {
	cgroups, _ := fakeCgroups(t, true)
	r, err := open(filepath.Join(t.TempDir(), "clients.json"), "/proc", cgroups, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	r.stopWait = 5 * time.Second
	released, other := startProcess(t), startProcess(t)
	if err := r.Detach(released.Process.Pid, "gv"); err != nil {
		t.Fatal(err)
	}
	if err := r.Detach(other.Process.Pid, "other"); err != nil {
		t.Fatal(err)
	}
	// The test reaps the signalled process, as the subreaper would.
	exited := make(chan error, 1)
	go func() { exited <- released.Wait() }()

	if err := r.Release("gv"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if !strings.Contains(fmt.Sprint(err), "terminated") {
			t.Errorf("released client ended with %v, want SIGTERM", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("released client still runs")
	}
	if len(r.clients) != 1 || r.clients[0].Volume != "other" {
		t.Errorf("clients after Release(gv) = %+v, want only other's", r.clients)
	}
	if !r.runs(r.clients[0]) {
		t.Error("the client of another volume was stopped")
	}
	if err := r.Release("gv"); err != nil {
		t.Errorf("Release() of a volume without clients = %v", err)
	}
}
