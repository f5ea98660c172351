package driver

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/glusterdocker/gluster/control"
)

// volumeCache keeps the cluster's volume list for a short time, so that
// Docker's frequent List and Get calls do not each cost a round trip to
// glusterd. Concurrent misses share one request.
type volumeCache struct {
	cluster Cluster
	ttl     time.Duration
	fetches singleflight.Group // keyed "list" or "volume/NAME"

	mu      sync.Mutex
	fetched time.Time
	volumes map[string]control.Volume // by gluster name
	details map[string]detail         // by gluster name
}

// detail is one volume's status: bricks online, clients connected and, for
// a started replicated volume, its self-heal progress as healStatus says it.
type detail struct {
	volume  control.Volume
	heal    string
	err     error
	fetched time.Time
}

const listKey = "list"

func (c *volumeCache) list(ctx context.Context) (map[string]control.Volume, error) {
	c.mu.Lock()
	if c.volumes != nil && time.Since(c.fetched) < c.ttl {
		defer c.mu.Unlock()
		return c.volumes, nil
	}
	c.mu.Unlock()
	select {
	case r := <-c.fetches.DoChan(listKey, c.refresh):
		vols, _ := r.Val.(map[string]control.Volume)
		return vols, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lastListed returns a volume as the last list showed it, however old, and
// refreshes a stale list in the background: a mount needs only the brick
// hosts, which rarely change, and must not wait for a slow or stopped server
// to list them. Only a volume no list showed yet waits for a new list.
func (c *volumeCache) lastListed(ctx context.Context, name string) (control.Volume, error) {
	c.mu.Lock()
	v, ok := c.volumes[name]
	stale := time.Since(c.fetched) >= c.ttl
	c.mu.Unlock()
	if !ok {
		vols, err := c.list(ctx)
		return vols[name], err
	}
	if stale {
		c.fetches.DoChan(listKey, c.refresh)
	}
	return v, nil
}

// refresh lists the cluster's volumes for every caller waiting, however
// soon each gives up, and keeps the answer.
func (c *volumeCache) refresh() (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	vols, err := c.cluster.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]control.Volume, len(vols))
	for _, v := range vols {
		byName[v.Name] = v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.volumes, c.fetched = byName, time.Now()
	return byName, nil
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
func (c *volumeCache) detail(ctx context.Context, name string) (detail, error) {
	c.mu.Lock()
	d, ok := c.details[name]
	c.mu.Unlock()
	fetch := func() (any, error) { d := c.fetchDetail(name); return d, d.err }
	if ok {
		if time.Since(d.fetched) > c.ttl {
			c.fetches.DoChan("volume/"+name, fetch)
		}
		return d, d.err
	}
	select {
	case r := <-c.fetches.DoChan("volume/"+name, fetch):
		d, _ := r.Val.(detail)
		return d, r.Err
	case <-ctx.Done():
		return detail{}, ctx.Err()
	}
}

func (c *volumeCache) fetchDetail(name string) detail {
	ctx, cancel := context.WithTimeout(context.Background(), detailTimeout)
	defer cancel()
	vol, err := c.cluster.Volume(ctx, name)
	d := detail{volume: vol, err: err}
	if err == nil && vol.Status == "Started" && vol.Replica > 1 {
		heal, err := c.cluster.Heal(ctx, name)
		d.heal = healStatus(name, heal, err)
	}
	d.fetched = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.details == nil {
		c.details = map[string]detail{}
	}
	c.details[name] = d
	return d
}
