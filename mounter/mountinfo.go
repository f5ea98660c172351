package mounter

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const glusterFSType = "fuse.glusterfs"

// mountEntry is the part of a mountinfo line this package needs.
type mountEntry struct {
	mountPoint string
	fsType     string
	source     string
}

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
func (m *Mounter) glusterMountAt(target string) (mountEntry, bool, error) {
	file := cmp.Or(m.MountInfo, DefaultMountInfo)
	data, err := os.ReadFile(file)
	if err != nil {
		return mountEntry{}, false, fmt.Errorf("read mount table: %w", err)
	}
	entries, err := parseMountInfo(string(data))
	if err != nil {
		return mountEntry{}, false, fmt.Errorf("read mount table %s: %w", file, err)
	}
	target = filepath.Clean(target)
	var top mountEntry
	for _, e := range entries {
		if e.mountPoint == target {
			top = e
		}
	}
	return top, top.fsType == glusterFSType, nil
}

// parseMountInfo parses the format of proc(5)'s mountinfo:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// where a variable number of optional fields precedes the "-".
func parseMountInfo(data string) ([]mountEntry, error) {
	var entries []mountEntry
	for i, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		sep := -1
		for j := 6; j < len(fields); j++ {
			if fields[j] == "-" {
				sep = j
				break
			}
		}
		if sep < 0 || len(fields) < sep+3 {
			return nil, fmt.Errorf("line %d: unexpected format: %q", i+1, line)
		}
		entries = append(entries, mountEntry{
			mountPoint: unescapeOctal(fields[4]),
			fsType:     unescapeOctal(fields[sep+1]),
			source:     unescapeOctal(fields[sep+2]),
		})
	}
	return entries, nil
}

// unescapeOctal undoes the kernel's escaping of blanks, newlines and
// backslashes in mount table fields as \ooo (a space is \040).
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
