package mounter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fsImmutable is FS_IMMUTABLE_FL of linux/fs.h, which x/sys/unix lacks: an
// inode no one may change, root included, without CAP_LINUX_IMMUTABLE.
const fsImmutable = 0x10

// A mountpoint is sealed, made immutable, whenever the plugin owns it: a
// container handed it while nothing is mounted on it then reads an empty
// directory and fails to write, instead of writing to the host's disk where
// the volume should be. Docker 20.10 hands out such directories: after
// `docker plugin disable` it unmounts the plugin's mounts from a goroutine of
// its own, which may run after a quick `enable` has started the plugin
// again and its new mounts were given to containers. The seal is set on the
// directory beneath any mount (see underlying), so it holds however many
// mounts come and go on top.

// MakeMountpoint creates the directory path for a mount, if it is missing,
// and seals it. A directory that cannot be sealed (a file system without
// the flag, no CAP_LINUX_IMMUTABLE) is still made, with a warning.
func (m *Mounter) MakeMountpoint(path string) error {
	// Not MkdirAll: it would look at a dead mount on path and fail.
	if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("making mountpoint %s: %w", path, err)
	}
	m.warnUnsealed(path, setImmutable(path, true))
	return nil
}

// RemoveMountpoint unseals and removes a mountpoint nothing is mounted on;
// one still mounted on stays, sealed.
func (m *Mounter) RemoveMountpoint(path string) error {
	unsealErr := setImmutable(path, false)
	err := os.Remove(path)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return nil
	case unsealErr == nil:
		m.warnUnsealed(path, setImmutable(path, true))
	}
	return fmt.Errorf("removing mountpoint %s: %w", path, err)
}

// SealMountpoints seals or unseals existing mountpoints, whatever is
// mounted on them: sealed while the plugin runs, unsealed when it stops,
// so that Docker can remove the plugin's directory.
func (m *Mounter) SealMountpoints(paths []string, sealed bool) {
	for _, path := range paths {
		m.warnUnsealed(path, setImmutable(path, sealed))
	}
}

func (m *Mounter) warnUnsealed(path string, err error) {
	if err == nil {
		return
	}
	log := m.logger().Warn
	if m.sealWarned.Swap(true) {
		log = m.logger().Debug
	}
	log("mountpoint not sealed: a container given it while nothing is mounted on it could write to this host's disk",
		"path", path, "error", err,
		"hint", "the plugin needs CAP_LINUX_IMMUTABLE and a file system with immutable files (ext4, xfs, btrfs) under its mounts")
}

// setImmutable sets or clears the immutable flag of the directory path, the
// directory itself and not the root of what may be mounted on it.
func setImmutable(path string, on bool) error {
	dir, err := underlying(path)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	flags, err := unix.IoctlGetUint32(dir, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("reading the flags of %s: %w", path, err)
	}
	want := flags &^ fsImmutable
	if on {
		want |= fsImmutable
	}
	if want == flags {
		return nil
	}
	if err := unix.IoctlSetPointerInt(dir, unix.FS_IOC_SETFLAGS, int(want)); err != nil {
		return fmt.Errorf("setting the flags of %s: %w", path, err)
	}
	return nil
}

// underlying opens the directory path as it is beneath any mount on it:
// through a copy of its parent's mount that has none of the mounts below it
// (open_tree(2) without AT_RECURSIVE), detached from every mount table.
func underlying(path string) (int, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, filepath.Dir(path), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("copying the mount of %s: %w", filepath.Dir(path), err)
	}
	defer unix.Close(tree)
	dir, err := unix.Openat(tree, filepath.Base(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening %s: %w", path, err)
	}
	return dir, nil
}
