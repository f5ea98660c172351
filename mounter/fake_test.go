package mounter

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/backoff"
)

// fakeHost stands in for the kernel's mount table, the mount and umount
// commands and the gluster servers.
type fakeHost struct {
	t         *testing.T
	mountInfo string

	busy bool // umount fails as for a mount in use

	mu     sync.Mutex
	mounts []string // mountinfo lines
	calls  [][]string
	probes map[string]int
	// live says whether server answers its probe number n (1-based).
	live func(server string, n int) bool
	// mount plays mount(8) for its call number n (1-based).
	mount func(ctx context.Context, n int, args []string) ([]byte, error)
}

func newFakeHost(t *testing.T) *fakeHost {
	f := &fakeHost{
		t:         t,
		mountInfo: filepath.Join(t.TempDir(), "mountinfo"),
		mounts:    []string{"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw"},
		probes:    make(map[string]int),
		live:      func(string, int) bool { return true },
	}
	f.writeMountInfo()
	return f
}

// mounter returns a Mounter on f whose waits are short enough for unit tests.
func (f *fakeHost) mounter() *Mounter {
	return &Mounter{
		Exec:           f.exec,
		Dial:           f.dial,
		MountInfo:      f.mountInfo,
		ProbeTimeout:   50 * time.Millisecond,
		Deadline:       2 * time.Second,
		Logger:         testLogger(f.t),
		retry:          backoff.Policy{First: time.Millisecond, Max: 5 * time.Millisecond, Jitter: 0.5},
		attemptTimeout: time.Second,
	}
}

func (f *fakeHost) exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]string{name}, args...))
	n := 0
	for _, c := range f.calls {
		if c[0] == name {
			n++
		}
	}
	f.mu.Unlock()
	switch name {
	case "mount":
		return f.mount(ctx, n, args)
	case "umount":
		if f.busy {
			return []byte("umount: " + args[len(args)-1] + ": target is busy."), fmt.Errorf("umount: exit status 32")
		}
		if !f.unmountTop(args[len(args)-1]) {
			return []byte("umount: not mounted."), fmt.Errorf("umount: exit status 32")
		}
		return nil, nil
	}
	f.t.Fatalf("unexpected command %s %v", name, args)
	return nil, nil
}

// callsOf returns the arguments of every call of the named command.
func (f *fakeHost) callsOf(name string) [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var calls [][]string
	for _, c := range f.calls {
		if c[0] == name {
			calls = append(calls, c[1:])
		}
	}
	return calls
}

// setMounted stacks a mount on target as the kernel would list it.
func (f *fakeHost) setMounted(target, fsType, source string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	escaped := strings.ReplaceAll(target, " ", `\040`)
	f.mounts = append(f.mounts, fmt.Sprintf("%d 22 0:%d / %s rw,relatime shared:2 - %s %s rw,user_id=0",
		100+len(f.mounts), 60+len(f.mounts), escaped, fsType, source))
	f.writeMountInfo()
}

// mountFromArgs mounts what a mount(8) argument list names.
func (f *fakeHost) mountFromArgs(args []string) {
	f.setMounted(args[len(args)-1], "fuse.glusterfs", args[len(args)-2])
}

func (f *fakeHost) unmountTop(target string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	escaped := strings.ReplaceAll(target, " ", `\040`)
	for i := len(f.mounts) - 1; i >= 0; i-- {
		if strings.Fields(f.mounts[i])[4] == escaped {
			f.mounts = append(f.mounts[:i], f.mounts[i+1:]...)
			f.writeMountInfo()
			return true
		}
	}
	return false
}

func (f *fakeHost) writeMountInfo() {
	if err := os.WriteFile(f.mountInfo, []byte(strings.Join(f.mounts, "\n")+"\n"), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeHost) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.probes[host]++
	live := f.live(host, f.probes[host])
	f.mu.Unlock()
	if !live {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	client, server := net.Pipe()
	go answerPings(server)
	return client, nil
}

// answerPings plays a glusterd that answers RPC calls.
func answerPings(c net.Conn) {
	defer c.Close()
	call := make([]byte, len(pingCall(0)))
	if _, err := io.ReadFull(c, call); err != nil {
		return
	}
	reply := binary.BigEndian.AppendUint32(nil, lastFragment|24)
	reply = append(reply, call[4:8]...) // xid
	for _, v := range []uint32{msgReply, 0, 0, 0, 0} {
		reply = binary.BigEndian.AppendUint32(reply, v)
	}
	c.Write(reply)
}

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu       sync.Mutex
	probes   map[string]bool // last probe result of each server
	finished []finishedMount
}

type finishedMount struct {
	attempts int
	err      error
}

func (r *recorder) ServerProbed(server string, live bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.probes == nil {
		r.probes = map[string]bool{}
	}
	r.probes[server] = live
}

func (r *recorder) MountFinished(attempts int, _ time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = append(r.finished, finishedMount{attempts, err})
}

// appendLog writes lines to a client log as glusterfs would.
func appendLog(t *testing.T, file string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter logs to a test until it ends: probes the mounter stopped
// waiting for log on after it returned.
type testWriter struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
