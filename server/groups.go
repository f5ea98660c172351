package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Option profiles (`gluster volume set VOL group NAME`) are files that the
// glusterfs-server package installs in glusterd's state directory, which
// the host directory mounted there hides. The image keeps the package's
// copy in imageGroupsDir (build/server-image.sh); seedGroups puts it back.
const (
	imageGroupsDir = "/usr/share/gluster-server/groups"
	groupsDir      = "/var/lib/glusterd/groups"
)

// seedGroups copies every profile of from into to that is missing there or
// differs from the image's, so that a newer image brings its profiles.
// Profiles of other names, an operator's own, are left as they are.
func seedGroups(from, to string) error {
	entries, err := os.ReadDir(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // an image built before the profiles were kept
	}
	if err != nil {
		return fmt.Errorf("reading the image's option profiles: %w", err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return fmt.Errorf("making the option profiles' directory: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		want, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return fmt.Errorf("reading option profile %s: %w", e.Name(), err)
		}
		target := filepath.Join(to, e.Name())
		if have, err := os.ReadFile(target); err == nil && bytes.Equal(have, want) {
			continue
		}
		if err := os.WriteFile(target, want, 0o644); err != nil {
			return fmt.Errorf("writing option profile %s: %w", e.Name(), err)
		}
	}
	return nil
}
