// Package atomicfile replaces files so that a crash leaves the old content or
// the new one, never half of either.
//
// Deprecated: use github.com/moby/sys/atomicwriter; this package remains
// only until its last caller moves.
package atomicfile

import (
	"fmt"

	"github.com/moby/sys/atomicwriter"
)

// WriteFile replaces path with data, readable by its owner alone.
//
// Deprecated: use atomicwriter.WriteFile.
func WriteFile(path string, data []byte) error {
	if err := atomicwriter.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
