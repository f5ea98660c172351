package mounter

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
)

const glusterFSType = "fuse.glusterfs"

// IsMounted reports whether the mount table shows a gluster FUSE mount exactly
// at target, on top of anything else mounted there. Only the fstype proves it:
// an unmounted directory would let data land on local disk.
func (m *Mounter) IsMounted(target string) (bool, error) {
	_, ok, err := m.glusterMountAt(target)
	return ok, err
}

// staleCheckTimeout bounds the look at a mount: a live client that is slow
// to answer (its bricks unreachable) is not stale.
const staleCheckTimeout = 2 * time.Second

// IsStale reports whether target is a mount whose gluster client is gone, so
// that every access fails with "Transport endpoint is not connected". It asks
// the file system for its statistics: unlike stat, which the kernel may
// answer from its attribute cache, statfs always reaches the client.
func (m *Mounter) IsStale(target string) bool {
	result := make(chan error, 1)
	statfs := m.statfs
	if statfs == nil {
		statfs = syscall.Statfs
	}
	go func() {
		var st syscall.Statfs_t
		result <- statfs(target, &st)
	}()
	select {
	case err := <-result:
		return errors.Is(err, syscall.ENOTCONN)
	case <-time.After(staleCheckTimeout):
		return false
	}
}

// glusterMountAt returns the mount at target if it is a gluster mount. Of
// stacked mounts only the last one listed, the topmost, counts: it is the one
// that accesses reach.
func (m *Mounter) glusterMountAt(target string) (*mountinfo.Info, bool, error) {
	file := cmp.Or(m.MountInfo, DefaultMountInfo)
	f, err := os.Open(file)
	if err != nil {
		return nil, false, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	target = filepath.Clean(target)
	stacked, err := mountinfo.GetMountsFromReader(f, func(i *mountinfo.Info) (skip, stop bool) {
		return i.Mountpoint != target, false
	})
	if err != nil {
		return nil, false, fmt.Errorf("read mount table %s: %w", file, err)
	}
	if len(stacked) == 0 {
		return nil, false, nil
	}
	top := stacked[len(stacked)-1]
	return top, top.FSType == glusterFSType, nil
}
