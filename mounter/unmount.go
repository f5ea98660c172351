package mounter

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// maxStacked bounds how many gluster mounts Unmount removes from one target:
// a repaired mount sits on top of the stale one it replaced.
const maxStacked = 8

// Unmount removes gluster mounts from target until it shows none (a repaired
// mount may cover a stale one); a target without one is fine.
// A mount in use fails with ErrBusy rather than being detached lazily, which
// would hide it from the mount table while its users keep writing.
func (m *Mounter) Unmount(ctx context.Context, target string) error {
	target = filepath.Clean(target)
	log := m.logger().With("target", target)
	for range maxStacked {
		mounted, err := m.IsMounted(target)
		if err != nil {
			return fmt.Errorf("unmount %s: %w", target, err)
		}
		if !mounted {
			return nil
		}
		// -c: without it umount first stats the target, which blocks forever
		// on a FUSE mount whose client never finished starting.
		out, err := m.exec()(ctx, "umount", "-c", target)
		if err != nil {
			msg := strings.TrimSpace(string(out))
			if still, _ := m.IsMounted(target); !still {
				return nil
			}
			if strings.Contains(msg, "busy") {
				return fmt.Errorf("unmount %s: %w (%s): stop what uses it first", target, ErrBusy, msg)
			}
			return fmt.Errorf("unmount %s: %w: %s", target, err, msg)
		}
		log.Info("unmounted")
	}
	return fmt.Errorf("unmount %s: still mounted after %d unmounts", target, maxStacked)
}
