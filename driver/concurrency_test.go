package driver

import (
	"fmt"
	"sync"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

// TestConcurrentCalls runs every call Docker makes, at once, on a few
// volumes: two of their own and two sharing one gluster volume. Run with
// -race; afterwards every reference is gone and nothing stays mounted.
func TestConcurrentCalls(t *testing.T) {
	f := newFixture(t)
	f.cluster.volumes["shared"] = control.Volume{Name: "shared", Status: "Started"}
	requests := []*volume.CreateRequest{
		{Name: "v1"},
		{Name: "v2"},
		{Name: "sub1", Options: map[string]string{"volume": "shared", "subdir": "a"}},
		{Name: "sub2", Options: map[string]string{"volume": "shared", "subdir": "b/c", "mode": "0750"}},
	}
	for _, req := range requests {
		mustCreate(t, f.driver, req)
	}
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		for _, req := range requests {
			name := req.Name
			wg.Go(func() {
				id := fmt.Sprintf("c%d", w)
				for range 5 {
					_, _ = f.driver.Get(&volume.GetRequest{Name: name})
					_, _ = f.driver.List()
					_, _ = f.driver.Path(&volume.PathRequest{Name: name})
					if _, err := f.driver.Mount(&volume.MountRequest{Name: name, ID: id}); err == nil {
						_, _ = f.driver.Path(&volume.PathRequest{Name: name})
						if err := f.driver.Unmount(&volume.UnmountRequest{Name: name, ID: id}); err != nil {
							t.Errorf("Unmount %s %s: %v", name, id, err)
						}
					}
					// Remove fails while another worker mounts the volume,
					// and Create brings it back after it succeeded.
					_ = f.driver.Remove(&volume.RemoveRequest{Name: name})
					_ = f.driver.Create(req)
				}
			})
		}
	}
	wg.Wait()
	if mounts, refs := f.driver.Usage(); mounts != 0 || refs != 0 {
		t.Errorf("after every unmount: %d mounts, %d references", mounts, refs)
	}
	if active := f.mounter.active(); len(active) != 0 {
		t.Errorf("mounts left: %v", active)
	}
}
