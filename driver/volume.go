package driver

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/logging"
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
	// Docker gives up by closing the request: how long it waited tells
	// how long later Mounts may take.
	start := time.Now()
	stop := context.AfterFunc(caller, func() { d.wait.abandoned(time.Since(start)) })
	defer stop()
	// The whole call, lookup included, ends within the mount timeout: a
	// mount that succeeded after Docker gave up would hold a reference no
	// one ever releases.
	ctx, cancel := context.WithTimeout(caller, d.wait.timeout())
	defer cancel()
	took := logging.StartSteps()
	v, err := d.lookup(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	took.Step("lookup")
	defer d.ops.lock(v.Gluster)()
	took.Step("waited")
	log := d.logger.With("volume", req.Name, "id", req.ID)
	if known, ok := d.state(req.Name); ok {
		v = known
	}

	root := d.mountpoint(v.Gluster)
	d.mu.Lock()
	shared := d.glusterReferences(v.Gluster) > 0
	d.mu.Unlock()
	needed := !shared || !d.healthy(root)
	took.Step("checked")
	if needed {
		if err := d.mountGluster(ctx, v.Gluster, root); err != nil {
			return nil, fmt.Errorf("mounting volume %s: %w", req.Name, err)
		}
		took.Step("fuse")
	}
	if err := d.attach(v, root); err != nil {
		d.releaseUnused(v)
		return nil, fmt.Errorf("volume %s: %w", req.Name, err)
	}
	if err := d.applyPendingSize(ctx, v); err != nil {
		d.releaseUnused(v)
		return nil, err
	}
	if err := caller.Err(); err != nil {
		d.releaseUnused(v)
		return nil, fmt.Errorf("mounting volume %s: Docker stopped waiting: %w", req.Name, err)
	}
	var refs int
	err = d.update(func() {
		known := d.volumes[req.Name]
		if known == nil {
			// Known from the cluster only, or removed meanwhile: no
			// references but this one. A copy: v stays the caller's.
			c := v.clone()
			known = &c
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
	took.Step("saved")
	log.Info("volume mounted", append([]any{"references", refs, "path", d.volumePath(v),
		"elapsed", time.Since(start).Round(time.Millisecond)}, took.Attrs()...)...)
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
	if err := d.mounter.MakeMountpoint(target); err != nil {
		return err
	}
	servers := slices.Clone(d.cluster.Servers())
	var bricks []string
	// The brick hosts are servers too, and tell the mounter which brick
	// index is which; the snapshot is enough for that.
	if vol, err := d.cache.volume(ctx, gluster); err == nil {
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
		_ = d.mounter.RemoveMountpoint(target)
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
	return d.releaseUnused(v)
}

// releaseUnused removes what a volume no container uses here any more
// holds: its bind, then the gluster mount if no other volume uses it.
func (d *Driver) releaseUnused(v volumeState) error {
	d.mu.Lock()
	refs := 0
	if known := d.volumes[v.Name]; known != nil {
		refs = known.references()
	}
	d.mu.Unlock()
	if refs > 0 {
		return nil
	}
	if v.Options["subdir"] != "" {
		if err := d.unbind(v.Name); err != nil {
			return err
		}
	}
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
	if err := d.mounter.RemoveMountpoint(target); err != nil {
		return err
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

// volumePath is where a volume is handed to Docker: the gluster mount, or
// the bind of a subdirectory volume.
func (d *Driver) volumePath(v volumeState) string {
	if v.Options["subdir"] != "" {
		return d.bindpoint(v.Name)
	}
	return d.mountpoint(v.Gluster)
}

// mountedPath is volumePath while the volume is mounted on this host, and
// "" otherwise. d.mu must be held.
func (d *Driver) mountedPath(v volumeState) string {
	mounted := d.glusterReferences(v.Gluster) > 0
	if v.Options["subdir"] != "" {
		known := d.volumes[v.Name]
		mounted = known != nil && known.references() > 0
	}
	if !mounted {
		return ""
	}
	return d.volumePath(v)
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
