package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/glusterdocker/gluster/names"
)

// BrickOwnerOption records on a volume the creation that made its brick
// directories: delete removes a brick directory only when the server's
// marker for it holds the same owner.
const BrickOwnerOption = "user.docker-brick-owner"

// brickMarkers is the directory under the brick root that records which
// brick directories this API made: one file per volume holding the owner of
// the creation that made it. It lies outside every brick, and gluster
// volume names cannot start with '.', so it is no volume's brick.
const brickMarkers = ".gluster-docker"

// PeerBricks makes and removes brick directories on other servers, through
// their control API.
type PeerBricks interface {
	MakeBrick(ctx context.Context, server, volume, owner string) error
	RemoveBrick(ctx context.Context, server, volume, owner string) error
	// Answers reports whether a server's control API answers, as it must
	// before the server can be given bricks.
	Answers(ctx context.Context, server string) error
}

// RemoteBricks reaches the brick endpoints of other servers' control API.
type RemoteBricks struct {
	Port  int
	Token string
	HTTP  *http.Client
}

var _ PeerBricks = RemoteBricks{}

// MakeBrick makes a brick directory on server.
func (r RemoteBricks) MakeBrick(ctx context.Context, server, volume, owner string) error {
	return NewClient(server, r.Port, r.Token, r.HTTP).MakeBrick(ctx, volume, owner)
}

// RemoveBrick removes a brick directory owner made on server.
func (r RemoteBricks) RemoveBrick(ctx context.Context, server, volume, owner string) error {
	return NewClient(server, r.Port, r.Token, r.HTTP).RemoveBrick(ctx, volume, owner)
}

// Answers asks server for its pool.
func (r RemoteBricks) Answers(ctx context.Context, server string) error {
	_, err := NewClient(server, r.Port, r.Token, r.HTTP).Peers(ctx)
	return err
}

// newOwner returns a new creation's owner.
func newOwner() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func validOwner(owner string) error {
	if len(owner) != 32 || strings.Trim(owner, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: brick owner %q: want 32 hex digits", ErrInvalid, owner)
	}
	return nil
}

func (s *Service) markerPath(volume string) string {
	return filepath.Join(s.brickRoot, brickMarkers, volume)
}

// MakeLocalBrick creates this server's brick directory of volume for the
// creation owner. A path that exists is refused, never reused: it may be
// another volume's brick or someone's data.
func (s *Service) MakeLocalBrick(ctx context.Context, volume, owner string) error {
	if err := names.ValidateVolume(volume); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := validOwner(owner); err != nil {
		return err
	}
	dir, marker := s.brickPath(volume), s.markerPath(volume)
	if err := os.MkdirAll(filepath.Dir(marker), 0o700); err != nil {
		return fmt.Errorf("brick markers on %s: %w", s.self, err)
	}
	// The marker first, created exclusively: two creates of one name
	// through different servers meet here, and only one goes on.
	f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: brick directory %s on %s belongs to another create of volume %s through this API; if none is running, remove %s and %s there",
			ErrInUse, dir, s.self, volume, dir, marker)
	}
	if err != nil {
		return fmt.Errorf("marking brick directory %s on %s: %w", dir, s.self, err)
	}
	_, werr := f.WriteString(owner)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(marker)
		return fmt.Errorf("marking brick directory %s on %s: %w", dir, s.self, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		_ = os.Remove(marker)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s already exists on server %s: remove it or choose another name", ErrConflict, dir, s.self)
		}
		return fmt.Errorf("making brick directory %s on %s: %w", dir, s.self, err)
	}
	s.logger.Info("brick directory made", "volume", volume, "path", dir, "owner", owner)
	return nil
}

// RemoveLocalBrick removes this server's brick directory of a volume that
// has no brick here (any more, or not yet: a brick that could not be added),
// so the name can be used again, but only if the creation owner made it: a
// directory this API did not make stays.
func (s *Service) RemoveLocalBrick(ctx context.Context, volume, owner string) error {
	if err := names.ValidateVolume(volume); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := validOwner(owner); err != nil {
		return err
	}
	if err := s.refuseOwnBrick(ctx, volume); err != nil {
		return err
	}
	dir, marker := s.brickPath(volume), s.markerPath(volume)
	recorded, err := os.ReadFile(marker)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s on %s was not made by this API: it stays", ErrConflict, dir, s.self)
	}
	if err != nil {
		return fmt.Errorf("reading the marker of brick directory %s on %s: %w", dir, s.self, err)
	}
	if string(recorded) != owner {
		return fmt.Errorf("%w: %s on %s was made by another create of volume %s: it stays", ErrConflict, dir, s.self, volume)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing brick directory %s on %s: %w", dir, s.self, err)
	}
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("removing the marker of brick directory %s on %s: %w", dir, s.self, err)
	}
	s.logger.Info("brick directory removed", "volume", volume, "path", dir)
	return nil
}

// refuseOwnBrick refuses while this server holds a brick of volume: its
// glusterd may not have learned of a delete yet.
func (s *Service) refuseOwnBrick(ctx context.Context, volume string) error {
	v, err := s.volume(ctx, volume)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, addressOf, err := s.pool(ctx)
	if err != nil {
		return err
	}
	for _, b := range v.Bricks {
		if addressOf(b.Host) == s.self && b.Path == s.brickPath(volume) {
			return fmt.Errorf("%w: %s on %s is a brick of volume %s: it stays", ErrInUse, b.Path, s.self, volume)
		}
	}
	return nil
}

// makeBricks makes the volume's brick directory on every server for owner,
// on all of them at once. On failure it removes those it made and returns
// the first error, in server order.
func (s *Service) makeBricks(ctx context.Context, volume, owner string, servers []string) error {
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, server := range servers {
		wg.Go(func() {
			if server == s.self {
				errs[i] = s.MakeLocalBrick(ctx, volume, owner)
			} else {
				errs[i] = s.peers.MakeBrick(ctx, server, volume, owner)
			}
		})
	}
	wg.Wait()
	var made []string
	var first error
	for i, err := range errs {
		if err == nil {
			made = append(made, servers[i])
		} else if first == nil {
			first = err
		}
	}
	if first != nil {
		s.removeBricks(ctx, volume, owner, made)
		return fmt.Errorf("making brick directories of volume %s: %w", volume, first)
	}
	return nil
}

// removeBricks removes the volume's brick directory that owner made on
// each server and returns the servers where that failed.
func (s *Service) removeBricks(ctx context.Context, volume, owner string, servers []string) (failed []string) {
	for _, server := range servers {
		if err := s.removeBrick(ctx, server, volume, owner); err != nil {
			s.logger.Error("removing brick directory", "volume", volume, "server", server, "error", err)
			failed = append(failed, server)
		}
	}
	return failed
}

// removeBrick removes the brick directory of volume that owner made on
// server, this one or a peer.
func (s *Service) removeBrick(ctx context.Context, server, volume, owner string) error {
	if server == s.self {
		return s.RemoveLocalBrick(ctx, volume, owner)
	}
	return s.peers.RemoveBrick(ctx, server, volume, owner)
}

// overlaps reports whether two brick paths are the same or one lies
// inside the other.
func overlaps(a, b string) bool {
	return a == b || within(a, b) || within(b, a)
}

// within reports whether path lies below dir.
func within(path, dir string) bool {
	return strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
