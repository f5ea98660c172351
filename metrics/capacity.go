package metrics

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
)

// QuotaReader reads a directory's quota limit and usage from this server's
// brick of a volume (glustercli.LocalBricks): the errors
// glustercli.ErrNoLocalBrick and ErrNoLimit say there is none to read.
type QuotaReader interface {
	QuotaLimit(v glustercli.Volume, dir string) (glustercli.QuotaLimit, error)
}

var _ QuotaReader = glustercli.LocalBricks{}

// capacityDescs are the capacity metrics of the health round.
type capacityDescs struct {
	brickSize, brickFree               *prometheus.Desc
	volumeSize, volumeUsed, volumeFree *prometheus.Desc
}

func newCapacityDescs() capacityDescs {
	brick := []string{"volume", "brick"}
	docker := []string{"volume", "docker_volume", "path"}
	return capacityDescs{
		brickSize: prometheus.NewDesc(prometheus.BuildFQName(namespace, "brick", "size_bytes"),
			"Size of the file system under a brick of a started volume.", brick, nil),
		brickFree: prometheus.NewDesc(prometheus.BuildFQName(namespace, "brick", "free_bytes"),
			"Free bytes of the file system under a brick of a started volume.", brick, nil),
		volumeSize: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "size_bytes"),
			"Size of a Docker volume as df in its containers shows it: its size limit (path is the limited directory), "+
				"or else its fullest data brick's file system. Reported by the servers that hold a data brick of it.", docker, nil),
		volumeUsed: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "used_bytes"),
			"Bytes used of gluster_volume_size_bytes.", docker, nil),
		volumeFree: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "free_bytes"),
			"Bytes free of gluster_volume_size_bytes.", docker, nil),
	}
}

func (d capacityDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.brickSize, d.brickFree, d.volumeSize, d.volumeUsed, d.volumeFree}
}

// collectCapacity adds the space of every started volume's bricks, from
// one `volume status all detail`, and each Docker volume's size, used and
// free bytes, from the quota attributes of this server's bricks: no
// per-volume gluster command, so a round stays cheap with many volumes.
func (c *healthCollector) collectCapacity(ctx context.Context, s *scrape, started []glustercli.Volume) {
	spaces, err := c.gluster.BrickSpaces(ctx, "all")
	if err != nil {
		s.failed("volume status detail", err)
		return
	}
	byVolume := map[string][]glustercli.BrickSpace{}
	for _, sp := range spaces {
		brick := sp.Host + ":" + sp.Path
		s.bytes(c.capacity.brickSize, sp.Size, sp.Volume, brick)
		s.bytes(c.capacity.brickFree, sp.Free, sp.Volume, brick)
		byVolume[sp.Volume] = append(byVolume[sp.Volume], sp)
	}
	for _, v := range started {
		c.collectVolumeCapacity(s, v, fullestDataBrick(v, byVolume[v.Name]))
	}
}

// collectVolumeCapacity adds the figures of the Docker volumes of one
// gluster volume: the one it is, and those made of its subdirectories.
func (c *healthCollector) collectVolumeCapacity(s *scrape, v glustercli.Volume, fullest *glustercli.BrickSpace) {
	dirs := map[string]string{"/": v.Options[control.DockerVolumeOption]}
	for docker, subdir := range control.Subvolumes(v.Options) {
		dirs["/"+subdir] = docker
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		size, used, ok := uint64(0), uint64(0), false
		limit, err := c.quota.QuotaLimit(v, dir)
		switch {
		case errors.Is(err, glustercli.ErrNoLocalBrick):
			return // the servers with a data brick of it report it
		case err == nil:
			size, used, ok = limit.Size, min(limit.Used, limit.Size), true
		case errors.Is(err, glustercli.ErrNoLimit), errors.Is(err, fs.ErrNotExist):
			// No limit, or a subdirectory no mount has made yet.
			if fullest != nil {
				size, used, ok = fullest.Size, fullest.Size-fullest.Free, true
			}
		default:
			s.failed("reading quota attributes", err, "volume", v.Name, "path", dir)
		}
		if ok {
			s.bytes(c.capacity.volumeSize, size, v.Name, dirs[dir], dir)
			s.bytes(c.capacity.volumeUsed, used, v.Name, dirs[dir], dir)
			s.bytes(c.capacity.volumeFree, size-used, v.Name, dirs[dir], dir)
		}
	}
}

// fullestDataBrick is the data brick of v with the least free space, as
// `docker volume inspect` counts a volume without a limit; nil if none
// reported its space.
func fullestDataBrick(v glustercli.Volume, spaces []glustercli.BrickSpace) *glustercli.BrickSpace {
	arbiter := map[string]bool{}
	for _, b := range v.Bricks {
		arbiter[b.Host+":"+b.Path] = b.Arbiter
	}
	var fullest *glustercli.BrickSpace
	for i, sp := range spaces {
		if !arbiter[sp.Host+":"+sp.Path] && (fullest == nil || sp.Free < fullest.Free) {
			fullest = &spaces[i]
		}
	}
	return fullest
}
