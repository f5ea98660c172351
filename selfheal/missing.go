package selfheal

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/glusterdocker/gluster/glustercli"
)

// runDir is where glusterd keeps the pid file of each volume's self-heal
// daemon: shd/VOLUME/VOLUME-shd.pid. With one daemon for all volumes,
// GlusterFS's default since 7, every file names that daemon.
const runDir = "/var/run/gluster"

// shdPIDFile is the pid file glusterd writes once it has given volume to
// this server's self-heal daemon.
func shdPIDFile(root, volume string) string {
	return filepath.Join(root, "shd", volume, volume+"-shd.pid")
}

// missing lists the started replicated volumes with a brick on this server
// whose pid file names no running self-heal daemon: glusterd never gave
// them to this server's daemon, so nothing heals their bricks here until
// the 10-minute crawl of a daemon elsewhere, or at all (seen on GlusterFS
// 10.3 after a restart with several volumes; docs/failures.md).
func (r *Repairer) missing(ctx context.Context) ([]string, error) {
	volumes, err := r.gluster.Volumes(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var missing []string
	for _, v := range volumes {
		if !r.healsHere(v) {
			continue
		}
		pid, err := r.pidFileOwner(shdPIDFile(r.runDir, v.Name))
		if err == nil && r.isSelfHealDaemon(pid) {
			continue
		}
		missing = append(missing, v.Name)
	}
	return missing, nil
}

// healsHere reports whether glusterd runs a self-heal daemon for v on this
// server: v is started and replicated, has a brick here, and its operator
// did not turn the daemon off.
func (r *Repairer) healsHere(v glustercli.Volume) bool {
	if !v.Started() || len(v.Bricks) < 2 || v.Replica < 2 || v.Options["cluster.self-heal-daemon"] == "off" {
		return false
	}
	return slices.ContainsFunc(v.Bricks, func(b glustercli.Brick) bool { return b.Host == r.self })
}

// isSelfHealDaemon reports whether pid is a running self-heal daemon.
func (r *Repairer) isSelfHealDaemon(pid int) bool {
	if !r.running(pid) {
		return false
	}
	p, err := r.proc.Proc(pid)
	if err != nil {
		return false
	}
	_, ok := r.selfHealDaemon(p)
	return ok
}

// confirm returns what was found now and by the check before too, and keeps
// the rest of found as the suspects of the next check.
func confirm[T comparable](suspects *[]T, found []T) []T {
	var confirmed, rest []T
	for _, x := range found {
		if slices.Contains(*suspects, x) {
			confirmed = append(confirmed, x)
		} else {
			rest = append(rest, x)
		}
	}
	*suspects = rest
	return confirmed
}
