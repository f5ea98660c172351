//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// clusterBed is a small cluster of Docker hosts on one switch, forming one
// Swarm of three managers: gtc-node1 and gtc-node2 are storage hosts, each
// with a host-bound gluster server; gtc-node3 is a client-only host. The
// plugin runs on all three as "gluster", pointed at the two storage hosts,
// as in the tutorial.
type clusterBed struct {
	nodes   []*testbed.Node
	storage *testbed.Cluster
	holds   int // pauses of the writers so far
}

// The names and addresses the multi-node test uses.
const (
	clusterSwitch = "gtc-switch"
	clusterSubnet = "10.69.0.0/24"   // the nodes' network: gtc-node1..3 at .41 to .43
	clusterPool   = "10.69.128.0/17" // Swarm's overlay networks
	clusterStack  = "gtc"
	// The stack's volume "shared", as Docker and gluster name it.
	clusterVolume  = clusterStack + "_shared"
	clusterService = clusterStack + "_writer"
)

func newClusterBed(t *testing.T) *clusterBed {
	t.Helper()
	start := time.Now()
	sw := testbed.StartSwitch(t, clusterSwitch, netip.MustParsePrefix(clusterSubnet))
	b := &clusterBed{}
	for i := range 3 {
		n := testbed.StartNodeOn(t, sw, fmt.Sprintf("gtc-node%d", i+1), 41+i)
		for _, family := range []string{"-4", "-6"} {
			if routes := testbed.MustRun(t, "ip", "-n", n.Name, family, "route"); strings.Contains(routes, "default") {
				t.Fatalf("node %s has a default route:\n%s", n.Name, routes)
			}
		}
		b.nodes = append(b.nodes, n)
	}
	for _, n := range b.nodes[:2] {
		n.LoadImages(t, testbed.ServerImage, testbed.ClientImage)
	}
	b.nodes[2].LoadImages(t, testbed.ClientImage)
	b.storage = testbed.NewHostCluster(t, "gtc-storage", b.nodes[:2]...)
	b.storage.StartAll(t)
	testbed.FormSwarm(t, clusterPool, b.nodes...)
	b.storage.WaitPool(t, poolTimeout)
	for _, n := range b.nodes {
		n.CreatePlugin(t, "gluster", strings.Join(b.storage.Addresses(), ","), b.storage.Token)
	}
	t.Logf("three nodes, two servers, Swarm and plugins ready in %s", time.Since(start).Round(time.Second))
	return b
}

// deploy deploys (or updates) the stack, its service on every node or,
// with only, on that node alone.
func (b *clusterBed) deploy(t *testing.T, only *testbed.Node) {
	t.Helper()
	args := []string{"stack", "deploy", "--resolve-image", "never", "-c", "testdata/cluster-stack.yml"}
	if only != nil {
		// Not in t.TempDir(): docker splits -c at the commas of subtest names.
		override := filepath.Join(b.nodes[0].Dir, "stack-only.yml")
		yml := fmt.Sprintf("version: \"3.8\"\nservices:\n  writer:\n    deploy:\n      placement:\n        constraints: [\"node.hostname == %s\"]\n", only.Name)
		if err := os.WriteFile(override, []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-c", override)
	}
	b.nodes[0].MustDocker(t, append(args, clusterStack)...)
}

// writer is the ID of the writer task's running container on node.
func (b *clusterBed) writer(node *testbed.Node) (string, error) {
	out, err := node.Docker(context.Background(), "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+clusterService)
	if err != nil {
		return "", err
	}
	ids := strings.Fields(out)
	if len(ids) != 1 {
		return "", fmt.Errorf("%d writers running on %s", len(ids), node.Name)
	}
	return ids[0], nil
}

// waitTasks waits until a writer task runs on each of nodes: a node that
// just rejoined the Swarm gets a new task only after its old one is found
// dead and Swarm's restart delay has passed. On failure it lists the
// service's tasks with their errors.
func (b *clusterBed) waitTasks(t *testing.T, nodes []*testbed.Node) {
	t.Helper()
	err := testbed.Poll(3*time.Minute, func() error {
		for _, n := range nodes {
			if _, err := b.writer(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tasks, psErr := b.nodes[0].Docker(context.Background(), "service", "ps", "--no-trunc",
			"--format", "{{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}", clusterService)
		t.Fatalf("writer tasks: not within 3m: %v; tasks of %s (%v):\n%s", err, clusterService, psErr, tasks)
	}
}

// inWriter runs a command in node's writer task.
func (b *clusterBed) inWriter(node *testbed.Node, args ...string) (string, error) {
	id, err := b.writer(node)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return node.Docker(ctx, append([]string{"exec", id}, args...)...)
}

// lines counts the lines the writer on from wrote, as the writer on at
// reads them.
func (b *clusterBed) lines(at, from *testbed.Node) (int, error) {
	out, err := b.inWriter(at, "wc", "-l", "/data/log/"+from.Name)
	if err != nil {
		return 0, err
	}
	count, _, _ := strings.Cut(out, " ")
	n, err := strconv.Atoi(count)
	if err != nil {
		return 0, fmt.Errorf("wc on %s: %q", at.Name, out)
	}
	return n, nil
}

// waitWriting waits until every one of writers keeps writing and every one
// of readers reads each of those writes.
func (b *clusterBed) waitWriting(t *testing.T, writers, readers []*testbed.Node) {
	t.Helper()
	b.waitTasks(t, append(slices.Clone(writers), readers...))
	for _, w := range writers {
		var base int
		testbed.Eventually(t, 2*time.Minute, "writer on "+w.Name+" writing", func() error {
			n, err := b.lines(w, w)
			if err != nil || n == 0 {
				return fmt.Errorf("%d lines, %v", n, err)
			}
			base = n
			return nil
		})
		for _, r := range readers {
			testbed.Eventually(t, time.Minute, r.Name+" reads new writes of "+w.Name, func() error {
				n, err := b.lines(r, w)
				if err != nil {
					return err
				}
				if n < base+3 {
					return fmt.Errorf("%d lines, want %d or more", n, base+3)
				}
				return nil
			})
		}
	}
}

// settle pauses the writers on nodes, heals the volume and checks that
// every node reads exactly what both bricks hold, then lets them write on.
func (b *clusterBed) settle(t *testing.T, nodes []*testbed.Node) {
	t.Helper()
	b.holds++
	token := fmt.Sprintf("hold-%d", b.holds)
	testbed.Eventually(t, time.Minute, "hold written", func() error {
		_, err := b.inWriter(nodes[0], "sh", "-c", "echo "+token+" > /data/hold")
		return err
	})
	for _, n := range nodes {
		testbed.Eventually(t, time.Minute, "writer on "+n.Name+" holding", func() error {
			out, err := b.inWriter(n, "cat", "/data/held/"+n.Name)
			if err != nil || out != token {
				return fmt.Errorf("held: %q, %v", out, err)
			}
			return nil
		})
	}
	bricks := waitBricksHealed(t, clusterVolume, b.storage.Servers[0], b.storage.Servers[1])
	logs := map[string]string{}
	for file, sum := range bricks {
		if strings.HasPrefix(file, "log/") {
			logs[file] = sum
		}
	}
	for _, n := range nodes {
		if logs["log/"+n.Name] == "" {
			t.Fatalf("no writes of %s on the bricks", n.Name)
		}
	}
	testbed.Eventually(t, time.Minute, "every node reading what the bricks hold", func() error {
		for _, n := range nodes {
			view, err := b.logChecksums(n)
			if err != nil {
				return err
			}
			if !maps.Equal(view, logs) {
				return fmt.Errorf("%s reads other data than the bricks hold: %v", n.Name, differences(view, logs))
			}
		}
		return nil
	})
	testbed.Eventually(t, time.Minute, "hold removed", func() error {
		_, err := b.inWriter(nodes[0], "rm", "-f", "/data/hold")
		return err
	})
}

// logChecksums maps the writers' files, as node's writer reads them, to
// their SHA-256, with the same keys as brickChecksums.
func (b *clusterBed) logChecksums(node *testbed.Node) (map[string]string, error) {
	out, err := b.inWriter(node, "sh", "-c", "cd /data && sha256sum log/*")
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		if !ok {
			return nil, fmt.Errorf("sha256sum on %s: %q", node.Name, line)
		}
		sums[file] = sum
	}
	return sums, nil
}

// volumeLists checks that `docker volume ls` lists the same gluster volumes
// on every node, the stack's among them if present.
func (b *clusterBed) volumeLists(t *testing.T, present bool) {
	t.Helper()
	testbed.Eventually(t, time.Minute, "docker volume ls the same on every node", func() error {
		var first []string
		for i, n := range b.nodes {
			out, err := n.Docker(context.Background(), "volume", "ls", "--format", "{{.Driver}} {{.Name}}")
			if err != nil {
				return err
			}
			var list []string
			for _, line := range strings.Split(out, "\n") {
				if driver, name, _ := strings.Cut(line, " "); strings.HasPrefix(driver, "gluster") {
					list = append(list, name)
				}
			}
			if slices.Contains(list, clusterVolume) != present {
				return fmt.Errorf("%s lists %v; want %s there: %v", n.Name, list, clusterVolume, present)
			}
			if i == 0 {
				first = list
			} else if !slices.Equal(list, first) {
				return fmt.Errorf("%s lists %v, %s %v", n.Name, list, b.nodes[0].Name, first)
			}
		}
		return nil
	})
}

// TestClusterStack runs a stack with one writer per node on a three-node
// Swarm, all on one gluster volume, through a storage server's outage, a
// whole node's restart and the volume's removal.
func TestClusterStack(t *testing.T) {
	// Registered first, so it runs last: after the bed's own teardown.
	t.Cleanup(func() {
		for i := range 3 {
			assertNodeGone(t, fmt.Sprintf("gtc-node%d", i+1), "")
		}
		if _, err := os.Stat(filepath.Join("/run/netns", clusterSwitch)); err == nil {
			t.Errorf("network namespace %s remains", clusterSwitch)
		}
	})
	b := newClusterBed(t)
	node1, node2, node3 := b.nodes[0], b.nodes[1], b.nodes[2]
	ctx := context.Background()

	t.Run("the first task, on the client-only node, creates the volume", func(t *testing.T) {
		if _, err := b.storage.Servers[0].CLI().Volume(ctx, clusterVolume); !errors.Is(err, glustercli.ErrNotFound) {
			t.Fatalf("gluster volume %s before the stack: %v; want none", clusterVolume, err)
		}
		b.volumeLists(t, false)
		b.deploy(t, node3)
		b.waitWriting(t, []*testbed.Node{node3}, []*testbed.Node{node3})
		vol, err := b.storage.Servers[1].CLI().Volume(ctx, clusterVolume)
		if err != nil {
			t.Fatal(err)
		}
		var hosts []string
		for _, br := range vol.Bricks {
			hosts = append(hosts, br.Host)
		}
		slices.Sort(hosts)
		if !slices.Equal(hosts, b.storage.Addresses()) {
			t.Errorf("bricks of %s on %v; want one on each storage node %v", clusterVolume, hosts, b.storage.Addresses())
		}
		// The storage nodes never used it, and list it all the same.
		b.volumeLists(t, true)
	})

	t.Run("one task per node: every node reads every write", func(t *testing.T) {
		b.deploy(t, nil)
		b.waitWriting(t, b.nodes, b.nodes)
		b.settle(t, b.nodes)
		b.volumeLists(t, true)
	})

	t.Run("a storage server stops: writing goes on, the volume heals when it returns", func(t *testing.T) {
		srv1 := b.storage.Servers[0]
		srv1.Stop(t)
		b.waitWriting(t, b.nodes, b.nodes)
		srv1.Start(t)
		waitBricksOnline(t, srv1, clusterVolume, 2)
		b.settle(t, b.nodes)
	})

	t.Run("a storage node's daemon stops and starts again", func(t *testing.T) {
		node2.Stop(t)
		b.waitWriting(t, []*testbed.Node{node1, node3}, []*testbed.Node{node1, node3})
		node2.Start(t)
		testbed.WaitNodesReady(t, node1, 2*time.Minute, node2)
		if out := node2.MustDocker(t, "plugin", "ls", "--format", "{{.Name}} {{.Enabled}}"); out != "gluster:latest true" {
			t.Errorf("plugins on %s after its restart: %q; want gluster enabled", node2.Name, out)
		}
		b.storage.WaitPool(t, poolTimeout)
		waitBricksOnline(t, b.storage.Servers[1], clusterVolume, 2)
		b.waitWriting(t, b.nodes, b.nodes)
		b.settle(t, b.nodes)
		b.volumeLists(t, true)
	})

	t.Run("volume rm is refused while any node uses the volume", func(t *testing.T) {
		b.deploy(t, node1)
		for _, n := range []*testbed.Node{node2, node3} {
			testbed.Eventually(t, time.Minute, "writer on "+n.Name+" gone", func() error {
				if id, err := b.writer(n); err == nil {
					return fmt.Errorf("still running: %s", id)
				}
				return nil
			})
			// Docker itself refuses to remove a volume that a container
			// of its own, stopped or not, refers to: remove the stopped
			// tasks', so that the refusal must come from the cluster.
			if ids := strings.Fields(n.MustDocker(t, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name="+clusterService)); len(ids) > 0 {
				n.MustDocker(t, append([]string{"rm"}, ids...)...)
			}
			_, err := n.Docker(ctx, "volume", "rm", clusterVolume)
			if err == nil || !strings.Contains(err.Error(), node1.Address) {
				t.Errorf("volume rm on %s while %s uses it: %v; want refused, naming %s", n.Name, node1.Name, err, node1.Address)
			} else {
				t.Logf("refused on %s: %v", n.Name, err)
			}
		}
		if _, err := node1.Docker(ctx, "volume", "rm", clusterVolume); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("volume rm on %s, which uses it: %v; want refused", node1.Name, err)
		}
		if _, err := b.storage.Servers[0].CLI().Volume(ctx, clusterVolume); err != nil {
			t.Fatalf("gluster volume after the refused removals: %v", err)
		}
		b.volumeLists(t, true)
	})

	t.Run("removed on one node, the volume is gone everywhere, and can be created again", func(t *testing.T) {
		node1.MustDocker(t, "stack", "rm", clusterStack)
		for _, n := range b.nodes {
			testbed.Eventually(t, time.Minute, "tasks removed from "+n.Name, func() error {
				out, err := n.Docker(ctx, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name="+clusterService)
				if err != nil || out != "" {
					return fmt.Errorf("containers %q, %v", out, err)
				}
				return nil
			})
		}
		testbed.Eventually(t, time.Minute, "volume removed on "+node3.Name, func() error {
			_, err := node3.Docker(ctx, "volume", "rm", clusterVolume)
			return err
		})
		if _, err := b.storage.Servers[0].CLI().Volume(ctx, clusterVolume); !errors.Is(err, glustercli.ErrNotFound) {
			t.Errorf("gluster volume after volume rm: %v; want none", err)
		}
		for _, s := range b.storage.Servers {
			if _, err := os.Stat(s.BrickDir(clusterVolume)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("brick on %s after volume rm: %v", s.Name, err)
			}
		}
		b.volumeLists(t, false)
		// A node that used it creates it anew for its next task.
		b.deploy(t, node1)
		b.waitWriting(t, []*testbed.Node{node1}, []*testbed.Node{node1})
		b.volumeLists(t, true)
	})

	for _, n := range b.nodes {
		assertNoPulls(t, n)
	}
}
