package mounter

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestBind(t *testing.T) {
	tests := []struct {
		name    string
		fsType  string // what the mount table shows at the target afterwards; "" nothing
		bindErr error
		wantErr error
	}{
		{"[Success] bind of a gluster directory", "fuse.glusterfs", nil, nil},
		{"[Error] the kernel refuses", "", syscall.EPERM, syscall.EPERM},
		{"[Error] nothing shows in the mount table", "", nil, errNotMounted},
		{"[Error] not a gluster mount", "ext4", nil, errNotMounted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHost(t)
			m := f.mounter()
			dir, err := os.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			target := t.TempDir()
			var source string
			m.bindMount = func(src, dst string) error {
				source = src
				if tc.fsType != "" {
					f.setMounted(dst, tc.fsType, "srv:/vol")
				}
				return tc.bindErr
			}
			err = m.Bind(dir, target)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Bind() = %v, want %v", err, tc.wantErr)
			}
			// The source is the open directory itself, never a path that
			// could be looked up anew.
			if want := fmt.Sprintf("/proc/self/fd/%d", dir.Fd()); source != want {
				t.Errorf("bound from %q, want %q", source, want)
			}
		})
	}
}
