package driver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

func TestInspectShowsHeal(t *testing.T) {
	tests := []struct {
		name string
		heal control.Heal
		want string
	}{
		{"[Success] done", control.Heal{Done: true}, "done"},
		{"[Success] healing", control.Heal{Pending: 12, Bricks: []control.BrickHeal{{Connected: true, Pending: 12}, {Connected: true}}}, "12 entries to heal"},
		{"[Success] a brick not answering", control.Heal{Pending: 3, Bricks: []control.BrickHeal{{Connected: true, Pending: 3}, {}}}, "3 entries to heal, 1 bricks not answering"},
		{"[Success] split-brain", control.Heal{Pending: 1, SplitBrain: 1}, "1 entries to heal, 1 in split-brain: see gluster volume heal data info split-brain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cluster.heal = tc.heal
			if err := f.driver.Create(&volume.CreateRequest{Name: "data"}); err != nil {
				t.Fatal(err)
			}
			// The status, heal included, arrives in the background.
			var heal any
			eventually(t, "the heal status", func() bool {
				got, err := f.driver.Get(&volume.GetRequest{Name: "data"})
				if err != nil {
					t.Fatal(err)
				}
				heal = got.Volume.Status["heal"]
				return heal != nil
			})
			if heal != tc.want {
				t.Errorf("status heal = %v, want %q", heal, tc.want)
			}
		})
	}
}

func TestInspectShowsRebalance(t *testing.T) {
	tests := []struct {
		name      string
		bricks    int
		rebalance control.Rebalance
		want      any
	}{
		{"[Success] done", 4, control.Rebalance{Status: "completed", Done: true, RebalanceCounts: control.RebalanceCounts{Files: 40}}, "done, 40 files moved"},
		{"[Success] in progress", 4, control.Rebalance{Status: "in progress", Running: true, RebalanceCounts: control.RebalanceCounts{Files: 3}}, "in progress, 3 files moved"},
		{"[Success] failed", 4, control.Rebalance{Status: "failed", Servers: []control.ServerRebalance{{Status: "failed"}}},
			"failed, 0 files moved: see /var/log/glusterfs/data-rebalance.log on the servers"},
		{"[Success] none ran", 4, control.Rebalance{Status: "not started"}, nil},
		{"[Success] one replica set has nothing to rebalance", 2, control.Rebalance{Status: "completed", Done: true}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cluster.rebalance = tc.rebalance
			f.cluster.onCreate = func(v *control.Volume, _ control.CreateRequest) {
				for len(v.Bricks) < tc.bricks {
					v.Bricks = append(v.Bricks, control.Brick{Server: fmt.Sprint("10.0.0.", 5+len(v.Bricks)), Path: v.Bricks[0].Path})
				}
			}
			if err := f.driver.Create(&volume.CreateRequest{Name: "data"}); err != nil {
				t.Fatal(err)
			}
			// The status arrives in the background, the heal with it.
			var got map[string]any
			eventually(t, "the status", func() bool {
				v, err := f.driver.Get(&volume.GetRequest{Name: "data"})
				if err != nil {
					t.Fatal(err)
				}
				got = v.Volume.Status
				return got["heal"] != nil
			})
			if got["rebalance"] != tc.want {
				t.Errorf("status rebalance = %v, want %v", got["rebalance"], tc.want)
			}
		})
	}
}

func TestInspectShowsConsistency(t *testing.T) {
	tests := []struct {
		name string
		vol  control.Volume
		want string // the start of the answer
	}{
		{"[Success] witness", control.Volume{Replica: 2, Witness: "10.0.0.9:/witness"}, "protected by witness 10.0.0.9:/witness"},
		{"[Success] arbiter", control.Volume{Replica: 3, Arbiter: true}, "protected by an arbiter brick"},
		{"[Success] three copies", control.Volume{Replica: 3}, "protected by quorum of 3 copies"},
		{"[Success] two copies resolving split-brain", control.Volume{Replica: 2, Options: map[string]string{control.FavoriteChildOption: "mtime"}},
			"at risk: two copies and no third voter: a server failing while the other heals may serve stale data, and split-brain files keep one copy by cluster.favorite-child-policy=mtime"},
		{"[Success] two copies of an older volume", control.Volume{Replica: 2}, "at risk: two copies and no third voter: a server failing while the other heals may serve stale data, and split-brain files answer EIO"},
		{"[Success] one copy", control.Volume{Replica: 1}, "one copy"},
		{"[Success] three copies with quorum turned off", control.Volume{Replica: 3, Options: map[string]string{"cluster.quorum-type": "none"}}, "cluster.quorum-type=none: a server failing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := consistency(tc.vol); !strings.HasPrefix(got, tc.want) {
				t.Errorf("consistency = %q, want it to start with %q", got, tc.want)
			}
		})
	}
}
