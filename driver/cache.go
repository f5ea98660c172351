package driver

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/glusterdocker/gluster/control"
)

// volumeCache is what the plugin knows of the cluster's volumes, so that
// Docker's frequent List and Get calls answer in well under a millisecond
// per volume, however many volumes there are and however slow the servers:
//   - a snapshot of the cluster's volume list, served as it is and
//     refreshed in the background once older than ttl. Only a call made
//     before any list arrived waits for one;
//   - this host's own creates and removes, and the volumes it looked up one
//     by one, applied to the snapshot at once and again over every list
//     asked for before them;
//   - each volume's status (bricks online, clients connected, capacity,
//     self-heal progress) for `docker volume inspect`, fetched in the
//     background too.
//
// Its lock guards only its own fields and is never held across a call to
// the cluster; concurrent fetches of the same thing share one request.
type volumeCache struct {
	cluster Cluster
	ttl     time.Duration
	logger  *slog.Logger
	fetches singleflight.Group // keyed listKey, statusKey+NAME or lookupKey+NAME

	mu      sync.Mutex
	volumes map[string]control.Volume // by gluster name; nil before the first list; replaced, never changed
	asked   time.Time                 // when a list was last asked for, answered or not
	seq     uint64                    // numbers the changes
	changes map[string]change         // by gluster name: made here, not yet in a list asked for after them
	details map[string]detail         // by gluster name
}

// change is what this host knows of one volume ahead of the cluster's list:
// the volume as created or looked up, or nil once removed.
type change struct {
	volume *control.Volume
	seq    uint64
}

// detail is one volume's status: bricks online, clients connected and, for
// a started replicated volume, its self-heal progress as healStatus says it,
// for a started distributed one its rebalance's as rebalanceStatus says it.
type detail struct {
	volume    control.Volume
	heal      string
	rebalance string
	err       error
	fetched   time.Time
}

const (
	listKey   = "list"
	statusKey = "status/"
	lookupKey = "lookup/"
)

// list returns the snapshot of the cluster's volumes by gluster name, and
// refreshes it in the background when it is older than ttl. Only before
// the first list arrived does it wait, for at most ctx.
func (c *volumeCache) list(ctx context.Context) (map[string]control.Volume, error) {
	c.mu.Lock()
	vols := c.volumes
	due := vols != nil && time.Since(c.asked) >= c.ttl
	if due {
		c.asked = time.Now()
	}
	c.mu.Unlock()
	if vols == nil {
		return c.awaitList(ctx)
	}
	if due {
		c.refreshInBackground()
	}
	return vols, nil
}

// awaitList waits, for at most ctx, for the list under way or else a new
// one, and returns it.
func (c *volumeCache) awaitList(ctx context.Context) (map[string]control.Volume, error) {
	select {
	case r := <-c.fetches.DoChan(listKey, c.refresh):
		vols, _ := r.Val.(map[string]control.Volume)
		return vols, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// refreshInBackground asks for a new list that no call waits for.
func (c *volumeCache) refreshInBackground() {
	done := c.fetches.DoChan(listKey, c.refresh)
	go func() {
		if r := <-done; r.Err != nil {
			c.logger.Warn("refreshing the list of the cluster's volumes; the last one is used meanwhile", "error", r.Err)
		}
	}()
}

// listed returns a volume as the snapshot shows it, without waiting;
// ready is false before the first list arrived.
func (c *volumeCache) listed(name string) (v control.Volume, listed, ready bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, listed = c.volumes[name]
	return v, listed, c.volumes != nil
}

// refresh lists the cluster's volumes for every caller waiting, however
// soon each gives up, and makes the answer the snapshot, with the changes
// this host made since it asked applied over it.
func (c *volumeCache) refresh() (any, error) {
	c.mu.Lock()
	c.asked = time.Now()
	since := c.seq
	c.mu.Unlock()
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
	for name, ch := range c.changes {
		if ch.seq <= since {
			delete(c.changes, name) // the list shows it
			continue
		}
		apply(byName, name, ch.volume)
	}
	c.volumes = byName
	return byName, nil
}

func apply(vols map[string]control.Volume, name string, v *control.Volume) {
	if v == nil {
		delete(vols, name)
	} else {
		vols[name] = *v
	}
}

// lookup asks the servers for one volume the snapshot does not show, as
// one created on another host since, and adds it to the snapshot. The
// error wraps control.ErrNotFound if the cluster has no such volume.
func (c *volumeCache) lookup(ctx context.Context, name string) (control.Volume, error) {
	fetch := func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		defer cancel()
		vol, err := c.cluster.Lookup(ctx, name)
		if err == nil {
			c.put(vol)
		}
		return vol, err
	}
	select {
	case r := <-c.fetches.DoChan(lookupKey+name, fetch):
		vol, _ := r.Val.(control.Volume)
		return vol, r.Err
	case <-ctx.Done():
		return control.Volume{}, ctx.Err()
	}
}

// volume returns a volume as the snapshot shows it or, if it does not, as
// the servers describe it.
func (c *volumeCache) volume(ctx context.Context, name string) (control.Volume, error) {
	vols, err := c.list(ctx)
	if err != nil {
		return control.Volume{}, err
	}
	if v, ok := vols[name]; ok {
		return v, nil
	}
	return c.lookup(ctx, name)
}

// put records a volume this host created or looked up.
func (c *volumeCache) put(v control.Volume) { c.record(v.Name, &v) }

// remove records a volume this host removed.
func (c *volumeCache) remove(name string) { c.record(name, nil) }

// relabel changes the options of a volume as the snapshot shows it, after
// this host changed them in the cluster; a volume it does not show stays
// unknown.
func (c *volumeCache) relabel(name string, change func(options map[string]string)) {
	c.mu.Lock()
	v, ok := c.volumes[name]
	c.mu.Unlock()
	if !ok {
		return
	}
	v.Options = maps.Clone(v.Options)
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	change(v.Options)
	c.put(v)
}

func (c *volumeCache) record(name string, v *control.Volume) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	if c.changes == nil {
		c.changes = map[string]change{}
	}
	c.changes[name] = change{volume: v, seq: c.seq}
	delete(c.details, name)
	if c.volumes != nil {
		// Copied, not changed: callers hold the old map without the lock.
		next := maps.Clone(c.volumes)
		apply(next, name, v)
		c.volumes = next
	}
}

// status returns a volume's last known status, however old, and fetches it
// anew in the background when there is none or it is older than ttl, so
// that `docker volume inspect` and the Get before every mount never wait
// for glusterd, which asks every brick. ok is false while none is known.
func (c *volumeCache) status(name string) (d detail, ok bool) {
	c.mu.Lock()
	d, ok = c.details[name]
	c.mu.Unlock()
	if !ok || time.Since(d.fetched) > c.ttl {
		c.fetches.DoChan(statusKey+name, func() (any, error) { return c.fetchStatus(name) })
	}
	return d, ok
}

func (c *volumeCache) fetchStatus(name string) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), detailTimeout)
	defer cancel()
	vol, err := c.cluster.Volume(ctx, name)
	d := detail{volume: vol, err: err}
	if err == nil && vol.Status == "Started" && vol.Replica > 1 {
		heal, err := c.cluster.Heal(ctx, name)
		d.heal = healStatus(name, heal, err)
	}
	if err == nil && vol.Status == "Started" && len(vol.Bricks) > max(vol.Replica, 1) {
		rebalance, err := c.cluster.Rebalance(ctx, name)
		d.rebalance = rebalanceStatus(name, rebalance, err)
	}
	d.fetched = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.details == nil {
		c.details = map[string]detail{}
	}
	c.details[name] = d
	return d, err
}
