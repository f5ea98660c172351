package control

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/glusterdocker/gluster/names"
)

// SubvolumeOptionPrefix starts the gluster volume options that record the
// Docker volumes made of a volume's subdirectories (docker volume create
// -o volume=VOL -o subdir=DIR NAME): user.docker-subvolume.<NAME as a
// gluster name> = DIR. They live in the cluster, so every host sees them,
// and a volume that carries any is not deleted.
const SubvolumeOptionPrefix = "user.docker-subvolume."

// subvolumeForgotten is the value of the option of a subdirectory volume
// that was removed. Gluster cannot take a user.* option off a volume
// (volume reset refuses it as an unknown option), so the option stays with
// a value no subdirectory can have.
const subvolumeForgotten = "/"

// SubvolumeRequest records one Docker volume made of a subdirectory.
type SubvolumeRequest struct {
	Subdir string `json:"subdir"`
	// Size, in bytes, is the subdirectory's hard limit; zero sets none.
	Size uint64 `json:"size,omitempty"`
	// OnRemove is what removing a pooled volume does to its directory,
	// recorded so that every host applies the same; "" records nothing.
	OnRemove string `json:"on_remove,omitempty"`
}

// SubvolumeOnRemoveOptionPrefix starts the options that record the
// removal policy of a pooled volume (user.docker-subvolume-on-remove.<NAME
// as a gluster name> = retain or delete).
const SubvolumeOnRemoveOptionPrefix = "user.docker-subvolume-on-remove."

// SubvolumeOnRemove is the removal policy recorded for Docker volume
// docker, "" if none.
func SubvolumeOnRemove(options map[string]string, docker string) string {
	key, err := SubvolumeOption(docker)
	if err != nil {
		return ""
	}
	policy := options[SubvolumeOnRemoveOptionPrefix+strings.TrimPrefix(key, SubvolumeOptionPrefix)]
	if ValidateOnRemove(policy) != nil {
		return ""
	}
	return policy
}

// maxSubdir bounds a subdirectory path, stored as an option value.
const maxSubdir = 1024

// subdirPart is one component of a subdirectory path: no "..", no leading
// '-' (the gluster CLI would read the value as one of its options), no
// leading '.'.
var subdirPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidateSubdir accepts a clean relative path of names made of letters,
// digits, '.', '-' and '_', each starting with a letter or digit.
func ValidateSubdir(subdir string) error {
	if subdir == "" || len(subdir) > maxSubdir {
		return fmt.Errorf("subdir %q: give a relative path of 1 to %d characters", subdir, maxSubdir)
	}
	for _, part := range strings.Split(subdir, "/") {
		if !subdirPart.MatchString(part) {
			return fmt.Errorf("subdir %q: use a relative path of names made of letters, digits, '.', '-' and '_', each starting with a letter or digit (no '..')", subdir)
		}
	}
	return nil
}

// SubvolumeOption is the option that records Docker volume docker.
func SubvolumeOption(docker string) (string, error) {
	key, err := names.FromDocker(docker)
	if err != nil {
		return "", err
	}
	return SubvolumeOptionPrefix + key, nil
}

// Subvolumes returns the Docker volumes recorded in a volume's options,
// with the subdirectory of each; forgotten ones are not.
func Subvolumes(options map[string]string) map[string]string {
	out := map[string]string{}
	for key, subdir := range options {
		name, ok := strings.CutPrefix(key, SubvolumeOptionPrefix)
		if ok && names.ValidateVolume(name) == nil && ValidateSubdir(subdir) == nil {
			out[names.ToDocker(name)] = subdir
		}
	}
	return out
}

// refuseSubvolumes fails for a volume that still carries Docker volumes
// made of its subdirectories.
func refuseSubvolumes(volume string, options map[string]string) error {
	subs := Subvolumes(options)
	if len(subs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: volume %s holds the subdirectory volumes %s (created with -o volume=%s): remove them first",
		ErrConflict, volume, strings.Join(slices.Sorted(maps.Keys(subs)), ", "), volume)
}

// AddSubvolume records that Docker volume docker is subdirectory subdir of
// volume. Recording it again is fine; recording it with another subdir
// is a conflict: Docker volume names are unique in the cluster.
func (s *Service) AddSubvolume(ctx context.Context, volume, docker string, req SubvolumeRequest) error {
	key, err := validateSubvolume(volume, docker)
	if err != nil {
		return err
	}
	if err := ValidateSubdir(req.Subdir); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := ValidateOnRemove(req.OnRemove); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.volume(ctx, volume)
	if err != nil {
		return err
	}
	switch got := v.Options[key]; {
	case got == req.Subdir && SubvolumeSize(v.Options, docker) == req.Size && SubvolumeOnRemove(v.Options, docker) == req.OnRemove:
		// Asked again, by the host that made the directory at its first
		// mount, say: the limit may have waited for it.
		return s.limitSubvolume(ctx, v, docker, req)
	case got != req.Subdir && ValidateSubdir(got) == nil:
		return fmt.Errorf("%w: Docker volume %s is subdir %s of volume %s already, not %s", ErrConflict, docker, got, volume, req.Subdir)
	}
	if err := s.limitSubvolume(ctx, v, docker, req); err != nil {
		return err
	}
	if err := s.gluster.Set(ctx, volume, subvolumeRecord(key, req)); err != nil {
		return fmt.Errorf("recording subdirectory volume %s on volume %s: %w", docker, volume, err)
	}
	s.logger.Info("subdirectory volume recorded", "volume", volume, "docker", docker, "subdir", req.Subdir, "size", req.Size, "on_remove", req.OnRemove)
	return nil
}

// RemoveSubvolume forgets Docker volume docker on volume; one not recorded
// is fine.
func (s *Service) RemoveSubvolume(ctx context.Context, volume, docker string) error {
	key, err := validateSubvolume(volume, docker)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.volume(ctx, volume)
	if err != nil {
		return err
	}
	if ValidateSubdir(v.Options[key]) != nil {
		return nil
	}
	if err := s.gluster.Set(ctx, volume, map[string]string{key: subvolumeForgotten}); err != nil {
		return fmt.Errorf("forgetting subdirectory volume %s on volume %s: %w", docker, volume, err)
	}
	s.logger.Info("subdirectory volume forgotten", "volume", volume, "docker", docker)
	return nil
}

func validateSubvolume(volume, docker string) (option string, err error) {
	if err := names.ValidateVolume(volume); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	option, err = SubvolumeOption(docker)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return option, nil
}

func (h *handler) addSubvolume(w http.ResponseWriter, r *http.Request) {
	var req SubvolumeRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	reply(w, http.StatusNoContent, nil, h.svc.AddSubvolume(ctx, r.PathValue("name"), r.PathValue("docker"), req))
}

func (h *handler) removeSubvolume(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := changeContext(r)
	defer cancel()
	reply(w, http.StatusNoContent, nil, h.svc.RemoveSubvolume(ctx, r.PathValue("name"), r.PathValue("docker")))
}

func subvolumePath(volume, docker string) string {
	return "/v1/volumes/" + url.PathEscape(volume) + "/subvolumes/" + url.PathEscape(docker)
}

// AddSubvolume records Docker volume docker as subdirectory subdir of volume.
func (c *Client) AddSubvolume(ctx context.Context, volume, docker string, req SubvolumeRequest) error {
	return c.do(ctx, http.MethodPut, subvolumePath(volume, docker), req, nil)
}

// RemoveSubvolume forgets Docker volume docker on volume.
func (c *Client) RemoveSubvolume(ctx context.Context, volume, docker string) error {
	return c.do(ctx, http.MethodDelete, subvolumePath(volume, docker), nil, nil)
}

// AddSubvolume records a subdirectory volume, and applies its size,
// through the first server that answers.
func (c *Cluster) AddSubvolume(ctx context.Context, volume, docker string, req SubvolumeRequest) error {
	return c.each(ctx, func(cl *Client) error { return cl.AddSubvolume(ctx, volume, docker, req) })
}

// RemoveSubvolume forgets a subdirectory volume through the first server that answers.
func (c *Cluster) RemoveSubvolume(ctx context.Context, volume, docker string) error {
	return c.each(ctx, func(cl *Client) error { return cl.RemoveSubvolume(ctx, volume, docker) })
}
