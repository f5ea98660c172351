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
// gluster volumes never wait on each other. The volume cache has its own
// lock, taken neither inside d.mu nor around it.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/clients"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/mounter"
	"github.com/glusterdocker/gluster/names"
)

// Cluster is the control API of the gluster servers.
type Cluster interface {
	Create(ctx context.Context, req control.CreateRequest) (control.Volume, error)
	Volume(ctx context.Context, name string) (control.Volume, error)
	Volumes(ctx context.Context) ([]control.Volume, error)
	Delete(ctx context.Context, name string) error
	Servers() []string
}

// Mounter makes and removes FUSE mounts.
type Mounter interface {
	// Mount mounts a gluster volume, or repairs the dead mount on the
	// target, and returns the process ID of the client serving it (0 when
	// it kept a healthy mount or cannot tell).
	Mount(ctx context.Context, req mounter.Request) (pid int, err error)
	Unmount(ctx context.Context, target string) error
	IsMounted(target string) (bool, error)
	IsStale(target string) bool
	ForwardLog(ctx context.Context, logFile string, logger *slog.Logger)
}

// Clients keeps track of the FUSE clients that outlive the plugin.
type Clients interface {
	// Detach makes a client outlive the plugin and records it.
	Detach(pid int, gluster string) error
	// Release stops the recorded clients of a gluster volume no container
	// uses any more.
	Release(gluster string) error
	// Volumes lists the gluster volumes with recorded clients.
	Volumes() []string
}

var (
	_ volume.Driver = (*Driver)(nil)
	_ Cluster       = (*control.Cluster)(nil)
	_ Mounter       = (*mounter.Mounter)(nil)
	_ Clients       = (*clients.Registry)(nil)
)

// callTimeout bounds the calls Docker gives a minute or less.
const callTimeout = 20 * time.Second

// Config is what the driver needs to know about its host.
type Config struct {
	MountRoot      string        // where FUSE mounts are made: the managed plugin's propagated mount
	StateDir       string        // state file and client logs; a host directory that outlives the plugin
	MountTimeout   time.Duration // how long a mount may retry; below Docker's 2 minutes
	DefaultReplica int           // replica count when a create request sets none; 0 lets the servers choose
	CacheTTL       time.Duration // how long the cluster's volume list is reused
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

	mu         sync.Mutex                    // guards volumes, the state file and forwarders
	volumes    map[string]*volumeState       // by Docker name; never handed out
	forwarders map[string]context.CancelFunc // by gluster volume: stops its client log forwarding

	clientGoneWait time.Duration
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
		cache:      &volumeCache{cluster: cluster, ttl: cfg.CacheTTL},
		volumes:    volumes,
		forwarders: map[string]context.CancelFunc{},

		clientGoneWait: clientGoneWait,
	}, nil
}

// Capabilities reports global scope: a volume is the same on every host.
func (d *Driver) Capabilities() *volume.CapabilitiesResponse {
	return &volume.CapabilitiesResponse{Capabilities: volume.Capability{Scope: "global"}}
}

// Create creates the gluster volume behind a Docker volume, or adopts the
// one another host created. Bad options create nothing.
func (d *Driver) Create(req *volume.CreateRequest) error {
	opts, err := ParseOptions(req.Options)
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Known with these options: nothing to do. Known from a mount only (it
	// was created elsewhere), or with other options: the cluster decides
	// whether the options fit the volume as it is.
	if known, ok := d.state(req.Name); ok && maps.Equal(known.Options, req.Options) {
		return nil
	}
	var createdAt string
	if opts.Existing() {
		vol, err := d.cluster.Volume(ctx, gluster)
		if err != nil {
			return fmt.Errorf("volume=%s: %w", gluster, err)
		}
		createdAt = vol.CreatedAt
		log.Info("using existing gluster volume", "subdir", opts.Subdir)
	} else {
		vol, err := d.cluster.Create(ctx, d.createRequest(req.Name, gluster, opts))
		if errors.Is(err, control.ErrConflict) {
			return fmt.Errorf("gluster volume %s already exists for another Docker volume or with another layout: %w", gluster, err)
		}
		if err != nil {
			return fmt.Errorf("creating volume %s: %w", req.Name, err)
		}
		createdAt = vol.CreatedAt
		log.Info("volume ready", "replica", vol.Replica, "bricks", brickList(vol))
	}
	if createdAt == "" {
		createdAt = time.Now().UTC().Format(time.RFC3339)
	}
	d.cache.invalidate()
	return d.update(func() {
		v := &volumeState{Name: req.Name, Gluster: gluster, Options: maps.Clone(req.Options), CreatedAt: createdAt}
		if known := d.volumes[req.Name]; known != nil {
			v.Mounts, v.Prepared = known.Mounts, known.Prepared
		}
		d.volumes[req.Name] = v
	})
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
	return control.CreateRequest{Name: gluster, Replica: replica, Arbiter: opts.Arbiter, Servers: opts.Servers, Options: options}
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
		if _, listed := cluster[v.Gluster]; err == nil && !listed && d.forgetIfRemoved(ctx, v.Name, v.Gluster) {
			continue
		}
		seen[v.Name] = d.describe(v, false)
	}
	for _, cv := range cluster {
		name := cv.Options[DockerVolumeOption]
		if name != "" && seen[name] == nil {
			seen[name] = d.describe(fromCluster(name, cv), false)
		}
	}
	resp := &volume.ListResponse{}
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		resp.Volumes = append(resp.Volumes, seen[name])
	}
	return resp, nil
}

// lookup finds a volume in this host's state or, failing that, among the
// volumes the plugin created elsewhere in the cluster.
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
	cv, ok := vols[gluster]
	if !ok || cv.Options[DockerVolumeOption] != name {
		return volumeState{}, fmt.Errorf("volume %s: %w", name, control.ErrNotFound)
	}
	return fromCluster(name, cv), nil
}

// forgetIfRemoved forgets a volume of this host's state whose gluster
// volume is gone, removed by `docker volume rm` on another host: one the
// plugin created and no container uses here. Docker then sees it gone here
// too, and creates it anew when asked instead of mounting a volume that no
// longer exists.
func (d *Driver) forgetIfRemoved(ctx context.Context, name, gluster string) bool {
	known, ok := d.state(name)
	if !ok || known.references() > 0 {
		return false
	}
	if opts, err := ParseOptions(known.Options); err != nil || opts.Existing() {
		return false
	}
	// The cached answer picks the candidates; the cluster itself decides,
	// under the lock that Create and Mount hold.
	if _, err := d.cache.detail(ctx, gluster); !errors.Is(err, control.ErrNotFound) {
		return false
	}
	defer d.ops.lock(gluster)()
	if known, ok := d.state(name); !ok || known.references() > 0 || known.Gluster != gluster {
		return false
	}
	if _, err := d.cluster.Volume(ctx, gluster); !errors.Is(err, control.ErrNotFound) {
		return false
	}
	if err := d.update(func() { delete(d.volumes, name) }); err != nil {
		d.logger.Warn("forgetting volume removed elsewhere", "volume", name, "error", err)
		return false
	}
	d.logger.Info("volume removed elsewhere, forgotten", "volume", name, "gluster", gluster)
	return true
}

func fromCluster(name string, cv control.Volume) volumeState {
	return volumeState{Name: name, Gluster: cv.Name, CreatedAt: cv.CreatedAt}
}

// state returns a copy of what this host knows of a volume.
func (d *Driver) state(name string) (volumeState, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volumes[name]
	if !ok {
		return volumeState{}, false
	}
	return v.clone(), true
}

// states returns copies of every volume this host knows.
func (d *Driver) states() []volumeState {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]volumeState, 0, len(d.volumes))
	for _, v := range d.volumes {
		out = append(out, v.clone())
	}
	return out
}

// describe turns a volume into Docker's terms; with status, it adds what
// `docker volume inspect` shows: the gluster volume, its bricks and their
// state, and the mounts on this host.
func (d *Driver) describe(v volumeState, withStatus bool) *volume.Volume {
	out := &volume.Volume{Name: v.Name, CreatedAt: v.CreatedAt}
	refs := v.references()
	d.mu.Lock()
	mounted := d.glusterReferences(v.Gluster) > 0
	d.mu.Unlock()
	if mounted {
		out.Mountpoint = d.volumePath(v)
	}
	if !withStatus {
		return out
	}
	status := map[string]interface{}{
		"gluster_volume": v.Gluster,
		"references":     refs,
		"servers":        d.cluster.Servers(),
	}
	if sub := v.Options["subdir"]; sub != "" {
		status["subdir"] = sub
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cv, err := d.cache.detail(ctx, v.Gluster); err != nil {
		status["error"] = err.Error()
	} else {
		status["status"] = cv.Status
		status["replica"] = cv.Replica
		status["bricks"] = brickList(cv)
		if len(cv.Clients) > 0 {
			status["clients"] = cv.Clients
		}
	}
	out.Status = status
	return out
}

func brickList(v control.Volume) []string {
	out := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		state := "offline"
		if b.Online {
			state = "online"
		}
		if b.Arbiter {
			state += ", arbiter"
		}
		out[i] = fmt.Sprintf("%s:%s (%s)", b.Server, b.Path, state)
	}
	return out
}

// Remove deletes a volume. A gluster volume the plugin created is deleted
// with its bricks, unless a container uses it here or any client is
// connected elsewhere; a gluster volume it did not create is left as it is.
func (d *Driver) Remove(req *volume.RemoveRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
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
	cv, err := d.cluster.Volume(ctx, v.Gluster)
	kept := false
	switch {
	case errors.Is(err, control.ErrNotFound):
		log.Info("gluster volume already gone")
	case err != nil:
		return fmt.Errorf("removing volume %s: %w", req.Name, err)
	case cv.Options[DockerVolumeOption] != req.Name:
		kept = true
		log.Info("keeping gluster volume the plugin did not create")
	default:
		if err := d.deleteWhenIdle(ctx, v.Gluster); err != nil && !errors.Is(err, control.ErrNotFound) {
			return fmt.Errorf("removing volume %s: %w", req.Name, err)
		}
		log.Info("gluster volume deleted")
	}
	d.cache.invalidate()
	if err := d.update(func() { delete(d.volumes, req.Name) }); err != nil {
		return err
	}
	if !kept {
		// One log file per gluster volume ever mounted would pile up.
		if err := os.Remove(d.logFile(v.Gluster)); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("removing the gluster client log", "error", err)
		}
	}
	return nil
}

// clientGoneWait is how long Remove waits for clients to disconnect. A
// container that just exited leaves a FUSE client that needs a moment to
// go, here or on another host, and `docker rm` is often followed at once by
// `docker volume rm`.
const clientGoneWait = 10 * time.Second

// deleteWhenIdle deletes a gluster volume, retrying while the servers still
// see clients connected, for at most clientGoneWait.
func (d *Driver) deleteWhenIdle(ctx context.Context, gluster string) error {
	deadline := time.Now().Add(d.clientGoneWait)
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := d.cluster.Delete(ctx, gluster)
		if !errors.Is(err, control.ErrInUse) || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
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
	if d.glusterReferences(v.Gluster) == 0 {
		return &volume.PathResponse{}, nil
	}
	return &volume.PathResponse{Mountpoint: d.volumePath(v)}, nil
}

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
			uid = *opts.UID
		}
		if opts.GID != nil {
			gid = *opts.GID
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

func (d *Driver) mountpoint(gluster string) string {
	return filepath.Join(d.cfg.MountRoot, gluster)
}

func (d *Driver) volumePath(v volumeState) string {
	return filepath.Join(d.mountpoint(v.Gluster), v.Options["subdir"])
}

// update changes the state under the lock and saves it; a change that
// cannot be saved is undone, so memory and disk agree.
func (d *Driver) update(change func()) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	before := cloneVolumes(d.volumes)
	change()
	if err := saveState(filepath.Join(d.cfg.StateDir, "state.json"), d.volumes); err != nil {
		d.volumes = before
		return err
	}
	return nil
}

func cloneVolumes(in map[string]*volumeState) map[string]*volumeState {
	out := make(map[string]*volumeState, len(in))
	for k, v := range in {
		c := v.clone()
		out[k] = &c
	}
	return out
}

// Restore checks the mounts the state says this host holds, mounts again
// what is missing or stale, and unmounts what nothing references. It runs
// before the plugin answers Docker.
func (d *Driver) Restore(ctx context.Context) {
	d.mu.Lock()
	wanted := map[string]bool{}
	for _, v := range d.volumes {
		if v.references() > 0 {
			wanted[v.Gluster] = true
		}
	}
	d.mu.Unlock()

	var wg sync.WaitGroup
	for gluster := range wanted {
		target := d.mountpoint(gluster)
		if d.healthy(target) {
			d.logger.Info("mount still healthy", "gluster", gluster)
			d.forwardLog(gluster)
			continue
		}
		wg.Go(func() {
			defer d.ops.lock(gluster)()
			if err := d.mountGluster(ctx, gluster, target); err != nil {
				d.logger.Error("restoring mount", "gluster", gluster, "error", err)
				return
			}
			d.logger.Info("mount restored", "gluster", gluster)
		})
	}
	wg.Wait()

	unused := map[string]bool{}
	entries, _ := os.ReadDir(d.cfg.MountRoot)
	for _, e := range entries {
		if !wanted[e.Name()] && e.IsDir() {
			unused[e.Name()] = true
		}
	}
	// Clients of earlier instances whose containers all left meanwhile.
	for _, gluster := range d.clients.Volumes() {
		if !wanted[gluster] {
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
