//go:build e2e

package e2e

import (
	"fmt"
	"os"
)

// A record file holds one version number, rewritten in place at a fixed
// width: a reader sees a whole version, old or new, never a torn one.
const recordFormat = "version %020d\n"

// writeVersion writes version n over the file's record and fsyncs it; only
// then is the write acknowledged.
func writeVersion(file string, n int) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, recordFormat, n)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// parseVersion reads the version a record holds.
func parseVersion(data []byte) (int, error) {
	var n int
	if _, err := fmt.Sscanf(string(data), recordFormat, &n); err != nil {
		return 0, fmt.Errorf("record %q: %w", data, err)
	}
	return n, nil
}
