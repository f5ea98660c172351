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
	"strings"
	"sync"
	"syscall"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/mounter"
)

// fakeCluster is an in-memory control API.
type fakeCluster struct {
	mu      sync.Mutex
	volumes map[string]control.Volume
	clients map[string][]string // volume -> client hosts, makes Delete refuse
	creates []control.CreateRequest
	deletes []string
	retains []string
	// onCreate, if set, changes a volume Create makes, as the servers do.
	onCreate func(v *control.Volume, req control.CreateRequest)
	// subvolumes are the AddSubvolume requests, "docker subdir size".
	subvolumes []string
	heal       control.Heal      // what Heal answers for every volume
	rebalance  control.Rebalance // what Rebalance answers for every volume
	// subvolumeErr, if set, is what AddSubvolume answers, as the servers
	// do for a size the bricks cannot hold.
	subvolumeErr error
	lists        int // Volumes calls
	lookups      int // Lookup calls
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{volumes: map[string]control.Volume{}, clients: map[string][]string{}}
}

func (f *fakeCluster) Servers() []string { return []string{"10.0.0.1", "10.0.0.2"} }

func (f *fakeCluster) Create(_ context.Context, req control.CreateRequest) (control.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, req)
	if v, ok := f.volumes[req.Name]; ok {
		if v.Options[DockerVolumeOption] != req.Options[DockerVolumeOption] {
			return control.Volume{}, fmt.Errorf("%w: other layout", control.ErrConflict)
		}
		return v, nil
	}
	key, _ := control.SubvolumeOption(req.Options[DockerVolumeOption])
	for _, v := range f.volumes {
		if control.ValidateSubdir(v.Options[key]) == nil {
			return control.Volume{}, fmt.Errorf("%w: a subdirectory of volume %s", control.ErrConflict, v.Name)
		}
	}
	v := control.Volume{Name: req.Name, Status: "Started", Replica: 2, CreatedAt: "2026-01-02T03:04:05Z", Options: req.Options,
		Bricks: []control.Brick{{Server: "10.0.0.1", Path: "/bricks/" + req.Name, Online: true}, {Server: "10.0.0.3", Path: "/bricks/" + req.Name}}}
	if f.onCreate != nil {
		v.Options = maps.Clone(v.Options)
		f.onCreate(&v, req)
	}
	f.volumes[req.Name] = v
	return v, nil
}

func (f *fakeCluster) Volume(_ context.Context, name string) (control.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return v, fmt.Errorf("%w: %s", control.ErrNotFound, name)
	}
	v.Clients = f.clients[name]
	return v, nil
}

func (f *fakeCluster) Heal(context.Context, string) (control.Heal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heal, nil
}

func (f *fakeCluster) Rebalance(context.Context, string) (control.Rebalance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rebalance, nil
}

// add adds a volume, as another host creates one.
func (f *fakeCluster) add(v control.Volume) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.volumes[v.Name] = v
}

// counts returns how often the volumes were listed and looked up.
func (f *fakeCluster) counts() (lists, lookups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, f.lookups
}

// Lookup is Volume without the status, as the servers answer it.
func (f *fakeCluster) Lookup(_ context.Context, name string) (control.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	v, ok := f.volumes[name]
	if !ok {
		return v, fmt.Errorf("%w: %s", control.ErrNotFound, name)
	}
	return v, nil
}

func (f *fakeCluster) Volumes(context.Context) ([]control.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var out []control.Volume
	for _, v := range f.volumes {
		out = append(out, v)
	}
	return out, nil
}

func (f *fakeCluster) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return fmt.Errorf("%w: %s", control.ErrNotFound, name)
	}
	if subs := control.Subvolumes(v.Options); len(subs) > 0 {
		return fmt.Errorf("%w: holds subdirectory volumes %v", control.ErrConflict, slices.Sorted(maps.Keys(subs)))
	}
	if len(f.clients[name]) > 0 {
		return fmt.Errorf("%w: clients connected from %v", control.ErrInUse, f.clients[name])
	}
	f.deletes = append(f.deletes, name)
	delete(f.volumes, name)
	return nil
}

// Retain labels the volume as the servers do.
func (f *fakeCluster) Retain(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return fmt.Errorf("%w: %s", control.ErrNotFound, name)
	}
	v.Options = maps.Clone(v.Options)
	v.Options[control.RetainedOption] = "2026-01-02T03:04:05Z"
	f.volumes[name] = v
	f.retains = append(f.retains, name)
	return nil
}

// AddSubvolume and RemoveSubvolume label the volume as the servers do.
func (f *fakeCluster) AddSubvolume(_ context.Context, gluster, docker string, req control.SubvolumeRequest) error {
	f.mu.Lock()
	f.subvolumes = append(f.subvolumes, fmt.Sprintf("%s %s %d", docker, req.Subdir, req.Size))
	refused := f.subvolumeErr
	f.mu.Unlock()
	if refused != nil {
		return refused
	}
	return f.label(gluster, docker, func(options map[string]string, key string) {
		options[key] = req.Subdir
		if req.Size > 0 {
			options[control.SubvolumeSizeOptionPrefix+strings.TrimPrefix(key, control.SubvolumeOptionPrefix)] = fmt.Sprint(req.Size)
		}
		if req.OnRemove != "" {
			options[control.SubvolumeOnRemoveOptionPrefix+strings.TrimPrefix(key, control.SubvolumeOptionPrefix)] = req.OnRemove
		}
	})
}

func (f *fakeCluster) RemoveSubvolume(_ context.Context, gluster, docker string) error {
	return f.label(gluster, docker, func(options map[string]string, key string) { options[key] = "/" })
}

func (f *fakeCluster) label(gluster, docker string, change func(options map[string]string, key string)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[gluster]
	if !ok {
		return fmt.Errorf("%w: %s", control.ErrNotFound, gluster)
	}
	key, err := control.SubvolumeOption(docker)
	if err != nil {
		return fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	v.Options = maps.Clone(v.Options)
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	change(v.Options, key)
	f.volumes[gluster] = v
	return nil
}

// fakeMounter records mounts; a mounted target is a directory it created.
type fakeMounter struct {
	mu      sync.Mutex
	mounted map[string]bool
	stale   map[string]bool
	mounts  []mounter.Request
	binds   map[string]string // target -> the directory bound there
	sealed  map[string]bool   // mountpoints sealed, as MakeMountpoint and SealMountpoints left them
	fail    error
	// onMount, if set, runs on each new mount's target, as content the
	// volume holds.
	onMount func(target string)
	// wiped are the paths an unmount hid.
	wiped []string

	forwarding int // ForwardLog calls running
}

func newFakeMounter() *fakeMounter {
	return &fakeMounter{mounted: map[string]bool{}, stale: map[string]bool{}, binds: map[string]string{}, sealed: map[string]bool{}}
}

// Mount mounts, repairs a stale mount, or keeps a healthy one as the real
// mounter does; a new client's pid is 1000 plus the number of mounts.
func (f *fakeMounter) Mount(_ context.Context, req mounter.Request) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	if _, err := os.Stat(req.Target); err != nil {
		return 0, fmt.Errorf("mountpoint missing: %w", err)
	}
	if f.mounted[req.Target] && !f.stale[req.Target] {
		return 0, nil
	}
	f.mounts = append(f.mounts, req)
	f.mounted[req.Target] = true
	delete(f.stale, req.Target)
	if f.onMount != nil {
		f.onMount(req.Target)
	}
	return 1000 + len(f.mounts), nil
}

// Bind records the directory dir is open on, as the kernel names it.
func (f *fakeMounter) Bind(dir *os.File, target string) error {
	source, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", dir.Fd()))
	if err != nil {
		return err
	}
	if _, err := os.Stat(target); err != nil {
		return fmt.Errorf("bindpoint missing: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.binds[target] = source
	f.mounted[target] = true
	delete(f.stale, target)
	return nil
}

// bound returns the directory bound on target, "" if none.
func (f *fakeMounter) bound(target string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.binds[target]
}

// Unmount shows the empty directory beneath again: what was made on the
// mount stays in the volume.
func (f *fakeMounter) Unmount(_ context.Context, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mounted[target] {
		entries, _ := os.ReadDir(target)
		for _, e := range entries {
			f.wiped = append(f.wiped, filepath.Join(target, e.Name()))
			if err := os.RemoveAll(filepath.Join(target, e.Name())); err != nil {
				return err
			}
		}
	}
	delete(f.mounted, target)
	delete(f.stale, target)
	delete(f.binds, target)
	return nil
}

// MakeMountpoint makes the directory and records it sealed.
func (f *fakeMounter) MakeMountpoint(path string) error {
	if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sealed[path] = true
	return nil
}

// RemoveMountpoint refuses a mountpoint still mounted on, as rmdir does.
func (f *fakeMounter) RemoveMountpoint(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mounted[path] {
		return fmt.Errorf("removing mountpoint %s: %w", path, syscall.EBUSY)
	}
	delete(f.sealed, path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (f *fakeMounter) SealMountpoints(paths []string, sealed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range paths {
		f.sealed[p] = sealed
	}
}

// sealedMountpoints lists the mountpoints recorded sealed.
func (f *fakeMounter) sealedMountpoints() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return setMembers(f.sealed)
}

func (f *fakeMounter) IsMounted(target string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mounted[target], nil
}

func (f *fakeMounter) IsStale(target string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stale[target]
}

func (f *fakeMounter) ForwardLog(ctx context.Context, _ string, _ *slog.Logger) {
	f.mu.Lock()
	f.forwarding++
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.forwarding--
	f.mu.Unlock()
}

func (f *fakeMounter) forwards() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forwarding
}

func (f *fakeMounter) active() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return setMembers(f.mounted)
}

// setMembers lists, sorted, the paths a set holds.
func setMembers(set map[string]bool) []string {
	var out []string
	for p, ok := range set {
		if ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// fakeClients records what the driver asks of the detached clients.
type fakeClients struct {
	mu       sync.Mutex
	detached map[string][]int // pids by gluster volume
	released []string
}

func newFakeClients() *fakeClients {
	return &fakeClients{detached: map[string][]int{}}
}

func (f *fakeClients) Detach(pid int, gluster string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.detached[gluster] = append(f.detached[gluster], pid)
	return nil
}

func (f *fakeClients) Release(gluster string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, gluster)
	delete(f.detached, gluster)
	return nil
}

func (f *fakeClients) Volumes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.detached))
}
