package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/go-units"
	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/names"
	"github.com/glusterdocker/gluster/pki"
)

// adminName is the name the server binary answers to as the admin command
// (a link to it in the server image): `docker exec SERVER gluster-admin ...`.
const adminName = "gluster-admin"

// adminRequestTimeout bounds one request to the control API: longer than
// the server gives a change and its answer (control.RequestReadTimeout plus
// 3 min 30 s), so that the server's own error arrives first.
const adminRequestTimeout = 4 * time.Minute

// progressPoll is how often the admin command shows a heal's or a
// rebalance's progress: each look at a heal starts a short-lived gluster
// client on the server, each look at a rebalance asks every server.
const progressPoll = 5 * time.Second

const adminUsage = `usage: gluster-admin [-wait=false] COMMAND ARGS

Changes the storage pool and the bricks of the volumes the plugin made,
through this server's control API (ADDRESS, CONTROL_PORT and TOKEN or
TOKEN_FILE of the server container).

  servers                        list the pool's servers
  add-server ADDRESS             add a server started after the pool formed
  remove-server ADDRESS          take a server holding no brick out of the pool
  replica VOLUME COUNT [SERVER...]
                                 raise a volume's replica count onto servers
                                 without a brick of it, then heal
  replace-server OLD NEW         move every brick of OLD (up or gone for good)
                                 onto NEW, take OLD out of the pool, then heal
  drain SERVER                   move every brick of SERVER onto other servers,
                                 take it out of the pool, then heal
  expand VOLUME [SERVER...]      add a replica set to a volume on servers
                                 without a brick of it, then rebalance
  heal VOLUME                    show a volume's heal progress until it is done
  wait-healed [-timeout D] [VOLUME...]
                                 wait until the volumes (all replicated ones
                                 if none is named) have every brick online
                                 and nothing to heal: before taking the next
                                 server down; exits 1 after D (10m)
  health                         exit 0 if every started replicated volume
                                 with a brick here has every brick online and
                                 nothing to heal, 1 if not: the image's
                                 HEALTHCHECK
  rebalance VOLUME               show a volume's rebalance progress until it
                                 is done
  retained                       list the volumes docker volume rm retained
  purge VOLUME...                delete retained volumes for good, with their
                                 bricks
  ca                             print the fingerprint of the cluster's CA
                                 (TLS=on), the plugins' CA_FINGERPRINT
  revoke SERIAL                  revoke a certificate of the cluster (hex, as
                                 the plugin logs it): every server's bricks
                                 refuse it from then on

-wait=false shows the heal's or rebalance's progress once instead of until
it is done. VOLUME is a Docker or a gluster volume name.
`

// adminAPI is what the admin command asks of the control API.
type adminAPI interface {
	Peers(ctx context.Context) ([]control.Peer, error)
	AddPeer(ctx context.Context, address string) (control.Peer, error)
	RemovePeer(ctx context.Context, address string) error
	Volumes(ctx context.Context) ([]control.Volume, error)
	RaiseReplica(ctx context.Context, name string, req control.ReplicaRequest) (control.Volume, error)
	ReplaceBrick(ctx context.Context, name string, req control.ReplaceRequest) (control.Volume, error)
	Heal(ctx context.Context, name string) (control.Heal, error)
	Expand(ctx context.Context, name string, req control.ExpandRequest) (control.Volume, error)
	Rebalance(ctx context.Context, name string) (control.Rebalance, error)
	Purge(ctx context.Context, name string) error
	Revoke(ctx context.Context, serial string) (control.Revocation, error)
}

var _ adminAPI = (*control.Client)(nil)

// errUsage is a command line the admin command does not understand.
var errUsage = errors.New("usage")

// runAdmin runs the admin command and returns its exit status.
func runAdmin(args []string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(stderr, "gluster-admin: the server's settings:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hc := &http.Client{Timeout: adminRequestTimeout}
	if cfg.TLS == "on" {
		id, err := certstore.Store{Dir: tlsDir}.Load()
		if err != nil {
			fmt.Fprintln(stderr, "gluster-admin: the server's certificate:", err)
			return 1
		}
		if len(args) == 1 && args[0] == "ca" {
			fmt.Fprintln(stdout, pki.Fingerprint(id.CA))
			return 0
		}
		hc.Transport = &http.Transport{TLSClientConfig: pki.ClientTLS(id.CA)}
	}
	client := control.NewClient(cfg.Address, cfg.ControlPort, cfg.Token, hc)
	a := admin{api: client, out: stdout, poll: progressPoll, self: cfg.Address}
	err = a.run(ctx, args)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "gluster-admin: %v\n\n%s", err, adminUsage)
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "gluster-admin:", err)
		return 1
	}
	return 0
}

// admin is one run of the admin command.
type admin struct {
	api  adminAPI
	out  io.Writer
	poll time.Duration
	wait bool
	self string // this server's address
}

func (a *admin) run(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet(adminName, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.BoolVar(&a.wait, "wait", true, "show the heal's or rebalance's progress until it is done, not once")
	if err := flags.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	args = flags.Args()
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, args := args[0], args[1:]
	switch {
	case cmd == "servers" && len(args) == 0:
		return a.servers(ctx)
	case cmd == "add-server" && len(args) == 1:
		return a.addServer(ctx, args[0])
	case cmd == "remove-server" && len(args) == 1:
		return a.removeServer(ctx, args[0])
	case cmd == "replica" && len(args) >= 2:
		return a.replica(ctx, args[0], args[1], args[2:])
	case cmd == "replace-server" && len(args) == 2:
		return a.moveBricks(ctx, args[0], args[1])
	case cmd == "drain" && len(args) == 1:
		return a.moveBricks(ctx, args[0], "")
	case cmd == "heal" && len(args) == 1:
		name, err := a.volume(ctx, args[0])
		if err != nil {
			return err
		}
		return a.followHeals(ctx, []string{name})
	case cmd == "wait-healed":
		return a.waitHealed(ctx, args)
	case cmd == "health" && len(args) == 0:
		return a.health(ctx)
	case cmd == "expand" && len(args) >= 1:
		return a.expand(ctx, args[0], args[1:])
	case cmd == "rebalance" && len(args) == 1:
		name, err := a.volume(ctx, args[0])
		if err != nil {
			return err
		}
		return a.followRebalance(ctx, name)
	case cmd == "retained" && len(args) == 0:
		return a.retained(ctx)
	case cmd == "purge" && len(args) >= 1:
		return a.purge(ctx, args)
	case cmd == "revoke" && len(args) == 1:
		return a.revoke(ctx, args[0])
	case cmd == "ca" && len(args) == 0:
		// The server's TLS certificate answers it (runAdmin).
		return errors.New("this server runs with TLS=off: its cluster has no CA")
	}
	return fmt.Errorf("%w: %q with %d arguments", errUsage, cmd, len(args))
}

func (a *admin) revoke(ctx context.Context, serial string) error {
	r, err := a.api.Revoke(ctx, serial)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "certificate %s revoked: refused by the bricks of %s\n", r.Serial, strings.Join(r.Servers, ", "))
	if len(r.Missed) > 0 {
		fmt.Fprintf(a.out, "not reached: %s (each takes the list from a peer when it starts)\n", strings.Join(r.Missed, ", "))
	}
	return nil
}

func (a *admin) servers(ctx context.Context) error {
	peers, err := a.api.Peers(ctx)
	if err != nil {
		return err
	}
	for _, p := range peers {
		state := "disconnected"
		if p.Connected {
			state = "connected"
		}
		if p.Self {
			state += ", this server"
		}
		fmt.Fprintf(a.out, "%s\t%s\t%s\n", p.Address, p.UUID, state)
	}
	return nil
}

func (a *admin) addServer(ctx context.Context, address string) error {
	p, err := a.api.AddPeer(ctx, address)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s joined the pool (%s)\n", p.Address, p.UUID)
	return nil
}

func (a *admin) removeServer(ctx context.Context, address string) error {
	if err := a.api.RemovePeer(ctx, address); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s left the pool\n", address)
	return nil
}

func (a *admin) replica(ctx context.Context, volume, count string, servers []string) error {
	replica, err := strconv.Atoi(count)
	if err != nil {
		return fmt.Errorf("%w: replica count %q is not a number", errUsage, count)
	}
	name, err := a.volume(ctx, volume)
	if err != nil {
		return err
	}
	v, err := a.api.RaiseReplica(ctx, name, control.ReplicaRequest{Replica: replica, Servers: servers})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s: replica %d, bricks %s\n", name, v.Replica, brickServers(v))
	return a.followHeals(ctx, []string{name})
}

func (a *admin) expand(ctx context.Context, volume string, servers []string) error {
	name, err := a.volume(ctx, volume)
	if err != nil {
		return err
	}
	v, err := a.api.Expand(ctx, name, control.ExpandRequest{Servers: servers})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s: %d replica sets of %d, bricks %s\n", name, len(v.Bricks)/max(v.Replica, 1), v.Replica, brickServers(v))
	return a.followRebalance(ctx, name)
}

// moveBricks moves every brick on server from onto server to, or onto
// another server per volume if to is empty, takes from out of the pool once
// it holds none, and follows the heals.
func (a *admin) moveBricks(ctx context.Context, from, to string) error {
	vols, err := a.api.Volumes(ctx)
	if err != nil {
		return err
	}
	var moved []string
	var failed []error
	for _, v := range vols {
		if !slices.ContainsFunc(v.Bricks, func(b control.Brick) bool { return b.Server == from }) {
			continue
		}
		if v.Options[control.DockerVolumeOption] == "" {
			failed = append(failed, fmt.Errorf("%s: not made by the plugin, its brick stays on %s: move it with gluster volume replace-brick", v.Name, from))
			continue
		}
		nv, err := a.api.ReplaceBrick(ctx, v.Name, control.ReplaceRequest{From: from, To: to})
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", v.Name, err))
			continue
		}
		fmt.Fprintf(a.out, "%s: brick moved off %s, bricks %s\n", v.Name, from, brickServers(nv))
		moved = append(moved, v.Name)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s stays in the pool: %w", from, errors.Join(failed...))
	}
	if err := a.removeServer(ctx, from); err != nil {
		return err
	}
	return a.followHeals(ctx, moved)
}

// volume resolves a Docker or gluster volume name to the gluster volume's.
func (a *admin) volume(ctx context.Context, name string) (string, error) {
	vols, err := a.api.Volumes(ctx)
	if err != nil {
		return "", err
	}
	gluster, _ := names.FromDocker(name)
	for _, v := range vols {
		if v.Name == name || v.Options[control.DockerVolumeOption] == name || v.Name == gluster {
			return v.Name, nil
		}
	}
	return "", fmt.Errorf("no volume %q: `docker volume ls` or `gluster volume list` names them", name)
}

// waitHealedTimeout is how long wait-healed waits by default: heals take
// seconds once the self-heal daemons run (docs/failures.md), and a heal that
// takes longer wants a look before the next server goes down.
const waitHealedTimeout = 10 * time.Minute

// waitHealed follows the heals of the volumes named in args, or of every
// started replicated volume, until each is done or -timeout passes.
func (a *admin) waitHealed(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("wait-healed", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	timeout := flags.Duration("timeout", waitHealedTimeout, "how long to wait")
	var named []string
	for {
		if err := flags.Parse(args); err != nil {
			return fmt.Errorf("%w: wait-healed: %w", errUsage, err)
		}
		if flags.NArg() == 0 {
			break
		}
		named = append(named, flags.Arg(0))
		args = flags.Args()[1:]
	}
	var volumes []string
	for _, n := range named {
		name, err := a.volume(ctx, n)
		if err != nil {
			return err
		}
		volumes = append(volumes, name)
	}
	if len(named) == 0 {
		all, err := a.api.Volumes(ctx)
		if err != nil {
			return err
		}
		for _, v := range all {
			if v.Status == "Started" && v.Replica > 1 {
				volumes = append(volumes, v.Name)
			}
		}
	}
	waiting, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	a.wait = true
	err := a.followHeals(waiting, volumes)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("not healed within %s: %w", *timeout, err)
	}
	return err
}

// health checks, once, that every started replicated volume with a brick
// on this server has every brick online and nothing to heal.
func (a *admin) health(ctx context.Context) error {
	all, err := a.api.Volumes(ctx)
	if err != nil {
		return err
	}
	var unhealthy []string
	for _, v := range all {
		if v.Status != "Started" || v.Replica < 2 || !slices.ContainsFunc(v.Bricks, func(b control.Brick) bool { return b.Server == a.self }) {
			continue
		}
		h, err := a.api.Heal(ctx, v.Name)
		switch {
		case err != nil:
			unhealthy = append(unhealthy, fmt.Sprintf("%s: heal progress unknown: %v", v.Name, err))
		case !h.Done:
			unhealthy = append(unhealthy, fmt.Sprintf("%s: %s", v.Name, healProgress(h)))
		}
	}
	if len(unhealthy) > 0 {
		return fmt.Errorf("not healthy: %s", strings.Join(unhealthy, "; "))
	}
	fmt.Fprintln(a.out, "healthy: every brick online, nothing to heal")
	return nil
}

// followHeals shows the heal progress of volumes until each is done, or
// once without waiting.
func (a *admin) followHeals(ctx context.Context, volumes []string) error {
	for _, name := range volumes {
		p := progress{out: a.out}
		for {
			h, err := a.api.Heal(ctx, name)
			switch {
			case err != nil:
				p.show("%s: heal progress unknown for now: %v", name, err)
			case h.Done:
				p.show("%s: healed", name)
			default:
				p.show("%s: healing, %s", name, healProgress(h))
			}
			if (err == nil && h.Done) || !a.wait {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("stopped watching; the heal goes on (gluster-admin heal %s): %w", name, ctx.Err())
			case <-time.After(a.poll):
			}
		}
	}
	return nil
}

// followRebalance shows the progress of a volume's rebalance until it is
// done, or once without waiting. A rebalance that failed or was stopped is
// an error: its files stay where they were, readable, and it can run again.
func (a *admin) followRebalance(ctx context.Context, name string) error {
	p := progress{out: a.out}
	for {
		r, err := a.api.Rebalance(ctx, name)
		switch {
		case err != nil:
			p.show("%s: rebalance progress unknown for now: %v", name, err)
		case r.Done:
			p.show("%s: rebalanced, %s", name, rebalanceProgress(r))
			return nil
		case r.Running:
			p.show("%s: rebalancing, %s", name, rebalanceProgress(r))
		case len(r.Servers) == 0:
			p.show("%s: gluster knows of no rebalance of it", name)
			return nil
		default:
			return fmt.Errorf("%s: rebalance %s, %s: its log is /var/log/glusterfs/%s-rebalance.log on each server; start it again with `gluster volume rebalance %s start`",
				name, r.Status, rebalanceProgress(r), name, name)
		}
		if !a.wait {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped watching; the rebalance goes on (gluster-admin rebalance %s): %w", name, ctx.Err())
		case <-time.After(a.poll):
		}
	}
}

// progress prints the lines of a heal's or rebalance's progress, each but
// the first only when it differs from the one before: a heal or rebalance
// that makes no progress shows once, not once a poll.
type progress struct {
	out  io.Writer
	last string
}

func (p *progress) show(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if line == p.last {
		return
	}
	p.last = line
	fmt.Fprintln(p.out, line)
}

func rebalanceProgress(r control.Rebalance) string {
	parts := make([]string, len(r.Servers))
	for i, s := range r.Servers {
		parts[i] = fmt.Sprintf("%s %s (%d files)", s.Server, s.Status, s.Files)
	}
	return fmt.Sprintf("%d files moved (%s), %d looked at, %d failures, %d skipped in %.0f s: %s",
		r.Files, units.BytesSize(float64(r.Bytes)), r.Scanned, r.Failures, r.Skipped, r.Seconds, strings.Join(parts, ", "))
}

func healProgress(h control.Heal) string {
	parts := make([]string, len(h.Bricks))
	for i, b := range h.Bricks {
		switch {
		case !b.Connected:
			parts[i] = b.Brick + " not answering"
		case b.SplitBrain > 0:
			parts[i] = fmt.Sprintf("%s %d (%d in split-brain)", b.Brick, b.Pending, b.SplitBrain)
		default:
			parts[i] = fmt.Sprintf("%s %d", b.Brick, b.Pending)
		}
	}
	return fmt.Sprintf("%d entries to heal: %s", h.Pending, strings.Join(parts, ", "))
}

func brickServers(v control.Volume) string {
	out := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		out[i] = b.Server
	}
	return strings.Join(out, ", ")
}
