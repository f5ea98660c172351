package selfheal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/glustercli"
	"github.com/prometheus/procfs"
)

// fakeProcs is a process file system in a directory, with the pid files
// its processes name.
type fakeProcs struct {
	t    *testing.T
	root string
	run  string // pid files
}

func newFakeProcs(t *testing.T) *fakeProcs {
	return &fakeProcs{t: t, root: t.TempDir(), run: t.TempDir()}
}

func (f *fakeProcs) pidFile(volume string) string {
	return shdPIDFile(f.run, volume)
}

// start adds a process; args is its command line.
func (f *fakeProcs) start(pid int, started uint64, args ...string) {
	dir := filepath.Join(f.root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	// Fields of /proc/PID/stat after the command name; the 20th is the
	// start time.
	rest := make([]string, 50)
	for i := range rest {
		rest[i] = "0"
	}
	rest[0], rest[1] = "S", "1"
	rest[19] = strconv.FormatUint(started, 10)
	stat := fmt.Sprintf("%d (glusterfs) %s\n", pid, strings.Join(rest, " "))
	f.write(filepath.Join(dir, "stat"), stat)
	f.write(filepath.Join(dir, "cmdline"), strings.Join(args, "\x00")+"\x00")
}

// shd adds a self-heal daemon of volume.
func (f *fakeProcs) shd(pid int, started uint64, volume string) {
	f.start(pid, started, "/usr/sbin/glusterfs", "-s", "localhost", "--volfile-id", "shd/"+volume,
		"-p", f.pidFile(volume), "-S", "/var/run/gluster/0123456789abcdef.socket",
		"--process-name", "glustershd", "--client-pid=-6")
}

// writePID writes volume's pid file, as glusterd does once it gave the
// volume to the daemon pid.
func (f *fakeProcs) writePID(volume string, pid int) {
	if err := os.MkdirAll(filepath.Dir(f.pidFile(volume)), 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.write(f.pidFile(volume), strconv.Itoa(pid)+"\n")
}

func (f *fakeProcs) write(file, content string) {
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeProcs) kill(pid int) error {
	return os.RemoveAll(filepath.Join(f.root, strconv.Itoa(pid)))
}

type fakeGluster struct {
	volumes  []glustercli.Volume
	statuses []glustercli.Status
	forced   []string
}

func (g *fakeGluster) Volumes(context.Context) ([]glustercli.Volume, error) { return g.volumes, nil }

func (g *fakeGluster) StatusAll(context.Context) ([]glustercli.Status, error) { return g.statuses, nil }

func (g *fakeGluster) StartForce(_ context.Context, name string) error {
	g.forced = append(g.forced, name)
	return nil
}

func newTestRepairer(t *testing.T, f *fakeProcs, g *fakeGluster) (*Repairer, *[]int) {
	proc, err := procfs.NewFS(f.root)
	if err != nil {
		t.Fatal(err)
	}
	var killed []int
	kill := func(pid int) error {
		killed = append(killed, pid)
		return f.kill(pid)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Repairer{gluster: g, self: "10.0.0.1", runDir: f.run, proc: proc, readFile: os.ReadFile, kill: kill, logger: logger}, &killed
}

// offline is `volume status all` on a server whose daemon of each of
// volumes glusterd reports offline; the other volume's runs.
func offline(volumes ...string) []glustercli.Status {
	out := []glustercli.Status{{Volume: "healthy", SelfHeal: []glustercli.Daemon{{Host: "localhost", Online: true}, {Host: "10.0.0.2", Online: false}}}}
	for _, v := range volumes {
		out = append(out, glustercli.Status{Volume: v, SelfHeal: []glustercli.Daemon{{Host: "localhost", Online: false}, {Host: "10.0.0.2", Online: true}}})
	}
	return out
}

func TestRepairer(t *testing.T) {
	tests := []struct {
		name string
		// setUp prepares the processes before the first check; between
		// runs, if set, changes them before the second.
		setUp, between func(f *fakeProcs)
		statuses       []glustercli.Status
		wantKilled     []int
		wantForced     []string
	}{
		{"[Success] a daemon its pid file names is left alone", func(f *fakeProcs) {
			f.shd(94, 1000, "survivor")
			f.writePID("survivor", 94)
		}, nil, offline(), nil, nil},
		{"[Success] a daemon replaced by a running one is left alone", func(f *fakeProcs) {
			// glusterd restarting the daemon: the new one has written
			// its pid, the old one has not exited yet.
			f.shd(94, 1000, "survivor")
			f.shd(133, 1200, "survivor")
			f.writePID("survivor", 133)
		}, nil, offline(), nil, nil},
		{"[Success] a lost daemon is stopped and its volumes' daemons started", func(f *fakeProcs) {
			// As seen on GlusterFS 10.3: the second daemon wrote its pid,
			// failed to bind the socket and exited.
			f.shd(94, 1000, "survivor")
			f.writePID("survivor", 133)
		}, nil, offline("survivor"), []int{94}, []string{"survivor"}},
		{"[Success] a daemon without a pid file is lost", func(f *fakeProcs) {
			f.shd(94, 1000, "survivor")
		}, nil, offline("survivor"), []int{94}, []string{"survivor"}},
		{"[Success] a daemon found lost once is left alone", func(f *fakeProcs) {
			f.shd(94, 1000, "survivor")
			f.writePID("survivor", 133)
		}, func(f *fakeProcs) {
			f.writePID("survivor", 94)
		}, offline("survivor"), nil, nil},
		{"[Success] a reused pid is another process", func(f *fakeProcs) {
			f.shd(94, 1000, "survivor")
			f.writePID("survivor", 133)
		}, func(f *fakeProcs) {
			_ = f.kill(94)
			f.shd(94, 5000, "survivor")
		}, offline("survivor"), nil, nil},
		{"[Success] other gluster processes are not daemons", func(f *fakeProcs) {
			f.start(125, 1000, "/usr/sbin/glusterfsd", "-s", "10.0.0.1", "-p", f.pidFile("brick"), "--process-name", "brick")
		}, nil, offline(), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &fakeGluster{statuses: tc.statuses}
			killed := checkTwice(t, g, tc.setUp, tc.between)
			if !slices.Equal(killed, tc.wantKilled) || !slices.Equal(g.forced, tc.wantForced) {
				t.Errorf("killed %v and started %v, want %v and %v", killed, g.forced, tc.wantKilled, tc.wantForced)
			}
		})
	}
}

func TestRepairerGivesUpOnADaemonThatStays(t *testing.T) {
	f := newFakeProcs(t)
	g := &fakeGluster{statuses: offline("survivor")}
	r, _ := newTestRepairer(t, f, g)
	r.kill = func(int) error { return nil } // SIGTERM ignored
	f.shd(94, 1000, "survivor")
	ctx, cancel := context.WithCancel(t.Context())
	if err := r.check(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := r.check(ctx); err == nil || len(g.forced) > 0 {
		t.Errorf("check = %v, started %v; want an error and no start while the lost daemon holds the socket", err, g.forced)
	}
}

// checkTwice runs two checks of a repairer of g's pool, on processes setUp
// prepares and between, if set, changes after the first; it fails the test
// if the first repaired anything, and returns the pids the second killed.
func checkTwice(t *testing.T, g *fakeGluster, setUp, between func(*fakeProcs)) []int {
	t.Helper()
	f := newFakeProcs(t)
	r, killed := newTestRepairer(t, f, g)
	setUp(f)
	if err := r.check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(*killed) > 0 || len(g.forced) > 0 {
		t.Fatalf("first check killed %v and started %v: what is wrong must be found twice", *killed, g.forced)
	}
	if between != nil {
		between(f)
	}
	if err := r.check(t.Context()); err != nil {
		t.Fatal(err)
	}
	return *killed
}
