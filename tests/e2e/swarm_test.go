//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// swarmBed is a one-node Swarm on an isolated daemon, with two storage
// servers and the plugin installed as "gluster", as on a user's host: with
// TLS, the servers' default, and the plugin pinned to their CA.
type swarmBed struct {
	node    *testbed.Node
	cluster *testbed.Cluster
}

func newSwarmBed(t *testing.T) *swarmBed {
	t.Helper()
	ensureStandinImages(t, "web")
	return newSwarmBedOn(t, testbed.StartNode(t, "gte2e-swarm", 21), "gte2e-swarm", 133)
}

// newSwarmBedOn is newSwarmBed on a node already started, with the servers
// of cluster on 172.30.<octet>.0/24 in the node.
func newSwarmBedOn(t *testing.T, node *testbed.Node, cluster string, octet int) *swarmBed {
	t.Helper()
	node.LoadImages(t, testbed.ServerImage, standinWeb)
	c := testbed.NewClusterOn(t, node, cluster, octet, 2)
	c.UseTLS()
	c.StartAll(t)
	b := &swarmBed{node: node, cluster: c}
	waitPoolOn(t, c)
	node.CreatePlugin(t, "gluster", strings.Join(c.Addresses(), ","), c.Token, "CA_FINGERPRINT="+c.CAFingerprint(t))
	node.MustDocker(t, "swarm", "init", "--advertise-addr", node.Address)
	return b
}

// get fetches a page from the node's published port 80, from inside the
// node's network namespace.
func (b *swarmBed) get(path string) (int, string, error) {
	out, err := testbed.Run(context.Background(), "ip", "netns", "exec", b.node.Name,
		"curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", "http://"+b.node.Address+path)
	if err != nil {
		return 0, "", err
	}
	body, code, _ := strings.Cut(out, "\n")
	if i := strings.LastIndex(out, "\n"); i >= 0 {
		body, code = out[:i], out[i+1:]
	}
	var status int
	fmt.Sscanf(code, "%d", &status)
	return status, body, nil
}

func (b *swarmBed) waitServes(t *testing.T, path, want string, timeout time.Duration) {
	t.Helper()
	testbed.Eventually(t, timeout, "GET "+path+" serves "+want, func() error {
		code, body, err := b.get(path)
		if err != nil {
			return err
		}
		if code != 200 || !strings.Contains(body, want) {
			return fmt.Errorf("status %d, body %.80q", code, body)
		}
		return nil
	})
}

// write appends a line to a file on the volume from the game server's task,
// which mounts it read-write.
func (b *swarmBed) write(t *testing.T, line string) {
	t.Helper()
	testbed.Eventually(t, time.Minute, "write "+line, func() error {
		id, err := b.node.Docker(context.Background(), "ps", "-q", "--filter", "label=com.docker.swarm.service.name=asteroids_game")
		if err != nil || id == "" {
			return fmt.Errorf("game task: %q, %v", id, err)
		}
		_, err = b.node.Docker(context.Background(), "exec", strings.Fields(id)[0], "sh", "-c", "echo "+line+" >> /data/writes.txt")
		return err
	})
	b.waitServes(t, "/writes.txt", line, time.Minute)
}

func (b *swarmBed) waitBricksOnline(t *testing.T, volume string) {
	t.Helper()
	waitBricksOnline(t, b.cluster.Servers[0], volume, len(b.cluster.Servers))
}

// waitBricksOnline waits until the server, asked through gluster inside its
// container, sees want bricks of volume online.
func waitBricksOnline(t *testing.T, asked *testbed.Server, volume string, want int) {
	t.Helper()
	testbed.Eventually(t, 2*time.Minute, "bricks of "+volume+" online", func() error {
		st, err := asked.CLI().Status(context.Background(), volume)
		if err != nil {
			return err
		}
		online := 0
		for _, br := range st.Bricks {
			if br.Online {
				online++
			}
		}
		if online != want {
			return fmt.Errorf("%d of %d bricks online", online, want)
		}
		return nil
	})
}

func (b *swarmBed) stop(t *testing.T, servers ...*testbed.Server) {
	t.Helper()
	for _, s := range servers {
		s.Stop(t)
	}
}

func (b *swarmBed) start(t *testing.T, servers ...*testbed.Server) {
	t.Helper()
	for _, s := range servers {
		s.Start(t)
	}
}

// TestSwarmStackSurvivesAServerDown deploys the asteroids example as a
// stack and runs the tutorial's availability test on it.
func TestSwarmStackSurvivesAServerDown(t *testing.T) {
	testSwarmStack(t, newSwarmBed(t))
}

func testSwarmStack(t *testing.T, b *swarmBed) {
	srv1, srv2 := b.cluster.Servers[0], b.cluster.Servers[1]
	b.node.MustDocker(t, "stack", "deploy", "--resolve-image", "never",
		"-c", "../../examples/asteroids/docker-stack.yml", "-c", "testdata/asteroids-standin.yml", "asteroids")
	// The stack's volume "content" is asteroids_content: the stack prefix
	// is part of the Docker and the gluster name.
	b.waitServes(t, "/", "<canvas", 3*time.Minute)
	b.write(t, "all-up")
	if v, err := srv1.CLI().Volume(context.Background(), "asteroids_content"); err != nil || v.Options["client.ssl"] != "on" || v.Options["server.ssl"] != "on" {
		t.Errorf("the stack's volume should carry its I/O over TLS: options %v, %v", v.Options, err)
	}

	t.Run("first server down: still serving and writing", func(t *testing.T) {
		b.stop(t, srv1)
		b.waitServes(t, "/", "<canvas", 30*time.Second)
		b.write(t, "srv1-down")
		b.start(t, srv1)
		b.waitBricksOnline(t, "asteroids_content")
		// Only srv2 holds the last write: with srv2 stopped before srv1 has
		// it, the next write would leave each brick blaming the other (a
		// split brain, replica 2's known limit).
		waitBricksHealed(t, "asteroids_content", srv1, srv2)
	})
	t.Run("second server down: still serving and writing", func(t *testing.T) {
		b.stop(t, srv2)
		b.waitServes(t, "/", "<canvas", 30*time.Second)
		b.write(t, "srv2-down")
	})
	t.Run("web task restarted with a server down mounts again", func(t *testing.T) {
		b.node.MustDocker(t, "service", "update", "--force", "--detach=false", "--quiet", "asteroids_web")
		b.waitServes(t, "/", "<canvas", time.Minute)
		b.start(t, srv2)
		b.waitBricksOnline(t, "asteroids_content")
	})
	t.Run("both servers down: the site fails, then recovers by itself", func(t *testing.T) {
		b.stop(t, srv1, srv2)
		testbed.Eventually(t, time.Minute, "site fails", func() error {
			if code, _, err := b.get("/writes.txt"); err == nil && code == 200 {
				return errors.New("still serving")
			}
			return nil
		})
		b.start(t, srv1, srv2)
		b.waitServes(t, "/writes.txt", "srv2-down", 3*time.Minute)
	})
	t.Run("after healing every brick holds the same data", func(t *testing.T) {
		b.waitBricksOnline(t, "asteroids_content")
		bricks := waitBricksHealed(t, "asteroids_content", srv1, srv2)
		for _, want := range []string{"index.html", "game.js", "writes.txt"} {
			if bricks[want] == "" {
				t.Errorf("%s missing from the bricks", want)
			}
		}
		data, err := os.ReadFile(filepath.Join(srv2.BrickDir("asteroids_content"), "writes.txt"))
		if err != nil || string(data) != "all-up\nsrv1-down\nsrv2-down\n" {
			t.Errorf("writes.txt on the brick: %q, %v; want every write, in order", data, err)
		}
	})
	b.node.MustDocker(t, "stack", "rm", "asteroids")
	testbed.Eventually(t, time.Minute, "volume removed after the stack", func() error {
		_, err := b.node.Docker(context.Background(), "volume", "rm", "asteroids_content")
		return err
	})
}

// waitBricksHealed waits until the bricks of volume on a and b hold the same
// files, and returns their checksums. While they differ it asks for a heal:
// the self-heal daemon crawls for pending heals only every 10 minutes, and a
// heal asked for just after a brick came back may not reach it yet.
func waitBricksHealed(t *testing.T, volume string, a, b *testbed.Server) map[string]string {
	t.Helper()
	var sums map[string]string
	testbed.Eventually(t, 3*time.Minute, "bricks of "+volume+" identical", func() error {
		first := brickChecksums(t, a.BrickDir(volume))
		second := brickChecksums(t, b.BrickDir(volume))
		if !maps.Equal(first, second) {
			_, err := a.Gluster(context.Background(), "volume", "heal", volume)
			return fmt.Errorf("bricks differ: %v (starting a heal: %v)", differences(first, second), err)
		}
		sums = first
		return nil
	})
	return sums
}

// brickChecksums maps every file of a brick, gluster's own .glusterfs
// directory aside, to its SHA-256.
func brickChecksums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() && rel == ".glusterfs" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		sums[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatalf("reading brick %s: %v", dir, err)
	}
	return sums
}

// differences names the files whose checksums differ between two bricks.
func differences(a, b map[string]string) []string {
	var out []string
	for k := range maps.Keys(a) {
		if a[k] != b[k] {
			out = append(out, k)
		}
	}
	for k := range maps.Keys(b) {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}
