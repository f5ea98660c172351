//go:build e2e

package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestSecurityControl performs attacks on the servers' control API, through
// the plugin and directly with the cluster's token, and checks that each is
// refused and leaves nothing behind.
func TestSecurityControl(t *testing.T) {
	b := newPluginBed(t, "gte2e-sec-ctl", 130)
	ctx := context.Background()
	srv1, srv2 := b.cluster.Servers[0], b.cluster.Servers[1]

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

	t.Run("brick directories that the API did not create", func(t *testing.T) {
		// Someone's data where a brick would go: a create that fails in
		// gluster rolled back with RemoveAll of it.
		precious := filepath.Join(srv2.BrickDir("precious"), "keep.txt")
		if err := os.MkdirAll(filepath.Dir(precious), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(precious, []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", "replica=2", "-o", "gluster.performance.cache-size=lots", "precious")
		if err == nil || !strings.Contains(err.Error(), srv2.Address) || !strings.Contains(err.Error(), "/bricks/precious") {
			t.Errorf("create over an existing directory: %v, want a refusal naming %s and the path", err, srv2.Address)
		}
		if _, err := b.cluster.Volume(ctx, "precious"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("gluster volume precious: %v, want none", err)
		}
		assertFile(t, precious, "mine\n")
		if _, err := os.Stat(srv1.BrickDir("precious")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("brick directory left on %s: %v", srv1.Name, err)
		}

		// The server-to-server removal never touches what it did not
		// make, whatever owner it is told.
		if err := srv2.Client().RemoveBrick(ctx, "precious", "0123456789abcdef0123456789abcdef"); !errors.Is(err, control.ErrConflict) {
			t.Errorf("DELETE /v1/bricks/precious: %v, want 409", err)
		}
		assertFile(t, precious, "mine\n")
		if err := os.RemoveAll(srv2.BrickDir("precious")); err != nil {
			t.Fatal(err)
		}

		// Directories this API made for a create that then failed in
		// gluster are removed.
		_, err = testbed.Docker(ctx, "volume", "create", "-d", b.plugin.Name, "-o", "replica=2", "-o", "gluster.performance.cache-size=lots", "failing")
		if err == nil || !strings.Contains(err.Error(), "cache-size") {
			t.Errorf("create with a value gluster refuses: %v, want the refusal", err)
		}
		b.assertNothingLeft(t, "failing")

		// Creates of one name through both servers at once meet at the
		// brick directories: one makes the volume, the others adopt it.
		ids := make([]string, 4)
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				vol, err := b.cluster.Servers[i%2].Client().Create(ctx, control.CreateRequest{Name: "twin", Replica: 2,
					Options: pluginLabel("twin")})
				ids[i], errs[i] = vol.ID, err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil || ids[i] != ids[0] {
				t.Errorf("create #%d of twin: %s, %v; want volume %s", i, ids[i], err, ids[0])
			}
		}
		if err := srv2.Client().Delete(ctx, "twin"); err != nil {
			t.Errorf("delete twin: %v", err)
		}
		b.assertNothingLeft(t, "twin")
	})

	t.Run("volumes the plugin did not create", func(t *testing.T) {
		bricks := []string{srv1.Address + ":/bricks/foreign", srv2.Address + ":/bricks/foreign"}
		if out, err := srv1.Gluster(ctx, append(append([]string{"volume", "create", "foreign", "replica", "2"}, bricks...), "force")...); err != nil {
			t.Fatalf("gluster volume create: %s %v", out, err)
		}
		if out, err := srv1.Gluster(ctx, "volume", "start", "foreign"); err != nil {
			t.Fatalf("gluster volume start: %s %v", out, err)
		}
		if err := srv2.Client().Stop(ctx, "foreign"); !errors.Is(err, control.ErrConflict) || !strings.Contains(err.Error(), control.DockerVolumeOption) {
			t.Errorf("stop through the API: %v, want 409 naming the label", err)
		}
		if err := srv1.Client().Delete(ctx, "foreign"); !errors.Is(err, control.ErrConflict) {
			t.Errorf("delete through the API: %v, want 409", err)
		}
		vol, err := b.cluster.Volume(ctx, "foreign")
		if err != nil || vol.Status != "Started" {
			t.Errorf("foreign volume after the attempts: %+v, %v; want it started", vol, err)
		}
		for _, s := range b.cluster.Servers {
			if _, err := os.Stat(filepath.Join(s.BrickDir("foreign"), ".glusterfs")); err != nil {
				t.Errorf("brick of foreign on %s: %v", s.Name, err)
			}
		}
		// Removed by its maker, the gluster CLI, so that the servers'
		// self-heal daemons serve only the next test's volume.
		for _, args := range [][]string{{"volume", "stop", "foreign"}, {"volume", "delete", "foreign"}} {
			if out, err := srv1.Gluster(ctx, args...); err != nil {
				t.Fatalf("gluster %v: %s %v", args, out, err)
			}
		}
	})

	t.Run("parallel scrapes share one round of gluster commands", func(t *testing.T) {
		const scrapes = 12
		address := srv1.MetricsAddress()
		// A scrape right after another is served from the first one's
		// answers, so the counter read then is exact.
		scrape(t, address)
		before := cliCommands(t, scrape(t, address), "pool list")
		time.Sleep(6 * time.Second) // past the server's health cache (5 s)
		var wg sync.WaitGroup
		for range scrapes {
			wg.Go(func() { scrape(t, address) })
		}
		wg.Wait()
		after := cliCommands(t, scrape(t, address), "pool list")
		if rounds := after - before; rounds != 1 {
			t.Errorf("%d parallel scrapes ran %v rounds of gluster commands, want 1", scrapes, rounds)
		}
	})

	t.Run("parallel heal questions share one gluster heal query", func(t *testing.T) {
		// Each heal query starts a gluster client on the server: the plugin
		// of every host asks while Docker starts containers, and asking
		// forty times must not start forty of them.
		b.create(t, "healq", "replica=2")
		vols, err := srv1.Client().Volumes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		started := 0
		for _, v := range vols {
			if v.Status == "Started" {
				started++
			}
		}
		address := srv1.MetricsAddress()
		before := cliCommands(t, scrape(t, address), "volume heal")
		const questions = 40
		var wg sync.WaitGroup
		for range questions {
			wg.Go(func() {
				if _, err := srv1.Client().Heal(ctx, "healq"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// A scrape asks too, once per started volume, unless it is served
		// from the answers of the scrape before.
		queries := cliCommands(t, scrape(t, address), "volume heal") - before
		if queries < 1 || queries > float64(1+started) {
			t.Errorf("%d heal questions and a scrape ran %v gluster heal queries; want 1, and at most %d more for the scrape", questions, queries, started)
		}
		// The next test restarts a server with one volume started.
		if _, err := testbed.Docker(ctx, "volume", "rm", "healq"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a delete that fails restarts the volume", func(t *testing.T) {
		b.create(t, "survivor", "replica=2")
		b.run(t, "survivor", "echo alive > /data/f")
		srv2.Stop(t)
		_, err := testbed.Docker(ctx, "volume", "rm", "survivor")
		if err == nil || !strings.Contains(err.Error(), "started again") {
			t.Errorf("volume rm with a server down: %v, want an error saying the volume was started again", err)
		}
		if got := b.run(t, "survivor", "cat /data/f"); got != "alive" {
			t.Errorf("after the failed rm a container reads %q", got)
		}
		srv2.Start(t)
		b.cluster.WaitPool(t, poolTimeout)
		// A delete tried while the server's brick and self-heal daemon
		// are still coming back finds their connections half made. The
		// volume changed while the server was down, so its glusterd
		// starts a second self-heal daemon that fails and leaves the
		// first one running but reported offline: the server must repair
		// that, or the daemon's connections block the delete for good.
		b.cluster.WaitBricksOnline(t, "survivor", time.Minute)
		err = testbed.Poll(time.Minute, func() error {
			_, err := testbed.Docker(ctx, "volume", "rm", "survivor")
			return err
		})
		if err != nil {
			for _, q := range [][]string{{"volume", "status", "survivor", "clients"}, {"volume", "status", "survivor", "shd"}} {
				out, qerr := srv1.Gluster(ctx, q...)
				t.Logf("gluster %v on %s:\n%s %v", q, srv1.Name, out, qerr)
			}
			t.Fatalf("volume rm once every server is back: %v", err)
		}
		b.assertNothingLeft(t, "survivor")
	})
}

// assertNothingLeft checks that no Docker volume, gluster volume, entry in
// the plugin's state, mount, brick directory or brick marker of volume
// exists.
func (b *pluginBed) assertNothingLeft(t *testing.T, volume string) {
	t.Helper()
	if slices.Contains(b.plugin.Volumes(t), volume) {
		t.Errorf("Docker volume %s left behind", volume)
	}
	if _, err := b.cluster.Volume(context.Background(), volume); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("gluster volume %s: %v, want none", volume, err)
	}
	if _, recorded := b.plugin.StateReferences(t)[volume]; recorded {
		t.Errorf("the plugin's state still records %s", volume)
	}
	mounts, err := testbed.HostMounts("fuse.glusterfs")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if strings.Contains(m.Mountpoint, b.plugin.ID(t)) && filepath.Base(m.Mountpoint) == volume {
			t.Errorf("mount of %s left behind: %s on %s", volume, m.Source, m.Mountpoint)
		}
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

func assertFile(t *testing.T, file, want string) {
	t.Helper()
	if data, err := os.ReadFile(file); err != nil || string(data) != want {
		t.Errorf("%s: %q, %v; want %q", file, data, err, want)
	}
}

// pluginLabel is the option the plugin labels its volumes with: the control
// API starts, stops and deletes only volumes that carry it.
func pluginLabel(docker string) map[string]string {
	return map[string]string{control.DockerVolumeOption: docker}
}

// cliCommands reads how many gluster commands of a kind ("pool list", one
// per round of health questions; "volume heal") a server ran.
func cliCommands(t *testing.T, metrics, command string) float64 {
	t.Helper()
	var total float64
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, `gluster_server_cli_commands_total{command="`+command+`"`) {
			continue
		}
		fields := strings.Fields(line)
		n, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		total += n
	}
	return total
}
