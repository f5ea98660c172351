package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/docker/go-units"

	"github.com/glusterdocker/gluster/glustercli"
)

// defaultFUSEDevice is where the server container finds /dev/fuse. gluster
// runs its quota commands through a FUSE mount of the volume (measured on
// gluster 10.3: without the device, limit-usage answers success and sets
// nothing), so a server without it refuses sizes rather than pretend.
const defaultFUSEDevice = "/dev/fuse"

// WithFUSEDevice sets where the FUSE device is looked for; tests point it
// at a file of theirs.
func WithFUSEDevice(path string) ServiceOption {
	return func(s *Service) { s.fuseDevice = path }
}

// quotaOption is gluster's switch for quota on a volume, "on" once
// `volume quota VOL enable` ran.
const quotaOption = "features.quota"

// strictQuota is set on a volume when its quota is enabled. gluster checks
// writes against a cached size that it refreshes only every soft-timeout
// (60 s) below the soft limit and hard-timeout (5 s) above it: measured on
// gluster 10.3, a 10 MiB limit let 25 MiB through at any timeout above 0.
// With 0 a write past the limit fails with EDQUOT at once, at a cost to
// large writes (256 MiB with fsync: 1.8-2.0 s against 1.1 s). Deemed
// statfs makes df in a container show the limit as the size of the
// volume, or of the subdirectory a subdirectory volume binds.
var strictQuota = map[string]string{
	"features.hard-timeout":      "0",
	"features.soft-timeout":      "0",
	"features.quota-deem-statfs": "on",
}

// SubvolumeSizeOptionPrefix starts the options that record the size of a
// subdirectory volume (user.docker-subvolume-size.<NAME as a gluster name>
// = bytes), so that the host that first mounts it, and so creates its
// directory, can have the limit applied.
const SubvolumeSizeOptionPrefix = "user.docker-subvolume-size."

// SubvolumeSize is the size recorded for Docker volume docker, 0 if none.
func SubvolumeSize(options map[string]string, docker string) uint64 {
	key, err := SubvolumeOption(docker)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(options[SubvolumeSizeOptionPrefix+key[len(SubvolumeOptionPrefix):]], 10, 64)
	return n
}

// limitRoot sets the hard limit a create request asks for on the root of
// volume req.Name, whose options are options.
func (s *Service) limitRoot(ctx context.Context, req CreateRequest, options map[string]string) error {
	if req.Size == 0 {
		return nil
	}
	return s.setLimit(ctx, req.Name, options, "/", req.Size)
}

// setLimit makes size the hard limit of path in a started volume, enabling
// strict quota on it first if needed. A size larger than the free space of
// the volume's fullest brick, plus what path holds already, is refused
// with the numbers. A limit already in place costs one quota list.
func (s *Service) setLimit(ctx context.Context, name string, options map[string]string, path string, size uint64) error {
	var used uint64
	enabled := options[quotaOption] == "on"
	if enabled {
		limits, err := s.gluster.QuotaList(ctx, name)
		if err != nil {
			return fmt.Errorf("reading the quota of volume %s: %w", name, err)
		}
		for _, l := range limits {
			if l.Path == path && l.Size == size {
				return nil
			} else if l.Path == path {
				used = l.Used
			}
		}
	}
	if err := s.checkSpace(ctx, name, size, used); err != nil {
		return err
	}
	if _, err := os.Stat(s.fuseDevice); err != nil {
		return fmt.Errorf("%w: this server cannot set size limits: gluster's quota mounts the volume, and %s is missing: run the server container with --device /dev/fuse",
			ErrUnavailable, s.fuseDevice)
	}
	if !enabled {
		if err := s.gluster.QuotaEnable(ctx, name); err != nil {
			return fmt.Errorf("enabling quota on volume %s: %w", name, err)
		}
		if err := s.gluster.Set(ctx, name, strictQuota); err != nil {
			return fmt.Errorf("making the quota of volume %s strict: %w", name, err)
		}
	}
	if err := s.gluster.QuotaLimitUsage(ctx, name, path, size); err != nil {
		return fmt.Errorf("limiting %s of volume %s to %d bytes: %w", path, name, size, err)
	}
	s.logger.Info("size limit set", "volume", name, "path", path, "size", size)
	return nil
}

// checkSpace refuses a size that the fullest brick of a volume cannot
// hold, counting used bytes the limited directory holds already.
func (s *Service) checkSpace(ctx context.Context, name string, size, used uint64) error {
	spaces, err := s.gluster.BrickSpaces(ctx, name)
	if err != nil {
		return fmt.Errorf("reading the free space of the bricks of volume %s: %w", name, err)
	}
	var fullest *glustercli.BrickSpace
	for i, sp := range spaces {
		if sp.Volume == name && (fullest == nil || sp.Free < fullest.Free) {
			fullest = &spaces[i]
		}
	}
	if fullest == nil {
		return fmt.Errorf("%w: volume %s: no brick reported its free space: check that its bricks are online", ErrUnavailable, name)
	}
	if size > fullest.Free+used {
		return fmt.Errorf("%w: volume %s: size %s (%d bytes) is more than brick %s:%s can hold: %s (%d bytes) free of %s, plus %d bytes in use: choose a smaller size or free space there",
			ErrNoSpace, name, units.BytesSize(float64(size)), size, fullest.Host, fullest.Path,
			units.BytesSize(float64(fullest.Free)), fullest.Free, units.BytesSize(float64(fullest.Size)), used)
	}
	return nil
}

// limitSubvolume sets the hard limit of a subdirectory volume. The
// directory appears at the volume's first mount, which only a client can
// make: until then the size is checked and recorded, and the plugin asks
// again once it made the directory.
func (s *Service) limitSubvolume(ctx context.Context, v glustercli.Volume, docker string, req SubvolumeRequest) error {
	if req.Size == 0 {
		return nil
	}
	err := s.setLimit(ctx, v.Name, v.Options, "/"+req.Subdir, req.Size)
	if errors.Is(err, glustercli.ErrNoSuchPath) {
		s.logger.Info("size limit waits for the first mount to make the directory", "volume", v.Name, "docker", docker, "subdir", req.Subdir)
		return nil
	}
	return err
}

// subvolumeRecord is the options that record a subdirectory volume.
func subvolumeRecord(key string, req SubvolumeRequest) map[string]string {
	record := map[string]string{key: req.Subdir}
	if req.Size > 0 {
		record[SubvolumeSizeOptionPrefix+key[len(SubvolumeOptionPrefix):]] = strconv.FormatUint(req.Size, 10)
	}
	if req.OnRemove != "" {
		record[SubvolumeOnRemoveOptionPrefix+key[len(SubvolumeOptionPrefix):]] = req.OnRemove
	}
	return record
}

// addCapacity adds to a started volume's description its quota limits and
// the space of its bricks' file systems. They are extra: a question gluster
// does not answer leaves them out.
func (s *Service) addCapacity(ctx context.Context, vol *Volume, addressOf func(string) string) {
	if vol.Options[quotaOption] == "on" {
		limits, err := s.gluster.QuotaList(ctx, vol.Name)
		if err != nil {
			s.logger.Warn("reading quota limits", "volume", vol.Name, "error", err)
		}
		for _, l := range limits {
			vol.Limits = append(vol.Limits, Limit{Path: l.Path, Size: l.Size, Used: l.Used})
		}
	}
	spaces, err := s.gluster.BrickSpaces(ctx, vol.Name)
	if err != nil {
		s.logger.Warn("reading the space of bricks", "volume", vol.Name, "error", err)
		return
	}
	for _, sp := range spaces {
		for i, b := range vol.Bricks {
			if addressOf(b.Server) == addressOf(sp.Host) && b.Path == sp.Path {
				vol.Bricks[i].Size, vol.Bricks[i].Free = sp.Size, sp.Free
			}
		}
	}
}
