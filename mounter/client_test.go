package mounter

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lines logged by the GlusterFS 10.3 client.
const (
	logStart       = `[2026-11-22 04:05:38.681624 +0000] I [MSGID: 100030] [glusterfsd.c:2767:main] 0-/usr/sbin/glusterfs: Started running version [{arg=/usr/sbin/glusterfs}, {version=10.3}]`
	logPid         = `[2026-11-22 04:05:38.682455 +0000] I [glusterfsd.c:2447:daemonize] 0-glusterfs: Pid of current running process is 31985`
	logNoVolume    = `[2026-11-22 04:05:38.686425 +0000] E [glusterfsd-mgmt.c:2170:mgmt_getspec_cbk] 0-glusterfs: failed to get the 'volume file' from server`
	logNoVolume2   = `[2026-11-22 04:05:38.686434 +0000] E [glusterfsd-mgmt.c:2371:mgmt_getspec_cbk] 0-mgmt: failed to fetch volume file (key:/nope)`
	logShutdown    = `[2026-11-22 04:05:38.686920 +0000] W [glusterfsd.c:1458:cleanup_and_exit] (-->/lib/x86_64-linux-gnu/libgfrpc.so.0(+0xfcc2) [0x7fbd7f044cc2] ) 0-: received signum (0), shutting down`
	logNoSubdir    = `[2026-11-22 04:05:38.759120 +0000] E [MSGID: 114044] [client-handshake.c:756:client_setvolume_cbk] 0-gv-client-0: SETVOLUME on remote-host failed [{remote-error=subdirectory for mount "/nodir" is not found}, {errno=2}, {error=No such file or directory}]`
	logAuth        = `[2026-11-22 04:05:55.054783 +0000] E [MSGID: 114044] [client-handshake.c:756:client_setvolume_cbk] 0-gv-client-0: SETVOLUME on remote-host failed [{remote-error=Authentication failed}, {errno=13}, {error=Permission denied}]`
	logFUSE        = `[2026-11-22 04:20:17.194246 +0000] E [mount.c:510:gf_fuse_mount] 0-glusterfs-fuse: mount of 172.30.88.11:/gv to /tmp/mx/t1 (default_permissions,allow_other,max_read=131072) failed`
	logBrickDown   = `[2026-11-22 04:21:46.169877 +0000] E [MSGID: 114058] [client-handshake.c:1193:client_query_portmap_cbk] 0-gv-client-0: failed to get the port number for remote subvolume. Please run gluster volume status on server to see if brick process is running`
	logGraph       = `  1: volume gv-client-0`
	logFUSENoPerm  = `/usr/bin/fusermount-glusterfs: mount failed: Operation not permitted`
	logInfoUnmount = `[2026-11-22 04:05:38.686944 +0000] I [fuse-bridge.c:7065:fini] 0-fuse: Unmounting '/tmp/mx/t1'.`
)

func TestClassify(t *testing.T) {
	testCases := []struct {
		name   string
		log    string
		output string
		want   error
	}{
		{name: "[Success] missing volume", log: lines(logStart, logNoVolume, logNoVolume2, logShutdown), want: ErrVolumeNotFound},
		{name: "[Success] missing subdirectory", log: lines(logStart, logNoSubdir), want: ErrSubdirNotFound},
		{name: "[Success] refused by auth.allow", log: lines(logStart, logAuth), want: ErrAccessDenied},
		{name: "[Success] kernel refuses the FUSE mount", log: lines(logStart, logFUSE), want: ErrMountNotPermitted},
		{name: "[Success] mount says the FUSE mount is not permitted", output: logFUSENoPerm, want: ErrMountNotPermitted},
		{name: "[Success] bricks down may pass", log: lines(logStart, logBrickDown), want: nil},
		{name: "[Success] fetch failure without a server answer may pass", log: lines(logStart, logNoVolume2), want: nil},
		{name: "[Success] empty log may pass", want: nil},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.log, tc.output); !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
				t.Errorf("classify() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMeaningfulLines(t *testing.T) {
	many := make([]string, 0, 15)
	for range 15 {
		many = append(many, logBrickDown)
	}
	testCases := []struct {
		name string
		log  string
		want []string
	}{
		{name: "[Success] errors and warnings only, without shutdown backtraces", log: lines(logStart, logPid, logNoVolume, logGraph, logNoVolume2, logShutdown, logInfoUnmount),
			want: []string{logNoVolume, logNoVolume2}},
		{name: "[Success] info lines when nothing is flagged", log: lines(logStart, logGraph, logPid),
			want: []string{logStart, logPid}},
		{name: "[Success] only the last ten", log: lines(append(many, logNoVolume)...),
			want: append(many[:9:9], logNoVolume)},
		{name: "[Success] nothing", log: "", want: nil},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got := meaningfulLines(tc.log)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("meaningfulLines() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestReadLogSince(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client.log")
	if got := readLogSince(file, logSize(file)); got != "" {
		t.Fatalf("missing log: got %q", got)
	}
	appendLog(t, file, "earlier attempt")
	offset := logSize(file)
	appendLog(t, file, "this attempt")
	if got := readLogSince(file, offset); got != "this attempt\n" {
		t.Errorf("after offset: got %q", got)
	}
	if err := os.WriteFile(file, []byte("rotated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readLogSince(file, offset); got != "rotated\n" {
		t.Errorf("after truncation: got %q", got)
	}
}

func TestIsClientOf(t *testing.T) {
	// This test binary is no gluster client of anything.
	if isClientOf(os.Getpid(), "/mnt/x") {
		t.Error("isClientOf(own pid) = true")
	}
	if isClientOf(1<<30, "/mnt/x") {
		t.Error("isClientOf(missing pid) = true")
	}
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }
