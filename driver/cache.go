package driver

import (
	"context"
	"sync"
	"time"

	"github.com/glusterdocker/gluster/control"
)

// volumeCache keeps the cluster's volume list for a short time, so that
// Docker's frequent List and Get calls do not each cost a round trip to
// glusterd. Concurrent misses share one request.
type volumeCache struct {
	cluster Cluster
	ttl     time.Duration

	mu       sync.Mutex
	fetched  time.Time
	volumes  map[string]control.Volume // by gluster name
	inflight chan struct{}
	err      error
}

func (c *volumeCache) list(ctx context.Context) (map[string]control.Volume, error) {
	c.mu.Lock()
	if c.volumes != nil && time.Since(c.fetched) < c.ttl {
		defer c.mu.Unlock()
		return c.volumes, nil
	}
	if c.inflight == nil {
		done := make(chan struct{})
		c.inflight = done
		go c.refresh(done)
	}
	wait := c.inflight
	c.mu.Unlock()

	select {
	case <-wait:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.volumes, c.err
}

func (c *volumeCache) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vols, err := c.cluster.Volumes(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	if err == nil {
		c.volumes = make(map[string]control.Volume, len(vols))
		for _, v := range vols {
			c.volumes[v.Name] = v
		}
		c.fetched = time.Now()
	}
	c.inflight = nil
	close(done)
}

// invalidate forgets the list after a change made through this plugin.
func (c *volumeCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetched = time.Time{}
}
