package mounter

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestUnmount(t *testing.T) {
	const target = "/mnt/my vol"
	testCases := []struct {
		name string
		// stack is how many gluster mounts sit on target.
		stack   int
		other   bool // a non-gluster mount on target
		busy    bool
		wantErr error
		wantRun int
	}{
		{name: "[Success] not mounted", stack: 0},
		{name: "[Success] mounted", stack: 1, wantRun: 1},
		{name: "[Success] repaired mount over a stale one", stack: 2, wantRun: 2},
		{name: "[Success] other file systems are left alone", other: true},
		{name: "[Error] busy", stack: 1, busy: true, wantErr: ErrBusy, wantRun: 1},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHost(t)
			for range tc.stack {
				f.setMounted(target, "fuse.glusterfs", "s1:/gv")
			}
			if tc.other {
				f.setMounted(target, "tmpfs", "tmpfs")
			}
			f.busy = tc.busy
			m := f.mounter()
			err := m.Unmount(context.Background(), target)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Unmount() = %v, want %v", err, tc.wantErr)
			}
			if runs := len(f.callsOf("umount")); runs != tc.wantRun {
				t.Errorf("umount ran %d times, want %d", runs, tc.wantRun)
			}
			for _, c := range f.callsOf("umount") {
				if !slices.Equal(c, []string{"-c", target}) {
					t.Errorf("umount args %q", c)
				}
			}
			if mounted, _ := m.IsMounted(target); mounted != tc.busy {
				t.Errorf("IsMounted() = %v after Unmount() = %v", mounted, err)
			}
		})
	}
}
