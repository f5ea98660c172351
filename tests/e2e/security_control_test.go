//go:build e2e

package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestSecurityControl performs attacks on the servers' control API, through
// the plugin and directly with the cluster's token, and checks that each is
// refused and leaves nothing behind.
func TestSecurityControl(t *testing.T) {
	b := newPluginBed(t, "gte2e-sec-ctl", 130)
	ctx := context.Background()
	srv1 := b.cluster.Servers[0]

	t.Run("gluster CLI option injection", func(t *testing.T) {
		// The gluster CLI reads any argument starting with "--" as its own
		// option: a value --log-file=PATH made it write PATH as root.
		target := func(s *testbed.Server, name string) string { return filepath.Join(s.Dir, "glusterd", name) }
		attacks := []struct {
			volume, option, want string
		}{
			{"inj1", "gluster.performance.cache-size=--log-file=/var/lib/glusterd/gte2e-injected-inj1", "must not start with '-'"},
			{"inj2", "gluster.storage.owner-uid=0", "performance."},
			{"inj3", "gluster.diagnostics.brick-log-level=TRACE", "WARNING"},
			{"inj4", "gluster.auth.allow=*,--log-file=/x", "auth.allow"},
			{"inj5", "gluster.cluster.server-quorum-ratio=10", "performance."},
		}
		for _, a := range attacks {
			_, err := testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", a.option, a.volume)
			if err == nil || !strings.Contains(err.Error(), a.want) {
				t.Errorf("create %s -o %s: %v, want a refusal mentioning %q", a.volume, a.option, err, a.want)
			}
			b.assertNothingLeft(t, a.volume)
		}
		_, err := srv1.Client().Create(ctx, control.CreateRequest{Name: "inj6", Options: map[string]string{
			"performance.cache-size": "--log-file=/var/lib/glusterd/gte2e-injected-inj6"}})
		if !errors.Is(err, control.ErrInvalid) {
			t.Errorf("POST /v1/volumes with a value starting with --: %v, want 400", err)
		}
		b.assertNothingLeft(t, "inj6")
		for _, s := range b.cluster.Servers {
			for _, name := range []string{"gte2e-injected-inj1", "gte2e-injected-inj6"} {
				if _, err := os.Stat(target(s, name)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the injected log file %s exists on %s: %v", name, s.Name, err)
				}
			}
		}
		// Options on the list still work.
		b.create(t, "allowed", "gluster.performance.cache-size=32MB", "gluster.auth.allow=172.30.*,127.0.0.1")
		testbed.MustDocker(t, "volume", "rm", "allowed")
	})
}

// assertNothingLeft checks that no Docker volume, gluster volume, brick
// directory or brick marker of volume exists.
func (b *pluginBed) assertNothingLeft(t *testing.T, volume string) {
	t.Helper()
	if slices.Contains(b.plugin.Volumes(t), volume) {
		t.Errorf("Docker volume %s left behind", volume)
	}
	if _, err := b.cluster.Volume(context.Background(), volume); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("gluster volume %s: %v, want none", volume, err)
	}
	for _, s := range b.cluster.Servers {
		left, _ := filepath.Glob(filepath.Join(s.Dir, "bricks", ".*", volume))
		if _, err := os.Stat(s.BrickDir(volume)); !errors.Is(err, os.ErrNotExist) {
			left = append(left, s.BrickDir(volume))
		}
		if len(left) > 0 {
			t.Errorf("left on %s for %s: %v", s.Name, volume, left)
		}
	}
}
