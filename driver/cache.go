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
	details  map[string]*detail // by gluster name
}

// detail is one volume's status: bricks online and clients connected.
type detail struct {
	volume     control.Volume
	err        error
	fetched    time.Time
	refreshing bool
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

// lastListed returns a volume as the last list showed it, however old, and
// refreshes a stale list in the background: a mount needs only the brick
// hosts, which rarely change, and must not wait for a slow or stopped server
// to list them. Only a volume no list showed yet waits for a new list.
func (c *volumeCache) lastListed(ctx context.Context, name string) (control.Volume, error) {
	c.mu.Lock()
	if v, ok := c.volumes[name]; ok {
		if time.Since(c.fetched) >= c.ttl && c.inflight == nil {
			c.inflight = make(chan struct{})
			go c.refresh(c.inflight)
		}
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	vols, err := c.list(ctx)
	return vols[name], err
}

func (c *volumeCache) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
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
	c.details = nil
}

// detail returns a volume's status. A stale answer is returned at once and
// refreshed in the background, so that `docker volume inspect` and the Get
// calls before every mount do not wait for glusterd; only the first look
// at a volume waits.
func (c *volumeCache) detail(ctx context.Context, name string) (control.Volume, error) {
	c.mu.Lock()
	if c.details == nil {
		c.details = map[string]*detail{}
	}
	d := c.details[name]
	if d != nil {
		if time.Since(d.fetched) > c.ttl && !d.refreshing {
			d.refreshing = true
			go c.fetchDetail(context.Background(), name)
		}
		defer c.mu.Unlock()
		return d.volume, d.err
	}
	c.mu.Unlock()
	return c.fetchDetail(ctx, name)
}

func (c *volumeCache) fetchDetail(ctx context.Context, name string) (control.Volume, error) {
	ctx, cancel := context.WithTimeout(ctx, detailTimeout)
	defer cancel()
	vol, err := c.cluster.Volume(ctx, name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.details == nil {
		c.details = map[string]*detail{}
	}
	c.details[name] = &detail{volume: vol, err: err, fetched: time.Now()}
	return vol, err
}
