package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// cgroupDirs lists the node's cgroup directories in every hierarchy,
// children before their parents: the cgroup parent of its containers, and
// its plugins' cgroups, which runc puts under the cgroup of the daemon that
// started them (this process's, or an earlier run's), named by plugin ID.
func (n *Node) cgroupDirs() []string {
	var dirs []string
	add := func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	}
	tops, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", n.Name))
	for _, top := range tops {
		_ = filepath.WalkDir(top, add)
	}
	if plugins := n.pluginIDs(); len(plugins) > 0 {
		hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
		for _, h := range hierarchies {
			_ = filepath.WalkDir(h, func(path string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && plugins[d.Name()] {
					_ = filepath.WalkDir(path, add)
					return filepath.SkipDir
				}
				return nil
			})
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	return dirs
}

// pluginIDs are the IDs of the plugins in the node's data-root: random,
// 64 hex digits, so no other cgroup has such a name.
func (n *Node) pluginIDs() map[string]bool {
	ids := map[string]bool{}
	entries, _ := os.ReadDir(filepath.Join(n.Dir, nodeDataRoot, "plugins"))
	for _, e := range entries {
		if len(e.Name()) == 64 && strings.Trim(e.Name(), "0123456789abcdef") == "" {
			ids[e.Name()] = true
		}
	}
	return ids
}

// removeCgroups removes the node's cgroups; a cgroup whose last process
// just died can stay busy for a moment.
func (n *Node) removeCgroups() error {
	return Poll(10*time.Second, func() error {
		var errs []error
		for _, dir := range n.cgroupDirs() {
			if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dir, err))
			}
		}
		return errors.Join(errs...)
	})
}
