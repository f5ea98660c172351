// Package driver answers Docker's volume plugin API with GlusterFS volumes:
// each Docker volume is a gluster replica volume created through the
// servers' control API, or a directory of an existing one, mounted once per
// host with reference counts kept in a state file that survives restarts.
//
// Locking, in the shape of moby's local volume driver: d.mu owns the map of
// volume states, the state file and the log forwarders. It is held only to
// read or change them, never across a call to the cluster or the mounter,
// and no *volumeState leaves it: readers get copies (state, lookup). Slow
// operations on one gluster volume (create, mount, unmount, remove, forget,
// restore) are ordered by that volume's operation lock (d.ops), taken
// before d.mu and never while holding it, so that operations on different
// gluster volumes never wait on each other. The volume cache (the
// cluster's volumes as last listed, cache.go) has its own lock, taken
// neither inside d.mu nor around it, and never held across I/O either.
package driver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/names"
)

// Config is what the driver needs to know about its host.
type Config struct {
	MountRoot      string        // where FUSE mounts are made: the managed plugin's propagated mount
	StateDir       string        // state file and client logs; a host directory that outlives the plugin
	MountTimeout   time.Duration // how long a mount may retry, below Docker's 2 minutes; 0 adapts to Docker's wait
	DefaultReplica int           // replica count when a create request sets none; 0 lets the servers choose
	DefaultSize    uint64        // size limit in bytes when a create request sets none; 0 sets none
	DefaultPool    string        // pool of volumes created with neither pool= nor volume=; "" makes dedicated volumes
	OnRemove       string        // removal policy of volumes created without on-remove: control.OnRemoveRetain or OnRemoveDelete
	CacheTTL       time.Duration // age of the cluster's volume list after which a call refreshes it in the background
	// DetachClients makes FUSE clients outlive the plugin, so that
	// running containers keep their volumes when it stops.
	DetachClients bool
}

// Driver implements volume.Driver.
type Driver struct {
	cfg     Config
	cluster Cluster
	mounter Mounter
	clients Clients
	logger  *slog.Logger
	cache   *volumeCache
	ops     keyedLocks // one operation lock per gluster volume
	wait    *mountWait // how long a Mount may take

	mu         sync.Mutex                    // guards volumes, the state file and forwarders
	volumes    map[string]*volumeState       // by Docker name; never handed out
	forwarders map[string]context.CancelFunc // by gluster volume: stops its client log forwarding

	// idleWait is how long Remove waits for clients to go (clientGoneWait;
	// tests shorten it).
	idleWait time.Duration
}

// New loads the driver's state from cfg.StateDir.
func New(cfg Config, cluster Cluster, m Mounter, clients Clients, logger *slog.Logger) (*Driver, error) {
	for _, dir := range []string{cfg.MountRoot, cfg.StateDir, filepath.Join(cfg.StateDir, "logs")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	volumes, err := loadState(filepath.Join(cfg.StateDir, "state.json"))
	if err != nil {
		return nil, err
	}
	return &Driver{
		cfg:        cfg,
		cluster:    cluster,
		mounter:    m,
		clients:    clients,
		logger:     logger,
		cache:      &volumeCache{cluster: cluster, ttl: cfg.CacheTTL, logger: logger},
		wait:       loadMountWait(cfg.MountTimeout, filepath.Join(cfg.StateDir, mountWaitFile), logger),
		volumes:    volumes,
		forwarders: map[string]context.CancelFunc{},

		idleWait: clientGoneWait,
	}, nil
}

// Capabilities reports global scope: a volume is the same on every host.
func (d *Driver) Capabilities() *volume.CapabilitiesResponse {
	return &volume.CapabilitiesResponse{Capabilities: volume.Capability{Scope: "global"}}
}

// Get describes one volume. It fails for a volume that exists neither here
// nor in the cluster: Docker creates a volume only after Get failed.
func (d *Driver) Get(req *volume.GetRequest) (*volume.GetResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	v, err := d.lookup(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	if d.forgetIfRemoved(ctx, v.Name, v.Gluster) {
		return nil, fmt.Errorf("volume %s: %w", req.Name, control.ErrNotFound)
	}
	return &volume.GetResponse{Volume: d.describe(v, true)}, nil
}

// List lists the volumes known here and every volume the plugin created
// anywhere in the cluster.
func (d *Driver) List() (*volume.ListResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	seen := map[string]*volume.Volume{}
	cluster, err := d.cache.list(ctx)
	if err != nil {
		// Volumes known here are still worth listing.
		d.logger.Warn("listing the cluster's volumes", "error", err)
	}
	for _, v := range d.states() {
		cv, listed := cluster[v.Gluster]
		if err == nil && (!listed || control.Retained(cv.Options) || droppedFromPool(v, cv)) && d.forgetIfRemoved(ctx, v.Name, v.Gluster) {
			continue
		}
		seen[v.Name] = d.describe(v, false)
	}
	for _, cv := range cluster {
		if control.Retained(cv.Options) {
			continue
		}
		name := cv.Options[DockerVolumeOption]
		if name != "" && seen[name] == nil {
			seen[name] = d.describe(fromCluster(name, cv), false)
		}
		for name, subdir := range control.Subvolumes(cv.Options) {
			if seen[name] == nil {
				seen[name] = d.describe(fromSubvolume(name, cv, subdir), false)
			}
		}
	}
	resp := &volume.ListResponse{}
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		resp.Volumes = append(resp.Volumes, seen[name])
	}
	return resp, nil
}

// lookup finds a volume in this host's state or, failing that, among the
// volumes the plugin created elsewhere in the cluster: in the snapshot of
// the cluster's list, then by asking the servers for the gluster volume of
// that name, which another host may have created since the snapshot. A
// subdirectory volume recorded elsewhere since is found once the snapshot
// refreshed: its name says nothing of the gluster volume it is part of.
func (d *Driver) lookup(ctx context.Context, name string) (volumeState, error) {
	if v, ok := d.state(name); ok {
		return v, nil
	}
	gluster, err := names.FromDocker(name)
	if err != nil {
		return volumeState{}, err
	}
	vols, err := d.cache.list(ctx)
	if err != nil {
		return volumeState{}, fmt.Errorf("looking up volume %s: %w", name, err)
	}
	cv, listed := vols[gluster]
	if listed && cv.Options[DockerVolumeOption] == name && !control.Retained(cv.Options) {
		return fromCluster(name, cv), nil
	}
	if v, ok := findSubvolume(vols, name); ok {
		return v, nil
	}
	// Not listed, or listed between its create and its labels (the
	// servers set them in a transaction after the create): ask.
	if !listed || cv.Options[DockerVolumeOption] == "" {
		cv, err := d.cache.lookup(ctx, gluster)
		if err == nil && cv.Options[DockerVolumeOption] == name && !control.Retained(cv.Options) {
			return fromCluster(name, cv), nil
		}
		if err != nil && !errors.Is(err, control.ErrNotFound) {
			return volumeState{}, fmt.Errorf("looking up volume %s: %w", name, err)
		}
	}
	return volumeState{}, fmt.Errorf("volume %s: %w", name, control.ErrNotFound)
}

// subvolumeElsewhere finds a subdirectory volume in a list of the cluster
// asked for now, however long that takes: the servers said the name is
// one, and only a list says of which volume.
func (d *Driver) subvolumeElsewhere(ctx context.Context, name string) (volumeState, bool) {
	vols, err := d.cache.awaitList(ctx)
	if err != nil {
		return volumeState{}, false
	}
	return findSubvolume(vols, name)
}

// forgetIfRemoved forgets a volume of this host's state whose gluster
// volume is gone or retained, or a pooled volume its pool no longer
// records, removed by `docker volume rm` on another host: one the
// plugin created and no container uses here. Docker then sees it gone here
// too, and creates it anew when asked instead of mounting a volume that no
// longer exists.
func (d *Driver) forgetIfRemoved(ctx context.Context, name, gluster string) bool {
	known, ok := d.state(name)
	if !ok || known.references() > 0 {
		return false
	}
	if opts, err := ParseOptions(known.Options); err != nil || (opts.Existing() && opts.Pool == "") {
		return false
	}
	removed := func(cv control.Volume, err error) bool {
		return gone(cv, err) || (err == nil && droppedFromPool(known, cv))
	}
	// The snapshot picks the candidates; the cluster itself decides, under
	// the lock that Create and Mount hold.
	if cv, listed, ready := d.cache.listed(gluster); !ready || (listed && !removed(cv, nil)) {
		return false
	}
	defer d.ops.lock(gluster)()
	known, ok = d.state(name)
	if !ok || known.references() > 0 || known.Gluster != gluster {
		return false
	}
	cv, err := d.cache.lookup(ctx, gluster)
	if !removed(cv, err) {
		return false
	}
	if err := d.update(func() { delete(d.volumes, name) }); err != nil {
		d.logger.Warn("forgetting volume removed elsewhere", "volume", name, "error", err)
		return false
	}
	log := d.logger.With("volume", name, "gluster", gluster)
	log.Info("volume removed elsewhere, forgotten")
	if errors.Is(err, control.ErrNotFound) {
		d.removeClientLog(gluster, log)
	}
	return true
}

func fromCluster(name string, cv control.Volume) volumeState {
	return volumeState{Name: name, Gluster: cv.Name, CreatedAt: cv.CreatedAt}
}

// Remove removes a volume. A gluster volume the plugin created is kept
// with its data and labelled retained under the retain policy, or else
// deleted with its bricks unless any client is connected elsewhere; a
// gluster volume it did not create is left as it is. Neither happens while
// a container uses it here.
func (d *Driver) Remove(req *volume.RemoveRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	v, err := d.lookup(ctx, req.Name)
	if err != nil {
		return err
	}
	defer d.ops.lock(v.Gluster)()
	log := d.logger.With("volume", req.Name, "gluster", v.Gluster)
	if v, ok := d.state(req.Name); ok && v.references() > 0 {
		return fmt.Errorf("volume %s is in use by %d mount(s) on this host: stop the containers using it first", req.Name, v.references())
	}
	cv, err := d.cluster.Lookup(ctx, v.Gluster)
	kept := false
	switch {
	case errors.Is(err, control.ErrNotFound):
		d.cache.remove(v.Gluster)
		log.Info("gluster volume already gone")
	case err != nil:
		return fmt.Errorf("removing volume %s: %w", req.Name, err)
	case cv.Options[DockerVolumeOption] != req.Name:
		kept = true
		if err := d.removeFromPool(ctx, v, cv); err != nil {
			return err
		}
		if err := d.forgetSubvolume(ctx, v); err != nil {
			return err
		}
		log.Info("keeping the gluster volume: the plugin did not create it for this Docker volume", "pool", v.Options["pool"])
	default:
		if subs := control.Subvolumes(cv.Options); len(subs) > 0 {
			return fmt.Errorf("%w: volume %s: gluster volume %s holds the subdirectory volumes %s: docker volume rm them first, on any host",
				control.ErrInUse, req.Name, v.Gluster, strings.Join(slices.Sorted(maps.Keys(subs)), ", "))
		}
		if d.onRemove(cv) == control.OnRemoveRetain {
			kept = true
			if err := d.cluster.Retain(ctx, v.Gluster); err != nil {
				return fmt.Errorf("removing volume %s: retaining gluster volume %s: %w", req.Name, v.Gluster, err)
			}
			log.Info("gluster volume retained with its data", "purge", "gluster-admin purge "+v.Gluster+" in a server container")
			break
		}
		if err := d.deleteWhenIdle(ctx, v.Gluster); err != nil && !errors.Is(err, control.ErrNotFound) {
			return fmt.Errorf("removing volume %s: %w", req.Name, err)
		}
		d.cache.remove(v.Gluster)
		log.Info("gluster volume deleted")
	}
	if err := d.update(func() { delete(d.volumes, req.Name) }); err != nil {
		return err
	}
	if !kept {
		d.removeClientLog(v.Gluster, log)
	}
	return nil
}

// removeClientLog removes the FUSE client log of a gluster volume that is
// gone: one log file per gluster volume ever mounted would pile up.
func (d *Driver) removeClientLog(gluster string, log *slog.Logger) {
	if err := os.Remove(d.logFile(gluster)); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Warn("removing the gluster client log", "error", err)
	}
}

// deleteWhenIdle deletes a gluster volume, retrying while the servers still
// see clients connected, for at most idleWait. Only the retries are bounded
// so: each delete itself has ctx's time.
func (d *Driver) deleteWhenIdle(ctx context.Context, gluster string) (err error) {
	retries, cancel := context.WithTimeout(ctx, d.idleWait)
	defer cancel()
	for range deleteRetry.Attempts(retries) {
		if err = d.cluster.Delete(ctx, gluster); !errors.Is(err, control.ErrInUse) {
			return err
		}
	}
	return err
}

// Path reports where a mounted volume is.
func (d *Driver) Path(req *volume.PathRequest) (*volume.PathResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	v, err := d.lookup(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return &volume.PathResponse{Mountpoint: d.mountedPath(v)}, nil
}

// Restore checks the mounts the state says this host holds, mounts again
// what is missing or stale, binds subdirectory volumes again, and removes
// what nothing references. It runs before the plugin answers Docker, and
// asks for the first list of the cluster's volumes without waiting for it.
func (d *Driver) Restore(ctx context.Context) {
	// Docker's first calls then find the cluster's volumes listed already.
	d.cache.refreshInBackground()
	// Left unsealed by the last instance's Stop, or by a version before seals.
	d.mounter.SealMountpoints(d.mountpoints(), true)
	wanted := map[string][]volumeState{} // by gluster volume: the volumes in use
	for _, v := range d.states() {
		if v.references() > 0 {
			wanted[v.Gluster] = append(wanted[v.Gluster], v)
		}
	}
	var wg sync.WaitGroup
	for gluster, vols := range wanted {
		wg.Go(func() {
			defer d.ops.lock(gluster)()
			d.restoreMount(ctx, gluster, vols)
		})
	}
	wg.Wait()

	d.releaseStrayBinds()
	unused := map[string]bool{}
	for _, gluster := range d.glusterMountpoints() {
		if wanted[gluster] == nil {
			unused[gluster] = true
		}
	}
	// Clients of earlier instances whose containers all left meanwhile.
	for _, gluster := range d.clients.Volumes() {
		if wanted[gluster] == nil {
			unused[gluster] = true
		}
	}
	for gluster := range unused {
		unlock := d.ops.lock(gluster)
		if err := d.releaseIfUnused(gluster, d.mountpoint(gluster)); err != nil {
			d.logger.Warn("releasing unused volume", "gluster", gluster, "error", err)
		}
		unlock()
	}
}

// Stop unseals every mountpoint, so that Docker can remove the plugin's
// directory once the plugin is gone; the mounts stay for the containers
// using them, and the next instance seals the mountpoints again. The volume
// API must be closed first: a mountpoint made afterwards stays sealed.
func (d *Driver) Stop() {
	d.mounter.SealMountpoints(d.mountpoints(), false)
}

// mountpoints lists the directories under the mount root that gluster
// volumes and subdirectory volumes are mounted on, or were.
func (d *Driver) mountpoints() []string {
	var paths []string
	for _, gluster := range d.glusterMountpoints() {
		paths = append(paths, d.mountpoint(gluster))
	}
	for _, docker := range d.bindpoints() {
		paths = append(paths, d.bindpoint(docker))
	}
	return paths
}

// glusterMountpoints lists the gluster volumes with a mountpoint on this host.
func (d *Driver) glusterMountpoints() []string {
	return directories(d.cfg.MountRoot, bindRoot)
}

// bindpoints lists the subdirectory volumes with a bindpoint on this host.
func (d *Driver) bindpoints() []string {
	return directories(filepath.Join(d.cfg.MountRoot, bindRoot), "")
}

// directories lists the names of the directories in dir but except; a
// directory that cannot be read has none.
func directories(dir, except string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != except {
			names = append(names, e.Name())
		}
	}
	return names
}

// restoreMount makes sure the gluster mount that vols use is healthy, and
// that each subdirectory volume among them is bound again.
func (d *Driver) restoreMount(ctx context.Context, gluster string, vols []volumeState) {
	root := d.mountpoint(gluster)
	if d.healthy(root) {
		d.logger.Info("mount still healthy", "gluster", gluster)
		d.forwardLog(gluster)
	} else if err := d.mountGluster(ctx, gluster, root); err != nil {
		d.logger.Error("restoring mount", "gluster", gluster, "error", err)
		return
	} else {
		d.logger.Info("mount restored", "gluster", gluster)
	}
	for _, v := range vols {
		if err := d.attach(v, root); err != nil {
			d.logger.Error("restoring the bind of a subdirectory volume", "volume", v.Name, "gluster", gluster, "error", err)
		}
	}
}
