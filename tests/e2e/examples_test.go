//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// The example tests are split by concern: examples_stacks_test.go (the
// stack files), examples_files_test.go (every file checked, links),
// examples_scripts_test.go (syntax), examples_game_test.go (the asteroids
// game server's protocol) and examples_gluster_test.go (the examples' data
// on gluster volumes). This file holds what they share.

// The examples name official images (nginx:alpine, node:20-alpine, mariadb),
// which cannot be pulled here. These stand in for them, built offline from
// Debian's packages by build/standin-images.sh.
const (
	standinWeb     = "gluster-standin-web:bookworm"     // nginx and node
	standinMariaDB = "gluster-standin-mariadb:bookworm" // mariadbd
)

func examplesDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ensureStandinImages builds the stand-in images that are missing
// (targets of build/standin-images.sh: web, mariadb).
func ensureStandinImages(t testing.TB, targets ...string) {
	t.Helper()
	images := map[string]string{"web": standinWeb, "mariadb": standinMariaDB}
	var missing []string
	for _, target := range targets {
		if _, err := testbed.Docker(context.Background(), "image", "inspect", images[target]); err != nil {
			missing = append(missing, target)
		}
	}
	if len(missing) == 0 {
		return
	}
	t.Logf("building stand-in images %v (a few minutes, once)", missing)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	script, err := filepath.Abs(filepath.Join("..", "..", "build", "standin-images.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testbed.Run(ctx, script, missing...); err != nil {
		t.Fatalf("building stand-in images: %v", err)
	}
}

// removeContainer removes a container by name if it exists.
func removeContainer(t testing.TB, name string) {
	t.Helper()
	if _, err := testbed.Docker(context.Background(), "container", "inspect", name); err == nil {
		testbed.MustDocker(t, "rm", "-f", "-v", name)
	}
}

// removeNetwork removes a network by name if it exists.
func removeNetwork(t testing.TB, name string) {
	t.Helper()
	if _, err := testbed.Docker(context.Background(), "network", "inspect", name); err == nil {
		testbed.MustDocker(t, "network", "rm", name)
	}
}

// plainHTTP talks to the test's containers only: no proxy from the
// environment.
var plainHTTP = &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}

func httpGet(url string) (string, int, error) {
	resp, err := plainHTTP.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode, err
}

// waitHTTP waits until url answers 200 with a body containing want.
func waitHTTP(t testing.TB, url, want string) {
	t.Helper()
	testbed.Eventually(t, 30*time.Second, url+" answering", func() error {
		body, status, err := httpGet(url)
		if err != nil {
			return err
		}
		if status != 200 || !strings.Contains(body, want) {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		return nil
	})
}
