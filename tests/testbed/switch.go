package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Switch is the network several nodes share, standing in for the LAN of a
// cluster: a bridge in a network namespace of its own, with a veth port per
// node. Nothing of it is in the host's namespace: the host's routes and
// firewall never see the nodes' traffic, and the nodes have no way out.
type Switch struct {
	Name   string       // its network namespace
	Subnet netip.Prefix // the nodes' addresses
}

// switchBridge is the bridge inside the switch's namespace.
const switchBridge = "br0"

// StartSwitch creates the switch name for nodes on subnet, after removing
// what an earlier run left under that name, and removes it when the test
// ends: after the nodes started later, whose cleanups run first.
func StartSwitch(t testing.TB, name string, subnet netip.Prefix) *Switch {
	t.Helper()
	if name == "" || strings.ContainsAny(name, "/ ") || !subnet.Addr().Is4() || subnet.Bits() > 24 {
		t.Fatalf("StartSwitch: bad name %q or subnet %s (want IPv4, /24 or larger)", name, subnet)
	}
	sw := &Switch{Name: name, Subnet: subnet.Masked()}
	if err := sw.remove(); err != nil {
		t.Fatalf("removing leftovers of switch %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := sw.remove(); err != nil {
			t.Errorf("removing switch %s: %v", name, err)
		}
	})
	ctx := context.Background()
	for _, args := range [][]string{
		{"netns", "add", name},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "link", "add", switchBridge, "type", "bridge"},
		{"-n", name, "link", "set", switchBridge, "up"},
	} {
		if _, err := Run(ctx, "ip", args...); err != nil {
			t.Fatalf("creating switch %s: %v", name, err)
		}
	}
	return sw
}

// address is the address of host number octet on the switch.
func (sw *Switch) address(octet int) string {
	a := sw.Subnet.Addr().As4()
	a[3] = byte(octet)
	return netip.AddrFrom4(a).String()
}

// portCommands are the `ip` commands that give the node's namespace an eth0
// plugged into the switch.
func (sw *Switch) portCommands(node string, octet int) [][]string {
	port := fmt.Sprintf("port%d", octet)
	return [][]string{
		{"-n", sw.Name, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node},
		{"-n", sw.Name, "link", "set", port, "master", switchBridge},
		{"-n", sw.Name, "link", "set", port, "up"},
	}
}

// remove deletes the switch's namespace, and with it the bridge and the
// ports of nodes still attached. Nothing runs in it.
func (sw *Switch) remove() error {
	if _, err := os.Stat(filepath.Join("/run/netns", sw.Name)); err != nil {
		return nil
	}
	_, err := Run(context.Background(), "ip", "netns", "del", sw.Name)
	return err
}

// FormSwarm makes the nodes one Swarm, every one a manager so that any one
// of three may stop while the others keep a quorum. The first node creates
// it; overlay networks take their subnets from pool, which must be one the
// test may use.
func FormSwarm(t testing.TB, pool string, nodes ...*Node) {
	t.Helper()
	first := nodes[0]
	first.MustDocker(t, "swarm", "init", "--advertise-addr", first.Address,
		"--default-addr-pool", pool, "--default-addr-pool-mask-length", "24")
	token := first.MustDocker(t, "swarm", "join-token", "-q", "manager")
	for _, n := range nodes[1:] {
		n.MustDocker(t, "swarm", "join", "--token", token, "--advertise-addr", n.Address, first.Address+":2377")
	}
	WaitNodesReady(t, first, 2*time.Minute, nodes...)
}

// WaitNodesReady waits until the Swarm, as the node asked sees it, has every
// one of nodes ready.
func WaitNodesReady(t testing.TB, asked *Node, timeout time.Duration, nodes ...*Node) {
	t.Helper()
	Eventually(t, timeout, "Swarm nodes ready", func() error {
		out, err := asked.Docker(context.Background(), "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if !strings.Contains("\n"+out+"\n", "\n"+n.Name+" Ready\n") {
				return fmt.Errorf("%s not ready:\n%s", n.Name, out)
			}
		}
		return nil
	})
}
