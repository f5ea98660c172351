package control

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestCreateWithSize(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		size     uint64
		noFUSE   bool // the server container was run without /dev/fuse
		want     error
		wantCode int
	}{
		{name: "[Success] within the bricks' free space", size: 10 << 30},
		{name: "[Error] larger than the bricks' free space", size: fakeBrickFree + 1, want: ErrNoSpace, wantCode: http.StatusInsufficientStorage},
		{name: "[Error] a server without /dev/fuse", size: 10 << 30, noFUSE: true, want: ErrUnavailable, wantCode: http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, "a1", "a2")
			if tc.noFUSE {
				if err := os.Remove(ts.fuse); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ts.client.Create(ctx, CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}, Size: tc.size})
			if !errors.Is(err, tc.want) {
				t.Fatalf("create: %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Code != tc.wantCode {
					t.Errorf("answer %v, want %d", err, tc.wantCode)
				}
				if tc.noFUSE && !strings.Contains(err.Error(), "--device /dev/fuse") {
					t.Errorf("answer %v, want the hint to run the server with --device /dev/fuse", err)
				}
				if len(ts.gluster.vols) != 0 || len(ts.gluster.limits) != 0 {
					t.Errorf("left behind: volumes %v, limits %v", ts.gluster.vols, ts.gluster.limits)
				}
				assertNoBrick(t, ts.bricks, "v")
				return
			}
			opts := ts.gluster.vols["v"].Options
			for key, want := range strictQuota {
				if opts[key] != want {
					t.Errorf("option %s = %q, want %q", key, opts[key], want)
				}
			}
			if got := ts.gluster.limits["v:/"]; got != tc.size {
				t.Errorf("limit of / = %d, want %d", got, tc.size)
			}
			vol, err := ts.client.Volume(ctx, "v")
			if err != nil || len(vol.Limits) != 1 || vol.Limits[0].Size != tc.size || vol.Bricks[0].Free != fakeBrickFree {
				t.Errorf("described as %+v, %v; want its limit and the bricks' free space", vol, err)
			}
		})
	}
}

func TestSubvolumeSize(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "shared", Options: map[string]string{DockerVolumeOption: "shared"}}); err != nil {
		t.Fatal(err)
	}
	web := SubvolumeRequest{Subdir: "apps/web", Size: 5 << 20}
	if err := ts.client.AddSubvolume(ctx, "shared", "web", web); err != nil {
		t.Fatalf("recording before the directory exists: %v", err)
	}
	if got := SubvolumeSize(ts.gluster.vols["shared"].Options, "web"); got != web.Size {
		t.Errorf("recorded size %d, want %d", got, web.Size)
	}
	if len(ts.gluster.limits) != 0 {
		t.Errorf("limits %v before the directory exists", ts.gluster.limits)
	}
	ts.gluster.dirs = append(ts.gluster.dirs, "shared:/apps/web")
	for range 2 {
		if err := ts.client.AddSubvolume(ctx, "shared", "web", web); err != nil {
			t.Fatalf("asking again once the directory exists: %v", err)
		}
	}
	if got := ts.gluster.limits["shared:/apps/web"]; got != web.Size {
		t.Errorf("limit of /apps/web = %d, want %d", got, web.Size)
	}
	limited := slices.DeleteFunc(slices.Clone(ts.gluster.calls), func(c string) bool { return c != "quota limit shared /apps/web 5242880" })
	if len(limited) != 2 {
		t.Errorf("limit-usage ran %d times, want 2 (the refused try and the first after the directory appeared)", len(limited))
	}

	err := ts.client.AddSubvolume(ctx, "shared", "huge", SubvolumeRequest{Subdir: "apps/huge", Size: fakeBrickFree + 1})
	if !errors.Is(err, ErrNoSpace) {
		t.Errorf("too large: %v, want %v", err, ErrNoSpace)
	}
	if _, recorded := Subvolumes(ts.gluster.vols["shared"].Options)["huge"]; recorded {
		t.Error("a refused size was recorded")
	}
}

func TestSizeLabelsAreTheServers(t *testing.T) {
	p, _ := NewOptionPolicy(nil)
	if err := p.Check(SubvolumeSizeOptionPrefix+"web", "1"); err == nil {
		t.Error("callers may set a subdirectory volume's size label")
	}
	if _, err := NewOptionPolicy([]string{"user.docker-subvolume-size.*"}); err == nil {
		t.Error("EXTRA_VOLUME_OPTIONS may hand out the size label")
	}
}
