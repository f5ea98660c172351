package mounter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMount(t *testing.T) {
	exit1 := errors.New("mount: exit status 1")
	testCases := []struct {
		name string
		// live says whether a server answers its probe number n.
		live     func(server string, n int) bool
		mount    func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error)
		deadline time.Duration
		// cancel cancels the caller's context when mount runs.
		cancel bool

		wantErr    error    // nil for success
		wantText   []string // in the error
		wantMounts int      // runs of mount
		wantArgs   []string // of the last run of mount
	}{
		{
			name: "[Success] first server serves the volume and the others are backups",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				f.mountFromArgs(args)
				return nil, nil
			},
			wantMounts: 1,
			wantArgs:   []string{"-t", "glusterfs", "-o", "backup-volfile-servers=s2:s3,log-file=LOG", "s1:/gv", "TARGET"},
		},
		{
			name: "[Success] dead first server goes last and only its bricks get the short timeout",
			live: func(s string, n int) bool { return s != "s1" },
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				f.mountFromArgs(args)
				return nil, nil
			},
			wantMounts: 1,
			wantArgs: []string{"-t", "glusterfs", "-o",
				"backup-volfile-servers=s3:s1,log-file=LOG,xlator-option=gv-client-0.transport.tcp-user-timeout=1", "s2:/gv", "TARGET"},
		},
		{
			name: "[Success] retries until mount works",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				if n < 3 {
					appendLog(f.t, req.LogFile, logBrickDown)
					return []byte("Mount failed. Check the log file for more details."), exit1
				}
				f.mountFromArgs(args)
				return nil, nil
			},
			wantMounts: 3,
		},
		{
			name: "[Success] waits for a server to come up",
			live: func(s string, n int) bool { return n > 3 },
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				f.mountFromArgs(args)
				return nil, nil
			},
			wantMounts: 1,
		},
		{
			name: "[Success] exit 0 with nothing mounted is retried",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				if n > 1 {
					f.mountFromArgs(args)
				}
				return nil, nil
			},
			wantMounts: 2,
		},
		{
			name: "[Error] missing volume fails at once",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				appendLog(f.t, req.LogFile, logStart, logNoVolume, logNoVolume2, logShutdown)
				return []byte("Mounting glusterfs on TARGET failed."), exit1
			},
			wantErr:    ErrVolumeNotFound,
			wantMounts: 1,
			wantText: []string{`volume "gv"`, "servers tried in order: s1, s2, s3", "1 attempt in", "gluster volume info gv",
				"failed to get the 'volume file' from server", "mount said: Mounting glusterfs"},
		},
		{
			name: "[Error] missing subdirectory fails at once although mount exits 0",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				appendLog(f.t, req.LogFile, logNoSubdir)
				return nil, nil
			},
			wantErr:    ErrSubdirNotFound,
			wantMounts: 1,
			wantText:   []string{"subdirectory does not exist", `"/nodir" is not found`},
		},
		{
			name: "[Error] refused client fails at once",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				appendLog(f.t, req.LogFile, logAuth)
				return nil, nil
			},
			wantErr:    ErrAccessDenied,
			wantMounts: 1,
			wantText:   []string{"auth.allow"},
		},
		{
			name: "[Error] FUSE mount without CAP_SYS_ADMIN fails at once",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				appendLog(f.t, req.LogFile, logFUSE)
				return []byte(logFUSENoPerm), nil
			},
			wantErr:    ErrMountNotPermitted,
			wantMounts: 1,
			wantText:   []string{"CAP_SYS_ADMIN"},
		},
		{
			name:     "[Error] no server answers until the deadline",
			live:     func(string, int) bool { return false },
			deadline: 100 * time.Millisecond,
			wantErr:  ErrNoServer,
			wantText: []string{"gave up after 100ms", "unreachable on port 24007: s1, s2, s3", "no server answered",
				"check that glusterd runs on the servers and that this host can reach them on port 24007"},
		},
		{
			name: "[Error] nothing mounted until the deadline",
			// Long enough that a loaded machine still probes in time
			// on the last attempt.
			deadline: 500 * time.Millisecond,
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				appendLog(f.t, req.LogFile, fmt.Sprintf("%s attempt %d", logBrickDown, n))
				return nil, nil
			},
			wantErr:  errNotMounted,
			wantText: []string{"gave up after 500ms", "nothing is mounted", "attempts in"},
		},
		{
			name:     "[Error] hung mount is interrupted and what it mounted removed",
			deadline: 150 * time.Millisecond,
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				// glusterfs mounts at once and then waits for the volume file.
				f.mountFromArgs(args)
				<-ctx.Done()
				return nil, fmt.Errorf("mount: %w", ctx.Err())
			},
			wantErr:  errMountTimeout,
			wantText: []string{"mount did not finish within"},
		},
		{
			name: "[Error] failed attempt that mounted something is cleaned up",
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				f.mountFromArgs(args)
				appendLog(f.t, req.LogFile, logNoVolume)
				return nil, exit1
			},
			wantErr:    ErrVolumeNotFound,
			wantMounts: 1,
		},
		{
			name:   "[Error] mount finishing after the caller gave up is removed",
			cancel: true,
			mount: func(f *fakeHost, req Request, ctx context.Context, n int, args []string) ([]byte, error) {
				f.mountFromArgs(args)
				return nil, nil
			},
			wantErr:    context.Canceled,
			wantMounts: 1,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHost(t)
			dir := t.TempDir()
			req := Request{
				Volume:  "gv",
				Servers: []string{"s1", "s2", "s3"},
				Bricks:  []string{"s1", "s2"},
				Target:  filepath.Join(dir, "target"),
				LogFile: filepath.Join(dir, "client.log"),
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.live != nil {
				f.live = tc.live
			}
			f.mount = func(ctx context.Context, n int, args []string) ([]byte, error) {
				if tc.cancel {
					cancel()
				}
				if tc.mount == nil {
					t.Fatal("mount ran")
				}
				return tc.mount(f, req, ctx, n, args)
			}
			m := f.mounter()
			rec := &recorder{}
			m.Observer = rec
			if tc.deadline != 0 {
				m.Deadline = tc.deadline
				m.attemptTimeout = tc.deadline / 3
			}

			start := time.Now()
			_, err := m.Mount(ctx, req)
			t.Logf("Mount() after %s: %v", time.Since(start), err)

			if tc.wantErr == nil && err != nil {
				t.Fatalf("Mount() = %v, want success", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Mount() = %v, want %v", err, tc.wantErr)
			}
			for _, s := range tc.wantText {
				if s = strings.NewReplacer("TARGET", req.Target).Replace(s); !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q", s)
				}
			}
			mounts := f.callsOf("mount")
			if tc.wantMounts != 0 && len(mounts) != tc.wantMounts {
				t.Errorf("mount ran %d times, want %d", len(mounts), tc.wantMounts)
			}
			if tc.wantArgs != nil {
				want := make([]string, len(tc.wantArgs))
				for i, a := range tc.wantArgs {
					want[i] = strings.NewReplacer("LOG", req.LogFile, "TARGET", req.Target).Replace(a)
				}
				if got := mounts[len(mounts)-1]; !slices.Equal(got, want) {
					t.Errorf("mount args =\n%q\nwant\n%q", got, want)
				}
			}
			if len(rec.finished) != 1 || rec.finished[0].err != err || rec.finished[0].attempts < max(1, len(mounts)) {
				t.Errorf("observer told %+v, want one mount of at least %d attempts ending in %v", rec.finished, len(mounts), err)
			}
			mounted, merr := m.IsMounted(req.Target)
			if merr != nil || mounted != (tc.wantErr == nil) {
				t.Errorf("IsMounted() = %v, %v after Mount() = %v", mounted, merr, err)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("Mount took %s", time.Since(start))
			}
		})
	}
}

func TestMountExisting(t *testing.T) {
	testCases := []struct {
		name     string
		source   string
		fsType   string
		stale    bool // the client of the mount on the target is gone
		bindErr  error
		wantErr  error
		wantRuns int
		wantBind bool // a fresh mount was bound over the target
	}{
		{name: "[Success] healthy mount of the same volume is kept", source: "s2:/gv/sub", fsType: "fuse.glusterfs", wantRuns: 0},
		{name: "[Success] other file system on the target is mounted over", source: "tmpfs", fsType: "tmpfs", wantRuns: 1},
		{name: "[Success] stale mount of the same volume gets a fresh one stacked over it", source: "s2:/gv/sub", fsType: "fuse.glusterfs",
			stale: true, wantRuns: 1, wantBind: true},
		{name: "[Error] stale mount that cannot be covered leaves no staging mount", source: "s2:/gv/sub", fsType: "fuse.glusterfs",
			stale: true, bindErr: syscall.EPERM, wantErr: syscall.EPERM, wantRuns: 1},
		{name: "[Error] other volume on the target", source: "s1:/other", fsType: "fuse.glusterfs", wantErr: ErrAlreadyMounted},
		{name: "[Error] other subdirectory on the target", source: "s1:/gv", fsType: "fuse.glusterfs", wantErr: ErrAlreadyMounted},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHost(t)
			dir := t.TempDir()
			req := Request{Volume: "gv", Subdir: "sub", Servers: []string{"s1", "s2"}, Target: dir, LogFile: filepath.Join(dir, "log")}
			f.setMounted(dir, tc.fsType, tc.source)
			f.mount = func(ctx context.Context, n int, args []string) ([]byte, error) {
				f.mountFromArgs(args)
				return nil, nil
			}
			m := f.mounter()
			m.StagingDir = t.TempDir()
			m.statfs = func(path string, _ *syscall.Statfs_t) error {
				if tc.stale && path == dir && len(f.callsOf("mount")) == 0 {
					return syscall.ENOTCONN
				}
				return nil
			}
			var bound []string
			m.bindMount = func(source, target string) error {
				if tc.bindErr != nil {
					return tc.bindErr
				}
				bound = append(bound, source, target)
				f.setMounted(target, "fuse.glusterfs", tc.source)
				return nil
			}

			_, err := m.Mount(context.Background(), req)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Mount() = %v, want %v", err, tc.wantErr)
			}
			runs := f.callsOf("mount")
			if len(runs) != tc.wantRuns {
				t.Fatalf("mount ran %d times, want %d", len(runs), tc.wantRuns)
			}
			if !tc.stale {
				return
			}
			stage := runs[0][len(runs[0])-1]
			if filepath.Dir(stage) != m.StagingDir {
				t.Errorf("fresh mount made on %s, want a directory in %s", stage, m.StagingDir)
			}
			if want := []string{stage, dir}; tc.wantBind && !slices.Equal(bound, want) {
				t.Errorf("bind mounts (source, target) = %q, want %q", bound, want)
			}
			if mounted, _ := m.IsMounted(stage); mounted {
				t.Error("staging mount left behind")
			}
			if entries, _ := os.ReadDir(m.StagingDir); len(entries) > 0 {
				t.Errorf("staging directory left behind: %v", entries)
			}
		})
	}
}
