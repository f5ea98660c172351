package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/prometheus/procfs"
)

// ClientImage runs the containers that use volumes in tests: a Debian base
// with a shell, built offline by `make server-image`.
const ClientImage = "gluster-server-base:bookworm"

// Plugin is a managed plugin the test created from the working tree's
// config.json and rootfs/.
type Plugin struct {
	Name     string
	StateDir string
	// TokenFile, if set, is a host file with the cluster's token that the
	// plugin reads (TOKEN_FILE) through its secrets mount, instead of
	// having the token in its settings.
	TokenFile string
	// Rootfs, if set, is the root filesystem the plugin is created from
	// instead of the working tree's rootfs/ (such as rootfs-trixie/).
	Rootfs string
}

// repoRoot is the top of the working tree.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// InstallPlugin creates and enables the plugin name pointed at the cluster,
// with its state in a test directory, and removes it when the test ends.
// settings are extra `docker plugin set` arguments (KEY=VALUE).
func InstallPlugin(t testing.TB, c *Cluster, name string, settings ...string) *Plugin {
	t.Helper()
	return InstallPluginFrom(t, c, name, "", settings...)
}

// InstallPluginFrom is InstallPlugin with the plugin's root filesystem taken
// from the directory rootfs (the working tree's rootfs/ if empty).
func InstallPluginFrom(t testing.TB, c *Cluster, name, rootfs string, settings ...string) *Plugin {
	t.Helper()
	p := &Plugin{Name: name, StateDir: filepath.Join(StateRoot, c.Name, "plugin-"+name), Rootfs: rootfs}
	p.Remove(t)
	p.Create(t, c, settings...)
	t.Cleanup(func() {
		if t.Failed() {
			p.dumpLog(t)
		}
		p.Remove(t)
	})
	return p
}

// InstallPluginWithTokenFile is InstallPlugin with the cluster's token in a
// file of the test's (mode 0600, alone in its directory), which the plugin
// reads through its secrets mount: its settings hold no token.
func InstallPluginWithTokenFile(t testing.TB, c *Cluster, name string, settings ...string) *Plugin {
	t.Helper()
	p := &Plugin{
		Name:      name,
		StateDir:  filepath.Join(StateRoot, c.Name, "plugin-"+name),
		TokenFile: filepath.Join(StateRoot, c.Name, "secrets-"+name, "token"),
	}
	p.Remove(t)
	if err := os.MkdirAll(filepath.Dir(p.TokenFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.TokenFile, []byte(c.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Create(t, c, settings...)
	t.Cleanup(func() {
		if t.Failed() {
			p.dumpLog(t)
		}
		p.Remove(t)
		if err := os.RemoveAll(filepath.Dir(p.TokenFile)); err != nil {
			t.Errorf("removing the plugin's token file: %v", err)
		}
	})
	return p
}

// deleteOnRemove is the removal policy of test plugins unless a test sets
// another: tests assert that what they remove is gone, and clean up with
// docker volume rm. Settings given later win.
const deleteOnRemove = "ON_REMOVE=delete"

// Create creates and enables the plugin from the working tree, replacing a
// plugin of the same name; its state directory stays. settings are extra
// `docker plugin set` arguments (KEY=VALUE).
func (p *Plugin) Create(t testing.TB, c *Cluster, settings ...string) {
	t.Helper()
	token := c.Token
	if p.TokenFile != "" {
		token = "file:" + p.TokenFile
	}
	args := append([]string{p.Name, strings.Join(c.Addresses(), ","), token, p.StateDir, deleteOnRemove}, settings...)
	cmd := exec.Command(filepath.Join(repoRoot(), "build", "plugin.sh"), args...)
	cmd.Env = os.Environ()
	if p.Rootfs != "" {
		cmd.Env = append(cmd.Env, "ROOTFS="+p.Rootfs)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("creating plugin %s: %v\n%s", p.Name, err, out)
	}
}

// PushPlugin pushes the plugin made of config.json and a root filesystem of
// the working tree (rootfs, or rootfs-ARCH from `make rootfs ARCH=...`) to
// a registry as ref, as `make push-plugin` does.
func PushPlugin(t testing.TB, ref, rootfs string) {
	t.Helper()
	MustRun(t, filepath.Join(repoRoot(), "build", "plugin-push.sh"), ref, filepath.Join(repoRoot(), rootfs))
}

// Set changes settings of the plugin, disabling it meanwhile.
func (p *Plugin) Set(t testing.TB, settings ...string) {
	t.Helper()
	MustDocker(t, "plugin", "disable", "-f", p.Name)
	MustDocker(t, append([]string{"plugin", "set", p.Name}, settings...)...)
	MustDocker(t, "plugin", "enable", p.Name)
}

// Remove removes the plugin and the volumes it lists, if they exist.
func (p *Plugin) Remove(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if _, err := Docker(ctx, "plugin", "inspect", p.Name); err != nil {
		return
	}
	for _, v := range p.Volumes(t) {
		if _, err := Docker(ctx, "volume", "rm", "-f", v); err != nil {
			t.Logf("removing volume %s: %v", v, err)
		}
	}
	if _, err := Docker(ctx, "plugin", "rm", "-f", p.Name); err != nil {
		t.Errorf("removing plugin %s: %v", p.Name, err)
	}
	if err := os.RemoveAll(p.StateDir); err != nil {
		t.Errorf("removing plugin state: %v", err)
	}
}

// Volumes lists the names of the Docker volumes of this plugin.
func (p *Plugin) Volumes(t testing.TB) []string {
	t.Helper()
	out := MustDocker(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}")
	var names []string
	for _, line := range strings.Split(out, "\n") {
		driver, name, _ := strings.Cut(line, " ")
		if driver == p.Name || driver == p.Name+":latest" {
			names = append(names, name)
		}
	}
	return names
}

// ID is the plugin's full ID.
func (p *Plugin) ID(t testing.TB) string {
	t.Helper()
	return MustDocker(t, "plugin", "inspect", "-f", "{{.ID}}", p.Name)
}

// PID is the host process ID of the plugin's program (its container runs in
// the host's process namespace), or 0 when it does not run.
func (p *Plugin) PID(t testing.TB) int {
	t.Helper()
	id := p.ID(t)
	pids := FindProcesses(func(proc procfs.Proc, args []string) bool {
		if filepath.Base(args[0]) != "gluster-plugin" {
			return false
		}
		// The container's cgroups are named after the plugin's ID.
		cgroups, err := proc.Cgroups()
		return err == nil && slices.ContainsFunc(cgroups, func(c procfs.Cgroup) bool { return strings.Contains(c.Path, id) })
	})
	if len(pids) == 0 {
		return 0
	}
	return pids[0]
}

func (p *Plugin) dumpLog(t testing.TB) {
	logs, _ := filepath.Glob(p.ClientLog("*"))
	for _, l := range logs {
		t.Logf("gluster client log %s (last lines):\n%s", l, tail(l, 15))
	}
}

// RunContainer runs a command in a throwaway container with volume at /data
// and returns its output.
func RunContainer(t testing.TB, volume, script string) (string, error) {
	t.Helper()
	return Docker(context.Background(), "run", "--rm", "--label", "gluster-testbed=1", "-v", volume+":/data", ClientImage, "sh", "-c", script)
}

// FUSEClients counts gluster FUSE client processes on this host that serve
// volume.
func FUSEClients(volume string) int {
	return len(FUSEClientPIDs(volume))
}

// FUSEClientPIDs lists the gluster FUSE client processes on this host that
// serve any of volumes, in one look at the process table.
func FUSEClientPIDs(volumes ...string) []int {
	wanted := map[string]bool{}
	for _, v := range volumes {
		wanted["--volfile-id="+v], wanted["--volfile-id=/"+v] = true, true
	}
	return FindProcesses(func(_ procfs.Proc, args []string) bool {
		return filepath.Base(args[0]) == "glusterfs" && slices.ContainsFunc(args, func(a string) bool { return wanted[a] })
	})
}

// HostMounts lists the host's mounts of type fstype.
func HostMounts(fstype string) ([]*mountinfo.Info, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter(fstype))
	if err != nil {
		return nil, fmt.Errorf("reading the host's mount table: %w", err)
	}
	return mounts, nil
}

// PropagatedMount is the host directory the plugin makes its mounts under.
func (p *Plugin) PropagatedMount(t testing.TB) string {
	t.Helper()
	root := MustDocker(t, "info", "-f", "{{.DockerRootDir}}")
	return filepath.Join(root, "plugins", p.ID(t), "propagated-mount")
}

// StateReferences reads the plugin's state file: the Docker volumes it
// records and the mount references each holds.
func (p *Plugin) StateReferences(t testing.TB) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(p.StateDir, "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int{}
	}
	if err != nil {
		t.Fatalf("reading the plugin's state: %v", err)
	}
	var state struct {
		Volumes map[string]struct {
			Mounts map[string]int `json:"mounts"`
		} `json:"volumes"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatalf("plugin state %s: %v", p.StateDir, err)
	}
	refs := map[string]int{}
	for name, v := range state.Volumes {
		refs[name] = 0
		for _, n := range v.Mounts {
			refs[name] += n
		}
	}
	return refs
}

// ClientLog is where the plugin keeps the gluster client log of a gluster
// volume.
func (p *Plugin) ClientLog(gluster string) string {
	return filepath.Join(p.StateDir, "logs", gluster+".log")
}
