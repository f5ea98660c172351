package driver

import (
	"context"
	"fmt"

	"github.com/docker/go-units"

	"github.com/glusterdocker/gluster/control"
)

// MinSize is the smallest size= the plugin accepts: a hard limit below a
// mebibyte would refuse the first writes of almost any program, and quota
// counts in blocks anyway.
const MinSize = 1 << 20

// ParseSize reads a size as Docker users write it: a number with an
// optional unit k, M, G, T or P, with or without "iB" or "B" ("10GiB",
// "10G", "512MB", "1.5T"). Units are binary, as Docker's own --memory and
// --shm-size read them: 1G is 1024³ bytes.
func ParseSize(raw string) (uint64, error) {
	n, err := units.RAMInBytes(raw)
	if err != nil {
		return 0, fmt.Errorf("size %q: write a number with an optional unit k, M, G or T, such as 10GiB or 512M", raw)
	}
	if n < MinSize {
		return 0, fmt.Errorf("size %q is %d bytes: give at least 1MiB", raw, n)
	}
	return uint64(n), nil
}

// FormatSize writes bytes in the largest binary unit that keeps a short
// number, as `docker volume inspect` shows sizes to people.
func FormatSize(bytes uint64) string {
	return units.BytesSize(float64(bytes))
}

// size is the limit a new volume gets: its size= or the plugin's
// DEFAULT_SIZE. A whole gluster volume the plugin did not create gets none.
func (d *Driver) size(opts Options) uint64 {
	switch {
	case opts.Size > 0:
		return opts.Size
	case opts.Existing() && opts.Subdir == "":
		return 0
	}
	return d.cfg.DefaultSize
}

// applyPendingSize asks the servers again for the size limit of a
// subdirectory volume, once its first mount on this host made the
// directory: gluster cannot limit a directory that does not exist yet, and
// only a client can make one. The size is the one recorded in the cluster,
// whichever host created the volume.
func (d *Driver) applyPendingSize(ctx context.Context, v volumeState) error {
	subdir := v.Options["subdir"]
	if subdir == "" || v.Prepared {
		return nil
	}
	// Asked of the servers, not the snapshot: the size was recorded by
	// whichever host created the volume, maybe a moment ago.
	cv, err := d.cache.lookup(ctx, v.Gluster)
	if err != nil {
		return fmt.Errorf("reading the size of volume %s: %w", v.Name, err)
	}
	recorded := cv.Options
	size := control.SubvolumeSize(recorded, v.Name)
	if size == 0 {
		return nil
	}
	req := control.SubvolumeRequest{Subdir: subdir, Size: size, OnRemove: control.SubvolumeOnRemove(recorded, v.Name)}
	if err := d.cluster.AddSubvolume(ctx, v.Gluster, v.Name, req); err != nil {
		return fmt.Errorf("applying size %s to volume %s: %w", FormatSize(size), v.Name, err)
	}
	return nil
}

// addCapacity adds a volume's size, used and free bytes to what `docker
// volume inspect` shows: its quota limit, as df in a container shows it,
// or for a volume without one its fullest data brick's file system.
func addCapacity(status map[string]any, cv control.Volume, subdir string) {
	path := "/" + subdir
	for _, l := range cv.Limits {
		if l.Path == path {
			// Writes in flight when the limit is reached pass it by a
			// little; df in a container caps used at the size too.
			used := min(l.Used, l.Size)
			status["size"], status["used"], status["free"] = l.Size, used, l.Size-used
			status["capacity_of"] = "size limit"
			return
		}
	}
	var fullest *control.Brick
	for i, b := range cv.Bricks {
		if !b.Arbiter && b.Size > 0 && (fullest == nil || b.Free < fullest.Free) {
			fullest = &cv.Bricks[i]
		}
	}
	if fullest != nil {
		status["size"], status["used"], status["free"] = fullest.Size, fullest.Size-fullest.Free, fullest.Free
		status["capacity_of"] = "brick file system " + fullest.Server + ":" + fullest.Path
	}
}
