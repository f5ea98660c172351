// Package glustercli runs the gluster command line against the local glusterd
// and turns its XML answers into Go values. Write operations need glusterd's
// unix socket: over TCP glusterd accepts read-only requests only.
package glustercli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/glusterdocker/gluster/backoff"
)

// DefaultSocket is where Debian's glusterd listens for local CLI requests.
const DefaultSocket = "/run/glusterd.socket"

// DefaultStore is glusterd's working directory, where it keeps a directory
// for every volume it knows (vols/NAME).
const DefaultStore = "/var/lib/glusterd"

// Sentinel errors callers branch on; the wrapped *Error says the rest.
var (
	ErrNotFound = errors.New("gluster volume does not exist")
	ErrExists   = errors.New("gluster volume already exists")
	ErrBusy     = errors.New("another gluster transaction is in progress")
	// ErrPeerBehind is a peer that refused a transaction on a volume it
	// does not know yet: it (re)joined the pool and is still importing the
	// pool's volumes.
	ErrPeerBehind = errors.New("a gluster peer has not caught up with the pool's volumes")
	// ErrOtherPool is a probed server that belongs to another pool or has
	// volumes of its own: glusterd befriends only servers with neither.
	ErrOtherPool = errors.New("gluster server belongs to another pool")
	ErrStarted   = errors.New("gluster volume already started")
	ErrStopped   = errors.New("gluster volume is not started")
	// ErrUnsafeArgument is an argument the gluster CLI would read as its
	// own option: it takes any argument starting with "--" as one,
	// wherever it stands (--log-file=PATH writes PATH as root).
	ErrUnsafeArgument = errors.New("gluster argument starts with '-'")
)

// Error is a gluster command that answered with a failure.
type Error struct {
	Args    []string
	OpErrno int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("gluster %s: %s", strings.Join(e.Args, " "), e.Message)
}

// Is maps gluster's messages onto the sentinel errors: opErrno alone is not
// specific enough (30800 covers most failures).
func (e *Error) Is(target error) bool {
	msg := e.Message
	switch target {
	case ErrNotFound:
		return strings.Contains(msg, "does not exist") && strings.HasPrefix(msg, "Volume")
	case ErrExists:
		return strings.Contains(msg, "already exists")
	case ErrBusy:
		return strings.Contains(msg, "Another transaction is in progress") ||
			strings.Contains(msg, "Locking failed") ||
			strings.Contains(msg, "is busy")
	case ErrPeerBehind:
		return strings.HasPrefix(msg, "Staging failed on") && strings.Contains(msg, "does not exist")
	case ErrOtherPool:
		return strings.Contains(msg, "already part of another cluster")
	case ErrStarted:
		return strings.Contains(msg, "already started")
	case ErrStopped:
		return strings.Contains(msg, "is not started") || strings.Contains(msg, "not in the started state")
	case ErrRebalancing:
		return strings.Contains(msg, "rebalance is in progress")
	case ErrNoRebalance:
		return strings.HasPrefix(msg, "Rebalance not started")
	}
	return false
}

// ExecFunc runs a command with its arguments as a list and returns its
// standard output. It is the seam unit tests replace.
type ExecFunc func(ctx context.Context, name string, args ...string) ([]byte, error)

// transientRetry spaces out the attempts of a command glusterd refused for
// now: a transaction holds the pool's lock for a fraction of a second to a
// few seconds, so the first retries come soon and later ones no more than
// every 2 s.
var transientRetry = backoff.Policy{First: 200 * time.Millisecond, Max: 2 * time.Second}

// CLI runs gluster commands. The zero value is not usable: use New.
type CLI struct {
	binary  string
	socket  string
	exec    ExecFunc
	retries time.Duration
	logger  *slog.Logger
	store   string // glusterd's working directory, when on this host
}

// New returns a CLI that talks to glusterd through socket. exec may be nil
// for Exec; busyRetry bounds how long a command is retried while glusterd
// reports another transaction in progress or a peer catching up.
func New(socket string, exec ExecFunc, busyRetry time.Duration, logger *slog.Logger) *CLI {
	if exec == nil {
		exec = Exec
	}
	return &CLI{binary: "gluster", socket: socket, exec: exec, retries: busyRetry, logger: logger}
}

// WithStore lets Volume answer that a volume does not exist from glusterd's
// working directory dir, without starting the gluster CLI, which takes
// about 0.1 s even for that answer; Docker asks for a volume that does not
// exist yet before every create. glusterd writes vols/NAME there before a
// new volume, made through any peer, becomes visible to the CLI, and
// removes it when the volume is deleted. Only for a CLI on glusterd's host.
func (c *CLI) WithStore(dir string) *CLI {
	c.store = dir
	return c
}

// absentFromStore tells whether glusterd's working directory shows that no
// volume name exists; false whenever it cannot tell.
func (c *CLI) absentFromStore(name string) bool {
	if c.store == "" || name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return false
	}
	vols := filepath.Join(c.store, "vols")
	if info, err := os.Stat(vols); err != nil || !info.IsDir() {
		return false
	}
	_, err := os.Lstat(filepath.Join(vols, name))
	return errors.Is(err, fs.ErrNotExist)
}

// zeroedMalloc has glibc hand the gluster CLI zeroed memory: GlusterFS
// 10's CLI builds a thin arbiter's brick in memory it never clears
// (gluster/glusterfs#3508, fixed in 11), and glusterd then fails the create
// with "Commit failed on localhost" unless that memory happened to start
// with a zero. The per-thread cache is off so that every allocation is
// cleared; the CLI is a short-lived process.
const zeroedMalloc = "GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.perturb=255"

// Exec is the ExecFunc that runs the real command, killing it when ctx is
// done. A command that printed nothing fails with its standard error.
func Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), zeroedMalloc)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	// gluster --xml reports failures in opRet, sometimes with a non-zero
	// exit status: the XML is the answer either way.
	return out, nil
}

// transient reports whether a failed command may succeed if run again
// shortly.
func transient(err error) bool {
	return errors.Is(err, ErrBusy) || errors.Is(err, ErrPeerBehind)
}

// run executes one gluster command, retrying while glusterd is busy with
// another transaction or a peer catches up, and returns the decoded answer.
func (c *CLI) run(ctx context.Context, args ...string) (*cliOutput, error) {
	if err := safeArgs(args); err != nil {
		return nil, err
	}
	full := append([]string{"--glusterd-sock=" + c.socket, "--mode=script", "--xml"}, args...)
	// Only the retries are bounded by c.retries: each command has ctx's time.
	retries, cancel := context.WithTimeout(ctx, c.retries)
	defer cancel()
	var cerr *Error
	for attempt, pause := range transientRetry.Attempts(retries) {
		start := time.Now()
		data, err := c.exec(ctx, c.binary, full...)
		if err != nil {
			return nil, fmt.Errorf("running gluster %s: %w", strings.Join(args, " "), err)
		}
		out, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("gluster %s: %w", strings.Join(args, " "), err)
		}
		c.logger.Debug("gluster command", "args", args, "op_ret", out.OpRet, "duration", time.Since(start))
		if out.OpRet == 0 {
			return out, nil
		}
		msg := strings.TrimSpace(out.OpErrstr)
		if msg == "" {
			msg = strings.TrimSpace(out.Output)
		}
		cerr = &Error{Args: args, OpErrno: out.OpErrno, Message: msg}
		if !transient(cerr) {
			return nil, cerr
		}
		c.logger.Info("gluster command failed for now, retrying", "args", args, "attempt", attempt, "delay", pause, "error", msg)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w (gave up: %w)", cerr, err)
	}
	return nil, cerr
}

// safeArgs refuses any argument the gluster CLI would read as its own
// option.
func safeArgs(args []string) error {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("%w: %q: refused, nothing ran", ErrUnsafeArgument, a)
		}
	}
	return nil
}

// query runs a command that changes nothing, retrying it also when a peer
// failed to answer its part ("Commit failed on PEER"), as a peer whose
// bricks are restarting does for a moment. A change is never retried so:
// its commit may have taken effect elsewhere.
func (c *CLI) query(ctx context.Context, args ...string) (*cliOutput, error) {
	retries, cancel := context.WithTimeout(ctx, c.retries)
	defer cancel()
	var out *cliOutput
	var err error
	for range transientRetry.Attempts(retries) {
		var cerr *Error
		if out, err = c.run(ctx, args...); !errors.As(err, &cerr) || !strings.HasPrefix(cerr.Message, "Commit failed on") {
			return out, err
		}
		c.logger.Info("a peer did not answer its part of a query, retrying", "args", args, "error", cerr.Message)
	}
	return out, err
}

// Volumes lists every volume of the pool.
func (c *CLI) Volumes(ctx context.Context) ([]Volume, error) {
	out, err := c.run(ctx, "volume", "info")
	if err != nil {
		return nil, err
	}
	vols := make([]Volume, 0, len(out.VolInfo.Volumes))
	for _, v := range out.VolInfo.Volumes {
		vols = append(vols, v.volume())
	}
	return vols, nil
}

// Volume describes one volume; the error wraps ErrNotFound if it is missing.
func (c *CLI) Volume(ctx context.Context, name string) (Volume, error) {
	if c.absentFromStore(name) {
		return Volume{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	out, err := c.run(ctx, "volume", "info", name)
	if err != nil {
		var cerr *Error
		// `volume info NAME` says only "Volume does not exist".
		if errors.As(err, &cerr) && strings.Contains(cerr.Message, "does not exist") {
			return Volume{}, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return Volume{}, err
	}
	if len(out.VolInfo.Volumes) != 1 {
		return Volume{}, fmt.Errorf("gluster volume info %s: expected one volume, got %d", name, len(out.VolInfo.Volumes))
	}
	return out.VolInfo.Volumes[0].volume(), nil
}

// Status reports the brick processes of a started volume and their clients.
func (c *CLI) Status(ctx context.Context, name string) (Status, error) {
	out, err := c.query(ctx, "volume", "status", name, "clients")
	if err != nil {
		return Status{}, err
	}
	if len(out.VolStatus.Volumes) != 1 {
		return Status{}, fmt.Errorf("gluster volume status %s: expected one volume, got %d", name, len(out.VolStatus.Volumes))
	}
	st := out.VolStatus.Volumes[0].status()
	// `status ... clients` leaves out the daemons: ask for them
	// separately, since their connections must not count as clients.
	daemons, err := c.query(ctx, "volume", "status", name)
	if err != nil {
		return Status{}, err
	}
	if len(daemons.VolStatus.Volumes) == 1 {
		all := daemons.VolStatus.Volumes[0].status()
		st.SelfHeal, st.Quota = all.SelfHeal, all.Quota
	}
	return st, nil
}

// StatusAll reports the brick processes and self-heal daemons of every
// started volume in one command, without their clients.
func (c *CLI) StatusAll(ctx context.Context) ([]Status, error) {
	out, err := c.run(ctx, "volume", "status", "all")
	if err != nil {
		return nil, err
	}
	statuses := make([]Status, 0, len(out.VolStatus.Volumes))
	for _, v := range out.VolStatus.Volumes {
		statuses = append(statuses, v.status())
	}
	return statuses, nil
}

// Peers lists the pool, the answering node included as "localhost".
func (c *CLI) Peers(ctx context.Context) ([]Peer, error) {
	out, err := c.run(ctx, "pool", "list")
	if err != nil {
		return nil, err
	}
	peers := make([]Peer, 0, len(out.Peers))
	for _, p := range out.Peers {
		peers = append(peers, Peer{UUID: p.UUID, Hostname: p.Hostname, Hostnames: p.Hostnames, Connected: p.Connected == 1, State: p.StateStr})
	}
	return peers, nil
}

// HealSummary counts, brick by brick, the entries self-heal has yet to
// repair. It asks every brick through a short-lived client (glfsheal), so it
// works on a started volume only.
func (c *CLI) HealSummary(ctx context.Context, name string) ([]BrickHeal, error) {
	out, err := c.run(ctx, "volume", "heal", name, "info", "summary")
	if err != nil {
		return nil, err
	}
	bricks := make([]BrickHeal, 0, len(out.HealInfo.Bricks))
	for _, b := range out.HealInfo.Bricks {
		heal, err := b.brickHeal()
		if err != nil {
			return nil, fmt.Errorf("gluster volume heal %s info summary: %w", name, err)
		}
		bricks = append(bricks, heal)
	}
	return bricks, nil
}

// Probe adds host to the pool; probing a member again succeeds.
func (c *CLI) Probe(ctx context.Context, host string) error {
	_, err := c.run(ctx, "peer", "probe", host)
	return err
}

// CreateArgs describes a new replicated volume.
type CreateArgs struct {
	Name    string
	Replica int  // bricks in the replica set, arbiter included
	Arbiter bool // the last brick holds metadata only
	// ThinArbiter, HOST:PATH, is the witness of a replica 2 volume: a
	// process outside the pool that records which copy is current.
	ThinArbiter string
	Bricks      []Brick
}

// Create creates a volume. force is always given: bricks on the same file
// system as the container's root are refused otherwise, and the caller
// already places replicas on distinct servers.
func (c *CLI) Create(ctx context.Context, a CreateArgs) error {
	args := []string{"volume", "create", a.Name}
	switch {
	case a.Arbiter:
		args = append(args, "replica", fmt.Sprint(a.Replica-1), "arbiter", "1")
	case a.ThinArbiter != "":
		args = append(args, "replica", fmt.Sprint(a.Replica), "thin-arbiter", "1")
	case a.Replica > 1:
		args = append(args, "replica", fmt.Sprint(a.Replica))
	}
	for _, b := range a.Bricks {
		args = append(args, b.Host+":"+b.Path)
	}
	if a.ThinArbiter != "" {
		args = append(args, a.ThinArbiter)
	}
	args = append(args, "force")
	_, err := c.run(ctx, args...)
	return err
}

// Start starts a volume; starting a started volume succeeds.
func (c *CLI) Start(ctx context.Context, name string) error {
	_, err := c.run(ctx, "volume", "start", name)
	if errors.Is(err, ErrStarted) {
		return nil
	}
	return err
}

// StartForce asks glusterd to start whatever of a started volume is not
// running on any server: brick processes and self-heal daemons. Processes
// that run are left alone, so connected clients keep working.
func (c *CLI) StartForce(ctx context.Context, name string) error {
	_, err := c.run(ctx, "volume", "start", name, "force")
	return err
}

// Stop stops a volume; stopping a stopped volume succeeds.
func (c *CLI) Stop(ctx context.Context, name string) error {
	_, err := c.run(ctx, "volume", "stop", name)
	if errors.Is(err, ErrStopped) {
		return nil
	}
	return err
}

// Delete deletes a stopped volume. Brick directories stay on the servers.
func (c *CLI) Delete(ctx context.Context, name string) error {
	_, err := c.run(ctx, "volume", "delete", name)
	return err
}

// Set sets volume options in one transaction: one invalid option sets none.
func (c *CLI) Set(ctx context.Context, name string, options map[string]string) error {
	args := []string{"volume", "set", name}
	for _, key := range slices.Sorted(maps.Keys(options)) {
		args = append(args, key, options[key])
	}
	_, err := c.run(ctx, args...)
	return err
}
