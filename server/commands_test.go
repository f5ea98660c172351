package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/control"
)

// fakeAPI holds volumes; purging one that is not retained fails.
type fakeAPI struct {
	volumes []control.Volume
	purged  []string
}

func (f *fakeAPI) Volumes(context.Context) ([]control.Volume, error) { return f.volumes, nil }

func (f *fakeAPI) Purge(_ context.Context, name string) error {
	for _, v := range f.volumes {
		if v.Name == name && control.Retained(v.Options) {
			f.purged = append(f.purged, name)
			return nil
		}
	}
	return control.ErrConflict
}

func TestRunCommand(t *testing.T) {
	volumes := []control.Volume{
		{Name: "kept", Options: map[string]string{control.DockerVolumeOption: "kept", control.RetainedOption: "2026-12-03T11:00:00Z"}},
		{Name: "adopted", Options: map[string]string{control.DockerVolumeOption: "adopted", control.RetainedOption: "no"}},
		{Name: "live", Options: map[string]string{control.DockerVolumeOption: "live"}},
	}
	tests := []struct {
		name       string
		args       []string
		wantOut    []string // beginnings of lines the answer holds
		wantPurged []string
		wantErr    error
	}{
		{"[Success] retained lists only retained volumes", []string{"retained"}, []string{"kept kept 2026-12-03T11:00:00Z"}, nil, nil},
		{"[Success] purge a retained volume", []string{"purge", "kept"}, []string{"kept: purged"}, []string{"kept"}, nil},
		{"[Error] purge goes on past a volume that is not retained", []string{"purge", "live", "kept", "kept"}, []string{"kept: purged", "live: not purged"}, []string{"kept"}, nil},
		{"[Error] purge without a name", []string{"purge"}, nil, nil, errUsage},
		{"[Error] an unknown command", []string{"delete", "kept"}, nil, nil, errUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{volumes: volumes}
			var out strings.Builder
			err := runCommand(context.Background(), api, tc.args, &out)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("runCommand(%v) error = %v, want %v", tc.args, err, tc.wantErr)
			}
			var lines []string // the answer's lines, columns one space apart
			for line := range strings.Lines(out.String()) {
				lines = append(lines, strings.Join(strings.Fields(line), " "))
			}
			for _, line := range tc.wantOut {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, line) }) {
					t.Errorf("runCommand(%v) wrote %q, want a line %q", tc.args, out.String(), line)
				}
			}
			if strings.Join(api.purged, ",") != strings.Join(tc.wantPurged, ",") {
				t.Errorf("purged %v, want %v", api.purged, tc.wantPurged)
			}
		})
	}
}
