package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glusterdocker/gluster/names"
	"github.com/glusterdocker/gluster/periodic"
)

// leftoverBricks is the directory under the brick root where a server that
// deleted a volume records the brick directories it could not remove then,
// because their server did not answer: one file per directory, named
// VOLUME@SERVER and holding the owner of the creation that made it. Like
// brickMarkers it starts with '.', so it is no volume's brick.
const leftoverBricks = ".gluster-docker-leftovers"

// leftoverRetry is how often recorded leftovers are tried again: a server
// that was down answers again within seconds of its restart, and a try is
// one request per leftover.
const leftoverRetry = 30 * time.Second

// leftover is a brick directory of a deleted volume still to be removed.
type leftover struct {
	volume, server, owner string
}

func (s *Service) leftoverPath(l leftover) string {
	return filepath.Join(s.brickRoot, leftoverBricks, l.volume+"@"+l.server)
}

// recordLeftovers remembers the brick directories of a deleted volume that
// servers did not remove, so that RemoveLeftovers removes them once those
// servers answer.
func (s *Service) recordLeftovers(volume, owner string, servers []string) error {
	if err := os.MkdirAll(filepath.Join(s.brickRoot, leftoverBricks), 0o700); err != nil {
		return fmt.Errorf("recording leftover brick directories: %w", err)
	}
	for _, server := range servers {
		l := leftover{volume: volume, server: server, owner: owner}
		// The server comes from gluster's brick list: an address or a
		// host name, never a path, but the record's name is checked all
		// the same so that no name writes outside the directory.
		if name := filepath.Base(s.leftoverPath(l)); name != l.volume+"@"+l.server {
			return fmt.Errorf("recording the brick directory of %s left on %q: not a server's name", volume, server)
		}
		if err := os.WriteFile(s.leftoverPath(l), []byte(owner), 0o600); err != nil {
			return fmt.Errorf("recording the brick directory of %s left on %s: %w", volume, server, err)
		}
	}
	return nil
}

// leftovers lists the recorded leftovers. A file that does not parse as
// one was not written by recordLeftovers and is left alone.
func (s *Service) leftovers() ([]leftover, error) {
	entries, err := os.ReadDir(filepath.Join(s.brickRoot, leftoverBricks))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading leftover brick directories: %w", err)
	}
	var list []leftover
	for _, e := range entries {
		volume, server, ok := strings.Cut(e.Name(), "@")
		if !ok || names.ValidateVolume(volume) != nil || server == "" {
			continue
		}
		owner, err := os.ReadFile(filepath.Join(s.brickRoot, leftoverBricks, e.Name()))
		if err != nil || validOwner(string(owner)) != nil {
			continue
		}
		list = append(list, leftover{volume: volume, server: server, owner: string(owner)})
	}
	return list, nil
}

// RemoveLeftovers tries every leftoverRetry, until ctx is done, to remove
// the recorded brick directories of deleted volumes.
func (s *Service) RemoveLeftovers(ctx context.Context) {
	periodic.Every(ctx, leftoverRetry, s.removeLeftovers)
}

// removeLeftovers tries once to remove each recorded leftover, and forgets
// those removed and those that are no longer the deleted volume's: a
// directory its server did not make, or made for a later create of the
// name, stays where it is. One that is still a brick there (its server has
// not yet learned of the delete) or whose server does not answer is tried
// again later.
func (s *Service) removeLeftovers(ctx context.Context) {
	list, err := s.leftovers()
	if err != nil {
		s.logger.Error("removing leftover brick directories", "error", err)
		return
	}
	for _, l := range list {
		log := s.logger.With("volume", l.volume, "server", l.server)
		err := s.removeBrick(ctx, l.server, l.volume, l.owner)
		switch {
		case err == nil:
			log.Info("leftover brick directory of a deleted volume removed")
		case errors.Is(err, ErrConflict):
			log.Warn("leftover brick directory no longer the deleted volume's: it stays", "error", err)
		default:
			log.Debug("leftover brick directory not removed yet", "error", err)
			continue
		}
		if err := s.forgetLeftover(l); err != nil {
			log.Error("forgetting a leftover brick directory", "error", err)
		}
	}
}

// forgetLeftover removes the record of l, unless a later delete of the
// name recorded another owner there meanwhile.
func (s *Service) forgetLeftover(l leftover) error {
	owner, err := os.ReadFile(s.leftoverPath(l))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && string(owner) != l.owner) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.Remove(s.leftoverPath(l))
}
