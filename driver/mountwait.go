package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/moby/sys/atomicwriter"

	"github.com/glusterdocker/gluster/mounter"
)

// How long a Mount may take when MOUNT_TIMEOUT is not set. Docker waits for
// a managed plugin's calls as long as `docker plugin enable --timeout` said
// (30 s unless given, in Docker 20.10 as in 26.1, measured), and for a
// Mount at most 2 minutes since Docker 23. The plugin can ask neither the
// daemon nor its request. So it starts from a long wait and learns a
// shorter one the first time Docker abandons a Mount, which it sees as the
// request's connection closing.
const (
	// adaptiveMountTimeout is the bound until Docker has been seen to give
	// up sooner: the mounter's own, below Docker 23's 2 minutes by enough
	// for the plugin's error, with the servers it tried, to reach Docker
	// first.
	adaptiveMountTimeout = mounter.DefaultDeadline
	// dockerWaitMargin is how long before Docker's learned limit a Mount
	// gives up: time to stop the mount, clean up and answer.
	dockerWaitMargin = 5 * time.Second
	// minDockerWait is the shortest wait taken for Docker's limit. A Mount
	// abandoned sooner was not timed out by Docker (the daemon stopping,
	// say): no Docker waits less than 30 s.
	minDockerWait = 20 * time.Second
)

// mountWaitFile, in the state directory, keeps what the plugin learned of
// Docker's wait across restarts and upgrades.
const mountWaitFile = "docker-wait.json"

// mountWait decides how long a Mount may take: MOUNT_TIMEOUT if the user
// set it, else just under the shortest wait Docker was seen to give a Mount
// on this host, else adaptiveMountTimeout.
type mountWait struct {
	fixed  time.Duration // MOUNT_TIMEOUT; 0 lets the plugin learn
	path   string
	logger *slog.Logger

	mu      sync.Mutex
	learned time.Duration // how long Docker waited for a Mount it abandoned; 0: never seen
}

type mountWaitRecord struct {
	// DockerWait is how long Docker waited before it abandoned a Mount.
	DockerWait string `json:"docker_wait"`
}

// loadMountWait reads what an earlier instance learned. An unreadable
// record is only logged: the plugin learns again.
func loadMountWait(fixed time.Duration, path string, logger *slog.Logger) *mountWait {
	w := &mountWait{fixed: fixed, path: path, logger: logger}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return w
	}
	var rec mountWaitRecord
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	var learned time.Duration
	if err == nil {
		learned, err = time.ParseDuration(rec.DockerWait)
	}
	if err == nil && learned < minDockerWait {
		err = fmt.Errorf("docker_wait %s is below %s", learned, minDockerWait)
	}
	if err != nil {
		logger.Warn("ignoring what was learned of Docker's mount wait; remove the file if this repeats", "file", path, "error", err)
		return w
	}
	w.learned = learned
	return w
}

// timeout is how long the next Mount may take.
func (w *mountWait) timeout() time.Duration {
	if w.fixed > 0 {
		return w.fixed
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.learned > 0 {
		return w.learned - dockerWaitMargin
	}
	return adaptiveMountTimeout
}

// abandoned records that Docker stopped waiting for a Mount after waited,
// and from then on keeps Mounts below the shortest such wait.
func (w *mountWait) abandoned(waited time.Duration) {
	// Docker starts timing before the request reaches the plugin.
	waited = waited.Round(time.Second)
	if w.fixed > 0 || waited < minDockerWait {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.learned > 0 && waited >= w.learned {
		return
	}
	w.learned = waited
	log := w.logger.With("docker_wait", waited, "mount_timeout", waited-dockerWaitMargin)
	data, err := json.Marshal(mountWaitRecord{DockerWait: waited.String()})
	if err == nil {
		err = atomicwriter.WriteFile(w.path, data, 0o600)
	}
	if err != nil {
		log.Error("Docker stopped waiting for a mount; mounts are bounded below its wait until the plugin restarts, as the wait could not be saved", "file", w.path, "error", err)
		return
	}
	log.Warn("Docker stopped waiting for a mount; from now on mounts give up before it does (set MOUNT_TIMEOUT to choose)")
}
