package driver

import (
	"fmt"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/control"
)

// describe turns a volume into Docker's terms; with status, it adds what
// `docker volume inspect` shows: the gluster volume, its bricks and their
// state, and the mounts on this host.
func (d *Driver) describe(v volumeState, withStatus bool) *volume.Volume {
	out := &volume.Volume{Name: v.Name, CreatedAt: v.CreatedAt}
	refs := v.references()
	d.mu.Lock()
	out.Mountpoint = d.mountedPath(v)
	d.mu.Unlock()
	if !withStatus {
		return out
	}
	status := map[string]interface{}{
		"gluster_volume": v.Gluster,
		"references":     refs,
		"servers":        d.cluster.Servers(),
	}
	if sub := v.Options["subdir"]; sub != "" {
		status["subdir"] = sub
	}
	if pool := v.Options["pool"]; pool != "" {
		status["pool"] = pool
	}
	switch st, ok := d.cache.status(v.Gluster); {
	case ok && st.err != nil:
		status["error"] = st.err.Error()
	case ok:
		addStatus(status, st.volume, true)
		addCapacity(status, st.volume, v.Options["subdir"])
		if st.heal != "" {
			status["heal"] = st.heal
		}
		if st.rebalance != "" {
			status["rebalance"] = st.rebalance
		}
	default:
		// Until its status arrives: the volume as the cluster lists it.
		if cv, listed, _ := d.cache.listed(v.Gluster); listed {
			addStatus(status, cv, false)
		}
	}
	out.Status = status
	return out
}

// healStatus says whether a replicated volume's bricks agree, or how much
// self-heal has yet to copy: after a brick was added or moved, or a server
// came back.
func healStatus(gluster string, h control.Heal, err error) string {
	switch {
	case err != nil:
		return "unknown: " + err.Error()
	case h.Done:
		return "done"
	case h.SplitBrain > 0:
		return fmt.Sprintf("%d entries to heal, %d in split-brain: see gluster volume heal %s info split-brain", h.Pending, h.SplitBrain, gluster)
	}
	var missing int
	for _, b := range h.Bricks {
		if !b.Connected {
			missing++
		}
	}
	if missing > 0 {
		return fmt.Sprintf("%d entries to heal, %d bricks not answering", h.Pending, missing)
	}
	return fmt.Sprintf("%d entries to heal", h.Pending)
}

// rebalanceStatus says how far the last rebalance of a distributed volume
// got, after a replica set was added; nothing if gluster knows of none.
func rebalanceStatus(gluster string, r control.Rebalance, err error) string {
	switch {
	case err != nil:
		return "unknown: " + err.Error()
	case r.Done:
		return fmt.Sprintf("done, %d files moved", r.Files)
	case r.Running:
		return fmt.Sprintf("in progress, %d files moved", r.Files)
	case len(r.Servers) == 0:
		return ""
	}
	return fmt.Sprintf("%s, %d files moved: see /var/log/glusterfs/%s-rebalance.log on the servers", r.Status, r.Files, gluster)
}

// quorumOption is gluster's rule for when a replica set takes writes:
// auto, a majority, is its default for three bricks and more.
const quorumOption = "cluster.quorum-type"

// consistency says what a volume's layout guarantees when servers fail one
// after another before a heal finished (docs/failures.md).
func consistency(cv control.Volume) string {
	noQuorum := cv.Options[quorumOption] == "none"
	switch {
	case noQuorum && cv.Replica >= 3:
		return quorumOption + "=none: a server failing while another heals may serve stale data; set it back to auto"
	case cv.Witness != "":
		return "protected by witness " + cv.Witness + ": no stale reads, no split-brain; I/O fails while only an outdated copy is up"
	case cv.Arbiter:
		return "protected by an arbiter brick: no stale reads, no split-brain; writes need two of the three bricks"
	case cv.Replica >= 3:
		return fmt.Sprintf("protected by quorum of %d copies: no stale reads, no split-brain; writes need a majority", cv.Replica)
	case cv.Replica == 2:
		resolved := "split-brain files answer EIO until healed by hand"
		if policy := cv.Options[control.FavoriteChildOption]; policy != "" && policy != "none" {
			resolved = "split-brain files keep one copy by " + control.FavoriteChildOption + "=" + policy
		}
		return "at risk: two copies and no third voter: a server failing while the other heals may serve stale data, and " + resolved + "; a witness (WITNESS on the servers), replica 3, or arbiter=true on three servers keeps every read current"
	}
	return "one copy: no replication"
}

func addStatus(status map[string]interface{}, cv control.Volume, checked bool) {
	status["status"] = cv.Status
	status["replica"] = cv.Replica
	status["consistency"] = consistency(cv)
	status["bricks"] = brickList(cv, checked)
	if len(cv.Clients) > 0 {
		status["clients"] = cv.Clients
	}
}

// brickList describes a volume's bricks; checked says whether their state
// is known.
func brickList(v control.Volume, checked bool) []string {
	out := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		state := "state not checked yet"
		switch {
		case checked && b.Online:
			state = "online"
		case checked:
			state = "offline"
		}
		if b.Arbiter {
			state += ", arbiter"
		}
		out[i] = fmt.Sprintf("%s:%s (%s)", b.Server, b.Path, state)
	}
	return out
}
