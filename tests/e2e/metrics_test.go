//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// pluginMetrics is where the test's plugin serves its metrics, on the
// host's network. Not the default 127.0.0.1:9474: another gluster plugin on
// this host may hold that, and setting it shows that the setting works.
const pluginMetrics = "127.0.0.1:9476"

// prometheusAddress is where the test's own Prometheus listens, away from
// the 9090 of the Debian package's service.
const prometheusAddress = "127.0.0.1:9490"

// dashboardDir holds the Grafana dashboard and the example scrape
// configuration.
const dashboardDir = "../../examples/monitoring"

func TestMetrics(t *testing.T) {
	b := newPluginBed(t, "gte2e-metrics", 105, "METRICS_ADDRESS="+pluginMetrics)
	srv := b.cluster.Servers[0]
	prom := startPrometheus(t, pluginMetrics, srv.MetricsAddress())
	ctx := context.Background()

	const containers = 3
	b.create(t, "metrics", "replica=2")
	names := make([]string, containers)
	for i := range names {
		names[i] = fmt.Sprintf("gte2e-metrics-c%d", i)
		testbed.MustDocker(t, "run", "-d", "--name", names[i], "--label", "gluster-testbed=1", "-v", "metrics:/data", testbed.ClientImage, "sleep", "300")
	}
	t.Cleanup(func() { testbed.Docker(ctx, append([]string{"rm", "-f"}, names...)...) })

	// A mount that fails: the existing gluster volume a Docker volume
	// uses was deleted behind the plugin's back, through the control API
	// of the scraped server.
	if _, err := srv.Client().Create(ctx, control.CreateRequest{Name: "vanished", Options: pluginLabel("vanished")}); err != nil {
		t.Fatal(err)
	}
	b.create(t, "haunted", "volume=vanished")
	if err := srv.Client().Delete(ctx, "vanished"); err != nil {
		t.Fatal(err)
	}
	if _, err := testbed.RunContainer(t, "haunted", "true"); err == nil {
		t.Fatal("a container started on a volume whose gluster volume is gone")
	}

	want := []struct {
		query string
		value float64
	}{
		{`gluster_plugin_requests_total{method="mount",outcome="success"}`, containers},
		{`gluster_plugin_requests_total{method="mount",outcome="error"}`, 1},
		{`gluster_plugin_mount_failures_total{reason="volume_not_found"}`, 1},
		{`gluster_plugin_fuse_mounts`, 1},
		{`gluster_plugin_references`, containers},
		// Names this test's plugin: no other has this bed's servers.
		{fmt.Sprintf(`gluster_plugin_server_up{server=%q}`, srv.Address), 1},
		{`gluster_volume_bricks{volume="metrics"}`, 2},
		{`gluster_volume_bricks_online{volume="metrics"}`, 2},
		{`gluster_volume_heal_pending_entries{volume="metrics"}`, 0},
		{`gluster_pool_peers_connected`, 2},
		{`gluster_up`, 1},
		{`gluster_server_requests_total{operation="DELETE /v1/volumes/{name}",code="204"}`, 1},
	}
	start := time.Now()
	testbed.Eventually(t, time.Minute, "Prometheus shows what the test did", func() error {
		var errs []error
		for _, w := range want {
			got, err := prom.query(w.query)
			if err == nil && got != w.value {
				err = fmt.Errorf("%s = %v, want %v", w.query, got, w.value)
			}
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	t.Logf("Prometheus showed every expected value %s after the last action", time.Since(start).Round(time.Millisecond))

	t.Run("dashboard queries only metrics that exist", func(t *testing.T) {
		queried := dashboardMetrics(t)
		exposed := scrape(t, pluginMetrics) + scrape(t, srv.MetricsAddress())
		for _, name := range queried {
			if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(exposed) {
				t.Errorf("the dashboard queries %s, which neither the plugin nor the server exposes", name)
			}
		}
		t.Logf("the dashboard queries %d metrics, all exposed", len(queried))
	})

	t.Run("example scrape configuration is valid", func(t *testing.T) {
		testbed.MustRun(t, "promtool", "check", "config", filepath.Join(dashboardDir, "prometheus.yml"))
	})
}

// prometheusServer is a Prometheus the test runs.
type prometheusServer struct {
	url string
}

// startPrometheus runs Prometheus as a child of the test, scraping the
// plugin and the server every second, with its data in a test directory,
// and stops it when the test ends.
func startPrometheus(t *testing.T, plugin, server string) *prometheusServer {
	t.Helper()
	binary, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed: run tests/setup.sh: %v", err)
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: gluster-plugin
    static_configs:
      - targets: [%q]
  - job_name: gluster-server
    static_configs:
      - targets: [%q]
`, plugin, server)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary,
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+prometheusAddress)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logFile.Name())
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			t.Logf("last lines of Prometheus's log:\n%s", strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	})
	p := &prometheusServer{url: "http://" + prometheusAddress}
	testbed.Eventually(t, 30*time.Second, "Prometheus ready", func() error {
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})
	return p
}

// query evaluates an instant query that must select exactly one series and
// returns its value.
func (p *prometheusServer) query(q string) (float64, error) {
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return 0, fmt.Errorf("%s: %w", q, err)
	}
	if answer.Status != "success" {
		return 0, fmt.Errorf("%s: %s", q, answer.Error)
	}
	if n := len(answer.Data.Result); n != 1 {
		return 0, fmt.Errorf("%s: %d series, want 1", q, n)
	}
	text, _ := answer.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(text, 64)
}

// scrape returns what address serves at /metrics.
func scrape(t *testing.T, address string) string {
	t.Helper()
	resp, err := http.Get("http://" + address + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: %s, %v", address, resp.Status, err)
	}
	return string(body)
}

// dashboardMetrics parses the Grafana dashboard and returns the gluster_*
// metric names its panels query.
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dashboardDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dashboard); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range dashboard.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, target := range p.Targets {
			for _, name := range regexp.MustCompile(`\bgluster_[a-z_]+`).FindAllString(target.Expr, -1) {
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("the dashboard queries no gluster metric")
	}
	return names
}
