package control

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSubvolumes(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "shared", Options: map[string]string{DockerVolumeOption: "shared"}}); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []struct{ docker, subdir string }{{"web.data", "apps/web"}, {"api", "apps/api"}, {"api", "apps/api"}} {
		if err := ts.client.AddSubvolume(ctx, "shared", sub.docker, SubvolumeRequest{Subdir: sub.subdir}); err != nil {
			t.Fatalf("AddSubvolume(%s): %v", sub.docker, err)
		}
	}
	if got := ts.gluster.vols["shared"].Options["user.docker-subvolume.web__data"]; got != "apps/web" {
		t.Errorf("label of web.data = %q, want apps/web", got)
	}
	if err := ts.client.AddSubvolume(ctx, "shared", "pooled", SubvolumeRequest{Subdir: "pooled", OnRemove: OnRemoveDelete}); err != nil {
		t.Fatal(err)
	}
	if got := SubvolumeOnRemove(ts.gluster.vols["shared"].Options, "pooled"); got != OnRemoveDelete {
		t.Errorf("removal policy recorded for pooled = %q, want delete", got)
	}
	if err := ts.client.RemoveSubvolume(ctx, "shared", "pooled"); err != nil {
		t.Fatal(err)
	}

	t.Run("[Error] refused requests change nothing", func(t *testing.T) {
		tests := []struct {
			name, volume, docker, subdir, onRemove string
			want                                   error
		}{
			{"other subdir for a recorded volume", "shared", "api", "apps/other", "", ErrConflict},
			{"missing volume", "nope", "x", "a", "", ErrNotFound},
			{"volume starting with '-'", "-shared", "x", "a", "", ErrInvalid},
			{"Docker name starting with '-'", "shared", "-x", "a", "", ErrInvalid},
			{"unmappable Docker name", "shared", "a__b", "a", "", ErrInvalid},
			{"subdir starting with '-'", "shared", "x", "-rf", "", ErrInvalid},
			{"subdir with '..'", "shared", "x", "a/../../etc", "", ErrInvalid},
			{"absolute subdir", "shared", "x", "/etc", "", ErrInvalid},
			{"empty subdir", "shared", "x", "", "", ErrInvalid},
			{"control character", "shared", "x", "a\nb", "", ErrInvalid},
			{"unknown removal policy", "shared", "x", "a", "archive", ErrInvalid},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := len(ts.gluster.vols["shared"].Options)
				req := SubvolumeRequest{Subdir: tc.subdir, OnRemove: tc.onRemove}
				if err := ts.client.AddSubvolume(ctx, tc.volume, tc.docker, req); !errors.Is(err, tc.want) {
					t.Errorf("AddSubvolume(%q, %q, %q) = %v, want %v", tc.volume, tc.docker, tc.subdir, err, tc.want)
				}
				if after := len(ts.gluster.vols["shared"].Options); after != before {
					t.Errorf("options: %d before, %d after", before, after)
				}
			})
		}
	})

	err := ts.client.Delete(ctx, "shared")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "api, web.data") {
		t.Fatalf("Delete with subdirectory volumes: %v, want ErrConflict naming api, web.data", err)
	}
	if _, ok := ts.gluster.vols["shared"]; !ok {
		t.Fatal("the volume was deleted")
	}
	for _, docker := range []string{"api", "web.data", "web.data", "never.recorded"} {
		if err := ts.client.RemoveSubvolume(ctx, "shared", docker); err != nil {
			t.Fatalf("RemoveSubvolume(%s): %v", docker, err)
		}
	}
	if subs := Subvolumes(ts.gluster.vols["shared"].Options); len(subs) != 0 {
		t.Errorf("labels left: %v", subs)
	}
	// Gluster cannot reset user.* options: a forgotten one stays, with a
	// value no subdirectory has, and the name can be recorded again.
	if got := ts.gluster.vols["shared"].Options["user.docker-subvolume.api"]; got != "/" {
		t.Errorf("option of a forgotten subdirectory volume = %q, want /", got)
	}
	if err := ts.client.AddSubvolume(ctx, "shared", "api", SubvolumeRequest{Subdir: "apps/api2"}); err != nil {
		t.Errorf("recording a forgotten name again: %v", err)
	}
	if err := ts.client.RemoveSubvolume(ctx, "shared", "api"); err != nil {
		t.Fatal(err)
	}
	if err := ts.client.Delete(ctx, "shared"); err != nil {
		t.Errorf("Delete after the subdirectory volumes went: %v", err)
	}
}
