package driver

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

func TestRemovalPolicy(t *testing.T) {
	tests := []struct {
		name        string
		defaultPlan string
		options     map[string]string
		wantRetain  bool
	}{
		{name: "[Success] the plugin's retain", defaultPlan: control.OnRemoveRetain, wantRetain: true},
		{name: "[Success] the plugin's delete", defaultPlan: control.OnRemoveDelete},
		{name: "[Success] the volume's retain over the plugin's delete", defaultPlan: control.OnRemoveDelete, options: map[string]string{"on-remove": "retain"}, wantRetain: true},
		{name: "[Success] the volume's delete over the plugin's retain", defaultPlan: control.OnRemoveRetain, options: map[string]string{"on-remove": "delete"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.OnRemove = tc.defaultPlan
			f.restart(t)
			f.cluster.onCreate = func(v *control.Volume, req control.CreateRequest) {
				if req.OnRemove != "" {
					v.Options[control.OnRemoveOption] = req.OnRemove
				}
			}
			mustCreate(t, f.driver, &volume.CreateRequest{Name: "v", Options: tc.options})
			if err := f.driver.Remove(&volume.RemoveRequest{Name: "v"}); err != nil {
				t.Fatal(err)
			}
			if retained := slices.Equal(f.cluster.retains, []string{"v"}); retained != tc.wantRetain || retained == (len(f.cluster.deletes) > 0) {
				t.Fatalf("retained %v, deleted %v; want retained %t", f.cluster.retains, f.cluster.deletes, tc.wantRetain)
			}
			if !tc.wantRetain {
				return
			}
			list, err := f.driver.List()
			if err != nil || len(list.Volumes) != 0 {
				t.Errorf("listed %+v, %v; want nothing: a retained volume is no Docker volume", list, err)
			}
			if _, err := f.driver.Get(&volume.GetRequest{Name: "v"}); !errors.Is(err, control.ErrNotFound) {
				t.Errorf("Get of a retained volume: %v, want not found so that Docker creates it again", err)
			}
		})
	}
}

// Another host forgets a volume retained elsewhere once it does not use
// it: docker volume ls agrees on every host.
func TestRetainedElsewhereIsForgotten(t *testing.T) {
	f := newFixture(t)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v"})
	mustMount(t, f.driver, &volume.MountRequest{Name: "v", ID: "c1"})
	if err := f.cluster.Retain(t.Context(), "v"); err != nil {
		t.Fatal(err)
	}
	relist(t, f.driver)
	if list, _ := f.driver.List(); len(list.Volumes) != 1 {
		t.Errorf("listed %+v while a container uses it here, want it kept", list.Volumes)
	}
	mustUnmount(t, f.driver, &volume.UnmountRequest{Name: "v", ID: "c1"})
	if list, _ := f.driver.List(); len(list.Volumes) != 0 {
		t.Errorf("listed %+v once unused, want it forgotten", list.Volumes)
	}
	if _, ok := f.driver.state("v"); ok {
		t.Error("still in this host's state")
	}
}

func TestOnRemoveOption(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]string
		wantErr bool
	}{
		{name: "[Success] retain", options: map[string]string{"on-remove": "retain"}},
		{name: "[Success] delete", options: map[string]string{"on-remove": "delete"}},
		{name: "[Error] another word", options: map[string]string{"on-remove": "archive"}, wantErr: true},
		{name: "[Error] with an existing volume", options: map[string]string{"volume": "shared", "on-remove": "delete"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseOptions(tc.options); (err != nil) != tc.wantErr {
				t.Errorf("ParseOptions(%v) = %v, want error %t", tc.options, err, tc.wantErr)
			}
		})
	}
}
