package driver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/mounter"
)

// Mount mounts a volume for one Docker mount ID. The gluster volume is
// mounted once per host; later mounts only count references.
func (d *Driver) Mount(req *volume.MountRequest) (*volume.MountResponse, error) {
	return d.MountContext(context.Background(), req)
}

// MountContext is Mount on behalf of a caller that may give up: once
// caller is done, the mount fails and holds no reference, since Docker
// never unmounts a mount it gave up on.
func (d *Driver) MountContext(caller context.Context, req *volume.MountRequest) (*volume.MountResponse, error) {
	// The whole call, lookup included, ends within MountTimeout: a mount
	// that succeeded after Docker gave up would hold a reference no one
	// ever releases.
	ctx, cancel := context.WithTimeout(caller, d.cfg.MountTimeout)
	defer cancel()
	v, err := d.lookup(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	defer d.ops.lock(v.Gluster)()
	log := d.logger.With("volume", req.Name, "id", req.ID)
	if known, ok := d.state(req.Name); ok {
		v = known
	}

	target := d.mountpoint(v.Gluster)
	d.mu.Lock()
	shared := d.glusterReferences(v.Gluster) > 0
	d.mu.Unlock()
	if !shared || !d.healthy(target) {
		if err := d.mountGluster(ctx, v.Gluster, target); err != nil {
			return nil, fmt.Errorf("mounting volume %s: %w", req.Name, err)
		}
	}
	if err := d.prepare(v, target); err != nil {
		d.releaseIfUnused(v.Gluster, target)
		return nil, fmt.Errorf("preparing volume %s: %w", req.Name, err)
	}
	if err := caller.Err(); err != nil {
		d.releaseIfUnused(v.Gluster, target)
		return nil, fmt.Errorf("mounting volume %s: Docker stopped waiting: %w", req.Name, err)
	}
	var refs int
	err = d.update(func() {
		known := d.volumes[req.Name]
		if known == nil {
			// Known from the cluster only, or removed meanwhile: no
			// references but this one.
			known = &v
			known.Mounts = nil
			d.volumes[req.Name] = known
		}
		if known.Mounts == nil {
			known.Mounts = map[string]int{}
		}
		known.Mounts[req.ID]++
		known.Prepared = true
		refs = known.references()
	})
	if err != nil {
		return nil, err
	}
	log.Info("volume mounted", "references", refs, "path", d.volumePath(v))
	return &volume.MountResponse{Mountpoint: d.volumePath(v)}, nil
}

// healthy reports whether target holds a live gluster mount.
func (d *Driver) healthy(target string) bool {
	mounted, err := d.mounter.IsMounted(target)
	return err == nil && mounted && !d.mounter.IsStale(target)
}

// mountGluster makes the host's one FUSE mount of a gluster volume, or
// repairs a dead one: running containers heal. Servers are the configured
// ones first, then the volume's brick hosts, so any live member of the pool
// will do.
func (d *Driver) mountGluster(ctx context.Context, gluster, target string) error {
	// Not MkdirAll: it would look at a dead mount on target and fail.
	if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	servers := slices.Clone(d.cluster.Servers())
	var bricks []string
	// The brick hosts are servers too, and tell the mounter which brick
	// index is which; the last list is enough for that.
	if vol, err := d.cache.lastListed(ctx, gluster); err == nil {
		for _, b := range vol.Bricks {
			bricks = append(bricks, b.Server)
			if !slices.Contains(servers, b.Server) {
				servers = append(servers, b.Server)
			}
		}
	}
	pid, err := d.mounter.Mount(ctx, mounter.Request{
		Volume:  gluster,
		Servers: servers,
		Bricks:  bricks,
		Target:  target,
		LogFile: d.logFile(gluster),
	})
	if err != nil {
		_ = os.Remove(target)
		return err
	}
	if d.cfg.DetachClients && pid > 0 {
		// The mount works either way; it just would not outlive the plugin.
		if err := d.clients.Detach(pid, gluster); err != nil {
			d.logger.Error("the gluster client will stop with the plugin", "gluster", gluster, "error", err)
		}
	}
	d.forwardLog(gluster)
	return nil
}

func (d *Driver) logFile(gluster string) string {
	return filepath.Join(d.cfg.StateDir, "logs", gluster+".log")
}

// forwardLog starts copying the warnings and errors of a gluster volume's
// FUSE client into the plugin's log, once per mounted volume.
func (d *Driver) forwardLog(gluster string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.forwarders[gluster] != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.forwarders[gluster] = cancel
	go d.mounter.ForwardLog(ctx, d.logFile(gluster), d.logger.With("gluster", gluster))
}

func (d *Driver) stopForwarding(gluster string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cancel := d.forwarders[gluster]; cancel != nil {
		cancel()
		delete(d.forwarders, gluster)
	}
}

// prepare creates the volume's subdirectory and applies its owner and mode,
// once: later changes made by containers are theirs to keep.
func (d *Driver) prepare(v volumeState, target string) error {
	if v.Prepared {
		return nil
	}
	opts, err := ParseOptions(v.Options)
	if err != nil {
		return err
	}
	dir := target
	if opts.Subdir != "" {
		dir = filepath.Join(target, opts.Subdir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if opts.UID != nil || opts.GID != nil {
		uid, gid := -1, -1
		if opts.UID != nil {
			uid = int(*opts.UID)
		}
		if opts.GID != nil {
			gid = int(*opts.GID)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	if opts.Mode != nil {
		if err := os.Chmod(dir, modeBits(*opts.Mode)); err != nil {
			return err
		}
	}
	return nil
}

func modeBits(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

// Unmount drops one reference of a mount ID and unmounts the gluster volume
// when its last reference on this host is gone.
func (d *Driver) Unmount(req *volume.UnmountRequest) error {
	v, ok := d.state(req.Name)
	if !ok {
		return fmt.Errorf("volume %s: %w", req.Name, control.ErrNotFound)
	}
	defer d.ops.lock(v.Gluster)()
	var refs int
	err := d.update(func() {
		known := d.volumes[req.Name]
		if known == nil {
			return
		}
		if known.Mounts[req.ID] > 1 {
			known.Mounts[req.ID]--
		} else {
			delete(known.Mounts, req.ID)
		}
		refs = known.references()
	})
	if err != nil {
		return err
	}
	d.logger.Info("volume unmounted", "volume", req.Name, "id", req.ID, "references", refs)
	return d.releaseIfUnused(v.Gluster, d.mountpoint(v.Gluster))
}

// releaseIfUnused unmounts a gluster volume no Docker volume uses here.
func (d *Driver) releaseIfUnused(gluster, target string) error {
	d.mu.Lock()
	refs := d.glusterReferences(gluster)
	d.mu.Unlock()
	if refs > 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), unmountTimeout)
	defer cancel()
	if err := d.mounter.Unmount(ctx, target); err != nil {
		return fmt.Errorf("unmounting gluster volume %s: %w", gluster, err)
	}
	d.stopForwarding(gluster)
	if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing mountpoint %s: %w", target, err)
	}
	d.logger.Info("gluster volume unmounted", "gluster", gluster)
	return d.clients.Release(gluster)
}

// glusterReferences counts the references of every Docker volume backed by
// a gluster volume. d.mu must be held.
func (d *Driver) glusterReferences(gluster string) int {
	n := 0
	for _, v := range d.volumes {
		if v.Gluster == gluster {
			n += v.references()
		}
	}
	return n
}

func (d *Driver) mountpoint(gluster string) string {
	return filepath.Join(d.cfg.MountRoot, gluster)
}

func (d *Driver) volumePath(v volumeState) string {
	return filepath.Join(d.mountpoint(v.Gluster), v.Options["subdir"])
}

// Usage reports the FUSE mounts this host holds for Docker volumes and the
// Docker mount references on them.
func (d *Driver) Usage() (mounts, references int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	mounted := map[string]bool{}
	for _, v := range d.volumes {
		if n := v.references(); n > 0 {
			references += n
			mounted[v.Gluster] = true
		}
	}
	return len(mounted), references
}
