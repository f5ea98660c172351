package driver

import (
	"errors"

	"github.com/glusterdocker/gluster/control"
)

// onRemove is the removal policy of a gluster volume the plugin created:
// the one recorded on it at create, or else the plugin's default.
func (d *Driver) onRemove(cv control.Volume) string {
	if policy := cv.Options[control.OnRemoveOption]; control.ValidateOnRemove(policy) == nil && policy != "" {
		return policy
	}
	return d.cfg.OnRemove
}

// gone reports whether the cluster's answer about a gluster volume means
// that no Docker volume stands for it any more: it was deleted, or
// retained by a removal.
func gone(cv control.Volume, err error) bool {
	return errors.Is(err, control.ErrNotFound) || (err == nil && control.Retained(cv.Options))
}
