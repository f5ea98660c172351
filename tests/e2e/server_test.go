//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

const poolTimeout = 90 * time.Second

func TestPoolFormsWhateverTheStartOrder(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d servers, last first", n), func(t *testing.T) {
			c := testbed.NewCluster(t, fmt.Sprintf("gte2e-order%d", n), 80+n, n)
			// The last server starts alone and keeps probing peers that
			// are not up yet; the others follow a few seconds apart.
			for i := n - 1; i >= 0; i-- {
				c.Servers[i].Run(t)
				time.Sleep(3 * time.Second)
			}
			c.WaitPool(t, poolTimeout)
		})
	}
}

// three is a pool of three servers shared by the volume tests below.
func three(t *testing.T) *testbed.Cluster {
	t.Helper()
	c := testbed.NewCluster(t, "gte2e-three", 90, 3)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	return c
}

func TestVolumeLifecycle(t *testing.T) {
	c := three(t)
	ctx := context.Background()
	srv1, srv2 := c.Servers[0].Client(), c.Servers[1].Client()

	vol, err := srv1.Create(ctx, control.CreateRequest{Name: "life", Replica: 3, Options: map[string]string{"performance.cache-size": "32MB", control.DockerVolumeOption: "life"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if vol.Status != "Started" || len(vol.Bricks) != 3 || vol.Options["performance.cache-size"] != "32MB" {
		t.Fatalf("created %+v", vol)
	}
	again, err := srv2.Create(ctx, control.CreateRequest{Name: "life", Replica: 3})
	if err != nil || again.ID != vol.ID {
		t.Fatalf("create again through another server = %+v, %v; want the same volume", again, err)
	}
	if _, err := srv2.Create(ctx, control.CreateRequest{Name: "life", Replica: 2}); !errors.Is(err, control.ErrConflict) {
		t.Fatalf("create with another layout: %v, want ErrConflict", err)
	}
	c.WaitBricksOnline(t, "life", time.Minute)

	// GlusterFS's option profiles are there, although a host directory
	// holds glusterd's state.
	if out, err := c.Servers[2].Gluster(ctx, "volume", "set", "life", "group", "metadata-cache"); err != nil {
		t.Errorf("volume set life group metadata-cache: %v\n%s", err, out)
	}

	// A file written through a FUSE mount lands in every brick.
	mnt := testbed.MountFUSE(t, c.Servers[1].Address, "life")
	if err := os.WriteFile(filepath.Join(mnt, "hello.txt"), []byte("replicated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Servers {
		data, err := os.ReadFile(filepath.Join(s.BrickDir("life"), "hello.txt"))
		if err != nil || string(data) != "replicated\n" {
			t.Errorf("brick on %s: %q, %v", s.Name, data, err)
		}
	}
	info, err := srv2.Volume(ctx, "life")
	if err != nil || !slices.Contains(info.Clients, "172.30.90.1") {
		t.Errorf("volume info clients = %v, %v; want the host's mount (172.30.90.1)", info.Clients, err)
	}
	if err := srv1.Delete(ctx, "life"); !errors.Is(err, control.ErrInUse) || !strings.Contains(err.Error(), "172.30.90.1") {
		t.Fatalf("delete while mounted: %v, want ErrInUse naming the client host", err)
	}
	testbed.MustRun(t, "umount", mnt)

	if err := srv2.Stop(ctx, "life"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if info, _ := srv1.Volume(ctx, "life"); info.Status != "Stopped" {
		t.Errorf("after stop: status %q", info.Status)
	}
	if err := srv2.Start(ctx, "life"); err != nil {
		t.Fatalf("start: %v", err)
	}
	testbed.Eventually(t, 30*time.Second, "delete once the client is gone", func() error {
		return srv1.Delete(ctx, "life")
	})
	for _, s := range c.Servers {
		if _, err := os.Stat(s.BrickDir("life")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("brick directory on %s left behind: %v", s.Name, err)
		}
	}
	if _, err := srv2.Volume(ctx, "life"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("volume after delete: %v, want ErrNotFound", err)
	}
	if err := srv2.Delete(ctx, "life"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("delete of a missing volume: %v, want ErrNotFound", err)
	}
	// The name can be used again.
	if _, err := srv2.Create(ctx, control.CreateRequest{Name: "life", Replica: 2, Options: pluginLabel("life")}); err != nil {
		t.Fatalf("create again after delete: %v", err)
	}
	if err := srv2.Delete(ctx, "life"); err != nil {
		t.Fatalf("delete: %v", err)
	}

	// An arbiter volume: two data bricks and one metadata brick.
	arb, err := srv1.Create(ctx, control.CreateRequest{Name: "arb", Replica: 3, Arbiter: true, Options: pluginLabel("arb")})
	if err != nil || !arb.Arbiter || !arb.Bricks[2].Arbiter {
		t.Fatalf("arbiter volume: %+v, %v", arb, err)
	}
	if err := srv1.Delete(ctx, "arb"); err != nil {
		t.Fatalf("delete arbiter volume: %v", err)
	}
}

// TestBricksOfAPeerKnownByNameOnly: a server that joined the pool by
// probing another is known there only by the name a reverse lookup of its
// address gave (its container name on the test network), which the host and
// its plugins cannot resolve, until it is probed by address in turn. Here the
// first server never probes the second; a volume created through it must
// still have both bricks under addresses.
func TestBricksOfAPeerKnownByNameOnly(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-names", 84, 2)
	first, second := c.Servers[0], c.Servers[1]
	first.Peers = []string{first.Address}
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	ctx := context.Background()
	testbed.Eventually(t, poolTimeout, second.Name+" in the pool of "+first.Name+", by name only", func() error {
		peers, err := first.CLI().Peers(ctx)
		if err != nil {
			return err
		}
		for _, p := range peers {
			if p.Hostname != "localhost" && p.Connected && !slices.Contains(p.Hostnames, second.Address) {
				return nil
			}
		}
		return fmt.Errorf("pool of %s: %+v", first.Name, peers)
	})
	vol, err := first.Client().Create(ctx, control.CreateRequest{Name: "named", Replica: 2, Options: pluginLabel("named")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := first.Client().Delete(ctx, "named"); err != nil {
			t.Errorf("deleting named: %v", err)
		}
	}()
	var servers []string
	for _, b := range vol.Bricks {
		servers = append(servers, b.Server)
	}
	slices.Sort(servers)
	if !slices.Equal(servers, c.Addresses()) {
		t.Errorf("bricks of named on %v; want %v", servers, c.Addresses())
	}
	info, err := first.CLI().Volume(ctx, "named")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range info.Bricks {
		if !slices.Contains(c.Addresses(), b.Host) {
			t.Errorf("gluster has a brick of named on %q; want one of %v", b.Host, c.Addresses())
		}
	}
}

func TestRefusedRequestsChangeNothing(t *testing.T) {
	c := three(t)
	ctx := context.Background()
	srv := c.Servers[0]

	// No token, or a wrong one: 401 and nothing created.
	for _, auth := range []string{"", "Bearer wrong"} {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s:%d/v1/volumes", srv.Address, control.DefaultPort), strings.NewReader(`{"name":"sneaky"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}

	bad := []control.CreateRequest{
		{Name: "a.b"},
		{Name: "../x"},
		{Name: strings.Repeat("v", 300)},
		{Name: "all"},
		{Name: "-x"},
		{Name: "ok1", Replica: 4},
		{Name: "ok2", Replica: 2, Arbiter: true},
		{Name: "ok3", Options: map[string]string{"no such": "option"}},
		{Name: "ok4", Options: map[string]string{"bogus.key": "1"}},
		{Name: "ok5", Servers: []string{"172.30.90.99"}},
	}
	for _, req := range bad {
		_, err := srv.Client().Create(ctx, req)
		if err == nil {
			t.Errorf("create %+v succeeded, want a refusal", req)
			continue
		}
		t.Logf("refused %.40q: %v", req.Name, err)
	}
	vols, err := srv.Client().Volumes(ctx)
	if err != nil || len(vols) != 0 {
		t.Errorf("volumes after refused requests: %+v, %v; want none", vols, err)
	}
	for _, s := range c.Servers {
		entries, _ := os.ReadDir(filepath.Join(s.Dir, "bricks"))
		if len(entries) != 0 {
			t.Errorf("brick directories left on %s: %v", s.Name, entries)
		}
	}
}

func TestConcurrentCreates(t *testing.T) {
	c := three(t)
	ctx := context.Background()

	// One after the other, placement spreads bricks evenly: fewest first.
	for _, name := range []string{"s1", "s2", "s3"} {
		if _, err := c.Servers[0].Client().Create(ctx, control.CreateRequest{Name: name, Replica: 2}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	if load := brickLoad(t, c); !maps.Equal(load, map[string]int{"172.30.90.11": 2, "172.30.90.12": 2, "172.30.90.13": 2}) {
		t.Errorf("bricks per server after sequential creates = %v, want 2 each", load)
	}

	run := func(names []string) []error {
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				_, errs[i] = c.Servers[i%len(c.Servers)].Client().Create(ctx, control.CreateRequest{Name: name, Replica: 2})
			})
		}
		wg.Wait()
		return errs
	}
	distinct := []string{"c1", "c2", "c3", "c4", "c5"}
	for i, err := range run(distinct) {
		if err != nil {
			t.Errorf("create %s: %v", distinct[i], err)
		}
	}
	same := []string{"same", "same", "same", "same", "same"}
	for i, err := range run(same) {
		if err != nil {
			t.Errorf("create #%d of the same name: %v", i, err)
		}
	}
	vols, err := c.Servers[2].Client().Volumes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vols {
		got = append(got, v.Name)
		if len(v.Bricks) != 2 || v.Bricks[0].Server == v.Bricks[1].Server {
			t.Errorf("volume %s: bricks %+v, want two on distinct servers", v.Name, v.Bricks)
		}
	}
	slices.Sort(got)
	if want := []string{"c1", "c2", "c3", "c4", "c5", "s1", "s2", "s3", "same"}; !slices.Equal(got, want) {
		t.Errorf("volumes = %v, want %v", got, want)
	}
}

func brickLoad(t *testing.T, c *testbed.Cluster) map[string]int {
	t.Helper()
	vols, err := c.Servers[0].Client().Volumes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	load := map[string]int{}
	for _, v := range vols {
		for _, b := range v.Bricks {
			load[b.Server]++
		}
	}
	return load
}

func TestServersKeepStateAcrossRestarts(t *testing.T) {
	c := three(t)
	ctx := context.Background()
	if _, err := c.Servers[0].Client().Create(ctx, control.CreateRequest{Name: "keep", Replica: 3}); err != nil {
		t.Fatal(err)
	}
	c.WaitBricksOnline(t, "keep", time.Minute)
	peersBefore, err := c.Servers[0].Client().Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		do   func(*testbed.Server)
	}{
		{"re-created container", func(s *testbed.Server) { s.Recreate(t) }},
		{"docker restart", func(s *testbed.Server) { testbed.MustDocker(t, "restart", s.Name) }},
		{"docker stop and start", func(s *testbed.Server) {
			testbed.MustDocker(t, "stop", s.Name)
			testbed.MustDocker(t, "start", s.Name)
		}},
	}
	for i, step := range steps {
		s := c.Servers[1+i%2]
		step.do(s)
		c.WaitPool(t, poolTimeout)
		vol := c.WaitBricksOnline(t, "keep", 2*time.Minute)
		if len(vol.Bricks) != 3 {
			t.Errorf("after %s of %s: %+v", step.name, s.Name, vol)
		}
	}
	peersAfter, err := c.Servers[0].Client().Peers(ctx)
	if err != nil || !slices.Equal(peersAfter, peersBefore) {
		t.Errorf("peers changed across restarts:\nbefore %+v\nafter  %+v (%v)", peersBefore, peersAfter, err)
	}
}
