package testbed

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/pki"
)

// ServerImage is the image `make server-image` builds: GlusterFS 10 on
// Debian 12.
const ServerImage = "gluster-server:latest"

// ServerImageTrixie is the image `make server-image-trixie` builds:
// GlusterFS 11 on Debian 13.
const ServerImageTrixie = "gluster-server:latest-trixie"

// StateRoot holds every test cluster's host directories.
const StateRoot = "/var/lib/gluster-testbed"

// Cluster is a set of server containers standing in for storage hosts.
type Cluster struct {
	Name    string
	Network string // the servers' bridge network; none for host-bound servers
	Token   string
	Servers []*Server
	docker  dockerFunc // the daemon of the bridge network
	tls     bool       // the servers run with TLS=on
	// onNode: the servers live in a node's network namespace, which the
	// test process cannot reach.
	onNode bool
}

// dockerFunc runs the docker CLI against one daemon.
type dockerFunc func(ctx context.Context, args ...string) (string, error)

// dockerInputFunc runs the docker CLI against one daemon with input as its
// standard input.
type dockerInputFunc func(ctx context.Context, input io.Reader, args ...string) (string, error)

// Server is one storage host: a container with a static address whose
// state and bricks live in host directories.
type Server struct {
	cluster *Cluster
	Name    string // container name
	Address string
	Dir     string     // host directory with glusterd/, log/ and bricks/
	docker  dockerFunc // the daemon the container runs on
	// dockerInput is docker with the CLI's standard input.
	dockerInput dockerInputFunc
	// hostBound servers run on their node's network, as on a storage
	// host, and come back with its daemon.
	hostBound bool
	// Peers, if set, are the servers this one probes (PEERS) instead of
	// every server of the cluster.
	Peers []string
	// Image is the server image Run runs; ServerImage if empty.
	Image string
	// Env are more settings of the server, KEY=VALUE.
	Env []string
	// HealthCheck runs the image's health check every 2 s; servers run
	// without it otherwise, since each check asks for the heal progress of
	// every volume, which tests with many volumes would pay for.
	HealthCheck bool
}

// NewCluster prepares n servers on the network 172.30.<octet>.0/24 (the
// first at .11) and removes what an earlier run with the same name left. It
// starts nothing; the cluster is removed when the test ends.
func NewCluster(t testing.TB, name string, octet, n int) *Cluster {
	t.Helper()
	return newCluster(t, Docker, DockerInput, name, octet, n)
}

// NewClusterOn is NewCluster on a node's daemon: the servers live in the
// node's network namespace, where the test process cannot reach them, so
// tests look at them through `docker exec` (Gluster) rather than Client.
func NewClusterOn(t testing.TB, node *Node, name string, octet, n int) *Cluster {
	t.Helper()
	c := newCluster(t, node.Docker, node.DockerInput, name, octet, n)
	c.onNode = true
	return c
}

func newCluster(t testing.TB, docker dockerFunc, dockerInput dockerInputFunc, name string, octet, n int) *Cluster {
	t.Helper()
	c := &Cluster{Name: name, Network: name + "-net", Token: clusterToken(name), docker: docker}
	for i := 1; i <= n; i++ {
		c.Servers = append(c.Servers, &Server{
			cluster: c,
			Name:    fmt.Sprintf("%s-srv%d", name, i),
			Address: fmt.Sprintf("172.30.%d.%d", octet, 10+i),
			Dir:     filepath.Join(StateRoot, name, fmt.Sprintf("srv%d", i)),
			docker:  docker,

			dockerInput: dockerInput,
		})
	}
	c.setUp(t, fmt.Sprintf("172.30.%d.0/24", octet))
	return c
}

// NewHostCluster prepares one host-bound server on each node, as storage
// hosts run them: on the node's network at its address, with its state and
// bricks in the node's directory and a restart policy that brings it back
// with the node's daemon. It starts nothing; the servers are removed when
// the test ends. The test process cannot reach them: tests look at them
// through `docker exec` (CLI, Gluster).
func NewHostCluster(t testing.TB, name string, nodes ...*Node) *Cluster {
	t.Helper()
	c := &Cluster{Name: name, Token: clusterToken(name), onNode: true}
	for i, n := range nodes {
		c.Servers = append(c.Servers, &Server{
			cluster:   c,
			Name:      fmt.Sprintf("%s-srv%d", name, i+1),
			Address:   n.Address,
			Dir:       filepath.Join(n.Dir, name),
			docker:    n.Docker,
			hostBound: true,

			dockerInput: n.DockerInput,
		})
	}
	c.setUp(t, "")
	return c
}

// clusterToken is a test cluster's control API token: its name, with a
// suffix that makes every token long enough for the servers and plugins to
// accept, whatever the name.
func clusterToken(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "token-" + name + "-" + hex.EncodeToString(sum[:8])
}

// setUp removes what an earlier run left, creates the network on subnet
// (if the cluster has one) and the servers' directories, and removes them
// all when the test ends.
func (c *Cluster) setUp(t testing.TB, subnet string) {
	t.Helper()
	c.Remove(t)
	if c.Network != "" {
		c.must(t, "network", "create", "--subnet", subnet, "--label", "gluster-testbed="+c.Name, c.Network)
	}
	for _, s := range c.Servers {
		for _, sub := range []string{"glusterd", "log", "bricks"} {
			if err := os.MkdirAll(filepath.Join(s.Dir, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs(t)
		}
		c.Remove(t)
	})
}

// Remove deletes the cluster's containers, network and host directories.
func (c *Cluster) Remove(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for _, s := range c.Servers {
		if _, err := s.docker(ctx, "container", "inspect", s.Name); err == nil {
			s.must(t, "rm", "-f", "-v", s.Name)
		}
		if err := os.RemoveAll(s.Dir); err != nil {
			t.Errorf("removing the state of %s: %v", s.Name, err)
		}
	}
	if c.Network == "" {
		return
	}
	if _, err := c.docker(ctx, "network", "inspect", c.Network); err == nil {
		c.must(t, "network", "rm", c.Network)
	}
	if err := os.RemoveAll(filepath.Join(StateRoot, c.Name)); err != nil {
		t.Errorf("removing test state: %v", err)
	}
}

func (c *Cluster) dumpLogs(t testing.TB) {
	for _, s := range c.Servers {
		out, err := s.docker(context.Background(), "logs", "--tail", "40", s.Name)
		t.Logf("last log lines of %s:\n%s %v", s.Name, out, err)
	}
}

// Addresses lists the servers' addresses.
func (c *Cluster) Addresses() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Address
	}
	return out
}

// StartAll runs every server container.
func (c *Cluster) StartAll(t testing.TB) {
	t.Helper()
	for _, s := range c.Servers {
		s.Run(t)
	}
}

// Run creates and starts the server's container, bound to its host
// directories, as a storage host's unit would.
func (s *Server) Run(t testing.TB) {
	t.Helper()
	peers := s.Peers
	if peers == nil {
		peers = s.cluster.Addresses()
	}
	network := []string{"--hostname", s.Name, "--network", s.cluster.Network, "--ip", s.Address}
	if s.hostBound {
		network = []string{"--network", "host", "--restart", "unless-stopped"}
	}
	// Servers run with TLS only in clusters that ask for it (UseTLS):
	// the other tests' clients speak plain HTTP and mount without
	// certificates.
	env := []string{"-e", "TLS=off"}
	for _, kv := range s.Env {
		env = append(env, "-e", kv)
	}
	health := []string{"--no-healthcheck"}
	if s.HealthCheck {
		health = []string{"--health-interval", "2s", "--health-start-period", "0s"}
	}
	env = append(env, health...)
	s.must(t, append(append(append([]string{"run", "-d", "--name", s.Name}, network...), env...),
		"--cap-add", "SYS_ADMIN", "--tmpfs", "/run", "--device", "/dev/fuse",
		"--label", "gluster-testbed="+s.cluster.Name,
		"-e", "ADDRESS="+s.Address,
		"-e", "PEERS="+strings.Join(peers, ","),
		"-e", "TOKEN="+s.cluster.Token,
		"-e", "METRICS_ADDRESS="+s.MetricsAddress(),
		"-v", filepath.Join(s.Dir, "glusterd")+":/var/lib/glusterd",
		"-v", filepath.Join(s.Dir, "log")+":/var/log/glusterfs",
		"-v", filepath.Join(s.Dir, "bricks")+":/bricks",
		cmp.Or(s.Image, ServerImage))...)
}

// Recreate removes the container and runs a new one on the same host
// directories.
func (s *Server) Recreate(t testing.TB) {
	t.Helper()
	s.must(t, "rm", "-f", "-v", s.Name)
	s.Run(t)
}

// Destroy removes the server's container and its host directories, as when
// a storage host dies for good.
func (s *Server) Destroy(t testing.TB) {
	t.Helper()
	s.must(t, "rm", "-f", "-v", s.Name)
	if err := os.RemoveAll(s.Dir); err != nil {
		t.Fatalf("removing the state of %s: %v", s.Name, err)
	}
}

// Admin runs the admin command inside the server container.
func (s *Server) Admin(ctx context.Context, args ...string) (string, error) {
	return s.docker(ctx, append([]string{"exec", s.Name, "gluster-admin"}, args...)...)
}

// Stop stops the server's container, as a storage host's unit would.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.must(t, "stop", s.Name)
}

// Start starts the server's stopped container again.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.must(t, "start", s.Name)
}

// Kill kills the server's container at once (SIGKILL), as a power cut
// would; Start brings it back.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.must(t, "kill", "--signal", "KILL", s.Name)
}

// Restart stops the server's container and starts it again.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.must(t, "restart", s.Name)
}

// Pause freezes the server's container: its processes stop answering but
// keep their connections, as on a host that hangs.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	s.must(t, "pause", s.Name)
}

// Unpause lets a paused server's container run again.
func (s *Server) Unpause(t testing.TB) {
	t.Helper()
	s.must(t, "unpause", s.Name)
}

// MetricsPort is where every test server serves its metrics.
const MetricsPort = 9475

// MetricsAddress is where the server serves its metrics.
func (s *Server) MetricsAddress() string {
	return net.JoinHostPort(s.Address, strconv.Itoa(MetricsPort))
}

// Client returns a control API client for this server, over TLS with the
// cluster's CA in a cluster with TLS. A server in a node's network
// namespace gets a client that dials nothing: its address means nothing
// outside the node, and a request would leave through the host's default
// route.
func (s *Server) Client() *control.Client {
	transport := &http.Transport{}
	refuse := func(err error) {
		transport.DialContext = func(context.Context, string, string) (net.Conn, error) { return nil, err }
	}
	if s.cluster.tls {
		// Until the first server made the CA, there is nothing to verify
		// against: the client fails, and callers that wait try again.
		transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS13}
		if ca := s.cluster.ca(); ca != nil {
			transport.TLSClientConfig = pki.ClientTLS(ca)
		} else {
			refuse(fmt.Errorf("testbed: cluster %s has no CA yet", s.cluster.Name))
		}
	}
	if s.cluster.onNode {
		refuse(fmt.Errorf("testbed: %s lives in a node's network namespace, out of the test's reach: look at it through CLI or Gluster", s.Name))
	}
	return control.NewClient(s.Address, control.DefaultPort, s.cluster.Token, &http.Client{Timeout: 3 * time.Minute, Transport: transport})
}

// BrickDir is the host directory of this server's brick of volume.
func (s *Server) BrickDir(volume string) string {
	return filepath.Join(s.Dir, "bricks", volume)
}

// Gluster runs a read-only gluster command inside the server container,
// for diagnostics the control API does not offer.
func (s *Server) Gluster(ctx context.Context, args ...string) (string, error) {
	return s.docker(ctx, append([]string{"exec", s.Name, "gluster", "--mode=script"}, args...)...)
}

// GlusterBatch runs gluster commands, one a line, through a single gluster
// CLI session in the server container: far faster than a `docker exec` per
// command when a test needs hundreds of them. The output has a line per
// command; the session's exit status does not tell whether each succeeded.
func (s *Server) GlusterBatch(ctx context.Context, commands []string) (string, error) {
	input := strings.NewReader(strings.Join(commands, "\n") + "\n")
	return s.dockerInput(ctx, input, "exec", "-i", s.Name, "gluster", "--mode=script")
}

// CLI reads gluster's state inside the server container, through the same
// parser the control API uses: for servers the test process cannot reach.
func (s *Server) CLI() *glustercli.CLI {
	exec := func(ctx context.Context, name string, args ...string) ([]byte, error) {
		out, err := s.docker(ctx, append([]string{"exec", s.Name, name}, args...)...)
		// As glustercli.Exec: gluster --xml may exit non-zero with its
		// answer.
		if err != nil && out == "" {
			return nil, err
		}
		return []byte(out), nil
	}
	return glustercli.New(glustercli.DefaultSocket, exec, 30*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func (s *Server) must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.docker(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (c *Cluster) must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.docker(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitPool waits until every server answers on the control API and sees
// every other server connected.
func (c *Cluster) WaitPool(t testing.TB, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, "storage pool formed", c.PoolComplete)
}

// WaitMembers waits until each of the servers answers on the control API
// and sees all of them connected, whatever the cluster's other servers do.
func WaitMembers(t testing.TB, timeout time.Duration, servers ...*Server) {
	t.Helper()
	addresses := make([]string, len(servers))
	for i, s := range servers {
		addresses[i] = s.Address
	}
	Eventually(t, timeout, "pool of "+strings.Join(addresses, ", "), func() error {
		for _, s := range servers {
			if err := s.poolComplete(addresses); err != nil {
				return err
			}
		}
		return nil
	})
}

// PoolComplete checks once that every server answers and sees every server
// connected under its address: a server glusterd knows only by a name it
// learned by reverse lookup would get bricks clients cannot reach.
func (c *Cluster) PoolComplete() error {
	for _, s := range c.Servers {
		if err := s.poolComplete(c.Addresses()); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) poolComplete(addresses []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	connected, peers, err := s.connectedPeers(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	for _, addr := range addresses {
		if !slices.Contains(connected, addr) {
			return fmt.Errorf("%s does not see %s connected under that address: %+v", s.Name, addr, peers)
		}
	}
	return nil
}

// connectedPeers lists the addresses of the servers a server sees
// connected, itself included, asking its control API or, for a host-bound
// server the test process cannot reach, gluster inside its container; peers
// describes them all.
func (s *Server) connectedPeers(ctx context.Context) (connected []string, peers any, err error) {
	if s.hostBound {
		list, err := s.CLI().Peers(ctx)
		for _, p := range list {
			switch {
			case p.Hostname == "localhost":
				connected = append(connected, s.Address)
			case p.Connected:
				connected = append(append(connected, p.Hostname), p.Hostnames...)
			}
		}
		return connected, list, err
	}
	list, err := s.Client().Peers(ctx)
	for _, p := range list {
		if p.Connected {
			connected = append(connected, p.Address)
		}
	}
	return connected, list, err
}

// WaitBricksOnline waits until every brick of volume is online.
func (c *Cluster) WaitBricksOnline(t testing.TB, volume string, timeout time.Duration) control.Volume {
	t.Helper()
	var vol control.Volume
	Eventually(t, timeout, "bricks of "+volume+" online", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		vol, err = c.Volume(ctx, volume)
		if err != nil {
			return err
		}
		for _, b := range vol.Bricks {
			if !b.Online {
				return fmt.Errorf("brick %s:%s offline", b.Server, b.Path)
			}
		}
		return nil
	})
	return vol
}

// Volume asks the servers in turn for a volume until one answers.
func (c *Cluster) Volume(ctx context.Context, name string) (control.Volume, error) {
	var errs []error
	for _, s := range c.Servers {
		vol, err := s.Client().Volume(ctx, name)
		if err == nil || errors.Is(err, control.ErrNotFound) {
			return vol, err
		}
		errs = append(errs, err)
	}
	return control.Volume{}, errors.Join(errs...)
}

// MountFUSE mounts volume from the host through server with the gluster
// client, and unmounts it when the test ends.
func MountFUSE(t testing.TB, server, volume string) string {
	t.Helper()
	dir := t.TempDir()
	MustRun(t, "mount", "-t", "glusterfs", server+":/"+volume, dir)
	t.Cleanup(func() { _, _ = Run(context.Background(), "umount", dir) })
	return dir
}
