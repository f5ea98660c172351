package control

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/glusterdocker/gluster/names"
)

// RetainedOption marks a volume whose Docker volume was removed under the
// retain policy: the plugin no longer lists it, nothing stopped it, and it
// keeps its data until purged or adopted by a create of the same name. It
// holds when the volume was retained (RFC 3339).
const RetainedOption = "user.docker-retained"

// notRetained is the value of RetainedOption on a volume adopted again.
// Gluster cannot take a user.* option off a volume (see subvolumeForgotten).
const notRetained = "no"

// OnRemoveOption records a volume's removal policy, one of OnRemovePolicies,
// as its creator asked for it; the plugin's default applies to a volume
// without it.
const OnRemoveOption = "user.docker-on-remove"

// The removal policies: what `docker volume rm` does to a gluster volume
// the plugin created.
const (
	OnRemoveRetain = "retain" // forget the Docker volume, keep the gluster volume and its data
	OnRemoveDelete = "delete" // stop and delete the gluster volume and its bricks
)

// OnRemovePolicies lists the valid removal policies.
var OnRemovePolicies = []string{OnRemoveRetain, OnRemoveDelete}

// ValidateOnRemove accepts a removal policy, or "" for the default.
func ValidateOnRemove(policy string) error {
	if policy != "" && !slices.Contains(OnRemovePolicies, policy) {
		return fmt.Errorf("on-remove %q: use %s or %s", policy, OnRemoveRetain, OnRemoveDelete)
	}
	return nil
}

// Retained reports whether a volume's options mark it retained.
func Retained(options map[string]string) bool {
	v := options[RetainedOption]
	return v != "" && v != notRetained
}

// Retain marks a volume the plugin created as retained: its Docker volume
// was removed, and the volume keeps running and serving whoever still
// mounts it.
func (s *Service) Retain(ctx context.Context, name string) error {
	return s.label(ctx, name, "retaining", func(options map[string]string) (map[string]string, error) {
		if Retained(options) {
			return nil, nil
		}
		return map[string]string{RetainedOption: time.Now().UTC().Format(time.RFC3339)}, nil
	})
}

// Purge deletes a retained volume for good, as Delete does; it refuses a
// volume that is not retained, so that a purge can never take a volume
// some Docker volume still stands for.
func (s *Service) Purge(ctx context.Context, name string) error {
	if err := names.ValidateVolume(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v, err := s.volume(ctx, name)
	if err != nil {
		return err
	}
	if !Retained(v.Options) {
		return fmt.Errorf("%w: volume %s is not retained: docker volume rm it first", ErrConflict, name)
	}
	s.logger.Info("purging retained volume", "volume", name, "retained", v.Options[RetainedOption])
	return s.Delete(ctx, name)
}

// unretain adopts a retained volume again for a create of its Docker name.
func (s *Service) unretain(ctx context.Context, name string, options map[string]string) error {
	if err := s.gluster.Set(ctx, name, map[string]string{RetainedOption: notRetained}); err != nil {
		return fmt.Errorf("adopting retained volume %s: %w", name, err)
	}
	s.logger.Info("retained volume adopted", "volume", name, "retained", options[RetainedOption])
	return nil
}

// label sets the labels change returns for a volume the plugin created;
// nil changes nothing.
func (s *Service) label(ctx context.Context, name, what string, change func(options map[string]string) (map[string]string, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.pluginVolume(ctx, name, what)
	if err != nil {
		return err
	}
	labels, err := change(v.Options)
	if err != nil || labels == nil {
		return err
	}
	if err := s.gluster.Set(ctx, name, labels); err != nil {
		return fmt.Errorf("%s volume %s: %w", what, name, err)
	}
	s.logger.Info(what+" volume", "volume", name)
	return nil
}

func (h *handler) retain(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, h.svc.Retain)
}

func (h *handler) purge(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, h.svc.Purge)
}

// Retain marks a volume retained.
func (c *Client) Retain(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/retain", nil, nil)
}

// Purge deletes a retained volume.
func (c *Client) Purge(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/volumes/"+url.PathEscape(name)+"/purge", nil, nil)
}

// Retain marks a volume retained through the first server that answers.
func (c *Cluster) Retain(ctx context.Context, name string) error {
	return c.each(ctx, func(cl *Client) error { return cl.Retain(ctx, name) })
}
