package driver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/names"
)

// Create creates the gluster volume behind a Docker volume, or adopts the
// one another host created. Bad options create nothing.
func (d *Driver) Create(req *volume.CreateRequest) error {
	raw, err := d.pooledOptions(req.Name, req.Options)
	if err != nil {
		return err
	}
	opts, err := ParseOptions(raw)
	if err != nil {
		return err
	}
	gluster := opts.Volume
	if !opts.Existing() {
		if gluster, err = names.FromDocker(req.Name); err != nil {
			return err
		}
	}
	defer d.ops.lock(gluster)()
	log := d.logger.With("volume", req.Name, "gluster", gluster)
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()

	// Known with these options: nothing to do. Known from a mount only (it
	// was created elsewhere), or with other options: the cluster decides
	// whether the options fit the volume as it is.
	if known, ok := d.state(req.Name); ok && maps.Equal(known.Options, raw) {
		return nil
	}
	var createdAt string
	if opts.Existing() {
		vol, newPool, err := d.existing(ctx, opts)
		if err != nil {
			return err
		}
		createdAt = vol.CreatedAt
		if opts.Subdir != "" {
			sub := control.SubvolumeRequest{Subdir: opts.Subdir, Size: d.size(opts), OnRemove: d.pooledPolicy(opts)}
			if err := d.cluster.AddSubvolume(ctx, gluster, req.Name, sub); err != nil {
				if newPool {
					d.dropNewPool(ctx, opts)
				}
				return fmt.Errorf("volume %s: recording it on gluster volume %s: %w", req.Name, gluster, err)
			}
			d.cache.relabel(gluster, func(options map[string]string) { setSubvolume(options, req.Name, opts.Subdir) })
		}
		log.Info("using existing gluster volume", "subdir", opts.Subdir)
	} else {
		vol, err := d.cluster.Create(ctx, d.createRequest(req.Name, gluster, opts))
		if errors.Is(err, control.ErrConflict) && len(req.Options) == 0 {
			// Docker creates a volume its Get did not find: one recorded
			// as a subdirectory elsewhere since this host last listed the
			// cluster is that volume.
			if sub, ok := d.subvolumeElsewhere(ctx, req.Name); ok {
				log.Info("subdirectory volume created elsewhere", "gluster", sub.Gluster, "subdir", sub.Options["subdir"])
				return d.update(func() {
					if d.volumes[req.Name] == nil {
						d.volumes[req.Name] = &sub
					}
				})
			}
		}
		if errors.Is(err, control.ErrConflict) {
			return fmt.Errorf("gluster volume %s already exists for another Docker volume or with another layout: %w", gluster, err)
		}
		if err != nil {
			return fmt.Errorf("creating volume %s: %w", req.Name, err)
		}
		createdAt = vol.CreatedAt
		d.cache.put(vol)
		log.Info("volume ready", "replica", vol.Replica, "bricks", brickList(vol, false))
	}
	if createdAt == "" {
		createdAt = time.Now().UTC().Format(time.RFC3339)
	}
	return d.update(func() {
		v := &volumeState{Name: req.Name, Gluster: gluster, Options: maps.Clone(raw), CreatedAt: createdAt}
		if known := d.volumes[req.Name]; known != nil {
			v.Mounts, v.Prepared = known.Mounts, known.Prepared
		}
		d.volumes[req.Name] = v
	})
}

// existing is the gluster volume a volume made of an existing one uses:
// its pool's, made on first use (then newPool is true), or the one
// volume= names.
func (d *Driver) existing(ctx context.Context, opts Options) (vol control.Volume, newPool bool, err error) {
	if opts.Pool != "" {
		return d.ensurePool(ctx, opts)
	}
	vol, err = d.cluster.Lookup(ctx, opts.Volume)
	if err != nil {
		return control.Volume{}, false, fmt.Errorf("volume=%s: %w", opts.Volume, err)
	}
	return vol, false, nil
}

func (d *Driver) createRequest(name, gluster string, opts Options) control.CreateRequest {
	options := maps.Clone(opts.Gluster)
	if options == nil {
		options = map[string]string{}
	}
	options[DockerVolumeOption] = name
	replica := opts.Replica
	if replica == 0 && !opts.Arbiter {
		replica = d.cfg.DefaultReplica
	}
	return control.CreateRequest{Name: gluster, Replica: replica, Bricks: opts.Bricks, Arbiter: opts.Arbiter, Servers: opts.Servers, Options: options, Size: d.size(opts), OnRemove: opts.OnRemove}
}
