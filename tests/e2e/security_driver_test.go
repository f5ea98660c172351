//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestSecurityDriver performs attacks on the plugin's volumes through the
// Docker CLI and checks that each is refused and leaves nothing behind.
func TestSecurityDriver(t *testing.T) {
	b := newPluginBed(t, "gte2e-sec-drv", 140)
	ctx := context.Background()

	t.Run("subdir volume through a symlink", func(t *testing.T) {
		b.create(t, "par", "replica=2")
		// Where the link points, as dockerd (the host) and as the plugin
		// (its own root file system) would resolve it.
		rootfs := filepath.Join(testbed.MustDocker(t, "info", "-f", "{{.DockerRootDir}}"), "plugins", b.plugin.ID(t), "rootfs")
		targets := []string{"/", rootfs}
		before := ownerAndModes(t, targets)
		b.run(t, "par", "mkdir -p /data/apps && ln -s / /data/apps/web")

		b.create(t, "web", "volume=par", "subdir=apps/web", "uid=1234", "mode=0777")
		_, err := testbed.RunContainer(t, "web", "ls /data")
		want := "volume web: subdir apps/web: apps/web is a symbolic link inside gluster volume par; refusing to follow it"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("docker run -v web: %v, want an error containing %q", err, want)
		}
		if after := ownerAndModes(t, targets); !slices.Equal(after, before) {
			t.Errorf("owner and mode of %v: %v, before the attack %v", targets, after, before)
		}
		if refs := b.plugin.StateReferences(t)["web"]; refs != 0 {
			t.Errorf("references of the refused volume: %d", refs)
		}
		b.assertNoMounts(t)
		if entries, _ := os.ReadDir(filepath.Join(b.plugin.PropagatedMount(t), ".subdirs")); len(entries) != 0 {
			t.Errorf("bindpoints left: %v", entries)
		}

		// A subdirectory volume as it should be: bound, owned, and the
		// link planted later on its directory's place changes nothing.
		b.create(t, "ok", "volume=par", "subdir=apps/ok", "uid=1234", "gid=1235", "mode=0750")
		if got := b.run(t, "ok", "stat -c '%u %g %a' /data && echo kept > /data/f"); got != "1234 1235 750" {
			t.Errorf("subdirectory volume root: %q, want 1234 1235 750", got)
		}
		b.assertInEveryBrick(t, "par", "apps/ok/f", "kept\n")
		testbed.MustDocker(t, "volume", "rm", "web", "ok")
		b.assertNoMounts(t)
	})

	t.Run("parent removed under its subdirectory volumes", func(t *testing.T) {
		b.create(t, "parent", "replica=2")
		b.run(t, "parent", "echo keep > /data/keep")
		b.create(t, "child", "volume=parent", "subdir=apps/child")
		b.run(t, "child", "echo c > /data/c")
		// A subdirectory volume created on another host, recorded through
		// the control API as that host's plugin does.
		client := b.cluster.Servers[0].Client()
		if err := client.AddSubvolume(ctx, "parent", "elsewhere", control.SubvolumeRequest{Subdir: "apps/else"}); err != nil {
			t.Fatal(err)
		}
		testbed.Eventually(t, 30*time.Second, "docker volume ls lists the subdirectory volume of another host", func() error {
			if vols := b.plugin.Volumes(t); !slices.Contains(vols, "elsewhere") {
				return fmt.Errorf("listed: %v", vols)
			}
			return nil
		})

		_, err := testbed.Docker(ctx, "volume", "rm", "parent")
		if err == nil || !strings.Contains(err.Error(), "child, elsewhere") {
			t.Errorf("volume rm of the parent: %v, want refused naming child, elsewhere", err)
		}
		if err := client.Delete(ctx, "parent"); !errors.Is(err, control.ErrConflict) || !strings.Contains(err.Error(), "child, elsewhere") {
			t.Errorf("control API delete of the parent: %v, want a conflict naming child, elsewhere", err)
		}
		if _, err := b.cluster.Volume(ctx, "parent"); err != nil {
			t.Fatalf("gluster volume after the refused removal: %v", err)
		}
		b.assertInEveryBrick(t, "parent", "keep", "keep\n")
		b.assertInEveryBrick(t, "parent", "apps/child/c", "c\n")

		testbed.MustDocker(t, "volume", "rm", "child")
		if err := client.RemoveSubvolume(ctx, "parent", "elsewhere"); err != nil {
			t.Fatal(err)
		}
		cv, err := b.cluster.Volume(ctx, "parent")
		if err != nil {
			t.Fatal(err)
		}
		if subs := control.Subvolumes(cv.Options); len(subs) != 0 {
			t.Errorf("labels left after removing the subdirectory volumes: %v", subs)
		}
		testbed.MustDocker(t, "volume", "rm", "parent")
		if _, err := b.cluster.Volume(ctx, "parent"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("gluster volume after volume rm: %v, want not found", err)
		}
		for _, s := range b.cluster.Servers {
			if _, err := os.Stat(s.BrickDir("parent")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("brick directory on %s: %v, want it gone", s.Name, err)
			}
		}
		vols := b.plugin.Volumes(t)
		refs := b.plugin.StateReferences(t)
		for _, name := range []string{"parent", "child", "elsewhere"} {
			if _, ok := refs[name]; ok || slices.Contains(vols, name) {
				t.Errorf("volume %s left: listed %v, in the state %t", name, vols, ok)
			}
		}
		b.assertNoMounts(t)
	})

	t.Run("uid and gid beyond 32 bits", func(t *testing.T) {
		for _, opt := range []string{"uid=4294967296", "gid=4294967296", "uid=4294967295"} {
			_, err := testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", opt, "wrap")
			if err == nil || !strings.Contains(err.Error(), "0 to 4294967294") {
				t.Errorf("create -o %s: %v, want refused naming the range", opt, err)
			}
		}
		b.assertNothingLeft(t, "wrap")
	})
}

// ownerAndModes describes the owner and mode of each path.
func ownerAndModes(t *testing.T, paths []string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		info, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		out = append(out, fmt.Sprintf("%s %s %d:%d", p, info.Mode(), st.Uid, st.Gid))
	}
	return out
}
