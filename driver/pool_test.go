package driver

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

// createdLayout writes a create request as the tests expect it.
func createdLayout(c control.CreateRequest) string {
	if c.Bricks > 0 {
		return fmt.Sprintf("%s replica %d bricks %d size %d", c.Name, c.Replica, c.Bricks, c.Size)
	}
	return fmt.Sprintf("%s replica %d size %d", c.Name, c.Replica, c.Size)
}

func TestPooledCreate(t *testing.T) {
	pool := control.Volume{Name: "pool__web", Status: "Started", Replica: 2,
		Options: map[string]string{DockerVolumeOption: "pool.web"}, Bricks: []control.Brick{{Server: "10.0.0.1"}, {Server: "10.0.0.2"}}}
	tests := []struct {
		name        string
		volume      string
		options     map[string]string
		defaultPool string
		existing    []control.Volume
		creates     []string // gluster volumes created
		subvolumes  []string // "docker subdir size" recorded
		err         string
	}{
		{"[Success] the first pooled volume makes the pool with its replica", "a", map[string]string{"pool": "web", "replica": "3", "size": "1GiB"}, "", nil,
			[]string{"pool__web replica 3 size 0"}, []string{"a a 1073741824"}, ""},
		{"[Success] the default pool", "a", nil, "web", nil, []string{"pool__web replica 0 size 0"}, []string{"a a 0"}, ""},
		{"[Success] an existing pool, replica left out", "a", map[string]string{"pool": "web", "uid": "1000"}, "", []control.Volume{pool}, nil, []string{"a a 0"}, ""},
		{"[Success] an existing pool, same replica", "a.b", map[string]string{"pool": "web", "replica": "2"}, "", []control.Volume{pool}, nil, []string{"a.b a.b 0"}, ""},
		{"[Success] pool= empty makes a dedicated volume despite the default pool", "a", map[string]string{"pool": ""}, "web", nil, []string{"a replica 0 size 0"}, nil, ""},
		{"[Error] replica other than the pool's", "a", map[string]string{"pool": "web", "replica": "3"}, "", []control.Volume{pool}, nil, nil, "pool web has replica 2, replica=3 was asked for"},
		{"[Success] a distributed pool", "a", map[string]string{"pool": "big", "replica": "2", "bricks": "4"}, "", nil,
			[]string{"pool__big replica 2 bricks 4 size 0"}, []string{"a a 0"}, ""},
		{"[Error] bricks other than the pool's", "a", map[string]string{"pool": "web", "replica": "2", "bricks": "4"}, "", []control.Volume{pool}, nil, nil, "pool web has 2 bricks, bricks=4 was asked for"},
		{"[Error] arbiter the pool lacks", "a", map[string]string{"pool": "web", "replica": "2", "arbiter": "true"}, "", []control.Volume{pool}, nil, nil, "arbiter needs replica=3"},
		{"[Error] servers outside the pool's bricks", "a", map[string]string{"pool": "web", "servers": "10.0.0.1"}, "", []control.Volume{pool}, nil, nil, "has a brick on 10.0.0.2"},
		{"[Error] gluster options would change the siblings", "a", map[string]string{"pool": "web", "gluster.performance.cache-size": "64MB"}, "", nil, nil, nil, "every volume in it"},
		{"[Error] a subdir of one's choosing", "a", map[string]string{"pool": "web", "subdir": "b"}, "", nil, nil, nil, "leave out volume= and subdir="},
		{"[Error] the name of a pool's gluster volume", "pool.web", nil, "", nil, nil, nil, "gluster volumes of pools"},
		{"[Error] a pool name that is no Docker name", "a", map[string]string{"pool": "we/b"}, "", nil, nil, nil, "pool"},
		{"[Error] the pool's gluster volume exists for another Docker volume", "a", map[string]string{"pool": "web"}, "",
			[]control.Volume{{Name: "pool__web", Options: map[string]string{DockerVolumeOption: "other"}}}, nil, nil, "exists for something else"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.DefaultPool = tc.defaultPool
			f.restart(t)
			for _, v := range tc.existing {
				f.cluster.volumes[v.Name] = v
			}
			err := f.driver.Create(&volume.CreateRequest{Name: tc.volume, Options: tc.options})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				if len(f.cluster.creates) != 0 || len(f.cluster.subvolumes) != 0 || len(f.driver.volumes) != 0 {
					t.Errorf("a refused create left creates %v, subvolumes %v, state %v", f.cluster.creates, f.cluster.subvolumes, f.driver.volumes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var creates []string
			for _, c := range f.cluster.creates {
				creates = append(creates, createdLayout(c))
			}
			if !slices.Equal(creates, tc.creates) {
				t.Errorf("creates = %v, want %v", creates, tc.creates)
			}
			if !slices.Equal(f.cluster.subvolumes, tc.subvolumes) {
				t.Errorf("subvolumes = %v, want %v", f.cluster.subvolumes, tc.subvolumes)
			}
			got, err := f.driver.Get(&volume.GetRequest{Name: tc.volume})
			if err != nil || got.Volume.Name != tc.volume {
				t.Fatalf("Get after Create = %+v, %v", got, err)
			}
			if want := tc.options["pool"] + tc.defaultPool; tc.subvolumes != nil && got.Volume.Status["pool"] != want {
				t.Errorf("inspect shows pool %v, want %s", got.Volume.Status["pool"], want)
			}
		})
	}
}

// TestPooledVolumes: two pooled volumes share the pool's one FUSE mount,
// each bound from its own directory with its own mode; removing one under
// the delete policy deletes its directory only, under retain keeps it,
// and the pool's gluster volume stays.
func TestPooledVolumes(t *testing.T) {
	f := newFixture(t)
	root := filepath.Join(f.cfg.MountRoot, "pool__web")
	modes := map[string]string{"a": "0700", "b": "0750"}
	for _, name := range []string{"a", "b"} {
		mustCreate(t, f.driver, &volume.CreateRequest{Name: name, Options: map[string]string{"pool": "web", "mode": modes[name], "on-remove": "delete"}})
		resp, err := f.driver.Mount(&volume.MountRequest{Name: name, ID: name})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.mounter.bound(resp.Mountpoint); got != filepath.Join(root, name) {
			t.Errorf("volume %s bound from %q, want its own directory of the pool", name, got)
		}
		info, err := os.Stat(filepath.Join(root, name))
		if err != nil || info.Mode().Perm().String() != map[string]string{"0700": "-rwx------", "0750": "-rwxr-x---"}[modes[name]] {
			t.Errorf("directory of %s: %v, %v; want mode %s", name, info, err, modes[name])
		}
		if err := os.WriteFile(filepath.Join(root, name, "data"), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The fake's unmount hides what the mount held: a stays mounted, as
	// its container would be, so that its data can be looked at.
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "b", ID: "b"})
	if len(f.mounter.mounts) != 1 || f.mounter.mounts[0].Volume != "pool__web" {
		t.Errorf("mounts = %+v, want the pool's gluster volume once", f.mounter.mounts)
	}
	if len(f.cluster.creates) != 1 {
		t.Errorf("creates = %+v, want the pool once", f.cluster.creates)
	}
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "b")); !os.IsNotExist(err) {
		t.Errorf("directory of b after its removal under delete: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "a", "data")); err != nil || string(data) != "a" {
		t.Errorf("a's data after b's removal: %q, %v", data, err)
	}
	if got, want := f.mounter.active(), []string{filepath.Join(f.cfg.MountRoot, ".subdirs", "a"), root}; !slices.Equal(got, want) {
		t.Errorf("mounts after b's removal: %v, want %v", got, want)
	}
	f.cfg.OnRemove = control.OnRemoveRetain
	f.restart(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "c", Options: map[string]string{"pool": "web"}})
	mustMount(t, f.driver, &volume.MountRequest{Name: "c", ID: "c"})
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "c", ID: "c"})
	if err := f.driver.Remove(&volume.RemoveRequest{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "c")); err != nil {
		t.Errorf("directory of c after its removal under retain: %v", err)
	}
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "a", ID: "a"})
	if len(f.cluster.deletes) != 0 || len(f.cluster.retains) != 0 {
		t.Errorf("removing pooled volumes deleted %v, retained %v; want the pool kept as it is", f.cluster.deletes, f.cluster.retains)
	}
	if subs := control.Subvolumes(f.cluster.volumes["pool__web"].Options); !slices.Equal(slices.Sorted(maps.Keys(subs)), []string{"a"}) {
		t.Errorf("pooled volumes recorded on the pool: %v, want a", subs)
	}
}

// TestPooledRemovedElsewhere: a host that did not create a pooled volume
// removes it under the policy recorded on the pool, deleting its directory
// through a mount of the pool made for the purpose and released after.
func TestPooledRemovedElsewhere(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	other.cluster = f.cluster
	other.cfg.OnRemove = control.OnRemoveRetain // the recorded policy wins
	other.restart(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "a", Options: map[string]string{"pool": "web", "on-remove": "delete"}})
	dir := filepath.Join(other.cfg.MountRoot, "pool__web", "a")
	other.mounter.onMount = func(string) { _ = os.MkdirAll(dir, 0o755) }
	if err := other.driver.Remove(&volume.RemoveRequest{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if len(other.mounter.mounts) != 1 || other.mounter.mounts[0].Volume != "pool__web" {
		t.Errorf("mounts on the removing host: %+v, want the pool once", other.mounter.mounts)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) || slices.Contains(other.mounter.wiped, dir) {
		t.Errorf("directory of a after its removal elsewhere under the recorded delete: %v, or still there at the unmount (%v)", err, other.mounter.wiped)
	}
	if got := other.mounter.active(); len(got) != 0 {
		t.Errorf("mounts left by the removal: %v", got)
	}
	if subs := control.Subvolumes(f.cluster.volumes["pool__web"].Options); len(subs) != 0 {
		t.Errorf("pooled volumes still recorded: %v", subs)
	}
	// The creating host forgets it too, so that Docker agrees on every host.
	relist(t, f.driver)
	list, err := f.driver.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list.Volumes {
		if v.Name == "a" {
			t.Error("the creating host still lists a, removed elsewhere")
		}
	}
	if _, err := f.driver.Get(&volume.GetRequest{Name: "a"}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Get of a on the creating host after its removal elsewhere: %v, want not found", err)
	}
}

// TestPooledRefusedLeavesNothing: a pooled volume the servers refuse (a
// size the bricks cannot hold) takes back the pool its create made, but
// never a pool that existed before.
func TestPooledRefusedLeavesNothing(t *testing.T) {
	tests := []struct {
		name     string
		existing bool
		deletes  []string
	}{
		{"[Error] the pool made for it is deleted", false, []string{"pool__web"}},
		{"[Error] an existing pool stays", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.existing {
				f.cluster.volumes["pool__web"] = control.Volume{Name: "pool__web", Replica: 2, Options: map[string]string{DockerVolumeOption: "pool.web"}}
			}
			f.cluster.subvolumeErr = fmt.Errorf("%w: size 100T is more than brick 10.0.0.1:/bricks/pool__web can hold", control.ErrNoSpace)
			err := f.driver.Create(&volume.CreateRequest{Name: "a", Options: map[string]string{"pool": "web", "size": "100T"}})
			if err == nil || !strings.Contains(err.Error(), "can hold") {
				t.Fatalf("Create = %v, want the servers' refusal", err)
			}
			if !slices.Equal(f.cluster.deletes, tc.deletes) {
				t.Errorf("deletes = %v, want %v", f.cluster.deletes, tc.deletes)
			}
			if _, ok := f.cluster.volumes["pool__web"]; ok == !tc.existing {
				t.Errorf("pool's gluster volume there: %t, want %t", ok, tc.existing)
			}
			if len(f.driver.volumes) != 0 {
				t.Errorf("state after a refused create: %v", f.driver.volumes)
			}
		})
	}
}
