//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// timedRun runs a container that reads the volume and reports how long it
// took, start to exit.
func timedRun(t *testing.T, volume string) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	_, err := testbed.RunContainer(t, volume, "cat /data/probe.txt")
	return time.Since(start), err
}

func TestPluginWithServersDown(t *testing.T) {
	b := newPluginBed(t, "gte2e-avail", 101)
	srv1, srv2 := b.cluster.Servers[0], b.cluster.Servers[1]
	b.create(t, "avail", "replica=2")
	b.run(t, "avail", "echo up > /data/probe.txt")
	healthy, err := timedRun(t, "avail")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("container with the volume, all servers up: %s", healthy)

	t.Run("first-listed server stopped", func(t *testing.T) {
		testbed.MustDocker(t, "stop", srv1.Name)
		fresh, err := timedRun(t, "avail")
		if err != nil {
			t.Fatalf("mount with %s freshly stopped: %v", srv1.Address, err)
		}
		steady, err := timedRun(t, "avail")
		if err != nil {
			t.Fatalf("mount with %s stopped for a while: %v", srv1.Address, err)
		}
		t.Logf("container with the volume, first server stopped: fresh %s, steady %s (make bench measures this against baselines)", fresh, steady)
		// Generous bounds: the point is that the 42 s TCP timeout of a dead
		// volfile server is not paid; make bench holds the 3 s target.
		if fresh > 20*time.Second || steady > 20*time.Second {
			t.Errorf("mounts took %s and %s with one server down", fresh, steady)
		}
		testbed.MustDocker(t, "start", srv1.Name)
		b.cluster.WaitBricksOnline(t, "avail", 2*time.Minute)
	})

	// A mount retries until the servers come back, within the mount
	// timeout. MOUNT_TIMEOUT is left at auto: the plugin allows 100 s,
	// which Docker 23 and later wait for; Docker 20.10 abandons a Mount
	// after 30 s, which the plugin learns the first time and from then on
	// gives up 5 s before Docker does, with its own error. Servers back
	// too late: the next start (a restart policy, Swarm) mounts.
	t.Run("servers start after the mount request", func(t *testing.T) {
		learns := engineMajor(t) < 23
		for _, tc := range []struct {
			delay time.Duration
			want  string // "" for success; "docker" or "plugin": whose error
		}{
			{5 * time.Second, ""},
			{15 * time.Second, ""},
			{60 * time.Second, map[bool]string{true: "docker", false: ""}[learns]},
			{40 * time.Second, map[bool]string{true: "plugin", false: ""}[learns]},
		} {
			testbed.MustDocker(t, "stop", srv1.Name, srv2.Name)
			done := make(chan error, 1)
			go func() {
				_, err := testbed.RunContainer(t, "avail", "cat /data/probe.txt")
				done <- err
			}()
			time.Sleep(tc.delay)
			testbed.MustDocker(t, "start", srv1.Name, srv2.Name)
			var err error
			select {
			case err = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatalf("servers back after %s: the container did not finish", tc.delay)
			}
			// The error echoes the command line, which names the volume
			// too: tell the two apart by what only each of them says.
			ownError := err != nil && strings.Contains(err.Error(), "mounting volume avail:")
			dockerTimeout := dockerGaveUp(err)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("servers back after %s: %v", tc.delay, err)
			case tc.want == "docker" && (!dockerTimeout || ownError):
				t.Errorf("servers back after %s, Docker 20.10 not yet learned: %v; want Docker's timeout", tc.delay, err)
			case tc.want == "plugin" && !ownError:
				t.Errorf("servers back after %s, past the learned mount timeout: %v; want the plugin's own error naming the volume", tc.delay, err)
			}
			if tc.want == "docker" {
				assertLearnedDockerWait(t, b.plugin, "30s")
			}
			b.cluster.WaitBricksOnline(t, "avail", 2*time.Minute)
			if tc.want != "" {
				if _, err := timedRun(t, "avail"); err != nil {
					t.Errorf("the next start after the servers came back: %v", err)
				}
			}
		}
	})

	t.Run("every server down", func(t *testing.T) {
		b.plugin.Set(t, "MOUNT_TIMEOUT=10s")
		testbed.MustDocker(t, "stop", srv1.Name, srv2.Name)
		start := time.Now()
		_, err := testbed.RunContainer(t, "avail", "true")
		took := time.Since(start)
		if err == nil {
			t.Fatal("mount with every server down succeeded")
		}
		for _, want := range []string{"avail", srv1.Address, srv2.Address} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
		// The mount retries until an attempt could no longer start before
		// the 10 s deadline: it gives up up to one pause (at most 5 s, the
		// mounter's longest) before it, never at once.
		if took < 5*time.Second || took > 60*time.Second {
			t.Errorf("failed after %s, want within the last pause before the 10s deadline", took)
		}
		b.assertNoMounts(t)
		testbed.MustDocker(t, "start", srv1.Name, srv2.Name)
		b.cluster.WaitPool(t, poolTimeout)
	})
}

// engineMajor is the major version of the main Docker daemon.
func engineMajor(t *testing.T) int {
	t.Helper()
	version := testbed.MustDocker(t, "version", "-f", "{{.Server.Version}}")
	major, err := strconv.Atoi(strings.Split(version, ".")[0])
	if err != nil {
		t.Fatalf("Docker version %q: %v", version, err)
	}
	return major
}

// assertLearnedDockerWait checks what the plugin recorded of how long Docker
// waited for a Mount it abandoned.
func assertLearnedDockerWait(t *testing.T, p *testbed.Plugin, want string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(p.StateDir, "docker-wait.json"))
	if err != nil || !strings.Contains(string(data), `"docker_wait":"`+want+`"`) {
		t.Errorf("the plugin's record of Docker's wait: %s, %v; want %s", data, err, want)
	}
}
