//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// pluginBed is two storage servers and the plugin pointed at them.
type pluginBed struct {
	cluster *testbed.Cluster
	plugin  *testbed.Plugin
}

func newPluginBed(t *testing.T, name string, octet int, settings ...string) *pluginBed {
	t.Helper()
	c := testbed.NewCluster(t, name, octet, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPlugin(t, c, name, settings...)
	return &pluginBed{cluster: c, plugin: p}
}

func (b *pluginBed) create(t *testing.T, name string, opts ...string) {
	t.Helper()
	args := []string{"volume", "create", "-d", b.plugin.Name}
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	testbed.MustDocker(t, append(args, name)...)
}

func (b *pluginBed) run(t *testing.T, volume, script string) string {
	t.Helper()
	out, err := testbed.RunContainer(t, volume, script)
	if err != nil {
		t.Fatalf("container on %s: %v", volume, err)
	}
	return out
}

// brickFile reads a file as stored in each server's brick.
func (b *pluginBed) assertInEveryBrick(t *testing.T, gluster, file, want string) {
	t.Helper()
	for _, s := range b.cluster.Servers {
		data, err := os.ReadFile(filepath.Join(s.BrickDir(gluster), file))
		if err != nil || string(data) != want {
			t.Errorf("%s in brick on %s: %q, %v; want %q", file, s.Name, data, err, want)
		}
	}
}

func (b *pluginBed) assertNoMounts(t *testing.T) {
	t.Helper()
	mounts, err := testbed.HostMounts("fuse.glusterfs")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if strings.Contains(m.Mountpoint, b.plugin.ID(t)) {
			t.Errorf("mount left behind: %s on %s", m.Source, m.Mountpoint)
		}
	}
}

func TestPluginVolumes(t *testing.T) {
	b := newPluginBed(t, "gte2e-plugin", 100)
	ctx := context.Background()

	// A dotted Docker name is backed by a replica 2 gluster volume.
	b.create(t, "e2e.data", "replica=2")
	b.run(t, "e2e.data", "echo shared > /data/hello.txt")
	b.assertInEveryBrick(t, "e2e__data", "hello.txt", "shared\n")
	if got := b.run(t, "e2e.data", "cat /data/hello.txt"); got != "shared" {
		t.Errorf("second container reads %q", got)
	}
	inspect := testbed.MustDocker(t, "volume", "inspect", "-f", "{{.Scope}} {{.Status.gluster_volume}} {{.Status.replica}} {{.Status.bricks}}", "e2e.data")
	if !strings.HasPrefix(inspect, "global e2e__data 2 ") || strings.Count(inspect, "(online)") != 2 {
		t.Errorf("volume inspect: %s", inspect)
	}

	t.Run("20 containers share one FUSE mount", func(t *testing.T) {
		names := make([]string, 20)
		errs := make([]error, 20)
		var wg sync.WaitGroup
		for i := range names {
			names[i] = fmt.Sprintf("gte2e-plugin-c%d", i)
			wg.Go(func() {
				_, errs[i] = testbed.Docker(ctx, "run", "-d", "--name", names[i], "--label", "gluster-testbed=1", "-v", "e2e.data:/data", testbed.ClientImage, "sleep", "300")
			})
		}
		wg.Wait()
		defer func() {
			testbed.Docker(ctx, append([]string{"rm", "-f"}, names...)...)
		}()
		for i, err := range errs {
			if err != nil {
				t.Errorf("container %d: %v", i, err)
			}
		}
		if n := testbed.FUSEClients("e2e__data"); n != 1 {
			t.Errorf("gluster FUSE clients for the volume: %d, want 1", n)
		}
		if _, err := testbed.Docker(ctx, "volume", "rm", "e2e.data"); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("volume rm while containers use it: %v, want refused", err)
		}
		testbed.MustDocker(t, append([]string{"rm", "-f"}, names...)...)
		testbed.Eventually(t, 30*time.Second, "FUSE client gone after the last container", func() error {
			if n := testbed.FUSEClients("e2e__data"); n != 0 {
				return fmt.Errorf("%d clients", n)
			}
			return nil
		})
		b.assertNoMounts(t)
	})

	t.Run("owner and mode", func(t *testing.T) {
		b.create(t, "owned", "uid=1000", "gid=1001", "mode=0750")
		if got := b.run(t, "owned", "stat -c '%u %g %a' /data"); got != "1000 1001 750" {
			t.Errorf("volume root: %q, want 1000 1001 750", got)
		}
	})

	t.Run("subdirectory of an existing gluster volume", func(t *testing.T) {
		b.create(t, "app.one", "volume=e2e__data", "subdir=apps/one")
		b.run(t, "app.one", "echo sub > /data/f")
		b.assertInEveryBrick(t, "e2e__data", "apps/one/f", "sub\n")
		testbed.MustDocker(t, "volume", "rm", "app.one")
		// Removing it keeps the gluster volume it did not create.
		if _, err := b.cluster.Volume(ctx, "e2e__data"); err != nil {
			t.Errorf("gluster volume after removing a subdir volume: %v", err)
		}
	})

	t.Run("bad names and options", func(t *testing.T) {
		before, _ := b.cluster.Servers[0].Client().Volumes(ctx)
		cases := []struct {
			name, option, want string
		}{
			{"bad1", "colour=blue", "valid options"},
			{"bad7", "size=lots", "such as 10GiB"},
			{"bad2", "replica=two", "replica"},
			{"bad3", "replica=3", "needs 3 connected servers"},
			{"bad4", "gluster.no.such.option=1", "no.such.option"},
			{"bad5", "volume=missing", "missing"},
			{"bad__6", "replica=2", "must not contain"},
		}
		for _, tc := range cases {
			_, err := testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", tc.option, tc.name)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("create %s -o %s: %v, want an error mentioning %q", tc.name, tc.option, err, tc.want)
			}
		}
		after, _ := b.cluster.Servers[0].Client().Volumes(ctx)
		if len(after) != len(before) {
			t.Errorf("refused creates left gluster volumes: before %d, after %d", len(before), len(after))
		}
		for _, v := range b.plugin.Volumes(t) {
			if strings.HasPrefix(v, "bad") {
				t.Errorf("refused creates left Docker volume %s", v)
			}
		}
		for _, s := range b.cluster.Servers {
			if matches, _ := filepath.Glob(s.BrickDir("bad*")); len(matches) > 0 {
				t.Errorf("brick directories left on %s: %v", s.Name, matches)
			}
		}
	})

	t.Run("mounting a gluster volume that vanished", func(t *testing.T) {
		// On an existing gluster volume: a volume the plugin created is
		// forgotten when its gluster volume goes while unused here, as
		// after `docker volume rm` on another host, and created anew.
		if _, err := b.cluster.Servers[0].Client().Create(ctx, control.CreateRequest{Name: "ghost", Options: pluginLabel("ghost")}); err != nil {
			t.Fatal(err)
		}
		b.create(t, "haunted", "volume=ghost")
		if err := b.cluster.Servers[0].Client().Delete(ctx, "ghost"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := testbed.RunContainer(t, "haunted", "true")
		if err == nil || !strings.Contains(err.Error(), "ghost") || !strings.Contains(err.Error(), b.cluster.Servers[0].Address) {
			t.Errorf("mount of a vanished volume: %v, want an error naming the volume and the servers", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("failing took %s, want a prompt failure", d)
		}
		b.assertNoMounts(t)
		testbed.MustDocker(t, "volume", "rm", "haunted")
	})

	t.Run("remove deletes the gluster volume and its bricks", func(t *testing.T) {
		testbed.MustDocker(t, "volume", "rm", "e2e.data")
		if _, err := b.cluster.Volume(ctx, "e2e__data"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("gluster volume after rm: %v", err)
		}
		for _, s := range b.cluster.Servers {
			if _, err := os.Stat(s.BrickDir("e2e__data")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("brick on %s after rm: %v", s.Name, err)
			}
		}
	})

	t.Run("a brick directory its server could not remove then is removed once it answers", func(t *testing.T) {
		// glusterd deletes the volume, but the second server's control
		// API, which removes its brick directory, refuses connections (a
		// server going down between the two).
		srv2 := b.cluster.Servers[1]
		b.create(t, "e2e.late", "replica=2")
		b.run(t, "e2e.late", "echo gone > /data/f")
		answer := srv2.RefuseTCP(t, control.DefaultPort)
		testbed.MustDocker(t, "volume", "rm", "e2e.late")
		if _, err := b.cluster.Servers[0].CLI().Volume(ctx, "e2e__late"); !errors.Is(err, glustercli.ErrNotFound) {
			t.Errorf("gluster volume after rm: %v, want none", err)
		}
		if _, err := os.Stat(srv2.BrickDir("e2e__late")); err != nil {
			t.Fatalf("brick directory on %s while its control API refuses: %v; the removal should have been left for later", srv2.Name, err)
		}
		answer()
		testbed.Eventually(t, 2*time.Minute, "leftover brick directory removed", func() error {
			if _, err := os.Stat(srv2.BrickDir("e2e__late")); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s on %s: %v", srv2.BrickDir("e2e__late"), srv2.Name, err)
			}
			return nil
		})
		b.create(t, "e2e.late", "replica=2")
		if got := b.run(t, "e2e.late", "ls -A /data"); got != "" {
			t.Errorf("the name created again holds %q, want a new, empty volume", got)
		}
		testbed.MustDocker(t, "volume", "rm", "e2e.late")
	})
}

// dockerGaveUp tells whether a Docker command failed because Docker stopped
// waiting for the plugin. Docker 20.10 says so in two ways, depending on
// where its HTTP client's deadline struck.
func dockerGaveUp(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Client.Timeout") ||
		strings.Contains(err.Error(), "context deadline exceeded"))
}
