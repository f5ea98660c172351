package driver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/names"
)

// poolPrefix starts the Docker name of a pool's gluster volume: pool web
// is the Docker volume pool.web (gluster volume pool__web). It is listed
// like any other, so that a pool left without pooled volumes stays in
// sight, and removing it is a deliberate `docker volume rm pool.web`.
const poolPrefix = "pool."

// poolVolume is the Docker name of the gluster volume that holds pool's
// volumes.
func poolVolume(pool string) (string, error) {
	docker := poolPrefix + pool
	for _, name := range []string{pool, docker} {
		if _, err := names.FromDocker(name); err != nil {
			return "", fmt.Errorf("pool %q: %w: a pool's name is a Docker volume name", pool, err)
		}
	}
	return docker, nil
}

// isPoolVolume reports whether a Docker name is that of a pool's gluster
// volume.
func isPoolVolume(docker string) bool { return strings.HasPrefix(docker, poolPrefix) }

// checkPooled refuses what a pooled volume cannot have: options of the
// shared gluster volume would change its siblings, and its directory is
// its own name, not a choice.
func (o Options) checkPooled() error {
	docker, _ := poolVolume(o.Pool) // validated by set
	gluster, _ := names.FromDocker(docker)
	switch {
	case len(o.Gluster) > 0:
		return fmt.Errorf("%w: %s* options apply to the whole gluster volume of pool %s and so to every volume in it: leave them out, or use a dedicated volume (no pool=)", ErrBadOption, glusterOptionPrefix, o.Pool)
	case o.Volume == "" && o.Subdir == "":
		return nil
	case o.Volume != gluster || o.Subdir == "" || strings.Contains(o.Subdir, "/"):
		return errOwnDirectory(o.Pool)
	}
	return nil
}

func errOwnDirectory(pool string) error {
	return fmt.Errorf("%w: pool=%s makes the volume's own directory in the pool: leave out volume= and subdir=", ErrBadOption, pool)
}

// pooledOptions are the options a volume is recorded with: a pooled
// volume (pool=, or DEFAULT_POOL when neither pool= nor volume= is given)
// becomes the subdirectory named after it of its pool's gluster volume, so
// that mounting, binding, sizes and removal are those of subdirectory
// volumes. Other volumes keep their options.
func (d *Driver) pooledOptions(name string, raw map[string]string) (map[string]string, error) {
	pool, given := raw["pool"]
	if !given && raw["volume"] == "" {
		pool = d.cfg.DefaultPool
	}
	if pool == "" {
		if isPoolVolume(name) {
			return nil, fmt.Errorf("%w: volume %s: names starting with %q are the gluster volumes of pools (-o pool=NAME): choose another name", ErrBadOption, name, poolPrefix)
		}
		return raw, nil
	}
	if raw["volume"] != "" || raw["subdir"] != "" {
		return nil, errOwnDirectory(pool)
	}
	docker, err := poolVolume(pool)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOption, err)
	}
	gluster, _ := names.FromDocker(docker)
	out := map[string]string{}
	maps.Copy(out, raw)
	out["pool"], out["volume"], out["subdir"] = pool, gluster, name
	return out, nil
}

// ensurePool returns the gluster volume of a pooled volume's pool, made
// with the volume's replica, arbiter and servers if it does not exist yet
// (then created is true). An existing pool must fit what the volume asks
// for: its layout is shared.
func (d *Driver) ensurePool(ctx context.Context, opts Options) (cv control.Volume, created bool, err error) {
	docker, _ := poolVolume(opts.Pool) // validated by ParseOptions
	cv, err = d.cluster.Lookup(ctx, opts.Volume)
	switch {
	case errors.Is(err, control.ErrNotFound):
		created = true
	case err != nil:
		return control.Volume{}, false, fmt.Errorf("pool %s: %w", opts.Pool, err)
	case cv.Options[DockerVolumeOption] != docker:
		return control.Volume{}, false, fmt.Errorf("%w: pool %s needs gluster volume %s, which exists for something else: choose another pool name", control.ErrConflict, opts.Pool, opts.Volume)
	default:
		if err := fitsPool(cv, opts); err != nil {
			return control.Volume{}, false, err
		}
		if !control.Retained(cv.Options) {
			return cv, false, nil
		}
		// Removed with docker volume rm earlier, and retained: a create
		// with its own layout adopts it again.
		opts.Replica, opts.Bricks, opts.Arbiter, opts.Servers = cv.Replica, 0, cv.Arbiter, nil
	}
	layout := Options{Replica: opts.Replica, Bricks: opts.Bricks, Arbiter: opts.Arbiter, Servers: opts.Servers}
	req := d.createRequest(docker, opts.Volume, layout)
	req.Size = 0 // each pooled volume has its own limit; the pool none
	cv, err = d.cluster.Create(ctx, req)
	if err != nil {
		return control.Volume{}, false, fmt.Errorf("creating the gluster volume %s of pool %s: %w", opts.Volume, opts.Pool, err)
	}
	d.logger.Info("pool ready", "pool", opts.Pool, "gluster", cv.Name, "replica", cv.Replica, "bricks", brickList(cv, false))
	return cv, created, nil
}

// dropNewPool deletes the pool that the create of a pooled volume made a
// moment ago when the volume itself was refused (a size too large, say),
// so that a refused create leaves nothing. The servers refuse to delete it
// once another pooled volume is recorded on it or a client uses it: then
// it stays.
func (d *Driver) dropNewPool(ctx context.Context, opts Options) {
	if err := d.cluster.Delete(ctx, opts.Volume); err != nil {
		d.logger.Warn("keeping the pool made for a refused volume", "pool", opts.Pool, "gluster", opts.Volume, "error", err)
		return
	}
	d.logger.Info("pool made for a refused volume deleted", "pool", opts.Pool, "gluster", opts.Volume)
}

// fitsPool refuses replica, bricks, arbiter or servers that differ from
// those of the existing pool: leaving them out takes the pool as it is.
func fitsPool(cv control.Volume, opts Options) error {
	hint := "leave replica=, bricks=, arbiter= and servers= out to use the pool as it is, or choose another pool= for another layout"
	if opts.Replica != 0 && opts.Replica != cv.Replica {
		return fmt.Errorf("%w: pool %s has replica %d, replica=%d was asked for: %s", ErrBadOption, opts.Pool, cv.Replica, opts.Replica, hint)
	}
	if opts.Bricks != 0 && opts.Bricks != len(cv.Bricks) {
		return fmt.Errorf("%w: pool %s has %d bricks, bricks=%d was asked for: %s", ErrBadOption, opts.Pool, len(cv.Bricks), opts.Bricks, hint)
	}
	if opts.Arbiter && !cv.Arbiter {
		return fmt.Errorf("%w: pool %s has no arbiter, arbiter=true was asked for: %s", ErrBadOption, opts.Pool, hint)
	}
	for _, b := range cv.Bricks {
		if len(opts.Servers) > 0 && !slices.Contains(opts.Servers, b.Server) {
			return fmt.Errorf("%w: pool %s has a brick on %s, outside servers=%s: %s", ErrBadOption, opts.Pool, b.Server, strings.Join(opts.Servers, ","), hint)
		}
	}
	return nil
}

// removePooledDir deletes a pooled volume's directory with everything in
// it, through this host's mount of the pool (made for the purpose if no
// container here uses the pool). os.Root never leaves the pool's mount,
// and RemoveAll removes links, never what they point to. The caller holds
// the pool's operation lock.
func (d *Driver) removePooledDir(ctx context.Context, v volumeState) error {
	root := d.mountpoint(v.Gluster)
	d.mu.Lock()
	shared := d.glusterReferences(v.Gluster) > 0
	d.mu.Unlock()
	if !shared || !d.healthy(root) {
		if err := d.mountGluster(ctx, v.Gluster, root); err != nil {
			return fmt.Errorf("mounting pool %s to delete the directory of volume %s: %w", v.Options["pool"], v.Name, err)
		}
		defer func() {
			if err := d.releaseIfUnused(v.Gluster, root); err != nil {
				d.logger.Warn("unmounting a pool after a removal", "gluster", v.Gluster, "error", err)
			}
		}()
	}
	pool, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.RemoveAll(v.Options["subdir"]); err != nil {
		return fmt.Errorf("deleting the directory of volume %s in pool %s: %w", v.Name, v.Options["pool"], err)
	}
	return nil
}

// removeFromPool deletes a pooled volume's directory under the delete
// policy; retain keeps it, and a create of the same name in the same pool
// adopts it with its data. Any other volume is left alone.
func (d *Driver) removeFromPool(ctx context.Context, v volumeState, pool control.Volume) error {
	if v.Options["pool"] == "" || control.SubvolumeOnRemove(pool.Options, v.Name) != control.OnRemoveDelete {
		return nil
	}
	if err := d.removePooledDir(ctx, v); err != nil {
		return err
	}
	d.logger.Info("pooled volume's directory deleted", "volume", v.Name, "pool", v.Options["pool"])
	return nil
}

// pooledPolicy is the removal policy recorded for a new pooled volume:
// its on-remove=, or else this host's ON_REMOVE, so that every host that
// removes it later does the same. Other volumes record none.
func (d *Driver) pooledPolicy(opts Options) string {
	switch {
	case opts.Pool == "":
		return ""
	case opts.OnRemove != "":
		return opts.OnRemove
	}
	return d.cfg.OnRemove
}

// droppedFromPool reports whether a pooled volume is no longer recorded on
// its pool's gluster volume cv: it was removed, on any host.
func droppedFromPool(v volumeState, cv control.Volume) bool {
	_, recorded := control.Subvolumes(cv.Options)[v.Name]
	return v.Options["pool"] != "" && !recorded
}
