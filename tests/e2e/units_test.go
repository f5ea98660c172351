//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestSystemdUnitsVerify runs `systemd-analyze verify` on every unit the
// project ships. It fails on an error (a missing program in an Exec line, an
// unknown unit type) and on any warning about the unit itself (a misspelled
// key, a value systemd would ignore), which verify reports with exit code 0.
func TestSystemdUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze is not installed: install the systemd package (tests/setup.sh does)")
	}
	var units []string
	for _, pattern := range []string{"*.service", "*.socket"} {
		found, err := filepath.Glob(filepath.Join("..", "..", "systemd", pattern))
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, found...)
	}
	if len(units) == 0 {
		t.Fatal("no unit files found in systemd/")
	}
	providePluginBinary(t)
	for _, unit := range units {
		t.Run(filepath.Base(unit), func(t *testing.T) {
			path, err := filepath.Abs(unit)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// verify writes its findings to standard error, also when it
			// exits 0: keep both streams (testbed.Run drops standard error
			// on success).
			raw, err := exec.CommandContext(ctx, "systemd-analyze", "verify", path).CombinedOutput()
			out := strings.TrimSpace(string(raw))
			if err != nil {
				t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, out)
			}
			// Lines about other units (dependencies on this machine) are not
			// this unit's problem; lines naming it are.
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, filepath.Base(unit)) {
					t.Errorf("systemd-analyze verify %s: %s", unit, line)
				} else if line != "" {
					t.Logf("systemd-analyze: %s", line)
				}
			}
		})
	}
}

// pluginBinary is where gluster-plugin.service expects the plugin.
const pluginBinary = "/usr/local/bin/gluster-plugin"

// providePluginBinary builds the plugin into pluginBinary for verify, which
// checks that every Exec program exists, unless one is installed already;
// what it put there it removes again.
func providePluginBinary(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(pluginBinary); err == nil {
		return
	}
	testbed.MustRun(t, "go", "build", "-o", pluginBinary, "../../plugin")
	t.Cleanup(func() { os.Remove(pluginBinary) })
}
