package mounter

import (
	"fmt"
	"os"
	"runtime"
)

// Bind mounts the directory dir is open on at target, an existing
// directory. It names the source by its open file (/proc/self/fd/N, which
// the kernel resolves to the very directory opened) rather than by a path,
// so that nothing on the way is looked up again: a directory opened
// without following links stays the one bound. The mount table must then
// show a gluster mount at target, or nothing is left there.
func (m *Mounter) Bind(dir *os.File, target string) error {
	source := fmt.Sprintf("/proc/self/fd/%d", dir.Fd())
	err := m.bind()(source, target)
	runtime.KeepAlive(dir)
	if err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", dir.Name(), target, err)
	}
	mounted, err := m.IsMounted(target)
	if err == nil && !mounted {
		err = errNotMounted
	}
	if err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", dir.Name(), target, err)
	}
	return nil
}
