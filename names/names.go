// Package names validates gluster volume names and maps Docker volume names
// onto them. Gluster accepts fewer characters than Docker, so the mapping is
// explicit and refuses what it cannot represent.
package names

import (
	"errors"
	"fmt"
	"regexp"
)

// MaxVolumeLength bounds gluster volume names. Gluster derives process,
// translator and brick names from the volume name, so long names make long
// paths; 128 leaves room for every one of them.
const MaxVolumeLength = 128

// ErrInvalid marks a name that cannot be used; the wrapped message says why.
var ErrInvalid = errors.New("invalid volume name")

var volumePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// reserved are words the gluster CLI reads as keywords where a volume name is
// expected ("gluster volume status all").
var reserved = map[string]bool{"all": true}

// ValidateVolume reports whether name can be a gluster volume name: letters,
// digits, '-' and '_', starting with a letter or digit, at most MaxVolumeLength.
func ValidateVolume(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the name is empty", ErrInvalid)
	case len(name) > MaxVolumeLength:
		return fmt.Errorf("%w: %q is %d characters long, the limit is %d", ErrInvalid, shorten(name), len(name), MaxVolumeLength)
	case reserved[name]:
		return fmt.Errorf("%w: %q is reserved by gluster, choose another name", ErrInvalid, name)
	case !volumePattern.MatchString(name):
		return fmt.Errorf("%w: %q: use letters, digits, '-' and '_' only, starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

func shorten(s string) string {
	if len(s) <= 32 {
		return s
	}
	return s[:32] + "..."
}
