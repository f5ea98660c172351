package driver

import (
	"time"

	"github.com/glusterdocker/gluster/backoff"
)

// Every bound the driver puts on its calls. Docker waits about 2 minutes
// for Create and Mount and 1 minute for the other calls, and no longer than
// a managed plugin's enable --timeout (30 s unless given; how long a Mount
// may take adapts to it, see mountwait.go); a bound within Docker's lets
// Docker hear the plugin's own error instead of a timeout.
const (
	// createTimeout bounds Create: creating and starting a replica volume
	// costs glusterd seconds, and much more while it serializes the
	// transactions of other hosts; Docker waits this long.
	createTimeout = 2 * time.Minute
	// removeTimeout bounds Remove, which stops and deletes a gluster volume
	// and its bricks: all Docker waits for it.
	removeTimeout = time.Minute
	// callTimeout bounds Get, List and Path, which ask the cluster at most
	// for its volume list (before the first one arrived) or for one volume:
	// well within Docker's minute, so that a hung
	// server shows as an error rather than a hung `docker volume ls`.
	callTimeout = 20 * time.Second
	// unmountTimeout bounds removing a mount once its last reference is
	// gone. A healthy unmount takes milliseconds; a hung one must not hold
	// the volume's operation lock past the minute Docker waits for Unmount.
	unmountTimeout = 30 * time.Second
	// clientGoneWait is how long Remove waits for clients to disconnect. A
	// container that just exited leaves a FUSE client that needs a moment
	// to go, here or on another host, and `docker rm` is often followed at
	// once by `docker volume rm`.
	clientGoneWait = 10 * time.Second
	// listTimeout bounds one refresh of the cluster's volume list. It runs
	// in the background, so it may outlast callTimeout and still serve the
	// next call.
	listTimeout = 30 * time.Second
	// lookupTimeout bounds asking the servers for one volume the snapshot
	// of the cluster's list does not show: one `gluster volume info`, tens
	// of milliseconds, unless the first server tried is gone.
	lookupTimeout = 10 * time.Second
	// detailTimeout bounds fetching one volume's status, which glusterd
	// gathers from every brick: a few hundred milliseconds when they
	// answer, and a dead brick's host costs seconds.
	detailTimeout = 10 * time.Second
)

// deleteRetry spaces out the attempts to delete a volume with clients still
// connected: short at first, as a client usually goes within a second, never
// long enough to waste much of clientGoneWait.
var deleteRetry = backoff.Policy{First: 250 * time.Millisecond, Max: 2 * time.Second}
