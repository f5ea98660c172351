package glustercli

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AddBricks adds bricks to a replicated volume and raises its replica count
// to replica, online. force is given for the reason Create gives it. For a
// raised replica count glusterd mounts the volume inside the server to mark
// every file for healing onto the new bricks: the server needs /dev/fuse.
func (c *CLI) AddBricks(ctx context.Context, name string, replica int, bricks []Brick) error {
	args := []string{"volume", "add-brick", name, "replica", fmt.Sprint(replica)}
	for _, b := range bricks {
		args = append(args, b.Host+":"+b.Path)
	}
	_, err := c.run(ctx, append(args, "force")...)
	return err
}

// ReplaceBrick puts brick to in the place of brick from, online, whether
// from's server is up or gone; self-heal then copies the replica set's data
// onto it. Like AddBricks it mounts the volume inside the server.
func (c *CLI) ReplaceBrick(ctx context.Context, name string, from, to Brick) error {
	_, err := c.run(ctx, "volume", "replace-brick", name, from.Host+":"+from.Path, to.Host+":"+to.Path, "commit", "force")
	return err
}

// healLaunched is what `volume heal VOL full` prints when the self-heal
// daemons took the request. The command has no XML answer (GlusterFS 10
// and 11 print text even with --xml), so its text is the only answer.
const healLaunched = "has been successful"

// healFullTimeout bounds `volume heal VOL full`: it only hands the request
// to the self-heal daemons, which answered in a fraction of a second.
const healFullTimeout = 30 * time.Second

// HealFull asks the self-heal daemons to compare every file of a volume
// across its bricks, not only those recorded as needing a heal. It returns
// once they started; HealSummary follows their progress.
func (c *CLI) HealFull(ctx context.Context, name string) error {
	args := []string{"volume", "heal", name, "full"}
	if err := safeArgs(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healFullTimeout)
	defer cancel()
	out, err := c.exec(ctx, c.binary, append([]string{"--glusterd-sock=" + c.socket, "--mode=script"}, args...)...)
	if err != nil {
		return fmt.Errorf("running gluster %s: %w", strings.Join(args, " "), err)
	}
	if msg := strings.TrimSpace(string(out)); !strings.Contains(msg, healLaunched) {
		return &Error{Args: args, Message: msg}
	}
	return nil
}

// Detach removes a server from the pool. glusterd refuses while the server
// holds a brick of any volume; a server that is down is detached all the
// same.
func (c *CLI) Detach(ctx context.Context, host string) error {
	_, err := c.run(ctx, "peer", "detach", host)
	return err
}
