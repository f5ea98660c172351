package mounter

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// sealed reads the immutable flag of the directory beneath any mount on path.
func sealed(t *testing.T, path string) bool {
	t.Helper()
	dir, err := underlying(path)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	flags, err := unix.IoctlGetUint32(dir, unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatal(err)
	}
	return flags&fsImmutable != 0
}

// TestMountpointSeal needs root, a file system with immutable files for the
// test's temporary directory, and the right to mount a tmpfs.
func TestMountpointSeal(t *testing.T) {
	root := t.TempDir()
	if err := setImmutable(root, true); err != nil {
		t.Skipf("immutable directories unavailable here: %v", err)
	}
	if err := setImmutable(root, false); err != nil {
		t.Fatal(err)
	}
	m := &Mounter{}
	target := filepath.Join(root, "vol")
	if err := m.MakeMountpoint(target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = setImmutable(target, false) })
	// What a container given the bare mountpoint would do.
	if err := os.WriteFile(filepath.Join(target, "lost"), []byte("x"), 0o644); !errors.Is(err, syscall.EPERM) {
		t.Errorf("write into the sealed mountpoint: %v, want operation not permitted", err)
	}
	if err := m.MakeMountpoint(target); err != nil || !sealed(t, target) {
		t.Errorf("made again: %v, sealed %t", err, sealed(t, target))
	}

	if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(target, "kept"), []byte("x"), 0o644); err != nil {
		t.Errorf("write into what is mounted on the sealed mountpoint: %v", err)
	}
	m.SealMountpoints([]string{target}, false)
	if sealed(t, target) {
		t.Error("still sealed beneath the mount after SealMountpoints(false)")
	}
	m.SealMountpoints([]string{target}, true)
	if !sealed(t, target) {
		t.Error("not sealed beneath the mount after SealMountpoints(true)")
	}
	if err := m.RemoveMountpoint(target); !errors.Is(err, syscall.EBUSY) || !sealed(t, target) {
		t.Errorf("remove while mounted on: %v, sealed %t; want busy, sealed", err, sealed(t, target))
	}

	if err := unix.Unmount(target, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveMountpoint(target); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mountpoint left: %v", err)
	}
	if err := m.RemoveMountpoint(target); err != nil {
		t.Errorf("removing a missing mountpoint: %v", err)
	}
}
