package driver

import (
	"context"
	"log/slog"
	"os"

	"github.com/docker/go-plugins-helpers/volume"

	"github.com/glusterdocker/gluster/clients"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/mounter"
)

// Cluster is the control API of the gluster servers.
type Cluster interface {
	Create(ctx context.Context, req control.CreateRequest) (control.Volume, error)
	// Volume describes a volume with its bricks' state and its clients,
	// which glusterd asks every brick for; Lookup only as Volumes lists
	// it. Both fail with control.ErrNotFound for a missing volume.
	Volume(ctx context.Context, name string) (control.Volume, error)
	Lookup(ctx context.Context, name string) (control.Volume, error)
	Volumes(ctx context.Context) ([]control.Volume, error)
	Delete(ctx context.Context, name string) error
	// Retain marks a volume retained: no Docker volume stands for it
	// any more, and it keeps running with its data.
	Retain(ctx context.Context, name string) error
	// AddSubvolume and RemoveSubvolume record in the cluster which Docker
	// volumes are subdirectories of a gluster volume, which is not
	// deleted while it holds any.
	// AddSubvolume also applies a size, which may wait until the
	// directory exists: asked again, it applies it then.
	AddSubvolume(ctx context.Context, gluster, docker string, req control.SubvolumeRequest) error
	RemoveSubvolume(ctx context.Context, gluster, docker string) error
	// Heal reports a started volume's self-heal progress.
	Heal(ctx context.Context, name string) (control.Heal, error)
	// Rebalance reports the progress of a volume's last rebalance.
	Rebalance(ctx context.Context, name string) (control.Rebalance, error)
	Servers() []string
}

// Mounter makes and removes FUSE mounts.
type Mounter interface {
	// Mount mounts a gluster volume, or repairs the dead mount on the
	// target, and returns the process ID of the client serving it (0 when
	// it kept a healthy mount or cannot tell).
	Mount(ctx context.Context, req mounter.Request) (pid int, err error)
	// Bind mounts the directory dir is open on at target, which then
	// shows as a gluster mount that Unmount, IsMounted and IsStale handle.
	Bind(dir *os.File, target string) error
	Unmount(ctx context.Context, target string) error
	IsMounted(target string) (bool, error)
	IsStale(target string) bool
	// MakeMountpoint creates a directory to mount on, if missing, and
	// seals it: while nothing is mounted on it, it refuses writes.
	MakeMountpoint(path string) error
	// RemoveMountpoint unseals and removes a mountpoint nothing is mounted on.
	RemoveMountpoint(path string) error
	// SealMountpoints seals or unseals mountpoints, mounted on or not.
	SealMountpoints(paths []string, sealed bool)
	ForwardLog(ctx context.Context, logFile string, logger *slog.Logger)
}

// Clients keeps track of the FUSE clients that outlive the plugin.
type Clients interface {
	// Detach makes a client outlive the plugin and records it.
	Detach(pid int, gluster string) error
	// Release stops the recorded clients of a gluster volume no container
	// uses any more.
	Release(gluster string) error
	// Volumes lists the gluster volumes with recorded clients.
	Volumes() []string
}

var (
	_ volume.Driver = (*Driver)(nil)
	_ Cluster       = (*control.Cluster)(nil)
	_ Mounter       = (*mounter.Mounter)(nil)
	_ Clients       = (*clients.Registry)(nil)
)
