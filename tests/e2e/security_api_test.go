//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestControlAPIResourceLimits attacks a server's control API: guessing the
// token, trickling a request's body, opening more connections than it
// serves at once, and starting a server with a short token.
func TestControlAPIResourceLimits(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-sec-api", 170, 1)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	srv := c.Servers[0]
	addr := net.JoinHostPort(srv.Address, strconv.Itoa(control.DefaultPort))
	ctx := context.Background()

	t.Run("wrong tokens are refused, logged once and counted", func(t *testing.T) {
		const guesses = 20
		for i := range guesses {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/volumes", strings.NewReader(`{"name":"guessed"}`))
			req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%02d-0123456789abcdef", i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("guess %d: status %d, want 401", i, resp.StatusCode)
			}
		}
		logs := testbed.MustDocker(t, "logs", srv.Name)
		var refused []string
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "request refused") {
				refused = append(refused, line)
			}
		}
		if len(refused) != 1 || !strings.Contains(refused[0], "source=") {
			t.Errorf("%d guesses logged in %d lines, want 1 naming the source: %q", guesses, len(refused), refused)
		}
		if strings.Contains(logs, "guess-") {
			t.Error("the server's log shows a token that was sent")
		}
		if got := serverAuthFailures(t, srv); got != guesses {
			t.Errorf("gluster_server_auth_failures_total = %d, want %d", got, guesses)
		}
		assertVolumeAbsent(t, c, "guessed")
	})

	t.Run("a trickled body is cut off while others are served", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/volumes HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\":\"trickled\"", addr, c.Token)
		start := time.Now()
		closed := make(chan string, 1)
		go func() {
			answer, _ := io.ReadAll(conn)
			closed <- string(answer)
		}()
		go func() {
			for range 100 {
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}()

		peersCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := srv.Client().Peers(peersCtx); err != nil {
			t.Errorf("a normal request while a body trickles: %v", err)
		}
		limit := control.RequestReadTimeout + 5*time.Second
		select {
		case answer := <-closed:
			t.Logf("cut off after %s: %.120q", time.Since(start).Round(time.Millisecond), answer)
		case <-time.After(limit):
			t.Fatalf("a body trickled for %s and the connection is still open, want it closed after %s", limit, control.RequestReadTimeout)
		}
		assertVolumeAbsent(t, c, "trickled")
	})

	t.Run("connections beyond the cap wait", func(t *testing.T) {
		held := make([]net.Conn, 0, control.MaxConnections)
		closeHeld := func() {
			for _, conn := range held {
				conn.Close()
			}
			held = held[:0]
		}
		defer closeHeld()
		for range control.MaxConnections {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, conn)
		}
		// A client of its own: one kept alive from an earlier request
		// would be served on its old connection.
		probe := control.NewClient(srv.Address, control.DefaultPort, c.Token, &http.Client{Transport: &http.Transport{}})
		answered := make(chan error, 1)
		go func() {
			probeCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			_, err := probe.Peers(probeCtx)
			answered <- err
		}()
		select {
		case err := <-answered:
			t.Fatalf("a request beyond %d open connections was served at once (%v), want it to wait", control.MaxConnections, err)
		case <-time.After(3 * time.Second):
		}
		closeHeld()
		select {
		case err := <-answered:
			if err != nil {
				t.Errorf("the waiting request, once the connections closed: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the waiting request was not served after the other connections closed")
		}
	})

	t.Run("a server with a short token does not start", func(t *testing.T) {
		name := c.Name + "-short"
		t.Cleanup(func() { testbed.Docker(context.Background(), "rm", "-f", name) })
		runCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err := testbed.Docker(runCtx, "run", "--rm", "--name", name, "--label", "gluster-testbed="+c.Name,
			"--network", c.Network, "--ip", "172.30.170.20", "--cap-add", "SYS_ADMIN", "--tmpfs", "/run",
			"-e", "ADDRESS=172.30.170.20", "-e", "TOKEN=short-token", testbed.ServerImage)
		if err == nil || !strings.Contains(err.Error(), "fewer than 16") || !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("server with TOKEN=short-token: %v; want it to exit saying the token is too short and how to make one", err)
		}
	})
}

// TestPluginTokenFile installs the plugin with its token in a host file
// (TOKEN_FILE), not in its settings, which `docker plugin inspect` shows to
// anyone allowed to run it.
func TestPluginTokenFile(t *testing.T) {
	const name = "gte2e-sec-api-file"
	c := testbed.NewCluster(t, name, 171, 2)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPluginWithTokenFile(t, c, name)
	b := &pluginBed{cluster: c, plugin: p}

	t.Run("inspect does not show the token", func(t *testing.T) {
		inspect := testbed.MustDocker(t, "plugin", "inspect", p.Name)
		if strings.Contains(inspect, c.Token) {
			t.Errorf("docker plugin inspect shows the token:\n%s", inspect)
		}
		env := testbed.MustDocker(t, "plugin", "inspect", "-f", "{{range .Settings.Env}}{{println .}}{{end}}", p.Name)
		for _, want := range []string{"TOKEN=\n", "TOKEN_FILE=/etc/docker-gluster/token\n"} {
			if !strings.Contains(env, want) {
				t.Errorf("plugin settings lack %q:\n%s", want, env)
			}
		}
	})

	t.Run("volumes work", func(t *testing.T) {
		b.create(t, "secret.data", "replica=2")
		if got := b.run(t, "secret.data", "echo kept > /data/f && cat /data/f"); got != "kept" {
			t.Errorf("container reads %q", got)
		}
		b.assertInEveryBrick(t, "secret__data", "f", "kept\n")
		testbed.MustDocker(t, "volume", "rm", "secret.data")
		assertVolumeAbsent(t, c, "secret__data")
		b.assertNoMounts(t)
	})

	t.Run("a missing, empty or short token stops the plugin", func(t *testing.T) {
		tests := []struct {
			name     string
			settings []string
			noFile   bool
			token    string // content of the token file
			want     []string
		}{
			{"missing token file", nil, true, "", []string{"TOKEN_FILE", "no such file", "/etc/docker-gluster/token"}},
			{"empty token file", nil, false, "", []string{"TOKEN_FILE", "is empty"}},
			{"short TOKEN", []string{"TOKEN=short-token"}, false, c.Token, []string{"fewer than 16", "openssl rand -hex 32"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				testbed.MustDocker(t, "plugin", "disable", "-f", p.Name)
				defer restorePluginTokenFile(t, p, c.Token)
				if tc.noFile {
					if err := os.Remove(p.TokenFile); err != nil {
						t.Fatal(err)
					}
				} else {
					writePluginTokenFile(t, p, tc.token)
				}
				if tc.settings != nil {
					testbed.MustDocker(t, append([]string{"plugin", "set", p.Name}, tc.settings...)...)
				}
				mark := testbed.MarkDaemonLog(t)
				err := enablePlugin(p.Name)
				if err == nil {
					t.Fatal("the plugin was enabled")
				}
				var plugin []string
				id := p.ID(t)
				for _, line := range strings.Split(testbed.DaemonLogSince(t, mark), "\n") {
					if strings.Contains(line, id) && strings.Contains(line, "gluster-plugin:") {
						plugin = append(plugin, line)
					}
				}
				for _, want := range tc.want {
					if !strings.Contains(strings.Join(plugin, "\n"), want) {
						t.Errorf("the plugin's message does not say %q: %q", want, plugin)
					}
				}
			})
		}
	})
}

// writePluginTokenFile replaces the plugin's token file with content.
func writePluginTokenFile(t *testing.T, p *testbed.Plugin, content string) {
	t.Helper()
	if err := os.WriteFile(p.TokenFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// restorePluginTokenFile puts the token back in the file, clears TOKEN and
// enables the plugin again.
func restorePluginTokenFile(t *testing.T, p *testbed.Plugin, token string) {
	t.Helper()
	writePluginTokenFile(t, p, token)
	testbed.MustDocker(t, "plugin", "set", p.Name, "TOKEN=")
	if err := enablePlugin(p.Name); err != nil {
		t.Fatal(err)
	}
}

// enablePlugin enables a plugin. Docker 20.10 removes the container of a
// plugin that failed to start only after a while, and refuses to enable the
// plugin again meanwhile ("id already in use"), though the refused enable may
// still leave it enabled: it tries again for enableRetryTime.
func enablePlugin(name string) error {
	const enableRetryTime = 30 * time.Second
	deadline := time.Now().Add(enableRetryTime)
	for {
		_, err := testbed.Docker(context.Background(), "plugin", "enable", name)
		switch {
		case err == nil, strings.Contains(err.Error(), "plugin already enabled"):
			return nil
		case !strings.Contains(err.Error(), "id already in use") || time.Now().After(deadline):
			return err
		}
		time.Sleep(time.Second)
	}
}

// serverAuthFailures reads gluster_server_auth_failures_total from the server's
// metrics.
func serverAuthFailures(t *testing.T, s *testbed.Server) int {
	t.Helper()
	resp, err := http.Get("http://" + s.MetricsAddress() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), "gluster_server_auth_failures_total "); ok {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatalf("no gluster_server_auth_failures_total in the metrics of %s", s.Name)
	return 0
}

// assertVolumeAbsent checks that no gluster volume and no brick directory of
// that name exist.
func assertVolumeAbsent(t *testing.T, c *testbed.Cluster, name string) {
	t.Helper()
	if _, err := c.Volume(context.Background(), name); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("gluster volume %s: %v, want not found", name, err)
	}
	for _, s := range c.Servers {
		if _, err := os.Stat(s.BrickDir(name)); err == nil {
			t.Errorf("brick directory %s left on %s", filepath.Base(s.BrickDir(name)), s.Name)
		}
	}
}
