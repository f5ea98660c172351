package testbed

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StartRegistry runs Debian's docker-registry on loopback at addr (such as
// 127.0.0.1:5055) with storage in a test directory, and stops it when the
// test ends. Docker treats loopback registries as insecure, so no TLS.
func StartRegistry(t testing.TB, addr string) {
	t.Helper()
	startRegistry(t, addr, nil, func() error {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// StartRegistryOn is StartRegistry in the node's network namespace, where
// addr on loopback is the node's own: its daemon pushes and pulls there.
func StartRegistryOn(t testing.TB, n *Node, addr string) {
	t.Helper()
	netns := []string{"ip", "netns", "exec", n.Name}
	startRegistry(t, addr, netns, func() error {
		_, err := Run(context.Background(), netns[0], append(netns[1:], "curl", "-sf", "--max-time", "2", "http://"+addr+"/v2/")...)
		return err
	})
}

// startRegistry runs docker-registry on addr behind the command prefix
// (such as ip netns exec), and waits until answers says it answers.
func startRegistry(t testing.TB, addr string, prefix []string, answers func() error) {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	err := os.WriteFile(config, []byte(fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	args := append(append(prefix, "docker-registry"), "serve", config)
	logFile := filepath.Join(dir, "registry.log")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("last lines of docker-registry's log:\n%s", tail(logFile, 20))
		}
	})
	Eventually(t, 30*time.Second, "registry answers", answers)
}
