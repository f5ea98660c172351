package testbed

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/moby/sys/mountinfo"
)

// nodeScript prepares the node's mount and UTS namespaces once, in the
// node's network namespace; mounts propagate into them from the host but
// not back. They are kept (bound to files in the node's directory, like
// network namespaces under /run/netns) for the node's life, so that a
// restarted daemon finds the host as a restarted dockerd would: its mounts,
// among them the network namespaces of its sandboxes, still there. $1 is
// the node's directory, $2 its host name, and the rest are the bindings of
// other nodes' namespaces: copies of them, private mounts that no unmount
// on the host reaches, would keep those namespaces alive as long as this one.
const nodeScript = `set -e
dir=$1
hostname "$2"
shift 2
for m in "$@"; do
	umount -l "$m"
done
# A sysfs that describes the node's network namespace (Docker reads
# /sys/class/net), with the host's cgroup v1 hierarchies put back under it.
mount --rbind /sys/fs/cgroup "$dir/cgroup"
mount -t sysfs sysfs /sys
mount --move "$dir/cgroup" /sys/fs/cgroup
# Fixed paths dockerd and containerd use whatever the exec-root: the node's
# engine key, the shims' sockets, the plugins' sockets.
mkdir -p /etc/docker /run/containerd /run/docker
mount --bind "$dir/etc-docker" /etc/docker
mount --bind "$dir/run-containerd" /run/containerd
mount --bind "$dir/run-docker" /run/docker
# An engine of its own: its programs and libraries in place of the host's.
if [ -d "$dir/engine/usr" ]; then
	mount --bind "$dir/engine/etc/ld.so.cache" /etc/ld.so.cache
	mount --bind "$dir/engine/usr" /usr
fi
`

// setup creates the node's directory, configuration and namespace, and
// unpacks the root filesystem of the image engine, if given, for the node's
// daemon to run from.
func (n *Node) setup(octet int, sw *Switch, engine string) error {
	for _, d := range nodeDirs {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			return err
		}
	}
	if engine != "" {
		if err := exportImage(engine, filepath.Join(n.Dir, nodeEngine)); err != nil {
			return fmt.Errorf("unpacking the engine %s: %w", engine, err)
		}
	}
	config, err := json.MarshalIndent(map[string]any{
		"data-root": filepath.Join(n.Dir, nodeDataRoot),
		"exec-root": filepath.Join(n.Dir, nodeExecRoot),
		"pidfile":   filepath.Join(n.Dir, nodePidFile),
		"hosts":     []string{"unix://" + n.Socket},
		// Away from the host's and the other tests' networks (172.30.x).
		"bip":                   fmt.Sprintf("10.67.%d.1/24", octet),
		"default-address-pools": []map[string]any{{"base": fmt.Sprintf("10.68.%d.0/24", octet), "size": 26}},
		// Containers' cgroups under /<name> in every hierarchy, apart
		// from the main daemon's and easy to find and remove.
		"cgroup-parent":  "/" + n.Name,
		"storage-driver": "overlay2",
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.Dir, nodeConfig), config, 0o644); err != nil {
		return err
	}
	// Loopback and one address on eth0, and no default route. Alone, eth0
	// is one end of a veth pair whose other end stays in the namespace:
	// enough to advertise a Swarm address. On a switch, its other end is
	// a port of the switch's bridge.
	ctx := context.Background()
	if _, err := Run(ctx, "ip", "netns", "add", n.Name); err != nil {
		return err
	}
	link := [][]string{
		{"-n", n.Name, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink0"},
		{"-n", n.Name, "link", "set", "uplink0", "up"},
	}
	bits := 24
	if sw != nil {
		link, bits = sw.portCommands(n.Name, octet), sw.Subnet.Bits()
	}
	for _, args := range append(link, [][]string{
		{"-n", n.Name, "link", "set", "lo", "up"},
		{"-n", n.Name, "link", "set", "eth0", "up"},
		{"-n", n.Name, "addr", "add", fmt.Sprintf("%s/%d", n.Address, bits), "dev", "eth0"},
	}...) {
		if _, err := Run(ctx, "ip", args...); err != nil {
			return err
		}
	}
	return n.setupMountNS()
}

// setupMountNS creates the node's mount and UTS namespaces and binds them
// to files in its directory. A namespace file can only be bound on a mount
// that does not propagate, so the directory holding them is made one.
func (n *Node) setupMountNS() error {
	dir := filepath.Join(n.Dir, nodeNS)
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding %s: %w", dir, err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making %s private: %w", dir, err)
	}
	for _, f := range []string{"mnt", "uts"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			return err
		}
	}
	bindings, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return filepath.Base(i.Mountpoint) != nodeNS || filepath.Dir(filepath.Dir(i.Mountpoint)) != NodeRoot, false
	})
	if err != nil {
		return fmt.Errorf("listing the namespace bindings of nodes: %w", err)
	}
	args := []string{"--net=/run/netns/" + n.Name,
		"unshare", "--mount=" + filepath.Join(dir, "mnt"), "--uts=" + filepath.Join(dir, "uts"), "--propagation", "slave",
		"sh", "-c", nodeScript, "sh", n.Dir, n.Name}
	for _, b := range bindings {
		args = append(args, b.Mountpoint)
	}
	_, err = Run(context.Background(), "nsenter", args...)
	return err
}
