package driver

import (
	"slices"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    uint64
		wantErr bool
	}{
		{name: "[Success] GiB", raw: "10GiB", want: 10 << 30},
		{name: "[Success] G", raw: "10G", want: 10 << 30},
		{name: "[Success] lower case", raw: "10g", want: 10 << 30},
		{name: "[Success] GB is binary too", raw: "10GB", want: 10 << 30},
		{name: "[Success] M", raw: "100M", want: 100 << 20},
		{name: "[Success] MiB", raw: "5MiB", want: 5 << 20},
		{name: "[Success] k", raw: "2048k", want: 2 << 20},
		{name: "[Success] T with a fraction", raw: "1.5T", want: 3 << 39},
		{name: "[Success] bytes", raw: "1048576", want: 1 << 20},
		{name: "[Error] below 1MiB", raw: "512k", wantErr: true},
		{name: "[Error] zero", raw: "0", wantErr: true},
		{name: "[Error] negative", raw: "-1G", wantErr: true},
		{name: "[Error] unknown unit", raw: "10X", wantErr: true},
		{name: "[Error] iB without a unit", raw: "10iB", wantErr: true},
		{name: "[Error] empty", raw: "", wantErr: true},
		{name: "[Error] an option", raw: "--log-file=/x", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSize(tc.raw)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, error %t", tc.raw, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestDefaultSize(t *testing.T) {
	f := newFixture(t)
	f.cfg.DefaultSize = 5 << 30
	f.restart(t)
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "plain"})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "sized", Options: map[string]string{"size": "1G"}})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "whole", Options: map[string]string{"volume": "shared"}})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "sub", Options: map[string]string{"volume": "shared", "subdir": "apps/sub"}})
	var sizes []uint64
	for _, c := range f.cluster.creates {
		sizes = append(sizes, c.Size)
	}
	if want := []uint64{5 << 30, 1 << 30}; !slices.Equal(sizes, want) {
		t.Errorf("sizes asked for: %v, want %v", sizes, want)
	}
	if want := []string{"sub apps/sub 5368709120"}; !slices.Equal(f.cluster.subvolumes, want) {
		t.Errorf("subvolumes recorded: %q, want %q (and none for the whole existing volume)", f.cluster.subvolumes, want)
	}
}

// The size of a subdirectory volume is applied once more at its first
// mount on a host, which makes the directory gluster needs for the limit.
func TestSubdirSizeAtFirstMount(t *testing.T) {
	f := newFixture(t)
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	// A snapshot listed before the creates: the size recorded since is
	// the servers', not the snapshot's.
	relist(t, f.driver)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "web", Options: map[string]string{"volume": "shared", "subdir": "apps/web", "size": "10M"}})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "free", Options: map[string]string{"volume": "shared", "subdir": "apps/free"}})
	for _, id := range []string{"c1", "c2"} {
		mustMount(t, f.driver, &volume.MountRequest{Name: "web", ID: id})
		mustMount(t, f.driver, &volume.MountRequest{Name: "free", ID: id})
	}
	want := []string{"web apps/web 10485760", "free apps/free 0", "web apps/web 10485760"}
	if !slices.Equal(f.cluster.subvolumes, want) {
		t.Errorf("subvolume requests: %q, want %q: the size once more at the first mount only", f.cluster.subvolumes, want)
	}
}

func TestAddCapacity(t *testing.T) {
	bricks := []control.Brick{
		{Server: "a", Path: "/bricks/v", Size: 100, Free: 60},
		{Server: "b", Path: "/bricks/v", Size: 100, Free: 40},
		{Server: "c", Path: "/bricks/v", Arbiter: true, Size: 100, Free: 1},
	}
	limits := []control.Limit{{Path: "/", Size: 50, Used: 20}, {Path: "/apps/web", Size: 10, Used: 12}}
	tests := []struct {
		name             string
		limits           []control.Limit
		subdir           string
		size, used, free uint64
	}{
		{name: "[Success] the volume's limit", limits: limits, size: 50, used: 20, free: 30},
		{name: "[Success] a subdirectory's limit, over it by the quota's lag", limits: limits, subdir: "apps/web", size: 10, used: 10, free: 0},
		{name: "[Success] no limit: the fullest data brick", size: 100, used: 60, free: 40},
		{name: "[Success] a subdirectory without a limit", limits: limits, subdir: "apps/db", size: 100, used: 60, free: 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status := map[string]any{}
			addCapacity(status, control.Volume{Bricks: bricks, Limits: tc.limits}, tc.subdir)
			if status["size"] != tc.size || status["used"] != tc.used || status["free"] != tc.free {
				t.Errorf("got size %v used %v free %v, want %d %d %d", status["size"], status["used"], status["free"], tc.size, tc.used, tc.free)
			}
		})
	}
}
