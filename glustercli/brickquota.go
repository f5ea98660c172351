package glustercli

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNoLimit is a directory without a quota limit.
var ErrNoLimit = errors.New("no quota limit on the directory")

// ErrNoLocalBrick is a volume without a data brick on this server.
var ErrNoLocalBrick = errors.New("no data brick of the volume on this server")

// The extended attributes quota keeps on every directory of a brick
// (GlusterFS 10 and 11, quota version 1): limit-set holds the hard and
// soft limit, size the bytes, files and directories below, all big-endian
// 64-bit numbers. Quota's own `volume quota VOL list` sums the same
// attributes through quotad, at about 250 ms a volume.
const (
	quotaLimitXattr = "trusted.glusterfs.quota.limit-set.1"
	quotaSizeXattr  = "trusted.glusterfs.quota.size.1"
	volumeIDXattr   = "trusted.glusterfs.volume-id"
)

// beneathBrick opens a directory inside a brick without following links,
// leaving the brick or its file system: containers write these
// directories, and a link planted there must not make the server read
// attributes elsewhere.
var beneathBrick = unix.OpenHow{
	Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
}

// LocalBricks reads quota's figures from the bricks of this server.
type LocalBricks struct{}

// QuotaLimit reads the hard limit of directory dir ("/" is the volume's
// root) of volume v, and what it holds, from v's first data brick on this
// server: ErrNoLocalBrick if there is none, ErrNoLimit if dir has no limit.
// In a replica volume every data brick holds every byte.
func (LocalBricks) QuotaLimit(v Volume, dir string) (QuotaLimit, error) {
	brick, err := openLocalBrick(v)
	if err != nil {
		return QuotaLimit{}, err
	}
	defer unix.Close(brick)
	fd := brick
	if rel := strings.Trim(dir, "/"); rel != "" {
		if fd, err = unix.Openat2(brick, rel, &beneathBrick); err != nil {
			return QuotaLimit{}, fmt.Errorf("volume %s: opening %s in its brick: %w", v.Name, dir, err)
		}
		defer unix.Close(fd)
	}
	limit, err := xattrNumber(fd, quotaLimitXattr)
	if errors.Is(err, unix.ENODATA) {
		return QuotaLimit{}, fmt.Errorf("volume %s, %s: %w", v.Name, dir, ErrNoLimit)
	}
	if err != nil {
		return QuotaLimit{}, fmt.Errorf("volume %s, %s: %w", v.Name, dir, err)
	}
	used, err := xattrNumber(fd, quotaSizeXattr)
	if errors.Is(err, unix.ENODATA) {
		used, err = 0, nil // limited, nothing counted yet
	}
	if err != nil {
		return QuotaLimit{}, fmt.Errorf("volume %s, %s: %w", v.Name, dir, err)
	}
	return QuotaLimit{Path: dir, Size: uint64(max(limit, 0)), Used: uint64(max(used, 0))}, nil
}

// openLocalBrick opens the first data brick of v found on this server: a
// directory at a brick's path that carries v's volume id.
func openLocalBrick(v Volume) (int, error) {
	id, err := hex.DecodeString(strings.ReplaceAll(v.ID, "-", ""))
	if err != nil || len(id) == 0 {
		return -1, fmt.Errorf("volume %s: id %q is no UUID", v.Name, v.ID)
	}
	for _, b := range v.Bricks {
		if b.Arbiter {
			continue
		}
		fd, err := unix.Open(b.Path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		buf := make([]byte, len(id))
		if n, err := unix.Fgetxattr(fd, volumeIDXattr, buf); err == nil && n == len(id) && string(buf) == string(id) {
			return fd, nil
		}
		unix.Close(fd)
	}
	return -1, fmt.Errorf("volume %s: %w", v.Name, ErrNoLocalBrick)
}

// xattrNumber reads the first number of one of quota's attributes.
func xattrNumber(fd int, name string) (int64, error) {
	buf := make([]byte, 64)
	n, err := unix.Fgetxattr(fd, name, buf)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	v, err := firstNumber(buf[:n])
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	return v, nil
}

// firstNumber decodes the first big-endian 64-bit number of a quota
// attribute's value.
func firstNumber(value []byte) (int64, error) {
	if len(value) < 8 {
		return 0, fmt.Errorf("%d bytes, want at least 8", len(value))
	}
	return int64(binary.BigEndian.Uint64(value[:8])), nil
}
