package driver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/glusterdocker/gluster/control"
)

// bindRoot holds the bind mounts of subdirectory volumes, one per Docker
// volume, beside the gluster mounts: a name that starts with '.' is no
// gluster volume name.
const bindRoot = ".subdirs"

// beneath resolves one path component inside the directory it is opened
// from and nothing else: no symbolic link, no /proc magic link, no step
// out of the directory or onto another mount.
var beneath = unix.OpenHow{
	Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
}

// openVolumeDir opens the directory a volume hands to containers, root or
// a subdirectory of it, and applies the volume's owner and mode the first
// time. A subdirectory is walked from root one component at a time,
// creating what is missing, and never through a symbolic link: any
// container that can write the gluster volume can plant one, and Docker
// resolves the path a mount returns in the host's mount namespace.
func openVolumeDir(root string, v volumeState, opts Options) (*os.File, error) {
	dir, err := os.OpenFile(root, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	if opts.Subdir != "" {
		sub, err := openSubdir(dir, v.Gluster, opts.Subdir)
		dir.Close()
		if err != nil {
			return nil, fmt.Errorf("subdir %s: %w", opts.Subdir, err)
		}
		dir = sub
	}
	if !v.Prepared {
		if err := applyOwnerAndMode(dir, opts); err != nil {
			dir.Close()
			return nil, err
		}
	}
	return dir, nil
}

// openSubdir opens subdir beneath root, creating missing directories.
func openSubdir(root *os.File, gluster, subdir string) (*os.File, error) {
	cur := root
	parts := strings.Split(subdir, "/")
	for i, part := range parts {
		fd, err := openOrCreate(int(cur.Fd()), part)
		link := err != nil && isLink(int(cur.Fd()), part)
		if cur != root {
			cur.Close()
		}
		walked := strings.Join(parts[:i+1], "/")
		switch {
		case link, errors.Is(err, unix.ELOOP):
			return nil, fmt.Errorf("%s is a symbolic link inside gluster volume %s; refusing to follow it", walked, gluster)
		case errors.Is(err, unix.EXDEV):
			return nil, fmt.Errorf("%s leads out of gluster volume %s; refusing to follow it", walked, gluster)
		case errors.Is(err, unix.ENOTDIR):
			return nil, fmt.Errorf("%s is not a directory inside gluster volume %s: remove it or choose another subdir", walked, gluster)
		case err != nil:
			return nil, fmt.Errorf("opening %s inside gluster volume %s: %w", walked, gluster, err)
		}
		cur = os.NewFile(uintptr(fd), filepath.Join(root.Name(), walked))
	}
	return cur, nil
}

// isLink reports whether name in dir is a symbolic link: opening one as a
// directory without following it fails with ENOTDIR, as a file does.
func isLink(dir int, name string) bool {
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// openOrCreate opens the directory name in dir, making it first if it is
// missing; mkdirat never follows a link either.
func openOrCreate(dir int, name string) (int, error) {
	fd, err := openat2(dir, name)
	if !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	if err := unix.Mkdirat(dir, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("creating %s: %w", name, err)
	}
	return openat2(dir, name)
}

func openat2(dir int, name string) (int, error) {
	how := beneath
	for {
		fd, err := unix.Openat2(dir, name, &how)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

// applyOwnerAndMode sets the owner and mode of the open directory, through
// its file descriptor, never through a path.
func applyOwnerAndMode(dir *os.File, opts Options) error {
	if opts.UID != nil || opts.GID != nil {
		// -1 is chown's "leave unchanged" (uid_t)-1; ids are below it.
		uid, gid := -1, -1
		if opts.UID != nil {
			uid = int(*opts.UID)
		}
		if opts.GID != nil {
			gid = int(*opts.GID)
		}
		if err := unix.Fchown(int(dir.Fd()), uid, gid); err != nil {
			return fmt.Errorf("setting the owner of %s: %w", dir.Name(), err)
		}
	}
	if opts.Mode != nil {
		if err := unix.Fchmod(int(dir.Fd()), *opts.Mode); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", dir.Name(), err)
		}
	}
	return nil
}

// bindpoint is where a subdirectory volume is bound for Docker.
func (d *Driver) bindpoint(docker string) string {
	return filepath.Join(d.cfg.MountRoot, bindRoot, docker)
}

// attach makes a volume ready for containers on the host's mount of its
// gluster volume at root: it opens the volume's directory, applies owner
// and mode the first time and, for a subdirectory volume, binds the opened
// directory on the volume's bindpoint. The bind pins that directory:
// replacing it with a link later changes nothing for this mount. A healthy
// bind already in place is kept; a dead one (its client gone) gets a fresh
// one stacked over it, so that running containers heal.
func (d *Driver) attach(v volumeState, root string) error {
	opts, err := ParseOptions(v.Options)
	if err != nil {
		return err
	}
	target := d.bindpoint(v.Name)
	if opts.Subdir != "" && d.healthy(target) {
		return nil
	}
	dir, err := openVolumeDir(root, v, opts)
	if err != nil {
		return err
	}
	defer dir.Close()
	if opts.Subdir == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := d.mounter.MakeMountpoint(target); err != nil {
		return err
	}
	if err := d.mounter.Bind(dir, target); err != nil {
		d.removeBindpoint(target)
		return err
	}
	return nil
}

// unbind removes a subdirectory volume's bind, once no container on this
// host uses the volume.
func (d *Driver) unbind(docker string) error {
	ctx, cancel := context.WithTimeout(context.Background(), unmountTimeout)
	defer cancel()
	target := d.bindpoint(docker)
	if err := d.mounter.Unmount(ctx, target); err != nil {
		return fmt.Errorf("unmounting volume %s: %w", docker, err)
	}
	d.removeBindpoint(target)
	return nil
}

func (d *Driver) removeBindpoint(target string) {
	if err := d.mounter.RemoveMountpoint(target); err != nil {
		d.logger.Warn("removing a bindpoint", "path", target, "error", err)
	}
}

// releaseStrayBinds removes the binds of subdirectory volumes that no
// container uses any more, left by a plugin that stopped before it could.
func (d *Driver) releaseStrayBinds() {
	for _, docker := range d.bindpoints() {
		if v, ok := d.state(docker); ok && v.references() > 0 {
			continue
		}
		if err := d.unbind(docker); err != nil {
			d.logger.Warn("releasing the bind of an unused volume", "volume", docker, "error", err)
		}
	}
}

// findSubvolume finds a subdirectory volume, created on any host, among
// the subdirectory volumes the gluster volumes record.
func findSubvolume(vols map[string]control.Volume, name string) (volumeState, bool) {
	key, err := control.SubvolumeOption(name)
	if err != nil {
		return volumeState{}, false
	}
	for _, gluster := range slices.Sorted(maps.Keys(vols)) {
		// A removed one keeps its option, with a value no subdir has.
		if subdir, ok := vols[gluster].Options[key]; ok && control.ValidateSubdir(subdir) == nil {
			return fromSubvolume(name, vols[gluster], subdir), true
		}
	}
	return volumeState{}, false
}

func fromSubvolume(name string, cv control.Volume, subdir string) volumeState {
	v := fromCluster(name, cv)
	v.Options = map[string]string{"volume": cv.Name, "subdir": subdir}
	if pool, ok := strings.CutPrefix(cv.Options[DockerVolumeOption], poolPrefix); ok {
		v.Options["pool"] = pool
	}
	return v
}

// forgetSubvolume takes a subdirectory volume off the record of its
// gluster volume, so that the gluster volume can be deleted again.
func (d *Driver) forgetSubvolume(ctx context.Context, v volumeState) error {
	if v.Options["subdir"] == "" {
		return nil
	}
	err := d.cluster.RemoveSubvolume(ctx, v.Gluster, v.Name)
	if err != nil && !errors.Is(err, control.ErrNotFound) {
		return fmt.Errorf("removing volume %s: taking it off gluster volume %s: %w", v.Name, v.Gluster, err)
	}
	d.cache.relabel(v.Gluster, func(options map[string]string) { setSubvolume(options, v.Name, "") })
	return nil
}

// setSubvolume records in a gluster volume's options, as the servers do,
// that Docker volume docker is its subdirectory subdir; "" forgets it.
func setSubvolume(options map[string]string, docker, subdir string) {
	key, err := control.SubvolumeOption(docker)
	if err != nil {
		return
	}
	if subdir == "" {
		delete(options, key)
	} else {
		options[key] = subdir
	}
}
