//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// The demo's names (demo/up.sh): a demo found on the machine is someone's,
// and the test leaves it alone.
const (
	demoServer = "gluster-demo-1"
	demoPlugin = "gluster"
	demoVolume = "demo-data"
)

// TestDemo runs the quick start's demo as a new user would, twice (the
// second run keeps what runs), checks that it runs with TLS and keeps the
// token out of every setting, and tears it down.
func TestDemo(t *testing.T) {
	ctx := context.Background()
	if _, err := testbed.Docker(ctx, "container", "inspect", demoServer); err == nil {
		t.Skipf("a demo runs on this machine (%s): it is not the test's to replace", demoServer)
	}
	if _, err := testbed.Docker(ctx, "plugin", "inspect", demoPlugin); err == nil {
		t.Skipf("a plugin %q is installed on this machine: the demo would refuse it", demoPlugin)
	}
	demo := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join("..", "..", "demo", script))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("demo/%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { demo("down.sh") })

	out := demo("up.sh")
	for _, want := range []string{"cluster CA: sha256:", "TLS everywhere", "hello from container"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
	again := demo("up.sh")
	for _, want := range []string{"server gluster-demo-1 (172.30.70.11) is running", "plugin gluster is enabled", "volume demo-data exists"} {
		if !strings.Contains(again, want) {
			t.Errorf("the second run lacks %q: it should keep what runs:\n%s", want, again)
		}
	}
	settings := testbed.MustDocker(t, "plugin", "inspect", "-f", "{{range .Settings.Env}}{{println .}}{{end}}", demoPlugin)
	if !strings.Contains(settings, "CA_FINGERPRINT=sha256:") || !strings.Contains(settings, "\nTOKEN=\n") {
		t.Errorf("the demo's plugin should pin the CA and hold no token in its settings:\n%s", settings)
	}
	env := testbed.MustDocker(t, "container", "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", demoServer)
	if strings.Contains("\n"+env, "\nTOKEN=") || !strings.Contains(env, "TOKEN_FILE=") || !strings.Contains(env, "TLS=on") {
		t.Errorf("the demo's server should read its token from a file and run with TLS:\n%s", env)
	}
	if got := testbed.MustDocker(t, "run", "--rm", "-v", demoVolume+":/data", testbed.ClientImage, "cat", "/data/hello.txt"); !strings.Contains(got, "hello from container") {
		t.Errorf("demo-data holds %q", got)
	}
	down := demo("down.sh")
	if _, err := testbed.Docker(ctx, "container", "inspect", demoServer); err == nil {
		t.Errorf("demo/down.sh left %s:\n%s", demoServer, down)
	}
}
