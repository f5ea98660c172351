// Package selfheal hands back to glusterd the self-heal daemons it has lost
// track of on this server, and has it start those that died or that it
// never started. A lost daemon keeps healing and stays connected to every
// brick of its volumes while glusterd reports it offline, so its
// connections look like a client's and block the volume's deletion.
//
// GlusterFS 10.3 makes them when a server comes back after a volume changed
// without it (stopped and started while the server was down): glusterd
// starts the volume's self-heal daemon, then imports the pool's newer
// volume and starts a second one. The second writes its pid into the pid
// file, fails to bind the daemon's socket, which the first holds, and
// exits. glusterd reads the pid file, so it reports the first offline for
// good, and `volume start force` only repeats the failed start (see
// gluster/glusterfs#2649). The repair is the one gluster users apply by
// hand: stop the lost daemon, then `volume start force`.
package selfheal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/periodic"
	"github.com/prometheus/procfs"
)

const (
	// checkInterval is how often the process table is read: a lost daemon
	// blocks deletes until it is repaired, and reading a container's few
	// processes costs next to nothing.
	checkInterval = 5 * time.Second
	// stopWait bounds how long a lost daemon gets to exit after SIGTERM;
	// a self-heal daemon exits within a second.
	stopWait = 10 * time.Second
	// stopPoll is how often a stopping daemon is looked for.
	stopPoll = 100 * time.Millisecond
	// repairTimeout bounds the gluster commands of one repair: `volume
	// status all` and a `volume start force` per volume, each a few seconds
	// at most on a healthy pool.
	repairTimeout = time.Minute
)

// Daemon is a running self-heal daemon.
type Daemon struct {
	PID     int
	Started uint64 // start time in clock ticks since boot: a reused pid has another
	PIDFile string // where glusterd looks for its pid
}

// Gluster is what a repair needs from the gluster CLI.
type Gluster interface {
	Volumes(ctx context.Context) ([]glustercli.Volume, error)
	StatusAll(ctx context.Context) ([]glustercli.Status, error)
	StartForce(ctx context.Context, name string) error
}

var _ Gluster = (*glustercli.CLI)(nil)

// Repairer finds lost and missing self-heal daemons and repairs them.
type Repairer struct {
	gluster  Gluster
	self     string // this server's address, as its bricks name it
	runDir   string // glusterd's pid files
	proc     procfs.FS
	readFile func(string) ([]byte, error)
	kill     func(pid int) error
	logger   *slog.Logger
	// suspects are the daemons found lost, and unhealed the volumes
	// found without a daemon, by the previous check: either is repaired
	// only when found twice, since glusterd (re)starting a daemon on
	// purpose passes through the same state for a moment.
	suspects []Daemon
	unhealed []string
}

// NewRepairer returns a repairer of the self-heal daemons of the server at
// address self.
func NewRepairer(gluster Gluster, self string, logger *slog.Logger) (*Repairer, error) {
	proc, err := procfs.NewFS("/proc")
	if err != nil {
		return nil, fmt.Errorf("opening the process file system: %w (the server needs /proc mounted)", err)
	}
	kill := func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
	return &Repairer{gluster: gluster, self: self, runDir: runDir, proc: proc, readFile: os.ReadFile, kill: kill, logger: logger}, nil
}

// Run checks every checkInterval until ctx is done.
func (r *Repairer) Run(ctx context.Context) {
	periodic.Every(ctx, checkInterval, func(ctx context.Context) {
		if err := r.check(ctx); err != nil {
			r.logger.Error("repairing lost self-heal daemons", "error", err)
		}
	})
}

// check looks for lost daemons and for volumes without a daemon once, and
// repairs what the check before found too.
func (r *Repairer) check(ctx context.Context) error {
	lost, err := r.lost()
	if err != nil {
		return err
	}
	missing, err := r.missing(ctx)
	if err != nil {
		return err
	}
	confirmedLost := confirm(&r.suspects, lost)
	confirmedMissing := confirm(&r.unhealed, missing)
	for _, d := range confirmedLost {
		r.logger.Warn("stopping a self-heal daemon glusterd lost track of", "pid", d.PID, "pid_file", d.PIDFile)
		if err := r.stop(ctx, d); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, repairTimeout)
	defer cancel()
	if len(confirmedLost) > 0 {
		return r.restartOffline(ctx)
	}
	var errs []error
	for _, v := range confirmedMissing {
		r.logger.Warn("starting the self-heal daemon of a volume glusterd did not give one on this server", "volume", v)
		if err := r.gluster.StartForce(ctx, v); err != nil {
			errs = append(errs, fmt.Errorf("starting the self-heal daemon of volume %s: %w", v, err))
		}
	}
	return errors.Join(errs...)
}

// lost lists the running self-heal daemons whose pid file does not name a
// running process: glusterd can neither see nor stop them.
func (r *Repairer) lost() ([]Daemon, error) {
	procs, err := r.proc.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	var lost []Daemon
	for _, p := range procs {
		d, ok := r.selfHealDaemon(p)
		if !ok {
			continue
		}
		if owner, err := r.pidFileOwner(d.PIDFile); err == nil && (owner == d.PID || r.running(owner)) {
			continue
		}
		lost = append(lost, d)
	}
	return lost, nil
}

// selfHealDaemon reports whether p is a self-heal daemon, and describes it;
// a process that exits meanwhile is none.
func (r *Repairer) selfHealDaemon(p procfs.Proc) (Daemon, bool) {
	args, err := p.CmdLine()
	if err != nil || optionValue(args, "--process-name") != "glustershd" {
		return Daemon{}, false
	}
	pidFile := optionValue(args, "-p")
	stat, err := p.Stat()
	if err != nil || pidFile == "" {
		return Daemon{}, false
	}
	return Daemon{PID: p.PID, Started: stat.Starttime, PIDFile: pidFile}, true
}

// optionValue is the argument after name in a command line.
func optionValue(args []string, name string) string {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

// pidFileOwner reads the pid in a pid file; a missing file names none.
func (r *Repairer) pidFileOwner(file string) (int, error) {
	data, err := r.readFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// running reports whether pid is a live process; a zombie is not.
func (r *Repairer) running(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := r.proc.Proc(pid)
	if err != nil {
		return false
	}
	stat, err := p.Stat()
	return err == nil && stat.State != "Z"
}

// stop asks a lost daemon to exit and waits until it has: glusterd's next
// daemon cannot bind the socket before.
func (r *Repairer) stop(ctx context.Context, d Daemon) error {
	if err := r.kill(d.PID); errors.Is(err, syscall.ESRCH) {
		return nil
	} else if err != nil {
		return fmt.Errorf("stopping lost self-heal daemon %d: %w", d.PID, err)
	}
	deadline := time.Now().Add(stopWait)
	for r.sameProcess(d) {
		if time.Now().After(deadline) {
			return fmt.Errorf("lost self-heal daemon %d still runs %s after SIGTERM: kill it by hand, then run `gluster volume start VOLUME force`", d.PID, stopWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(stopPoll):
		}
	}
	return nil
}

func (r *Repairer) sameProcess(d Daemon) bool {
	if !r.running(d.PID) {
		return false
	}
	p, err := r.proc.Proc(d.PID)
	if err != nil {
		return false
	}
	stat, err := p.Stat()
	return err == nil && stat.Starttime == d.Started
}

// restartOffline has glusterd start the self-heal daemon of every started
// volume that this server reports offline.
func (r *Repairer) restartOffline(ctx context.Context) error {
	statuses, err := r.gluster.StatusAll(ctx)
	if err != nil {
		return fmt.Errorf("reading which self-heal daemons are offline: %w", err)
	}
	var errs []error
	for _, st := range statuses {
		if !localDaemonOffline(st) {
			continue
		}
		r.logger.Info("starting the self-heal daemon again", "volume", st.Volume)
		if err := r.gluster.StartForce(ctx, st.Volume); err != nil {
			errs = append(errs, fmt.Errorf("starting the self-heal daemon of volume %s: %w", st.Volume, err))
		}
	}
	return errors.Join(errs...)
}

func localDaemonOffline(st glustercli.Status) bool {
	return slices.ContainsFunc(st.SelfHeal, func(d glustercli.Daemon) bool {
		return d.Host == "localhost" && !d.Online
	})
}
