package driver

import (
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
