package mounter

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// runCommand is the default Mounter.Exec.
func runCommand(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	// mount.glusterfs glob-expands its unquoted arguments, the brick pattern of
	// the xlator option among them; / holds no file that could match it.
	cmd.Dir = "/"
	// mount runs mount.glusterfs, which runs glusterfs: killing mount alone
	// would leave them waiting on a dead server, so all share a process group
	// that is killed as a whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
