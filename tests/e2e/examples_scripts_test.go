//go:build e2e

package e2e

import (
	"path/filepath"
	"testing"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestExampleScripts checks the syntax of the example's JavaScript with
// node and of its nginx configuration with nginx, in the stand-in image.
func TestExampleScripts(t *testing.T) {
	ensureStandinImages(t, "web")
	dir := examplesDir(t)
	for _, js := range []string{"asteroids/server/server.js", "asteroids/content/game.js"} {
		testbed.MustDocker(t, "run", "--rm", "--network", "none", "-v", dir+":/examples:ro",
			standinWeb, "node", "--check", "/examples/"+js)
	}
	out := testbed.MustDocker(t, "run", "--rm", "--network", "none",
		"-v", filepath.Join(dir, "asteroids", "nginx.conf")+":/etc/nginx/conf.d/default.conf:ro",
		standinWeb, "sh", "-c", "nginx -t 2>&1")
	t.Logf("nginx -t: %s", out)
}
