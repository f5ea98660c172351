// Package mounter makes and removes GlusterFS FUSE mounts on this host and
// checks them against the kernel's mount table. It probes the servers first so
// that a dead server does not cost a mount its long timeouts, and it retries a
// cluster that is still starting until a deadline.
package mounter

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/backoff"
)

// Defaults for the zero fields of a Mounter.
const (
	DefaultMountInfo    = "/proc/self/mountinfo"
	DefaultProbePort    = 24007
	DefaultProbeTimeout = time.Second
	// DefaultProbeGrace is how long the probe waits for the other servers
	// once one answered: a live glusterd on a LAN answers within
	// milliseconds (3 to 6 ms seen on a loaded 2-core host), and a server
	// that needs longer is only put last and given a short connect timeout
	// for this mount.
	DefaultProbeGrace = 200 * time.Millisecond
	// DefaultDeadline stays below the 2 minutes Docker waits for a mount, so that
	// Docker hears why a mount failed instead of a timeout of its own.
	DefaultDeadline = 100 * time.Second
)

// defaultRetry spaces out mount attempts: a cluster that is starting comes
// up within seconds, and a pause of up to half random keeps hosts waiting
// for the same servers from retrying in lockstep.
var defaultRetry = backoff.Policy{First: 250 * time.Millisecond, Max: 5 * time.Second, Jitter: 0.5}

const (
	// A healthy mount takes 0.1 s and one with dead bricks about 3 s, but a
	// server that answered the probe and froze afterwards hangs mount forever.
	defaultAttemptTimeout = 30 * time.Second
	// cleanupTimeout bounds removing the leftovers of a failed attempt, which
	// runs even when the caller's context is already done.
	cleanupTimeout = 15 * time.Second
	// defaultDeadBrickTimeout is the TCP user timeout of the connections to
	// the bricks on servers the probe found dead. A mount waits until the
	// replication layer heard from every brick, so a dead brick's connect
	// attempt costs the mount this much instead of the kernel's 42 s. One
	// second, the least gluster takes, costs a live brick mistaken for dead
	// its connection during a network blip longer than that, and a heal.
	defaultDeadBrickTimeout = time.Second
)

var (
	// ErrVolumeNotFound means the server answered that it knows no such volume.
	ErrVolumeNotFound = errors.New("gluster volume does not exist")
	// ErrSubdirNotFound means the volume has no such subdirectory.
	ErrSubdirNotFound = errors.New("subdirectory does not exist in the gluster volume")
	// ErrAccessDenied means the bricks refused this client (auth.allow, auth.reject).
	ErrAccessDenied = errors.New("gluster bricks refused this client")
	// ErrMountNotPermitted means the kernel refused the FUSE mount itself.
	ErrMountNotPermitted = errors.New("FUSE mount not permitted")
	// ErrAlreadyMounted means the target holds another or a broken gluster mount.
	ErrAlreadyMounted = errors.New("target already holds a gluster mount")
	// ErrBusy means an unmount was refused because the mount is in use.
	ErrBusy = errors.New("mount is busy")
	// ErrNoServer means no server answered the probe until Mount gave up.
	ErrNoServer = errors.New("no server answered")
	// ErrInvalidRequest means a Request cannot be passed safely to mount.glusterfs.
	ErrInvalidRequest = errors.New("invalid mount request")

	errNotMounted   = errors.New("mount reported success but nothing is mounted")
	errMountTimeout = errors.New("mount did not finish")
)

// Request says what to mount where.
type Request struct {
	Volume  string   // gluster volume name (letters, digits, - and _)
	Subdir  string   // optional subdirectory of the volume to mount ("" = root); no leading slash, no ".."
	Servers []string // gluster server addresses (IPs or host names), in the user's preference order
	Bricks  []string // host of each brick in brick order (index N = VOLUME-client-N); may be empty when unknown
	Target  string   // existing directory to mount on: a clean absolute path
	LogFile string   // where the gluster client logs for this mount
}

// Mounter makes and removes gluster mounts. The zero value is ready to use;
// its methods may be called concurrently, but not for the same target.
type Mounter struct {
	// Exec runs a command with its arguments as a list and returns its combined
	// output. The default runs the real binary and kills its whole process group
	// when ctx is done.
	Exec func(ctx context.Context, name string, args ...string) (output []byte, err error)
	// Dial connects to a server for probing; the default is a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// TLS gives the probe's TLS configuration, with this host's
	// certificate, for servers whose glusterd speaks TLS only; nil: plain.
	// It is asked for each probe, so that a renewed certificate is used.
	TLS          func() (*tls.Config, error)
	MountInfo    string        // mount table to verify against; default DefaultMountInfo
	ProbePort    int           // glusterd port; default DefaultProbePort
	ProbeTimeout time.Duration // limit for probing one server; default DefaultProbeTimeout
	ProbeGrace   time.Duration // how long the others may answer after the first; default DefaultProbeGrace
	Deadline     time.Duration // how long Mount may keep retrying; default DefaultDeadline
	Logger       *slog.Logger  // default slog.Default()
	Observer     Observer      // told of probes and mounts, for metrics; nil: no one
	// StagingDir holds the temporary mounts that repair stale ones; it must
	// not propagate to other mount namespaces. Default: a directory in
	// os.TempDir().
	StagingDir string

	// Zero means the default; tests shorten them.
	retry          backoff.Policy
	attemptTimeout time.Duration
	// deadBrickTimeout is the connect timeout given to the bricks on
	// servers the probe found dead; zero means defaultDeadBrickTimeout.
	deadBrickTimeout time.Duration

	health     serverHealth // each server's last probe
	sealWarned atomic.Bool  // a mountpoint could not be sealed, and the log said why
	// bindMount and statfs stand in for the system calls in tests; nil
	// means the real ones.
	bindMount func(source, target string) error
	statfs    func(path string, st *syscall.Statfs_t) error
}

// Observer is told what the mounter saw. Its methods are called on the
// mounting goroutines, possibly concurrently, and must return quickly.
type Observer interface {
	// ServerProbed reports whether a server's glusterd answered a probe.
	ServerProbed(server string, live bool)
	// MountFinished reports a mount that tried: the attempts it made (every
	// one but a successful last one failed), how long it took, and why it
	// failed (nil: mounted).
	MountFinished(attempts int, elapsed time.Duration, err error)
}

// attempt is the outcome of one run of mount.
type attempt struct {
	order       []string      // servers in the order mount was given them; nil when none answered
	unreachable []string      // servers that did not answer the probe
	logLines    []string      // meaningful lines the client logged during this attempt
	output      string        // mount's own output
	pid         int           // of the client serving the mount, when the log names it
	probed      time.Duration // how long the probe took
	mounted     time.Duration // how long mount(8) took
	err         error         // nil on success
	final       bool          // retrying cannot help
}

// Mount mounts req's volume on req.Target and returns once the mount table
// shows it there, with the process ID of the gluster client serving it (0
// when it cannot tell, or when it kept a healthy mount of the same volume
// already on the target). A mount whose client is gone is repaired: a fresh
// one is stacked over it. Mount retries while no server answers or mounting
// fails for a reason that may pass, until Deadline or ctx is done; it fails at
// once when the volume or subdirectory does not exist or the bricks or the
// kernel refuse the client. When it fails, nothing of it stays mounted.
func (m *Mounter) Mount(ctx context.Context, req Request) (pid int, err error) {
	if err := req.validate(); err != nil {
		return 0, err
	}
	log := m.logger().With("volume", req.Volume, "target", req.Target)
	e, mounted, err := m.glusterMountAt(req.Target)
	switch {
	case err != nil:
		return 0, err
	case !mounted:
		return m.mountNew(ctx, req, log)
	}
	if _, source, _ := strings.Cut(e.Source, ":/"); source != path.Join(req.Volume, req.Subdir) {
		return 0, fmt.Errorf("mount gluster volume %q on %s: %w: %s is mounted there; unmount it first",
			req.Volume, req.Target, ErrAlreadyMounted, e.Source)
	}
	if m.IsStale(req.Target) {
		return m.repair(ctx, req, log)
	}
	log.Info("already mounted", "source", e.Source)
	return 0, nil
}

// repair stacks a fresh mount over one whose gluster client is gone.
// Containers hold copies of the mount that receive what is mounted on top of
// it, and so heal; unmounting the dead mount instead would leave their copies
// dead, or show them the empty directory beneath. The fresh mount is made in
// a staging directory, where nothing can reach the dead one, and moved over
// by a bind mount; the dead mount stays beneath until the target is
// unmounted.
func (m *Mounter) repair(ctx context.Context, req Request, log *slog.Logger) (int, error) {
	log.Warn("the mount lost its gluster client: stacking a fresh mount over it")
	stagingDir := cmp.Or(m.StagingDir, filepath.Join(os.TempDir(), "gluster-staging"))
	if err := os.MkdirAll(stagingDir, 0o700); err != nil {
		return 0, fmt.Errorf("repair the mount on %s: %w", req.Target, err)
	}
	stage, err := os.MkdirTemp(stagingDir, req.Volume+"-")
	if err != nil {
		return 0, fmt.Errorf("repair the mount on %s: %w", req.Target, err)
	}
	defer os.Remove(stage)
	staged := req
	staged.Target = stage
	pid, err := m.mountNew(ctx, staged, log.With("staging", stage))
	if err != nil {
		return 0, fmt.Errorf("repair the mount on %s: %w", req.Target, err)
	}
	if err := m.bind()(stage, req.Target); err != nil {
		return 0, errors.Join(fmt.Errorf("repair the mount on %s: bind mount from %s: %w", req.Target, stage, err),
			m.cleanup(stage, log))
	}
	// The bind mount holds the client's file system now; a staging mount
	// left behind costs nothing but its directory.
	unmountCtx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := m.Unmount(unmountCtx, stage); err != nil {
		log.Warn("could not remove the staging mount", "staging", stage, "err", err)
	}
	log.Info("stale mount repaired", "pid", pid)
	return pid, nil
}

// mountNew mounts req's volume on req.Target, which holds no gluster mount,
// retrying until the deadline.
func (m *Mounter) mountNew(ctx context.Context, req Request, log *slog.Logger) (int, error) {
	start := time.Now()
	retryCtx, cancel := context.WithTimeout(ctx, cmp.Or(m.Deadline, DefaultDeadline))
	defer cancel()
	var a attempt
	var n int // attempts made
	for number, pause := range cmp.Or(m.retry, defaultRetry).Attempts(retryCtx) {
		next := m.try(retryCtx, req, log.With("attempt", number))
		if errors.Is(next.err, ErrNoServer) && retryCtx.Err() != nil && number > 1 {
			// The deadline cut this attempt's probe short: the attempt
			// before says why mounting failed.
			break
		}
		a, n = next, number
		if a.err == nil && ctx.Err() != nil {
			// The caller gave up while mount ran and will never unmount it.
			a.err, a.final = errors.Join(ctx.Err(), m.cleanup(req.Target, log)), true
		}
		if a.err == nil {
			elapsed := time.Since(start)
			log.Info("mounted", "server", a.order[0], "backups", a.order[1:], "unreachable", a.unreachable,
				"attempt", n, "elapsed", elapsed.Round(time.Millisecond), "probe", a.probed.Round(time.Millisecond),
				"mount", a.mounted.Round(time.Millisecond), "pid", a.pid)
			if m.Observer != nil {
				m.Observer.MountFinished(n, elapsed, nil)
			}
			return a.pid, nil
		}
		if a.final {
			break
		}
		log.Warn("mount failed, retrying", "attempt", n, "server", first(a.order), "unreachable", a.unreachable,
			"reason", a.err, "retry_in", pause.Round(time.Millisecond))
	}
	return 0, m.failure(ctx, req, a, n, time.Since(start), log)
}

// try probes the servers and runs mount once. Whatever it mounted is gone
// again unless it succeeds.
func (m *Mounter) try(ctx context.Context, req Request, log *slog.Logger) attempt {
	probing := time.Now()
	_, deadHosts := m.Probe(ctx, uniqueHosts(req.Servers, req.Bricks))
	dead := make(map[string]bool, len(deadHosts))
	for _, h := range deadHosts {
		dead[h] = true
	}
	var a attempt
	order, unreachable := liveFirst(req.Servers, dead)
	a.unreachable = unreachable
	if len(unreachable) == len(order) {
		a.err = ErrNoServer
		return a
	}
	a.order = order

	args := mountArgs(req, order, dead, cmp.Or(m.deadBrickTimeout, defaultDeadBrickTimeout))
	log.Debug("running mount", "server", order[0], "args", args)
	offset := logSize(req.LogFile)
	runCtx, cancel := context.WithTimeout(ctx, cmp.Or(m.attemptTimeout, defaultAttemptTimeout))
	started := time.Now()
	out, runErr := m.exec()(runCtx, "mount", args...)
	interrupted := runErr != nil && runCtx.Err() != nil
	cancel()
	a.probed, a.mounted = started.Sub(probing), time.Since(started)

	logText := readLogSince(req.LogFile, offset)
	a.logLines = meaningfulLines(logText)
	a.output = strings.TrimSpace(string(out))
	if interrupted {
		stopClients(logText, req.Target, log)
	}

	mounted, err := m.IsMounted(req.Target)
	if err != nil {
		// Without the mount table no mount can be verified, now or later.
		a.err, a.final = err, true
		return a
	}
	if runErr == nil && mounted {
		a.pid = clientOf(logText, req.Target)
		return a
	}
	switch cause := classify(logText, a.output); {
	case cause != nil:
		a.err, a.final = cause, true
	case interrupted:
		a.err = fmt.Errorf("%w within %s", errMountTimeout, time.Since(started).Round(time.Millisecond))
	case runErr != nil:
		a.err = runErr
	default:
		a.err = errNotMounted
	}
	if mounted {
		a.err = errors.Join(a.err, m.cleanup(req.Target, log))
	}
	return a
}

// cleanup removes a mount that Mount is not going to return, even when the
// caller's context is done.
func (m *Mounter) cleanup(target string, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := m.Unmount(ctx, target); err != nil {
		log.Error("could not remove the mount of a failed attempt", "err", err)
		return fmt.Errorf("the mount it left could not be removed: %w", err)
	}
	log.Warn("removed the mount of a failed attempt")
	return nil
}

// failure builds the error Mount returns: what failed, against which servers,
// what to do next, and the client log of the last attempt.
func (m *Mounter) failure(ctx context.Context, req Request, a attempt, attempts int, elapsed time.Duration, log *slog.Logger) error {
	cause := a.err
	switch {
	case ctx.Err() != nil && !errors.Is(cause, ctx.Err()):
		cause = fmt.Errorf("%w; last attempt: %w", ctx.Err(), a.err)
	case !a.final:
		cause = fmt.Errorf("gave up after %s: %w", cmp.Or(m.Deadline, DefaultDeadline), a.err)
	}

	var b strings.Builder
	if len(a.order) > 0 {
		fmt.Fprintf(&b, "; servers tried in order: %s", strings.Join(a.order, ", "))
	} else {
		fmt.Fprintf(&b, "; servers: %s", strings.Join(req.Servers, ", "))
	}
	if len(a.unreachable) > 0 {
		fmt.Fprintf(&b, "; unreachable on port %d: %s", cmp.Or(m.ProbePort, DefaultProbePort), strings.Join(a.unreachable, ", "))
	}
	fmt.Fprintf(&b, "; %d attempt%s in %s", attempts, plural(attempts), elapsed.Round(time.Millisecond))
	if hint := m.hint(req, a.err); hint != "" {
		b.WriteString("; " + hint)
	}
	if a.output != "" {
		fmt.Fprintf(&b, "\nmount said: %s", a.output)
	}
	if len(a.logLines) > 0 {
		fmt.Fprintf(&b, "\ngluster client log %s:\n  %s", req.LogFile, strings.Join(a.logLines, "\n  "))
	}
	err := fmt.Errorf("mount gluster volume %q on %s: %w%s", req.Volume, req.Target, cause, b.String())
	log.Error("mount failed", "attempts", attempts, "unreachable", a.unreachable, "reason", cause)
	if m.Observer != nil {
		m.Observer.MountFinished(attempts, elapsed, err)
	}
	return err
}

// hint says what to do next about err.
func (m *Mounter) hint(req Request, err error) string {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.Is(err, ErrVolumeNotFound):
		return fmt.Sprintf("check that the gluster volume exists: gluster volume info %s", req.Volume)
	case errors.Is(err, ErrSubdirNotFound):
		return fmt.Sprintf("create the directory %q in the volume first", req.Subdir)
	case errors.Is(err, ErrAccessDenied):
		return fmt.Sprintf("check the volume's auth.allow and auth.reject: gluster volume get %s auth.allow", req.Volume)
	case errors.Is(err, ErrMountNotPermitted):
		return "the mounting process needs CAP_SYS_ADMIN and the /dev/fuse device"
	case errors.Is(err, ErrNoServer):
		return fmt.Sprintf("check that glusterd runs on the servers and that this host can reach them on port %d",
			cmp.Or(m.ProbePort, DefaultProbePort))
	case errors.Is(err, errMountTimeout):
		return fmt.Sprintf("a server accepted the connection but did not answer: check that glusterd is not hung (gluster volume status %s)", req.Volume)
	case errors.Is(err, errNotMounted):
		return "check that the mounting process has CAP_SYS_ADMIN and the /dev/fuse device, and read the client log"
	default:
		return fmt.Sprintf("check that the bricks are online (gluster volume status %s) and read the client log", req.Volume)
	}
}

func (m *Mounter) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

func (m *Mounter) bind() func(source, target string) error {
	if m.bindMount != nil {
		return m.bindMount
	}
	// A system call, not mount(8): util-linux would first look at the dead
	// target and fail with "Transport endpoint is not connected".
	return func(source, target string) error {
		return syscall.Mount(source, target, "", syscall.MS_BIND, "")
	}
}

func (m *Mounter) exec() func(ctx context.Context, name string, args ...string) ([]byte, error) {
	if m.Exec != nil {
		return m.Exec
	}
	return runCommand
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
