package driver

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

// stalledCluster is a fakeCluster whose lists can be held back, as a
// cluster with hundreds of volumes or a stopped first server answers late.
type stalledCluster struct {
	*fakeCluster
	listing chan struct{} // a value as a list starts

	gate    sync.Mutex
	release chan struct{} // closed: the lists held back answer; nil: none is
}

func newStalledCluster(f *fakeCluster) *stalledCluster {
	return &stalledCluster{fakeCluster: f, listing: make(chan struct{}, 1)}
}

func (s *stalledCluster) Volumes(ctx context.Context) ([]control.Volume, error) {
	select {
	case s.listing <- struct{}{}:
	default:
	}
	s.gate.Lock()
	release := s.release
	s.gate.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.fakeCluster.Volumes(ctx)
}

// stall holds back the lists from now on, until the function it returns
// is called.
func (s *stalledCluster) stall() (unstall func()) {
	release := make(chan struct{})
	s.gate.Lock()
	s.release = release
	s.gate.Unlock()
	select {
	case <-s.listing:
	default:
	}
	return func() {
		s.gate.Lock()
		s.release = nil
		s.gate.Unlock()
		close(release)
	}
}

// started waits until a list was asked for.
func (s *stalledCluster) started(t *testing.T) {
	t.Helper()
	select {
	case <-s.listing:
	case <-time.After(5 * time.Second):
		t.Fatal("no list of the cluster's volumes was asked for")
	}
}

// quick is the bound on a call that must not wait for the cluster.
const quick = time.Second

func newCache(cluster Cluster, ttl time.Duration) *volumeCache {
	return &volumeCache{cluster: cluster, ttl: ttl, logger: discard}
}

func TestCacheFirstListWaitsThenNeverAgain(t *testing.T) {
	cluster := newStalledCluster(newFakeCluster())
	cluster.volumes["gv"] = control.Volume{Name: "gv"}
	c := newCache(cluster, 0) // every call finds the snapshot aged

	unstall := cluster.stall()
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.list(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first list = %v, want it to wait for the cluster", err)
	}
	unstall()
	vols, err := c.list(context.Background())
	if err != nil || len(vols) != 1 {
		t.Fatalf("first list once answered = %v, %v", vols, err)
	}
	waitRefreshed(t, c)

	// From now on the lists stall, and every call is answered at once.
	unstall = cluster.stall()
	cluster.add(control.Volume{Name: "new"})
	ctx, cancel := context.WithTimeout(context.Background(), quick)
	defer cancel()
	for range 3 {
		if vols, err := c.list(ctx); err != nil || len(vols) != 1 {
			t.Fatalf("aged snapshot = %v, %v, want it at once", vols, err)
		}
	}
	cluster.started(t)
	unstall()
	eventually(t, "the refreshed snapshot", func() bool {
		_, listed, _ := c.listed("new")
		return listed
	})
}

func TestCacheKeepsLocalChangesOverOlderLists(t *testing.T) {
	cluster := newStalledCluster(newFakeCluster())
	cluster.volumes["gone"] = control.Volume{Name: "gone"}
	c := newCache(cluster, 0)
	if _, err := c.list(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitRefreshed(t, c)

	// A list asked for before this host created "made" and removed "gone"
	// answers after: the changes stay.
	unstall := cluster.stall()
	if _, err := c.list(context.Background()); err != nil {
		t.Fatal(err)
	}
	cluster.started(t)
	c.put(control.Volume{Name: "made"})
	c.remove("gone")
	unstall()
	waitRefreshed(t, c)
	if _, listed, _ := c.listed("made"); !listed {
		t.Error("a volume created here was lost by an older list")
	}
	if _, listed, _ := c.listed("gone"); listed {
		t.Error("a volume removed here was brought back by an older list")
	}

	// A list asked for after the changes is the truth: "made" was removed
	// elsewhere meanwhile.
	if _, err := c.list(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitRefreshed(t, c)
	if _, listed, _ := c.listed("made"); listed {
		t.Error("a volume the cluster no longer lists is still shown")
	}
}

// waitRefreshed waits for the cache's background list to be done.
func waitRefreshed(t *testing.T, c *volumeCache) {
	t.Helper()
	if _, err, _ := c.fetches.Do(listKey, func() (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	// Do joins a list in flight, or runs the no-op after it.
}

func TestCacheLookupSharesOneRequest(t *testing.T) {
	cluster := &slowLookups{fakeCluster: newFakeCluster(), release: make(chan struct{})}
	cluster.volumes["other"] = control.Volume{Name: "other"}
	c := newCache(cluster, time.Hour)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if v, err := c.lookup(context.Background(), "other"); err != nil || v.Name != "other" {
				t.Errorf("lookup = %+v, %v", v, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the lookups meet; not a condition
	close(cluster.release)
	wg.Wait()
	if _, lookups := cluster.counts(); lookups != 1 {
		t.Errorf("%d lookups for 5 concurrent misses, want 1", lookups)
	}
	if _, err := c.lookup(context.Background(), "missing"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("lookup(missing) = %v, want ErrNotFound", err)
	}
}

// slowLookups is a fakeCluster whose lookups wait until released.
type slowLookups struct {
	*fakeCluster
	release chan struct{}
}

func (s *slowLookups) Lookup(ctx context.Context, name string) (control.Volume, error) {
	<-s.release
	return s.fakeCluster.Lookup(ctx, name)
}

// TestListAndGetNeverWaitForAList: once the plugin listed the cluster, no
// List or Get waits for a list again, however aged the snapshot; a volume
// created on another host since is found by asking for it alone.
func TestListAndGetNeverWaitForAList(t *testing.T) {
	f := newFixture(t)
	cluster := newStalledCluster(f.cluster)
	f.cfg.CacheTTL = 0
	d, err := New(f.cfg, cluster, f.mounter, f.clients, discard)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, d, &volume.CreateRequest{Name: "here"})
	if _, err := d.List(); err != nil {
		t.Fatal(err)
	}
	waitRefreshed(t, d.cache)
	defer cluster.stall()() // every list from now on stalls
	f.cluster.add(control.Volume{Name: "made__elsewhere", Options: map[string]string{DockerVolumeOption: "made.elsewhere"}})

	calls := []struct {
		name string
		call func() error
	}{
		{"[Success] List", func() error { _, err := d.List(); return err }},
		{"[Success] Get of a volume of this host", func() error { _, err := d.Get(&volume.GetRequest{Name: "here"}); return err }},
		{"[Success] Get of a volume created elsewhere since", func() error {
			_, err := d.Get(&volume.GetRequest{Name: "made.elsewhere"})
			return err
		}},
		{"[Error] Get of a volume that exists nowhere", func() error {
			_, err := d.Get(&volume.GetRequest{Name: "nowhere"})
			if !errors.Is(err, control.ErrNotFound) {
				return err
			}
			return nil
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- tc.call() }()
			select {
			case err := <-done:
				if err != nil {
					t.Error(err)
				}
			case <-time.After(quick):
				t.Error("waited for the cluster's list")
			}
		})
	}
	if _, lookups := f.cluster.counts(); lookups != 2 {
		t.Errorf("%d single-volume lookups, want 2: one per volume not listed", lookups)
	}
	// Found once, listed from then on.
	_, err = d.Get(&volume.GetRequest{Name: "made.elsewhere"})
	if _, lookups := f.cluster.counts(); err != nil || lookups != 2 {
		t.Errorf("Get again = %v after %d lookups, want it from the snapshot", err, lookups)
	}
}

// TestVolumeListedHalfMade: a volume another host was creating when the
// snapshot was listed, before its labels were set, is found by Get.
func TestVolumeListedHalfMade(t *testing.T) {
	f := newFixture(t)
	f.cluster.add(control.Volume{Name: "made__elsewhere"})
	relist(t, f.driver)
	f.cluster.add(control.Volume{Name: "made__elsewhere", Options: map[string]string{DockerVolumeOption: "made.elsewhere"}})
	if _, err := f.driver.Get(&volume.GetRequest{Name: "made.elsewhere"}); err != nil {
		t.Errorf("Get of a volume listed before its labels: %v", err)
	}
	if _, err := f.driver.Get(&volume.GetRequest{Name: "nowhere"}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Get of a volume that exists nowhere: %v, want ErrNotFound", err)
	}
}

// TestOwnChangesShowAtOnce: a create or remove on this host shows in the
// snapshot at once, without a list of the cluster.
func TestOwnChangesShowAtOnce(t *testing.T) {
	f := newFixture(t)
	f.cluster.volumes["parent"] = control.Volume{Name: "parent", Options: map[string]string{DockerVolumeOption: "parent"}}
	if _, err := f.driver.List(); err != nil {
		t.Fatal(err)
	}
	lists, _ := f.cluster.counts()
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v1"})
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "sub", Options: map[string]string{"volume": "parent", "subdir": "a"}})
	if _, listed, _ := f.driver.cache.listed("v1"); !listed {
		t.Error("a volume created here is not in the snapshot")
	}
	if cv, _, _ := f.driver.cache.listed("parent"); len(control.Subvolumes(cv.Options)) != 1 {
		t.Errorf("the parent's options in the snapshot: %v, want the subdirectory volume recorded", cv.Options)
	}
	for _, name := range []string{"v1", "sub"} {
		if err := f.driver.Remove(&volume.RemoveRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, listed, _ := f.driver.cache.listed("v1"); listed {
		t.Error("a volume removed here is still in the snapshot")
	}
	resp, err := f.driver.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Volumes) != 1 || resp.Volumes[0].Name != "parent" {
		t.Errorf("List after the removes: %v, want parent only", volumeNames(resp.Volumes))
	}
	if after, _ := f.cluster.counts(); after != lists {
		t.Errorf("%d lists of the cluster for this host's own changes, want none", after-lists)
	}
}

func volumeNames(vols []*volume.Volume) []string {
	var out []string
	for _, v := range vols {
		out = append(out, v.Name)
	}
	return out
}

// TestSubvolumeCreatedElsewhere: a subdirectory volume recorded on another
// host after this one listed the cluster is not found by Get, whose name
// says nothing of its gluster volume; Docker then creates it without
// options, and it is that subdirectory volume, not a new gluster volume.
func TestSubvolumeCreatedElsewhere(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	other.cluster = f.cluster
	other.restart(t)
	f.cluster.add(control.Volume{Name: "shared", Options: map[string]string{}})
	relist(t, f.driver)
	mustCreate(t, other.driver, &volume.CreateRequest{Name: "app.data", Options: map[string]string{"volume": "shared", "subdir": "app"}})

	if _, err := f.driver.Get(&volume.GetRequest{Name: "app.data"}); !errors.Is(err, control.ErrNotFound) {
		t.Fatalf("Get before the snapshot refreshed = %v, want ErrNotFound", err)
	}
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "app.data"})
	if _, ok := f.cluster.volumes["app__data"]; ok {
		t.Error("a gluster volume was created for a subdirectory volume")
	}
	resp, err := f.driver.Mount(&volume.MountRequest{Name: "app.data", ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := f.driver.bindpoint("app.data"); resp.Mountpoint != want {
		t.Errorf("mounted at %s, want the subdirectory's bind %s", resp.Mountpoint, want)
	}
}

// TestGetStatusArrivesInTheBackground: the first Get of a volume shows it
// as listed, its bricks' state unknown, and does not wait for the status,
// which a later Get shows.
func TestGetStatusArrivesInTheBackground(t *testing.T) {
	f := newFixture(t)
	relist(t, f.driver)
	mustCreate(t, f.driver, &volume.CreateRequest{Name: "v1"})
	bricks := func() string {
		resp, err := f.driver.Get(&volume.GetRequest{Name: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(resp.Volume.Status["bricks"].([]string), "; ")
	}
	if got := bricks(); strings.Count(got, "state not checked yet") != 2 {
		t.Errorf("first Get: bricks %q, want their state not checked yet", got)
	}
	eventually(t, "the bricks' state", func() bool {
		got := bricks()
		return strings.Contains(got, "(online)") && strings.Contains(got, "(offline)")
	})
}

// relist makes the driver list the cluster now, as it does in the
// background once its snapshot aged.
func relist(t *testing.T, d *Driver) {
	t.Helper()
	if _, err := d.cache.refresh(); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds, for at most 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
