// Package names validates gluster volume names and maps Docker volume names
// onto them. Gluster accepts fewer characters than Docker, so the mapping is
// explicit and refuses what it cannot represent.
package names

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
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

// dockerPattern is what Docker accepts as a volume name.
var dockerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// dotEscape stands for '.' in gluster volume names, which have no dot.
const dotEscape = "__"

// FromDocker maps a Docker volume name onto the gluster volume name that
// backs it: '.' becomes "__", everything else stays. A name the mapping
// cannot carry back unchanged is refused with the reason.
func FromDocker(docker string) (string, error) {
	if !dockerPattern.MatchString(docker) {
		return "", fmt.Errorf("%w: %q is not a Docker volume name", ErrInvalid, docker)
	}
	gluster := strings.ReplaceAll(docker, ".", dotEscape)
	if ToDocker(gluster) != docker {
		return "", fmt.Errorf("%w: %q: '.' is stored as %q in gluster names, so a name must not contain %q or \"_.\"", ErrInvalid, docker, dotEscape, dotEscape)
	}
	if err := ValidateVolume(gluster); err != nil {
		return "", fmt.Errorf("Docker volume %q needs gluster volume %q: %w", docker, shorten(gluster), err)
	}
	return gluster, nil
}

// ToDocker is the inverse of FromDocker.
func ToDocker(gluster string) string {
	return strings.ReplaceAll(gluster, dotEscape, ".")
}
