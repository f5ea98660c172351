package driver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	cluster *fakeCluster
	mounter *fakeMounter
	clients *fakeClients
	cfg     Config
	driver  *Driver
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		cluster: newFakeCluster(),
		mounter: newFakeMounter(),
		clients: newFakeClients(),
		cfg: Config{
			MountRoot:    filepath.Join(dir, "mnt"),
			StateDir:     filepath.Join(dir, "state"),
			MountTimeout: time.Second,
			CacheTTL:     time.Hour,
		},
	}
	f.restart(t)
	return f
}

// restart makes a new driver on the same state, as a restarted plugin does.
func (f *fixture) restart(t *testing.T) {
	t.Helper()
	d, err := New(f.cfg, f.cluster, f.mounter, f.clients, discard)
	if err != nil {
		t.Fatal(err)
	}
	f.driver = d
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name    string
		volume  string
		options map[string]string
		want    *control.CreateRequest
		err     string
	}{
		{"[Success] defaults", "data", nil, &control.CreateRequest{Name: "data", Options: map[string]string{DockerVolumeOption: "data"}}, ""},
		{"[Success] dotted name and options", "web.data", map[string]string{"replica": "3", "arbiter": "true", "gluster.performance.cache-size": "64MB"},
			&control.CreateRequest{Name: "web__data", Replica: 3, Arbiter: true, Options: map[string]string{DockerVolumeOption: "web.data", "performance.cache-size": "64MB"}}, ""},
		{"[Success] existing gluster volume", "sub", map[string]string{"volume": "shared", "subdir": "a"}, nil, ""},
		{"[Success] size", "data", map[string]string{"size": "10GiB"},
			&control.CreateRequest{Name: "data", Options: map[string]string{DockerVolumeOption: "data"}, Size: 10 << 30}, ""},
		{"[Error] unknown option", "data", map[string]string{"colour": "red"}, nil, "valid options"},
		{"[Error] size of a whole existing volume", "sub", map[string]string{"volume": "shared", "size": "1G"}, nil, "cannot go with volume="},
		{"[Error] unmappable name", "a__b", nil, nil, "must not contain"},
		{"[Error] existing gluster volume missing", "sub", map[string]string{"volume": "nope"}, nil, "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
			err := f.driver.Create(&volume.CreateRequest{Name: tc.volume, Options: tc.options})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				if len(f.cluster.creates) != 0 || len(f.driver.volumes) != 0 {
					t.Errorf("a refused create left creates %v, state %v", f.cluster.creates, f.driver.volumes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(f.cluster.creates) != 0 {
					t.Errorf("existing volume: created %v", f.cluster.creates)
				}
			} else if len(f.cluster.creates) != 1 || !equalRequests(f.cluster.creates[0], *tc.want) {
				t.Errorf("creates = %+v, want %+v", f.cluster.creates, *tc.want)
			}
			got, err := f.driver.Get(&volume.GetRequest{Name: tc.volume})
			if err != nil || got.Volume.Name != tc.volume || got.Volume.CreatedAt == "" {
				t.Errorf("Get after Create = %+v, %v", got, err)
			}
		})
	}
}

func equalRequests(a, b control.CreateRequest) bool {
	return a.Name == b.Name && a.Replica == b.Replica && a.Arbiter == b.Arbiter &&
		slices.Equal(a.Servers, b.Servers) && equalMaps(a.Options, b.Options)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCreateIsIdempotent(t *testing.T) {
	f := newFixture(t)
	opts := map[string]string{"replica": "2"}
	for range 2 {
		if err := f.driver.Create(&volume.CreateRequest{Name: "v", Options: opts}); err != nil {
			t.Fatal(err)
		}
	}
	created := f.cluster.volumes["v"]
	f.cluster.volumes["v"] = control.Volume{Name: "v", Options: map[string]string{DockerVolumeOption: "other"}}
	if err := f.driver.Create(&volume.CreateRequest{Name: "v", Options: map[string]string{"replica": "3"}}); err == nil {
		t.Error("create with options the cluster refuses succeeded")
	}
	f.cluster.volumes["v"] = created
	// Another host created it: this host adopts it.
	other := newFixture(t)
	other.cluster = f.cluster
	other.restart(t)
	if err := other.driver.Create(&volume.CreateRequest{Name: "v", Options: opts}); err != nil {
		t.Fatalf("create on a second host: %v", err)
	}
}

func TestGetAndList(t *testing.T) {
	f := newFixture(t)
	if _, err := f.driver.Get(&volume.GetRequest{Name: "missing"}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Get of a missing volume: %v, want ErrNotFound", err)
	}
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "here"})
	// Created on another host, and a gluster volume Docker does not own.
	f.cluster.volumes["else__where"] = control.Volume{Name: "else__where", Options: map[string]string{DockerVolumeOption: "else.where"}}
	f.cluster.volumes["foreign"] = control.Volume{Name: "foreign"}
	relist(t, f.driver)

	if got, want := listedNames(t, f.driver), []string{"else.where", "here"}; !slices.Equal(got, want) {
		t.Errorf("List() = %v, want %v", got, want)
	}
	if _, err := f.driver.Get(&volume.GetRequest{Name: "else.where"}); err != nil {
		t.Errorf("Get of a volume created elsewhere: %v", err)
	}
	if _, err := f.driver.Get(&volume.GetRequest{Name: "foreign"}); err == nil {
		t.Error("Get of a gluster volume Docker does not own succeeded")
	}
	if caps := f.driver.Capabilities(); caps.Capabilities.Scope != "global" {
		t.Errorf("scope = %q, want global", caps.Capabilities.Scope)
	}
}

func TestMountReferences(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
	mount := func(id string) string {
		t.Helper()
		resp, err := f.driver.Mount(&volume.MountRequest{Name: "v", ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Mountpoint
	}
	unmount := func(id string) {
		t.Helper()
		if err := f.driver.Unmount(&volume.UnmountRequest{Name: "v", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(f.cfg.MountRoot, "v")
	if p := mount("a"); p != target {
		t.Errorf("mountpoint = %q, want %q", p, target)
	}
	mount("a")
	mount("b")
	if len(f.mounter.mounts) != 1 {
		t.Errorf("FUSE mounts made = %d, want 1", len(f.mounter.mounts))
	}
	req := f.mounter.mounts[0]
	if !slices.Equal(req.Servers, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}) || !slices.Equal(req.Bricks, []string{"10.0.0.1", "10.0.0.3"}) {
		t.Errorf("mount request servers %v bricks %v", req.Servers, req.Bricks)
	}
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "v"}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Remove while mounted: %v, want in use", err)
	}
	unmount("a")
	unmount("b")
	if got := f.mounter.active(); len(got) != 1 {
		t.Errorf("unmounted with a reference left: active %v", got)
	}
	// References survive a restart.
	f.restart(t)
	unmount("a")
	if got := f.mounter.active(); len(got) != 0 {
		t.Errorf("mounts left after the last unmount: %v", got)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mountpoint left behind: %v", err)
	}
}

func TestUsage(t *testing.T) {
	type mount struct{ volume, id string }
	tests := []struct {
		name           string
		mounts         []mount
		wantMounts     int
		wantReferences int
	}{
		{"[Success] nothing mounted", nil, 0, 0},
		{"[Success] one volume mounted three times", []mount{{"v", "a"}, {"v", "a"}, {"v", "b"}}, 1, 3},
		{"[Success] two volumes", []mount{{"v", "a"}, {"w", "b"}}, 2, 2},
		{"[Success] subdirectory volumes share one FUSE mount", []mount{{"app1", "a"}, {"app2", "b"}}, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
			for _, name := range []string{"v", "w"} {
				mustCreate(t, f.driver, &volume.CreateRequest{Name: name})
			}
			for _, name := range []string{"app1", "app2"} {
				mustCreate(t, f.driver, &volume.CreateRequest{Name: name, Options: map[string]string{"volume": "shared", "subdir": name}})
			}
			for _, m := range tc.mounts {
				if _, err := f.driver.Mount(&volume.MountRequest{Name: m.volume, ID: m.id}); err != nil {
					t.Fatal(err)
				}
			}
			if mounts, refs := f.driver.Usage(); mounts != tc.wantMounts || refs != tc.wantReferences {
				t.Errorf("Usage() = %d mounts, %d references; want %d, %d", mounts, refs, tc.wantMounts, tc.wantReferences)
			}
		})
	}
}

func TestSubdirVolumesShareOneMount(t *testing.T) {
	f := newFixture(t)
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	root := filepath.Join(f.cfg.MountRoot, "shared")
	for _, name := range []string{"app1", "app2"} {
		mustCreate(t, f.driver, &volume.CreateRequest{Name: name, Options: map[string]string{"volume": "shared", "subdir": "apps/" + name, "mode": "0700"}})
		resp, err := f.driver.Mount(&volume.MountRequest{Name: name, ID: name})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(f.cfg.MountRoot, ".subdirs", name); resp.Mountpoint != want {
			t.Errorf("mountpoint %s, want the bind %s", resp.Mountpoint, want)
		}
		dir := filepath.Join(root, "apps", name)
		if got := f.mounter.bound(resp.Mountpoint); got != dir {
			t.Errorf("bound on %s: %q, want %s", resp.Mountpoint, got, dir)
		}
		if info, err := os.Stat(dir); err != nil || !info.IsDir() || info.Mode().Perm() != 0o700 {
			t.Errorf("subdirectory %s: %v, %v; want a directory of mode 0700", dir, info, err)
		}
	}
	if len(f.mounter.mounts) != 1 {
		t.Errorf("FUSE mounts = %d, want 1 for both subdirectories", len(f.mounter.mounts))
	}
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "app1", ID: "app1"})
	if got, want := f.mounter.active(), []string{filepath.Join(f.cfg.MountRoot, ".subdirs", "app2"), root}; !slices.Equal(got, want) {
		t.Errorf("mounts while app2 is in use: %v, want %v", got, want)
	}
	if err := os.WriteFile(f.driver.logFile("shared"), []byte("client log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "app1"}); err != nil {
		t.Fatal(err)
	}
	if len(f.cluster.deletes) != 0 {
		t.Errorf("removing a volume= volume deleted gluster volumes %v", f.cluster.deletes)
	}
	if _, err := os.Stat(f.driver.logFile("shared")); err != nil {
		t.Errorf("client log of the kept gluster volume: %v", err)
	}
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "app2", ID: "app2"})
	if got := f.mounter.active(); len(got) != 0 {
		t.Errorf("mounts after the last unmount: %v", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.cfg.MountRoot, ".subdirs")); len(entries) != 0 {
		t.Errorf("bindpoints left: %v", entries)
	}
}

// TestSubdirSymlinks: a container that can write the gluster volume plants
// a symbolic link where a subdirectory volume's directory is, pointing out
// of the volume. Mounting must refuse it, name the volume and the path,
// change nothing where the link points, and leave no mount and no
// reference behind.
func TestSubdirSymlinks(t *testing.T) {
	tests := []struct {
		name   string
		subdir string
		plant  func(root, outside string) error
		want   string
	}{
		{"[Error] last component is a link", "apps/web", func(root, outside string) error {
			if err := os.MkdirAll(filepath.Join(root, "apps"), 0o755); err != nil {
				return err
			}
			return os.Symlink(outside, filepath.Join(root, "apps", "web"))
		}, "volume web: subdir apps/web: apps/web is a symbolic link inside gluster volume par; refusing to follow it"},
		{"[Error] a parent is a link", "apps/web", func(root, outside string) error {
			return os.Symlink(outside, filepath.Join(root, "apps"))
		}, "volume web: subdir apps/web: apps is a symbolic link inside gluster volume par; refusing to follow it"},
		{"[Error] relative link inside the volume", "apps/web", func(root, _ string) error {
			if err := os.MkdirAll(filepath.Join(root, "apps", "real"), 0o755); err != nil {
				return err
			}
			return os.Symlink("real", filepath.Join(root, "apps", "web"))
		}, "apps/web is a symbolic link inside gluster volume par"},
		{"[Error] a file in the way", "apps/web", func(root, _ string) error {
			return os.WriteFile(filepath.Join(root, "apps"), nil, 0o644)
		}, "apps is not a directory inside gluster volume par"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cluster.volumes["par"] = control.Volume{Name: "par", Status: "Started"}
			mustCreate(t, f.driver, &volume.CreateRequest{Name: "par.user"})
			outside := t.TempDir()
			if err := os.Chmod(outside, 0o700); err != nil {
				t.Fatal(err)
			}
			// The parent volume is in use: its mount stays and the link
			// is planted on it.
			mustCreate(t, f.driver, &volume.CreateRequest{Name: "parent", Options: map[string]string{"volume": "par"}})
			mustMount(t, f.driver, &volume.MountRequest{Name: "parent", ID: "writer"})
			root := filepath.Join(f.cfg.MountRoot, "par")
			if err := tc.plant(root, outside); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, f.driver, &volume.CreateRequest{Name: "web", Options: map[string]string{"volume": "par", "subdir": tc.subdir, "mode": "0777"}})
			_, err := f.driver.Mount(&volume.MountRequest{Name: "web", ID: "victim"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Mount = %v, want an error containing %q", err, tc.want)
			}
			if info, err := os.Stat(outside); err != nil || info.Mode().Perm() != 0o700 {
				t.Errorf("where the link points: %v, %v; want it unchanged (0700)", info, err)
			}
			if refs := references(f.driver, "web"); refs != 0 {
				t.Errorf("references after a refused mount = %d", refs)
			}
			if got := f.mounter.active(); !slices.Equal(got, []string{root}) {
				t.Errorf("mounts after a refused mount: %v, want only the parent's %s", got, root)
			}
			if entries, _ := os.ReadDir(filepath.Join(f.cfg.MountRoot, ".subdirs")); len(entries) != 0 {
				t.Errorf("bindpoints left: %v", entries)
			}
		})
	}
}

// TestRestoreRebindsSubdirs: after a crash, a subdirectory volume in use
// gets a fresh bind over its dead one, and the bind of a volume no longer
// in use is removed.
func TestRestoreRebindsSubdirs(t *testing.T) {
	f := newFixture(t)
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	for _, name := range []string{"used", "idle"} {
		mustCreate(t, f.driver, &volume.CreateRequest{Name: name, Options: map[string]string{"volume": "shared", "subdir": name}})
		mustMount(t, f.driver, &volume.MountRequest{Name: name, ID: "a"})
	}
	used := filepath.Join(f.cfg.MountRoot, ".subdirs", "used")
	idle := filepath.Join(f.cfg.MountRoot, ".subdirs", "idle")
	// A crash: the client died under both mounts, and the plugin went
	// before it could remove the bind of "idle" after its last unmount.
	f.mounter.stale[filepath.Join(f.cfg.MountRoot, "shared")] = true
	f.mounter.stale[used] = true
	if err := f.driver.update(func() { f.driver.volumes["idle"].Mounts = nil }); err != nil {
		t.Fatal(err)
	}

	f.restart(t)
	f.driver.Restore(t.Context())
	if f.mounter.IsStale(used) || f.mounter.bound(used) != filepath.Join(f.cfg.MountRoot, "shared", "used") {
		t.Errorf("bind of the volume in use not repaired: stale %t, bound %q", f.mounter.IsStale(used), f.mounter.bound(used))
	}
	if _, err := os.Stat(idle); !errors.Is(err, os.ErrNotExist) || f.mounter.bound(idle) != "" {
		t.Errorf("bind of the unused volume left: %v, bound %q", err, f.mounter.bound(idle))
	}
}

func TestRemove(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
	f.driver.idleWait = 0
	f.cluster.clients["v"] = []string{"192.0.2.5"}
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "v"}); !errors.Is(err, control.ErrInUse) || !strings.Contains(err.Error(), "192.0.2.5") {
		t.Errorf("Remove with a client elsewhere: %v, want ErrInUse naming it", err)
	}
	f.cluster.clients["v"] = nil
	if err := os.WriteFile(f.driver.logFile("v"), []byte("client log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.cluster.deletes, []string{"v"}) {
		t.Errorf("deletes = %v", f.cluster.deletes)
	}
	if _, err := os.Stat(f.driver.logFile("v")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("client log of the deleted volume: %v, want it removed", err)
	}
	if _, err := f.driver.Get(&volume.GetRequest{Name: "v"}); err == nil {
		t.Error("Get after Remove succeeded")
	}
}

// TestVolumeRemovedElsewhere: a volume this host used, removed on another
// host, is gone here too, and a new one of the same name can be created;
// volumes in use here and volumes of existing gluster volumes stay.
func TestVolumeRemovedElsewhere(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	other.cluster = f.cluster
	other.restart(t)
	for _, name := range []string{"v", "used"} {
		if err := f.driver.Create(&volume.CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	if err := f.driver.Create(&volume.CreateRequest{Name: "sub", Options: map[string]string{"volume": "shared", "subdir": "a"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"v", "used"} {
		if _, err := f.driver.Mount(&volume.MountRequest{Name: name, ID: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.driver.Unmount(&volume.UnmountRequest{Name: "v", ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := other.driver.Remove(&volume.RemoveRequest{Name: "v"}); err != nil {
		t.Fatalf("Remove on the other host: %v", err)
	}
	// Gone behind the plugins' backs: in use here, so kept.
	delete(f.cluster.volumes, "used")
	delete(f.cluster.volumes, "shared")
	relist(t, f.driver)
	for _, gluster := range []string{"v", "used"} {
		if err := os.WriteFile(f.driver.logFile(gluster), []byte("client log\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	if got, want := listedNames(t, f.driver), []string{"sub", "used"}; !slices.Equal(got, want) {
		t.Errorf("List() = %v, want %v", got, want)
	}
	if _, err := f.driver.Get(&volume.GetRequest{Name: "v"}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Get of a volume removed elsewhere: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(f.driver.logFile("v")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the client log of a volume removed elsewhere, forgotten here: %v, want it removed", err)
	}
	if _, err := os.Stat(f.driver.logFile("used")); err != nil {
		t.Errorf("the client log of a volume in use here: %v, want it kept", err)
	}
	for _, name := range []string{"used", "sub"} {
		if _, err := f.driver.Get(&volume.GetRequest{Name: name}); err != nil {
			t.Errorf("Get of %s: %v", name, err)
		}
	}
	// Docker creates it anew after Get failed: a new gluster volume.
	if err := f.driver.Create(&volume.CreateRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.cluster.volumes["v"]; !ok {
		t.Error("Create after a removal elsewhere did not create the gluster volume")
	}
}

func TestMountFailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
	f.mounter.fail = errors.New("no server answered")
	if _, err := f.driver.Mount(&volume.MountRequest{Name: "v", ID: "a"}); err == nil || !strings.Contains(err.Error(), "no server answered") {
		t.Fatalf("Mount: %v", err)
	}
	if entries, _ := os.ReadDir(f.cfg.MountRoot); len(entries) != 0 {
		t.Errorf("mount root after a failed mount: %v", entries)
	}
	if refs := references(f.driver, "v"); refs != 0 {
		t.Errorf("references after a failed mount = %d", refs)
	}
}

func TestRestore(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "used"})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "idle"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "used", ID: "a"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "idle", ID: "b"})
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "idle", ID: "b"})
	// A crash: the FUSE client of "used" died, and a stray mount of "idle"
	// was left behind.
	used := filepath.Join(f.cfg.MountRoot, "used")
	idle := filepath.Join(f.cfg.MountRoot, "idle")
	f.mounter.stale[used] = true
	if err := os.MkdirAll(idle, 0o755); err != nil {
		t.Fatal(err)
	}
	f.mounter.mounted[idle] = true

	f.restart(t)
	f.driver.Restore(t.Context())
	if got := f.mounter.active(); !slices.Equal(got, []string{used}) {
		t.Errorf("active mounts after restore = %v, want only %s", got, used)
	}
	if f.mounter.IsStale(used) {
		t.Error("stale mount not repaired")
	}
	if _, err := os.Stat(idle); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stray mountpoint left: %v", err)
	}
}

func TestDetachedClients(t *testing.T) {
	for _, tc := range []struct {
		name         string
		detach       bool
		wantDetached map[string][]int
	}{
		{name: "[Success] clients stay with the plugin by default", wantDetached: map[string][]int{}},
		{name: "[Success] DetachClients detaches each new client", detach: true, wantDetached: map[string][]int{"v": {1001}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.DetachClients = tc.detach
			f.restart(t)
			mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
			for _, id := range []string{"a", "b"} {
				if _, err := f.driver.Mount(&volume.MountRequest{Name: "v", ID: id}); err != nil {
					t.Fatal(err)
				}
			}
			if !maps.EqualFunc(f.clients.detached, tc.wantDetached, slices.Equal) {
				t.Errorf("detached clients = %v, want %v", f.clients.detached, tc.wantDetached)
			}
			mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "v", ID: "a"})
			if len(f.clients.released) != 0 {
				t.Errorf("released %v with a container left", f.clients.released)
			}
			mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "v", ID: "b"})
			if !slices.Equal(f.clients.released, []string{"v"}) {
				t.Errorf("released %v after the last container, want v", f.clients.released)
			}
		})
	}
}

func TestRestoreReleasesUnusedClients(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "used"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "used", ID: "a"})
	// Clients an earlier plugin instance detached: one serves a volume
	// still in use, the other one whose containers left while no plugin ran.
	for pid, gluster := range map[int]string{500: "used", 501: "gone"} {
		if err := f.clients.Detach(pid, gluster); err != nil {
			t.Fatal(err)
		}
	}

	f.restart(t)
	f.driver.Restore(t.Context())
	if !slices.Equal(f.clients.released, []string{"gone"}) {
		t.Errorf("released %v, want only gone", f.clients.released)
	}
}

func TestClientLogForwarding(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "v", ID: "a"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "v", ID: "b"})
	waitFor(t, "one forwarder while mounted", func() bool { return f.mounter.forwards() == 1 })
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "v", ID: "a"})
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "v", ID: "b"})
	waitFor(t, "forwarding stopped after the last unmount", func() bool { return f.mounter.forwards() == 0 })
}

// waitFor polls cond for up to two seconds: forwarding runs on its own
// goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMountAbandonedByCaller(t *testing.T) {
	tests := []struct {
		name        string
		otherMounts int // references another mount ID holds already
	}{
		{"[Error] first mount of the volume", 0},
		{"[Error] volume mounted for another ID", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
			for range tc.otherMounts {
				if _, err := f.driver.Mount(&volume.MountRequest{Name: "v", ID: "other"}); err != nil {
					t.Fatal(err)
				}
			}
			// Docker gave up on the call: it will never unmount this ID.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := f.driver.MountContext(ctx, &volume.MountRequest{Name: "v", ID: "gone"}); !errors.Is(err, context.Canceled) {
				t.Fatalf("MountContext after the caller left: %v, want context.Canceled", err)
			}
			if refs := references(f.driver, "v"); refs != tc.otherMounts {
				t.Errorf("references = %d, want %d", refs, tc.otherMounts)
			}
			if got := len(f.mounter.active()); got != min(tc.otherMounts, 1) {
				t.Errorf("FUSE mounts = %d, want %d", got, min(tc.otherMounts, 1))
			}
			if _, err := os.Stat(filepath.Join(f.cfg.MountRoot, "v")); (err == nil) != (tc.otherMounts > 0) {
				t.Errorf("mountpoint: %v", err)
			}
		})
	}
}

// listedNames returns the names of the volumes the driver lists.
func listedNames(t *testing.T, d *Driver) []string {
	t.Helper()
	list, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list.Volumes {
		names = append(names, v.Name)
	}
	return names
}

func mustCreate(t *testing.T, d *Driver, req *volume.CreateRequest) {
	t.Helper()
	if err := d.Create(req); err != nil {
		t.Fatalf("create %s: %v", req.Name, err)
	}
}

func mustMount(t *testing.T, d *Driver, req *volume.MountRequest) {
	t.Helper()
	if _, err := d.Mount(req); err != nil {
		t.Fatalf("mount %s for %s: %v", req.Name, req.ID, err)
	}
}

func mustUnmount(t *testing.T, d *Driver, req *volume.UnmountRequest) {
	t.Helper()
	if err := d.Unmount(req); err != nil {
		t.Fatalf("unmount %s for %s: %v", req.Name, req.ID, err)
	}
}

// references counts a volume's references in the driver's state.
func references(d *Driver, name string) int {
	v, _ := d.state(name)
	return v.references()
}

// TestParentWithSubvolumes: a gluster volume the plugin created is not
// deleted while Docker volumes made of its subdirectories exist on any
// host; every host lists them and can mount and remove them.
func TestParentWithSubvolumes(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	other.cluster = f.cluster
	other.restart(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "shared"})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "web.data", Options: map[string]string{"volume": "shared", "subdir": "apps/web"}})
	mustCreate(t, other.driver, &volume.CreateRequest{Name: "api", Options: map[string]string{"volume": "shared", "subdir": "apps/api"}})

	for _, d := range []*Driver{f.driver, other.driver} {
		err := d.Remove(&volume.RemoveRequest{Name: "shared"})
		if !errors.Is(err, control.ErrInUse) || !strings.Contains(err.Error(), "api, web.data") {
			t.Errorf("Remove of the parent: %v, want ErrInUse naming api, web.data", err)
		}
	}
	if len(f.cluster.deletes) != 0 {
		t.Fatalf("parent deleted under its subdirectory volumes: %v", f.cluster.deletes)
	}
	// The other host knows web.data from the cluster only.
	relist(t, other.driver)
	if got, want := listedNames(t, other.driver), []string{"api", "shared", "web.data"}; !slices.Equal(got, want) {
		t.Errorf("List() on the other host = %v, want %v", got, want)
	}
	resp, err := other.driver.Mount(&volume.MountRequest{Name: "web.data", ID: "c"})
	if err != nil {
		t.Fatalf("Mount on the other host: %v", err)
	}
	if got, want := other.mounter.bound(resp.Mountpoint), filepath.Join(other.cfg.MountRoot, "shared", "apps", "web"); got != want {
		t.Errorf("bound %q, want %q", got, want)
	}
	mustUnmount(t, other.driver, &volume.UnmountRequest{Name: "web.data", ID: "c"})

	for _, rm := range []struct {
		d    *Driver
		name string
	}{{other.driver, "web.data"}, {f.driver, "api"}} {
		if err := rm.d.Remove(&volume.RemoveRequest{Name: rm.name}); err != nil {
			t.Fatalf("Remove %s: %v", rm.name, err)
		}
	}
	if subs := control.Subvolumes(f.cluster.volumes["shared"].Options); len(subs) != 0 {
		t.Errorf("labels left after removing the subdirectory volumes: %v", subs)
	}
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "shared"}); err != nil {
		t.Fatalf("Remove of the parent at last: %v", err)
	}
	if !slices.Equal(f.cluster.deletes, []string{"shared"}) {
		t.Errorf("deletes = %v, want shared", f.cluster.deletes)
	}
}

// TestMountpointsSealed follows the seal of the mountpoints through a
// plugin's life: made sealed, sealed again by the next instance after Stop
// unsealed them, and removed with the last unmount.
func TestMountpointsSealed(t *testing.T) {
	f := newFixture(t)
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "sub", Options: map[string]string{"volume": "shared", "subdir": "sub"}})
	mustMount(t, f.driver, &volume.MountRequest{Name: "v", ID: "a"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "sub", ID: "a"})
	all := []string{
		filepath.Join(f.cfg.MountRoot, ".subdirs", "sub"),
		filepath.Join(f.cfg.MountRoot, "shared"),
		filepath.Join(f.cfg.MountRoot, "v"),
	}
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"mounted", func() {}, all},
		{"stopped", f.driver.Stop, nil},
		{"restored", func() { f.restart(t); f.driver.Restore(t.Context()) }, all},
		{"unmounted", func() {
			mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "v", ID: "a"})
			mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "sub", ID: "a"})
		}, nil},
	}
	for _, step := range steps {
		step.do()
		if got := f.mounter.sealedMountpoints(); !slices.Equal(got, step.want) {
			t.Errorf("%s: sealed mountpoints %q, want %q", step.name, got, step.want)
		}
	}
	if entries, _ := os.ReadDir(f.cfg.MountRoot); len(entries) != 1 || entries[0].Name() != ".subdirs" {
		t.Errorf("mount root after the last unmount: %v", entries)
	}
}
