package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/glusterdocker/gluster/backoff"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/logging"
	"github.com/glusterdocker/gluster/names"
)

// Gluster is what the service needs from the gluster CLI.
type Gluster interface {
	Volumes(ctx context.Context) ([]glustercli.Volume, error)
	Volume(ctx context.Context, name string) (glustercli.Volume, error)
	Status(ctx context.Context, name string) (glustercli.Status, error)
	Peers(ctx context.Context) ([]glustercli.Peer, error)
	Create(ctx context.Context, args glustercli.CreateArgs) error
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	Delete(ctx context.Context, name string) error
	Set(ctx context.Context, name string, options map[string]string) error
	QuotaEnable(ctx context.Context, name string) error
	QuotaLimitUsage(ctx context.Context, name, path string, size uint64) error
	QuotaList(ctx context.Context, name string) ([]glustercli.QuotaLimit, error)
	BrickSpaces(ctx context.Context, name string) ([]glustercli.BrickSpace, error)
	Probe(ctx context.Context, host string) error
	Detach(ctx context.Context, host string) error
	AddBricks(ctx context.Context, name string, replica int, bricks []glustercli.Brick) error
	ReplaceBrick(ctx context.Context, name string, from, to glustercli.Brick) error
	HealFull(ctx context.Context, name string) error
	HealSummary(ctx context.Context, name string) ([]glustercli.BrickHeal, error)
	AddReplicaSets(ctx context.Context, name string, bricks []glustercli.Brick) error
	RebalanceStart(ctx context.Context, name string) error
	RebalanceStatus(ctx context.Context, name string) (glustercli.Rebalance, error)
}

var _ Gluster = (*glustercli.CLI)(nil)

// Service carries out volume operations against the local glusterd. All
// changes made through one server are serialized; glusterd's own cluster
// lock orders them across servers.
type Service struct {
	self      string // this server's cluster address
	brickRoot string
	gluster   Gluster
	peers     PeerBricks
	options   OptionPolicy // what callers may set
	// transport holds the options every new volume gets for its I/O
	// (TLS), set last so that no caller's option changes them.
	transport map[string]string
	// lookupHost resolves a name to addresses; tests replace it.
	lookupHost func(ctx context.Context, host string) ([]string, error)
	fuseDevice string // gluster's quota mounts volumes through it
	witness    string // the address of the thin arbiter of replica 2 volumes
	heals      *healQueries
	logger     *slog.Logger
	mu         sync.Mutex
}

// lookupTimeout bounds the resolution of a pool member's name.
const lookupTimeout = time.Second

// ServiceOption changes a default of NewService.
type ServiceOption func(*Service)

// WithOptionPolicy sets which volume options callers may set; the
// built-in list applies otherwise.
func WithOptionPolicy(p OptionPolicy) ServiceOption {
	return func(s *Service) { s.options = p }
}

// WithVolumeTLS has every volume created serve its I/O over TLS only:
// clients and bricks present certificates of the cluster's CA, and bricks
// refuse the certificates listed in the revocation lists of crlDir.
func WithVolumeTLS(crlDir string) ServiceOption {
	return func(s *Service) {
		s.transport = map[string]string{"client.ssl": "on", "server.ssl": "on", "ssl.crl-path": crlDir}
	}
}

// NewService returns a service for the server at address self whose bricks
// live under brickRoot. peers makes and removes brick directories on other
// servers; gluster leaves them behind on delete, and a name cannot be
// reused while they hold the old volume's attributes.
func NewService(self, brickRoot string, gluster Gluster, peers PeerBricks, logger *slog.Logger, opts ...ServiceOption) *Service {
	s := &Service{
		self: self, brickRoot: brickRoot, gluster: gluster, peers: peers,
		lookupHost: net.DefaultResolver.LookupHost, logger: logger, fuseDevice: defaultFUSEDevice,
		heals: newHealQueries(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// List describes every volume, without status.
func (s *Service) List(ctx context.Context) ([]Volume, error) {
	vols, err := s.gluster.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Volume, 0, len(vols))
	for _, v := range vols {
		out = append(out, fromGluster(v))
	}
	return out, nil
}

// Find lists the volume of that name, without status: an empty list if it
// does not exist.
func (s *Service) Find(ctx context.Context, name string) ([]Volume, error) {
	if err := names.ValidateVolume(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v, err := s.volume(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return []Volume{}, nil
	}
	if err != nil {
		return nil, err
	}
	return []Volume{fromGluster(v)}, nil
}

// Get describes one volume with the online state of its bricks and the
// hosts of its connected clients.
func (s *Service) Get(ctx context.Context, name string) (Volume, error) {
	if err := names.ValidateVolume(name); err != nil {
		return Volume{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v, err := s.volume(ctx, name)
	if err != nil {
		return Volume{}, err
	}
	vol := fromGluster(v)
	if !v.Started() {
		return vol, nil
	}
	st, err := s.gluster.Status(ctx, name)
	if err != nil {
		return Volume{}, fmt.Errorf("status of volume %s: %w", name, err)
	}
	_, addressOf, err := s.pool(ctx)
	if err != nil {
		return Volume{}, err
	}
	online := map[string]bool{}
	for _, b := range st.Bricks {
		online[addressOf(b.Host)+":"+b.Path] = b.Online
	}
	for i, b := range vol.Bricks {
		vol.Bricks[i].Online = online[addressOf(b.Server)+":"+b.Path]
	}
	vol.Clients = clientHosts(st, addressOf)
	s.addCapacity(ctx, &vol, addressOf)
	return vol, nil
}

func (s *Service) volume(ctx context.Context, name string) (glustercli.Volume, error) {
	v, err := s.gluster.Volume(ctx, name)
	if errors.Is(err, glustercli.ErrNotFound) {
		return v, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return v, err
}

// clientHosts lists the hosts connected to any brick, leaving out one
// connection per brick for each daemon that runs on a server: the self-heal
// daemons, and the quota daemons of a volume with a size limit, are clients
// of every brick too. A connection from a server whose daemon glusterd
// reports offline counts as a client's: nothing gluster reports tells a
// daemon's connection from a FUSE mount's (`volume status VOL client-list`
// counts connections by kind, without hosts and, in 10.3, not in XML), and
// a volume must not be deleted under a mount. A self-heal daemon that runs
// while glusterd reports it offline is one glusterd lost track of; its
// server repairs it within seconds (package selfheal).
func clientHosts(st glustercli.Status, addressOf func(string) string) []string {
	daemons := map[string]int{}
	for _, d := range slices.Concat(st.SelfHeal, st.Quota) {
		if d.Online {
			daemons[addressOf(d.Host)]++
		}
	}
	hosts := map[string]bool{}
	for _, b := range st.Bricks {
		perHost := map[string]int{}
		for _, c := range b.Clients {
			host := c
			if i := strings.LastIndex(c, ":"); i > 0 {
				host = c[:i]
			}
			perHost[addressOf(host)]++
		}
		for host, n := range perHost {
			if n > daemons[host] {
				hosts[host] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(hosts))
}

// Peers lists the storage pool.
func (s *Service) Peers(ctx context.Context) ([]Peer, error) {
	peers, _, err := s.pool(ctx)
	return peers, err
}

// pool lists the storage pool, each member under one address (see
// address), and returns the function that maps any name gluster uses for a
// member onto that address; "localhost", gluster's name for the node that
// answered, becomes this server's address.
func (s *Service) pool(ctx context.Context) ([]Peer, func(string) string, error) {
	members, err := s.gluster.Peers(ctx)
	if err != nil {
		return nil, nil, err
	}
	alias := map[string]string{"localhost": s.self}
	peers := make([]Peer, 0, len(members))
	for _, m := range members {
		addr := s.self
		if m.Hostname != "localhost" {
			addr = s.address(ctx, m)
		}
		for _, h := range append(m.Hostnames, m.Hostname) {
			if h != "localhost" {
				alias[h] = addr
			}
		}
		peers = append(peers, Peer{Address: addr, UUID: m.UUID, Connected: m.Connected, Self: m.Hostname == "localhost"})
	}
	slices.SortFunc(peers, func(a, b Peer) int { return strings.Compare(a.Address, b.Address) })
	addressOf := func(host string) string {
		if a, ok := alias[host]; ok {
			return a
		}
		return host
	}
	return peers, addressOf, nil
}

// address is the address a pool member is listed and given bricks under:
// an IP address it is known by or, for a member known by names only, the
// address its name resolves to here. Gluster knows a peer that probed this
// server first by the name a reverse lookup of its address gave, a name
// clients may not resolve (a container's name on a Docker network), until
// this server probes the peer's address in turn. A name that does not
// resolve is kept.
func (s *Service) address(ctx context.Context, p glustercli.Peer) string {
	for _, h := range p.Hostnames {
		if net.ParseIP(h) != nil {
			return h
		}
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	if addrs, err := s.lookupHost(ctx, p.Hostname); err == nil && len(addrs) > 0 {
		return addrs[0]
	}
	return p.Hostname
}

// Create creates and starts a replicated volume. A volume that exists with
// the same layout is returned as it is; on any failure nothing is left
// behind: no volume, no brick directory.
func (s *Service) Create(ctx context.Context, req CreateRequest) (vol Volume, created bool, err error) {
	if err := validateCreate(req, s.options); err != nil {
		return Volume{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.logger.With("volume", req.Name)
	took := logging.StartSteps()

	p, err := s.poolLoad(ctx)
	if err != nil {
		return Volume{}, false, err
	}
	if existing, ok := p.volume(req.Name); ok {
		return s.adopt(ctx, req, existing)
	}
	if parent, subdir, ok := p.subvolume(req.Name); ok {
		// Docker volume names are unique in the cluster: a plugin that
		// did not know of it yet is told, not given a second volume.
		return Volume{}, false, fmt.Errorf("%w: Docker volume %s is subdirectory %s of volume %s", ErrConflict, req.Name, subdir, parent)
	}
	servers, replica, err := s.placement(p, req)
	if err != nil {
		return Volume{}, false, err
	}
	took.Step("placement")
	owner := newOwner()
	if err := s.makeBricks(ctx, req.Name, owner, servers); errors.Is(err, ErrInUse) {
		return s.awaitConcurrentCreate(ctx, req, err)
	} else if err != nil {
		return Volume{}, false, err
	}
	took.Step("bricks")
	bricks := make([]glustercli.Brick, len(servers))
	for i, server := range servers {
		bricks[i] = glustercli.Brick{Host: server, Path: s.brickPath(req.Name)}
	}
	witness := s.thinArbiter(replica, len(servers), req.Arbiter)
	log.Info("creating volume", "replica", replica, "arbiter", req.Arbiter, "witness", witness, "servers", servers, "owner", owner)
	err = s.gluster.Create(ctx, glustercli.CreateArgs{Name: req.Name, Replica: replica, Arbiter: req.Arbiter, ThinArbiter: witness, Bricks: bricks})
	if err != nil {
		s.removeBricks(ctx, req.Name, owner, servers)
	}
	if errors.Is(err, glustercli.ErrExists) {
		// Created through another server meanwhile.
		return s.awaitConcurrentCreate(ctx, req, err)
	}
	if err != nil {
		return Volume{}, false, fmt.Errorf("creating volume %s on %s: %w", req.Name, strings.Join(servers, ", "), err)
	}
	took.Step("create")
	v, err := s.configureAndStart(ctx, req, replica, witness, owner, took)
	var startErr *startError
	if errors.As(err, &startErr) {
		log.Warn("rolling back volume", "error", err)
		if rerr := s.destroy(ctx, req.Name, owner, servers, false); rerr != nil {
			log.Error("rollback failed", "error", rerr)
			err = fmt.Errorf("%w; rolling back also failed: %w", err, rerr)
		}
		return Volume{}, false, err
	}
	if err != nil {
		return Volume{}, false, err
	}
	log.Info("volume created", append([]any{"id", v.ID}, took.Attrs()...)...)
	return fromGluster(v), true, nil
}

// startError is a failure to configure or start a new volume, which the
// create rolls back.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// concurrentCreateWait bounds how long a create waits for the volume that
// another create of the same name, through another server, is making: that
// takes a few seconds from its brick directories to the started volume,
// and more than 15 s was seen with both cores busy; Docker gives a create
// two minutes.
const concurrentCreateWait = 30 * time.Second

// concurrentCreatePoll is how often the waiting create looks.
const concurrentCreatePoll = 500 * time.Millisecond

// awaitConcurrentCreate waits until the volume that another create of the
// same name is making is started, its options set, and adopts it; busy is
// the error that said another create was under way, returned if the volume
// does not appear.
func (s *Service) awaitConcurrentCreate(ctx context.Context, req CreateRequest, busy error) (Volume, bool, error) {
	s.logger.Info("waiting for a create of the same volume through another server", "volume", req.Name)
	deadline := time.Now().Add(concurrentCreateWait)
	for {
		existing, err := s.volume(ctx, req.Name)
		last := time.Now().After(deadline)
		switch {
		case err == nil && (existing.Started() || last):
			return s.adopt(ctx, req, existing)
		case err != nil && !errors.Is(err, ErrNotFound):
			return Volume{}, false, err
		case last:
			return Volume{}, false, fmt.Errorf("%w: %w", ErrConflict, busy)
		}
		select {
		case <-ctx.Done():
			return Volume{}, false, fmt.Errorf("%w (gave up: %w)", busy, ctx.Err())
		case <-time.After(concurrentCreatePoll):
		}
	}
}

// configureAndStart sets a new volume's options and starts it, and returns
// it as glusterd describes it. The description is asked for while the
// volume starts: reading it needs no transaction, and a start takes
// longer than a read, so the answer costs no time of its own.
func (s *Service) configureAndStart(ctx context.Context, req CreateRequest, replica int, witness, owner string, took *logging.Steps) (glustercli.Volume, error) {
	// One transaction for all options: each costs glusterd as much as a
	// volume start.
	options := layoutOptions(replica, req.Arbiter, witness)
	maps.Copy(options, req.Options)
	options[CreatedAtOption] = time.Now().UTC().Format(time.RFC3339)
	options[BrickOwnerOption] = owner
	if req.OnRemove != "" {
		options[OnRemoveOption] = req.OnRemove
	}
	maps.Copy(options, s.transport)
	if err := s.gluster.Set(ctx, req.Name, options); err != nil {
		return glustercli.Volume{}, &startError{fmt.Errorf("%w: setting the options of volume %s: %w", ErrInvalid, req.Name, err)}
	}
	took.Step("options")
	var described glustercli.Volume
	var describeErr error
	var wg sync.WaitGroup
	wg.Go(func() { described, describeErr = s.volume(ctx, req.Name) })
	err := s.gluster.Start(ctx, req.Name)
	wg.Wait()
	took.Step("start")
	if err != nil {
		return glustercli.Volume{}, &startError{fmt.Errorf("starting volume %s: %w", req.Name, err)}
	}
	if req.Size > 0 {
		if err := s.limitRoot(ctx, req, options); err != nil {
			return glustercli.Volume{}, &startError{err}
		}
		took.Step("size")
		// Its limit turned quota on since it was read: read it again.
		return s.volume(ctx, req.Name)
	}
	if describeErr != nil {
		return glustercli.Volume{}, describeErr
	}
	// Read while it started: it is started now.
	described.Status = "Started"
	return described, nil
}

// adopt returns an existing volume if it has the requested layout, and
// starts it if it was left created but not started.
func (s *Service) adopt(ctx context.Context, req CreateRequest, v glustercli.Volume) (Volume, bool, error) {
	if err := sameLayout(req, v); err != nil {
		return Volume{}, false, fmt.Errorf("%w: volume %s exists with another layout: %w", ErrConflict, req.Name, err)
	}
	if !v.Started() {
		if err := s.gluster.Start(ctx, req.Name); err != nil {
			return Volume{}, false, fmt.Errorf("starting existing volume %s: %w", req.Name, err)
		}
		v.Status = "Started"
	}
	if err := s.limitRoot(ctx, req, v.Options); err != nil {
		return Volume{}, false, err
	}
	if Retained(v.Options) {
		if err := s.unretain(ctx, req.Name, v.Options); err != nil {
			return Volume{}, false, err
		}
		v.Options[RetainedOption] = notRetained
	}
	return fromGluster(v), false, nil
}

func sameLayout(req CreateRequest, v glustercli.Volume) error {
	if want := max(req.Bricks, req.Replica); want != 0 && len(v.Bricks) != want {
		return fmt.Errorf("it has %d bricks, %d were asked for", len(v.Bricks), want)
	}
	if req.Replica != 0 && replicaOf(v) != req.Replica {
		return fmt.Errorf("it has replica %d, replica %d was asked for", replicaOf(v), req.Replica)
	}
	if req.Arbiter != (v.Arbiter > 0) {
		return fmt.Errorf("arbiter is %t, %t was asked for", v.Arbiter > 0, req.Arbiter)
	}
	for _, b := range v.Bricks {
		if len(req.Servers) > 0 && !slices.Contains(req.Servers, b.Host) {
			return fmt.Errorf("its brick on %s is outside the servers asked for", b.Host)
		}
	}
	for k, want := range req.Options {
		if got, ok := v.Options[k]; !ok || got != want {
			return fmt.Errorf("option %s is %q, %q was asked for", k, got, want)
		}
	}
	return nil
}

// Start starts a volume the plugin created.
func (s *Service) Start(ctx context.Context, name string) error {
	return s.change(ctx, name, "starting", s.gluster.Start)
}

// Stop stops a volume the plugin created; connected clients lose it.
func (s *Service) Stop(ctx context.Context, name string) error {
	return s.change(ctx, name, "stopping", s.gluster.Stop)
}

func (s *Service) change(ctx context.Context, name, what string, op func(context.Context, string) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.pluginVolume(ctx, name, what); err != nil {
		return err
	}
	s.logger.Info(what+" volume", "volume", name)
	if err := op(ctx, name); err != nil {
		return fmt.Errorf("%s volume %s: %w", what, name, err)
	}
	return nil
}

// pluginVolume looks up a volume the plugin created, for the change what;
// the caller holds s.mu.
func (s *Service) pluginVolume(ctx context.Context, name, what string) (glustercli.Volume, error) {
	if err := names.ValidateVolume(name); err != nil {
		return glustercli.Volume{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v, err := s.volume(ctx, name)
	if err != nil {
		return v, err
	}
	return v, madeByPlugin(name, v.Options, what)
}

// serverClientWait bounds how long a delete looks again at a volume whose
// only clients are servers of the pool: gluster's heal queries (behind
// `docker volume inspect`, a metrics scrape, gluster-admin) run a client on
// a server for a second or so, longer while a brick is down. A mount on a
// storage host stays connected and is refused after the wait.
const serverClientWait = 8 * time.Second

// serverClientRetry spaces out those looks.
var serverClientRetry = backoff.Policy{First: 250 * time.Millisecond, Max: time.Second}

// settledClients describes a volume for a delete, waiting up to
// serverClientWait while its only clients are servers of the pool.
func (s *Service) settledClients(ctx context.Context, name string) (Volume, error) {
	wait, cancel := context.WithTimeout(ctx, serverClientWait)
	defer cancel()
	var v Volume
	var err error
	for range serverClientRetry.Attempts(wait) {
		if v, err = s.Get(ctx, name); err != nil || len(v.Clients) == 0 {
			return v, err
		}
		peers, _, err := s.pool(ctx)
		if err != nil {
			return v, err
		}
		if slices.ContainsFunc(v.Clients, func(host string) bool {
			return !slices.ContainsFunc(peers, func(p Peer) bool { return p.Address == host })
		}) {
			return v, nil // a client host that is no server: no query of ours
		}
		s.logger.Info("volume has clients on servers only, looking again", "volume", name, "clients", v.Clients)
	}
	return v, err
}

// madeByPlugin refuses a change to a volume without the plugin's label:
// volumes made with the gluster CLI belong to whoever made them.
func madeByPlugin(name string, options map[string]string, what string) error {
	if options[DockerVolumeOption] == "" {
		return fmt.Errorf("%w: not %s volume %s: it has no %s label, so the plugin did not create it; manage it with the gluster CLI",
			ErrConflict, what, name, DockerVolumeOption)
	}
	return nil
}

// Delete stops and deletes a volume the plugin created and removes its
// brick directories. It refuses while clients are connected, naming their
// hosts, and while Docker volumes made of its subdirectories are recorded
// on it.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := names.ValidateVolume(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.settledClients(ctx, name)
	if err != nil {
		return err
	}
	if err := madeByPlugin(name, v.Options, "deleting"); err != nil {
		return err
	}
	if err := refuseSubvolumes(name, v.Options); err != nil {
		return err
	}
	if len(v.Clients) > 0 {
		return fmt.Errorf("%w: volume %s has clients connected from %s: unmount it there first",
			ErrInUse, name, strings.Join(v.Clients, ", "))
	}
	servers := make([]string, len(v.Bricks))
	for i, b := range v.Bricks {
		servers[i] = b.Server
	}
	return s.destroy(ctx, name, v.Options[BrickOwnerOption], servers, v.Status == "Started")
}

// destroy stops and deletes a volume, then removes the brick directories
// owner made on servers. A volume without an owner, made before brick
// directories were marked, keeps them. If restart is set, a volume that
// cannot be deleted once stopped is started again, so that it stays usable.
func (s *Service) destroy(ctx context.Context, name, owner string, servers []string, restart bool) error {
	s.logger.Info("deleting volume", "volume", name, "servers", servers)
	if err := s.gluster.Stop(ctx, name); err != nil {
		return fmt.Errorf("stopping volume %s: %w", name, err)
	}
	if err := s.gluster.Delete(ctx, name); err != nil {
		err = fmt.Errorf("deleting volume %s (every server of the pool must be up): %w", name, err)
		if restart {
			err = s.restartAfterFailedDelete(ctx, name, err)
		}
		return err
	}
	if owner == "" {
		return fmt.Errorf("volume %s deleted, but its brick directory %s is left on %s: it was made before brick directories were marked, so remove it there by hand before reusing the name",
			name, s.brickPath(name), strings.Join(servers, ", "))
	}
	failed := s.removeBricks(ctx, name, owner, servers)
	if len(failed) == 0 {
		return nil
	}
	// The volume is gone; what is left of it is removed once its
	// servers answer again.
	if err := s.recordLeftovers(name, owner, failed); err != nil {
		return fmt.Errorf("volume %s deleted, but its brick directory %s is left on %s: remove it there before reusing the name (%w)",
			name, s.brickPath(name), strings.Join(failed, ", "), err)
	}
	s.logger.Warn("volume deleted; its brick directories there are removed once those servers answer", "volume", name, "servers", failed)
	return nil
}

// restartAfterFailedDelete starts a volume whose delete failed after it was
// stopped and says so in the error: a stopped volume would leave its Docker
// volume unusable.
func (s *Service) restartAfterFailedDelete(ctx context.Context, name string, failed error) error {
	if err := s.gluster.Start(ctx, name); err != nil {
		s.logger.Error("starting volume again after a failed delete", "volume", name, "error", err)
		return fmt.Errorf("%w; starting it again also failed, it stays stopped until `gluster volume start %s`: %w", failed, name, err)
	}
	s.logger.Warn("delete failed, volume started again", "volume", name, "error", failed)
	return fmt.Errorf("%w; the volume was started again and stays usable: retry once every server is up", failed)
}

func (s *Service) brickPath(volume string) string {
	return path.Join(s.brickRoot, volume)
}

// replicaOf is the number of bricks in each of a volume's replica sets:
// gluster's replica count for a distributed-replicated volume, all bricks
// otherwise.
func replicaOf(v glustercli.Volume) int {
	if v.Replica > 0 && len(v.Bricks) > v.Replica && len(v.Bricks)%v.Replica == 0 {
		return v.Replica
	}
	return len(v.Bricks)
}

func fromGluster(v glustercli.Volume) Volume {
	vol := Volume{
		Name:      v.Name,
		ID:        v.ID,
		Status:    v.Status,
		Replica:   replicaOf(v),
		Arbiter:   v.Arbiter > 0,
		Witness:   v.Options[WitnessOption],
		CreatedAt: v.Options[CreatedAtOption],
		Options:   v.Options,
		Bricks:    make([]Brick, len(v.Bricks)),
	}
	for i, b := range v.Bricks {
		vol.Bricks[i] = Brick{Server: b.Host, Path: b.Path, Arbiter: b.Arbiter}
	}
	return vol
}
