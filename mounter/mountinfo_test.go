package mounter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsMounted(t *testing.T) {
	const base = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n" +
		"25 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	testCases := []struct {
		name      string
		mountInfo string
		target    string
		want      bool
	}{
		{name: "[Success] gluster mount", target: "/mnt/gv", want: true,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw,relatime shared:33 - fuse.glusterfs 172.30.88.11:/gv rw,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072\n"},
		{name: "[Success] no optional fields", target: "/mnt/gv", want: true,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw,relatime - fuse.glusterfs 172.30.88.11:/gv rw\n"},
		{name: "[Success] several optional fields", target: "/mnt/gv", want: true,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw,relatime shared:33 master:2 propagate_from:1 - fuse.glusterfs 172.30.88.11:/gv rw\n"},
		{name: "[Success] escaped space in the mount point", target: "/mnt/my vol", want: true,
			mountInfo: base + `60 22 0:63 / /mnt/my\040vol rw,relatime - fuse.glusterfs 172.30.88.11:/gv rw` + "\n"},
		{name: "[Success] unclean target", target: "/mnt/gv/", want: true,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse.glusterfs s:/gv rw\n"},
		{name: "[Success] nothing mounted", target: "/mnt/gv", want: false, mountInfo: base},
		{name: "[Success] other FUSE file system", target: "/mnt/gv", want: false,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse.sshfs host:/ rw\n"},
		{name: "[Success] plain fuse", target: "/mnt/gv", want: false,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse s:/gv rw\n"},
		{name: "[Success] mount below the target", target: "/mnt/gv", want: false,
			mountInfo: base + "60 22 0:63 / /mnt/gv/sub rw - fuse.glusterfs s:/gv rw\n"},
		{name: "[Success] mount above the target", target: "/mnt/gv/sub", want: false,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse.glusterfs s:/gv rw\n"},
		{name: "[Success] repaired mount over a stale one", target: "/mnt/gv", want: true,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse.glusterfs s1:/gv rw\n61 60 0:64 / /mnt/gv rw - fuse.glusterfs s2:/gv rw\n"},
		{name: "[Success] gluster mount covered by another file system", target: "/mnt/gv", want: false,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse.glusterfs s:/gv rw\n61 60 0:64 / /mnt/gv rw - tmpfs tmpfs rw\n"},
		{name: "[Success] prefix of another mount point", target: "/mnt/g", want: false,
			mountInfo: base + "60 22 0:63 / /mnt/gv rw - fuse.glusterfs s:/gv rw\n"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "mountinfo")
			if err := os.WriteFile(file, []byte(tc.mountInfo), 0o644); err != nil {
				t.Fatal(err)
			}
			m := &Mounter{MountInfo: file}
			got, err := m.IsMounted(tc.target)
			if err != nil || got != tc.want {
				t.Errorf("IsMounted(%q) = %v, %v; want %v, nil", tc.target, got, err, tc.want)
			}
		})
	}
}

func TestIsMountedErrors(t *testing.T) {
	dir := t.TempDir()
	garbled := filepath.Join(dir, "garbled")
	if err := os.WriteFile(garbled, []byte("60 22 0:63 / /mnt/gv rw fuse.glusterfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testCases := []struct {
		name string
		file string
		want string
	}{
		{name: "[Error] missing mount table", file: filepath.Join(dir, "missing"), want: "read mount table"},
		{name: "[Error] garbled mount table", file: garbled, want: "not enough fields"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			m := &Mounter{MountInfo: tc.file}
			if _, err := m.IsMounted("/mnt/gv"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("IsMounted() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestIsStale(t *testing.T) {
	m := &Mounter{}
	if m.IsStale(t.TempDir()) {
		t.Error("IsStale(healthy directory) = true")
	}
	if m.IsStale(filepath.Join(t.TempDir(), "missing")) {
		t.Error("IsStale(missing directory) = true")
	}
}
