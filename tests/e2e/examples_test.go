//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// The examples name official images (nginx:alpine, node:20-alpine, mariadb),
// which cannot be pulled here. These stand in for them, built offline from
// Debian's packages by build/standin-images.sh.
const (
	standinWeb     = "gluster-standin-web:bookworm"     // nginx and node
	standinMariaDB = "gluster-standin-mariadb:bookworm" // mariadbd
)

// The network the game server test runs on, and the game server's address.
const (
	examplesNet    = "gte2e-examples-net"
	examplesSubnet = "172.30.120.0/24"
	examplesGame   = "gte2e-examples-game"
	examplesGameIP = "172.30.120.10"
)

// exampleChecks lists every file under examples/ and the test that
// exercises it: a new file fails TestExampleFilesCovered until it is
// checked somewhere.
var exampleChecks = map[string]string{
	"README.md":                         "links (TestExampleFilesCovered)",
	"asteroids/README.md":               "links (TestExampleFilesCovered)",
	"asteroids/docker-stack.yml":        "TestExampleStacks, TestExamplesOnGluster",
	"asteroids/nginx.conf":              "TestExampleScripts (nginx -t), TestExamplesOnGluster (served through it)",
	"asteroids/content/index.html":      "TestExampleFilesCovered (its scripts exist), TestExamplesOnGluster (served)",
	"asteroids/content/game.js":         "TestExampleScripts (node --check), TestExamplesOnGluster (served)",
	"asteroids/server/server.js":        "TestExampleScripts, TestExampleGameServer, TestExamplesOnGluster",
	"wordpress/README.md":               "links (TestExampleFilesCovered)",
	"wordpress/docker-stack.yml":        "TestExampleStacks, TestExamplesOnGluster (its volumes)",
	"servers/README.md":                 "links (TestExampleFilesCovered)",
	"servers/docker-stack.yml":          "TestExampleStacks",
	"monitoring/grafana-dashboard.json": "TestMetrics (its queries exist)",
	"monitoring/prometheus.yml":         "TestMetrics (promtool check config)",
}

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

// stackConfig runs `docker stack config` on an example's stack file: the
// CLI's own loader, with its schema validation, interpolation and merges.
func stackConfig(t testing.TB, example string) string {
	t.Helper()
	file := filepath.Join(examplesDir(t), example, "docker-stack.yml")
	out, err := testbed.Docker(context.Background(), "stack", "config", "-c", file)
	if err != nil {
		t.Fatalf("docker stack config -c %s (needs a docker CLI of version 23 or newer): %v", file, err)
	}
	return out
}

// stackVolume is a top-level volume of a stack, as `docker stack config`
// prints it.
type stackVolume struct {
	Driver string
	Opts   map[string]string
}

// stackVolumes reads the top-level volumes section of `docker stack
// config` output, which is printed in a fixed form: two spaces per level,
// string values quoted.
func stackVolumes(t testing.TB, config string) map[string]stackVolume {
	t.Helper()
	vols := map[string]stackVolume{}
	in, opts, current := false, false, ""
	for _, line := range strings.Split(config, "\n") {
		if !strings.HasPrefix(line, " ") {
			in = line == "volumes:"
			continue
		}
		if !in {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		key, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		value = strings.TrimSpace(value)
		if unquoted, err := strconv.Unquote(value); err == nil {
			value = unquoted
		}
		switch indent {
		case 2:
			current, opts = key, false
			vols[current] = stackVolume{Opts: map[string]string{}}
		case 4:
			opts = key == "driver_opts"
			if key == "driver" {
				v := vols[current]
				v.Driver = value
				vols[current] = v
			}
		case 6:
			if opts {
				vols[current].Opts[key] = value
			}
		default:
			t.Fatalf("unexpected line in the volumes of docker stack config: %q", line)
		}
	}
	return vols
}

// TestExampleStacks validates every example's stack file with the docker
// CLI and checks what the examples promise: gluster volumes where data
// lives, ports published on the host only, config files that exist.
func TestExampleStacks(t *testing.T) {
	stacks, err := filepath.Glob(filepath.Join(examplesDir(t), "*", "docker-stack.yml"))
	if err != nil || len(stacks) == 0 {
		t.Fatalf("no examples/*/docker-stack.yml: %v", err)
	}
	// The gluster volumes each example declares, with the options the
	// plugin must get.
	wantVolumes := map[string]map[string][]string{
		"asteroids": {"content": {"replica"}},
		"wordpress": {"wp_content": {"replica", "uid", "gid"}, "db": {"replica", "arbiter", "gluster.performance.strict-o-direct"}},
		"servers":   {},
	}
	for _, stack := range stacks {
		example := filepath.Base(filepath.Dir(stack))
		t.Run(example, func(t *testing.T) {
			want, ok := wantVolumes[example]
			if !ok {
				t.Fatalf("no expectations for example %s: add them here", example)
			}
			config := stackConfig(t, example)
			vols := stackVolumes(t, config)
			for name, opts := range want {
				v, ok := vols[name]
				if !ok || v.Driver != "gluster" {
					t.Errorf("volume %s: %+v (present %t); want driver: gluster", name, v, ok)
					continue
				}
				for _, o := range opts {
					if v.Opts[o] == "" {
						t.Errorf("volume %s has no driver option %s: %v", name, o, v.Opts)
					}
				}
			}
			if want := len(want); strings.Count(config, "driver: gluster") != want {
				t.Errorf("want %d volumes with driver: gluster:\n%s", want, config)
			}
			// Ports: host mode only (no routing mesh).
			if published, host := strings.Count(config, "published:"), strings.Count(config, "- mode: host"); published != host {
				t.Errorf("%d published ports, %d of them in mode host:\n%s", published, host, config)
			}
			// Config files that are not there fail only at deploy time.
			for _, m := range regexp.MustCompile(`(?m)^    file: (.+)$`).FindAllStringSubmatch(config, -1) {
				if _, err := os.Stat(m[1]); err != nil {
					t.Errorf("config file: %v", err)
				}
			}
			if example == "servers" {
				for _, s := range []string{"name: host", "- SYS_ADMIN", "type: tmpfs\n", "target: /run\n",
					"TOKEN_FILE: /run/secrets/gluster_token", "node.hostname == ", "target: /bricks", "target: /var/lib/glusterd"} {
					if strings.Count(config, s) < 1 {
						t.Errorf("servers stack lacks %q:\n%s", s, config)
					}
				}
				if n := strings.Count(config, "- SYS_ADMIN"); n != strings.Count(config, "image: gluster-server:latest") {
					t.Errorf("not every server has cap_add SYS_ADMIN:\n%s", config)
				}
				// Every environment variable is a setting the server reads.
				known := serverSettings(t)
				env := regexp.MustCompile(`(?m)^      ([A-Z_]+): `).FindAllStringSubmatch(config, -1)
				if len(env) == 0 {
					t.Errorf("no environment found in the servers stack:\n%s", config)
				}
				for _, m := range env {
					if !known[m[1]] {
						t.Errorf("servers stack sets %s, which the server does not read", m[1])
					}
				}
			}
		})
	}
}

// TestExampleFilesCovered fails on a file under examples/ that no test
// exercises, a relative link in a README that leads nowhere, and a script an
// HTML page loads that is not there.
func TestExampleFilesCovered(t *testing.T) {
	dir := examplesDir(t)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := exampleChecks[f]; !ok {
			t.Errorf("examples/%s is exercised by no test: check it and list it in exampleChecks", f)
		}
	}
	for f := range exampleChecks {
		if !slices.Contains(files, f) {
			t.Errorf("examples/%s is listed in exampleChecks but does not exist", f)
		}
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	script := regexp.MustCompile(`<script src="([^"]+)"`)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f, ".md"):
			for _, m := range link.FindAllStringSubmatch(string(data), -1) {
				target, anchor, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path := filepath.Join(dir, filepath.Dir(f), target)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("examples/%s links to %s: %v", f, m[1], err)
				} else if anchor != "" && !slices.Contains(markdownAnchors(t, path), anchor) {
					t.Errorf("examples/%s links to %s: no such heading in %s", f, m[1], target)
				}
			}
		case strings.HasSuffix(f, ".html"):
			for _, m := range script.FindAllStringSubmatch(string(data), -1) {
				if _, err := os.Stat(filepath.Join(dir, filepath.Dir(f), m[1])); err != nil {
					t.Errorf("examples/%s loads %s: %v", f, m[1], err)
				}
			}
		}
	}
}

// markdownAnchors lists the anchors of a Markdown file's headings, made as
// GitHub makes them: lower case, punctuation dropped, spaces to hyphens.
func markdownAnchors(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(data), -1) {
		anchor := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				return r
			case r == ' ':
				return '-'
			}
			return -1
		}, strings.ToLower(strings.TrimSpace(m[1])))
		anchors = append(anchors, anchor)
	}
	return anchors
}

// serverSettings are the settings the server container reads: those of
// systemd/gluster-server.env.example.
func serverSettings(t testing.TB) map[string]bool {
	t.Helper()
	reference, err := os.ReadFile(filepath.Join("..", "..", "systemd", "gluster-server.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?([A-Z_]+)=`).FindAllStringSubmatch(string(reference), -1) {
		known[m[1]] = true
	}
	if !known["ADDRESS"] || !known["TOKEN_FILE"] {
		t.Fatalf("no server settings found in systemd/gluster-server.env.example: %v", known)
	}
	return known
}

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

// TestExampleGameServer runs the game server of the asteroids example and
// plays its protocol from here: handshake, relayed messages, ping, close,
// and a protocol error.
func TestExampleGameServer(t *testing.T) {
	ensureStandinImages(t, "web")
	dir := examplesDir(t)
	removeContainer(t, examplesGame)
	removeNetwork(t, examplesNet)
	testbed.MustDocker(t, "network", "create", "--subnet", examplesSubnet, "--label", "gluster-testbed=gte2e-examples", examplesNet)
	t.Cleanup(func() { removeNetwork(t, examplesNet) })
	testbed.MustDocker(t, "run", "-d", "--name", examplesGame, "--label", "gluster-testbed=gte2e-examples",
		"--network", examplesNet, "--ip", examplesGameIP,
		"-v", filepath.Join(dir, "asteroids", "server")+":/app:ro", standinWeb, "node", "/app/server.js")
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := testbed.Docker(context.Background(), "logs", examplesGame)
			t.Logf("game server log:\n%s", logs)
		}
		removeContainer(t, examplesGame)
	})
	base := "http://" + examplesGameIP + ":8080/"
	waitHTTP(t, base, "asteroids game server")
	playGameServer(t, base)
}

// playGameServer exercises a game server at url (directly or through the
// web server's /ws).
func playGameServer(t *testing.T, url string) {
	t.Helper()
	// Not an upgrade request: refused.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	if resp, err := plainHTTP.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("upgrade without a key: %v, %v; want 400", resp, err)
	} else {
		resp.Body.Close()
	}

	a, b := wsDial(t, url), wsDial(t, url)
	welcomeA := a.expectJSON(t, "welcome of a", func(m map[string]any) bool { return m["type"] == "welcome" })
	welcomeB := b.expectJSON(t, "welcome of b", func(m map[string]any) bool { return m["type"] == "welcome" })
	idA, idB := welcomeA["id"], welcomeB["id"]
	if idA == idB {
		t.Fatalf("both players got id %v", idA)
	}
	if ms, _ := welcomeA["time"].(float64); time.Since(time.UnixMilli(int64(ms))).Abs() > time.Minute {
		t.Errorf("welcome time %v is not the server's clock", welcomeA["time"])
	}
	// A state of more than 125 bytes (a 16-bit length) from a, relayed to b
	// with a's id.
	bullets := [][2]int{}
	for i := range 40 {
		bullets = append(bullets, [2]int{i, 2 * i})
	}
	a.sendJSON(t, map[string]any{"type": "state", "name": "gte2e-a", "x": 10, "y": 20, "a": 0.5, "hue": 120, "score": 3, "bullets": bullets})
	got := b.expectJSON(t, "a's state at b", func(m map[string]any) bool { return m["type"] == "state" })
	if got["id"] != idA || got["name"] != "gte2e-a" || len(got["bullets"].([]any)) != 40 {
		t.Errorf("b got %v; want a's state with id %v", got, idA)
	}
	b.sendJSON(t, map[string]any{"type": "hit", "target": idA})
	if got := a.expectJSON(t, "b's hit at a", func(m map[string]any) bool { return m["type"] == "hit" }); got["id"] != idB || got["target"] != idA {
		t.Errorf("a got %v; want a hit from %v", got, idB)
	}
	// Ping: pong with the same payload.
	a.send(t, 0x9, []byte("gte2e"))
	if f := a.expect(t, "pong", func(f wsFrame) bool { return f.op == 0xa }); string(f.payload) != "gte2e" {
		t.Errorf("pong payload %q", f.payload)
	}
	// Close: the server echoes the code, and b learns that a left.
	a.send(t, 0x8, []byte{0x03, 0xe8})
	if f := a.expect(t, "close echoed", func(f wsFrame) bool { return f.op == 0x8 }); string(f.payload) != "\x03\xe8" {
		t.Errorf("close payload %x; want 03e8 (1000)", f.payload)
	}
	if got := b.expectJSON(t, "a's leave at b", func(m map[string]any) bool { return m["type"] == "leave" }); got["id"] != idA {
		t.Errorf("b got %v; want a's leave", got)
	}
	// A client frame without a mask breaks the protocol: close with 1002.
	c := wsDial(t, url)
	c.expectJSON(t, "welcome of c", func(m map[string]any) bool { return m["type"] == "welcome" })
	if _, err := c.rw.Write([]byte{0x81, 0x02, 'h', 'i'}); err != nil {
		t.Fatal(err)
	}
	if f := c.expect(t, "close after an unmasked frame", func(f wsFrame) bool { return f.op == 0x8 }); string(f.payload) != "\x03\xea" {
		t.Errorf("close payload %x; want 03ea (1002)", f.payload)
	}
}

// TestExamplesOnGluster runs the examples' data on real gluster volumes,
// created with the driver options of the stack files: the asteroids site
// served and its scores written with a server down, and the WordPress
// volumes, with MariaDB on the database's.
func TestExamplesOnGluster(t *testing.T) {
	ensureStandinImages(t, "web", "mariadb")
	c := testbed.NewCluster(t, "gte2e-exgluster", 121, 3)
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	p := testbed.InstallPlugin(t, c, "gte2e-exgluster")

	t.Run("asteroids", func(t *testing.T) { asteroidsOnGluster(t, c, p) })
	t.Run("wordpress", func(t *testing.T) { wordpressOnGluster(t, c, p) })
}

// createStackVolume creates a stack's volume with the plugin and the driver
// options the stack file gives it, and checks that gluster applied them.
// The name is the stack's (stack_volume) with a test prefix.
func createStackVolume(t *testing.T, c *testbed.Cluster, p *testbed.Plugin, stack, volume string) string {
	t.Helper()
	v, ok := stackVolumes(t, stackConfig(t, stack))[volume]
	if !ok || v.Driver != "gluster" {
		t.Fatalf("stack %s: no gluster volume %s", stack, volume)
	}
	name := "gte2e-ex-" + stack + "_" + volume
	args := []string{"volume", "create", "-d", p.Name}
	for _, k := range slices.Sorted(maps.Keys(v.Opts)) {
		args = append(args, "-o", k+"="+v.Opts[k])
	}
	start := time.Now()
	testbed.MustDocker(t, append(args, name)...)
	t.Logf("created %s with %v in %s", name, v.Opts, time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vol, err := c.Volume(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range v.Opts {
		if key, ok := strings.CutPrefix(k, "gluster."); ok && vol.Options[key] != want {
			t.Errorf("gluster volume %s: option %s = %q; want %q", name, key, vol.Options[key], want)
		}
	}
	if replica, _ := strconv.Atoi(v.Opts["replica"]); len(vol.Bricks) != replica {
		t.Errorf("gluster volume %s has %d bricks; want %d", name, len(vol.Bricks), replica)
	}
	return name
}

func asteroidsOnGluster(t *testing.T, c *testbed.Cluster, p *testbed.Plugin) {
	dir := filepath.Join(examplesDir(t), "asteroids")
	vol := createStackVolume(t, c, p, "asteroids", "content")
	game, web := "gte2e-exgluster-game", "gte2e-exgluster-web"
	webIP := "172.30.121.21"
	for _, name := range []string{game, web} {
		removeContainer(t, name)
		t.Cleanup(func() {
			if t.Failed() {
				logs, _ := testbed.Docker(context.Background(), "logs", name)
				t.Logf("log of %s:\n%s", name, logs)
			}
			removeContainer(t, name)
		})
	}
	// The stack's one-shot content service.
	testbed.MustDocker(t, "run", "--rm", "--label", "gluster-testbed=gte2e-exgluster",
		"-v", vol+":/data", "-v", filepath.Join(dir, "content")+":/src:ro",
		standinWeb, "sh", "-c", "cp /src/index.html /src/game.js /data/ && ls -l /data")
	// The game server, found by the web server as "game".
	testbed.MustDocker(t, "run", "-d", "--name", game, "--label", "gluster-testbed=gte2e-exgluster",
		"--network", c.Network, "--ip", "172.30.121.20", "--network-alias", "game",
		"-e", "PORT=8080", "-e", "SCORES_FILE=/data/scores.json",
		"-v", vol+":/data", "-v", filepath.Join(dir, "server")+":/app:ro",
		standinWeb, "node", "/app/server.js")
	// The web server with the example's configuration, in the place the
	// official image has its site (the stand-in is laid out the same).
	testbed.MustDocker(t, "run", "-d", "--name", web, "--label", "gluster-testbed=gte2e-exgluster",
		"--network", c.Network, "--ip", webIP,
		"-v", vol+":/usr/share/nginx/html:ro",
		"-v", filepath.Join(dir, "nginx.conf")+":/etc/nginx/conf.d/default.conf:ro",
		standinWeb)

	site := "http://" + webIP + "/"
	index, err := os.ReadFile(filepath.Join(dir, "content", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, site, string(index))
	gameJS, _ := os.ReadFile(filepath.Join(dir, "content", "game.js"))
	if body, status, err := httpGet(site + "game.js"); err != nil || status != 200 || body != string(gameJS) {
		t.Errorf("game.js from the volume: status %d, %v, %d bytes; want the example's %d", status, err, len(body), len(gameJS))
	}

	// The whole game protocol through the web server's /ws.
	playGameServer(t, site+"ws")

	// A score reaches scores.json on the volume, and every brick.
	player := wsDial(t, site+"ws")
	player.expectJSON(t, "welcome", func(m map[string]any) bool { return m["type"] == "welcome" })
	scored := func(score int) {
		t.Helper()
		player.sendJSON(t, map[string]any{"type": "state", "name": "gte2e-pilot", "x": 1, "y": 1, "a": 0, "hue": 0, "score": score, "bullets": []any{}})
		want := fmt.Sprintf(`{"name":"gte2e-pilot","score":%d}`, score)
		start := time.Now()
		testbed.Eventually(t, 30*time.Second, "score in scores.json", func() error {
			body, status, err := httpGet(site + "scores.json")
			if err != nil || status != 200 || !strings.Contains(body, want) {
				return fmt.Errorf("scores.json: status %d, %v: %s", status, err, body)
			}
			return nil
		})
		t.Logf("score %d served from the volume after %s", score, time.Since(start).Round(time.Millisecond))
	}
	scored(42)
	inBricks := func(servers []*testbed.Server, want string) error {
		for _, s := range servers {
			data, err := os.ReadFile(filepath.Join(s.BrickDir(vol), "scores.json"))
			if err != nil || !strings.Contains(string(data), want) {
				return fmt.Errorf("scores.json in the brick on %s: %q, %v", s.Name, data, err)
			}
		}
		return nil
	}
	if err := inBricks(c.Servers[:2], `"score":42`); err != nil {
		t.Error(err)
	}

	// The tutorial's test: one gluster server down, the site goes on
	// serving and the game server goes on writing.
	down := c.Servers[0]
	testbed.MustDocker(t, "stop", down.Name)
	start := time.Now()
	if body, status, err := httpGet(site); err != nil || status != 200 || body != string(index) {
		t.Errorf("index.html with %s down: status %d, %v", down.Name, status, err)
	}
	t.Logf("index.html with %s down served after %s", down.Name, time.Since(start).Round(time.Millisecond))
	scored(43)
	if err := inBricks(c.Servers[1:2], `"score":43`); err != nil {
		t.Error(err)
	}
	// Back up: self-heal brings the brick up to date.
	testbed.MustDocker(t, "start", down.Name)
	c.WaitBricksOnline(t, vol, 2*time.Minute)
	start = time.Now()
	testbed.Eventually(t, 2*time.Minute, "scores.json healed onto "+down.Name, func() error {
		return inBricks(c.Servers[:1], `"score":43`)
	})
	t.Logf("brick on %s healed %s after its bricks were online", down.Name, time.Since(start).Round(time.Millisecond))
}

func wordpressOnGluster(t *testing.T, c *testbed.Cluster, p *testbed.Plugin) {
	content := createStackVolume(t, c, p, "wordpress", "wp_content")
	// WordPress runs as www-data (33): the volume's root is its own.
	out := testbed.MustDocker(t, "run", "--rm", "--label", "gluster-testbed=gte2e-exgluster",
		"--user", "33:33", "-v", content+":/data", testbed.ClientImage,
		"sh", "-c", "stat -c %u:%g /data && echo uploaded > /data/upload.txt && cat /data/upload.txt")
	if out != "33:33\nuploaded" {
		t.Errorf("wp_content as www-data: %q; want 33:33 and the file written", out)
	}

	db := createStackVolume(t, c, p, "wordpress", "db")
	// MariaDB on the database volume: a data directory, a table, and one
	// commit per row, timed against the same on a local volume.
	const script = `set -e
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/tmp/install.log 2>&1 || { tail -20 /tmp/install.log; exit 1; }
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
mariadbd --user=mysql --skip-networking >/tmp/mariadbd.log 2>&1 &
for i in $(seq 120); do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
mariadb -e 'create database wordpress; create table wordpress.t (id int auto_increment primary key, v varchar(64)) engine=innodb'
start=$(date +%s%N)
for i in $(seq 200); do echo "insert into wordpress.t (v) values ('row $i');"; done | mariadb
end=$(date +%s%N)
rows=$(mariadb -N -e 'select count(*) from wordpress.t')
mariadb-admin shutdown
echo "$rows rows, $(( (end - start) / 1000000 )) ms"`
	timed := func(volume string) string {
		t.Helper()
		out, err := testbed.Docker(context.Background(), "run", "--rm", "--label", "gluster-testbed=gte2e-exgluster",
			"--network", "none", "-v", volume+":/var/lib/mysql", standinMariaDB, "sh", "-c", script)
		if err != nil {
			t.Fatalf("mariadb on %s: %v\n%s", volume, err, out)
		}
		if !strings.HasPrefix(out, "200 rows") {
			t.Errorf("mariadb on %s: %q; want 200 rows", volume, out)
		}
		return out
	}
	onGluster := timed(db)
	local := "gte2e-exgluster-local-db"
	_, _ = testbed.Docker(context.Background(), "volume", "rm", "-f", local)
	testbed.MustDocker(t, "volume", "create", local)
	t.Cleanup(func() { _, _ = testbed.Docker(context.Background(), "volume", "rm", "-f", local) })
	t.Logf("200 single-row commits: on the gluster volume (replica 3 arbiter, db-workload options): %s; on a local volume: %s", onGluster, timed(local))
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

// wsFrame is one WebSocket frame received.
type wsFrame struct {
	op      byte
	payload []byte
}

// wsConn is the client side of a WebSocket connection, as much of RFC 6455
// as the tests need: masked frames out, whole unmasked frames in.
type wsConn struct {
	rw     io.ReadWriteCloser
	frames chan wsFrame
}

// wsDial upgrades an HTTP connection to url with net/http and checks the
// server's handshake answer.
func wsDial(t *testing.T, url string) *wsConn {
	t.Helper()
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	key := base64.StdEncoding.EncodeToString(nonce)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	// No client timeout: it would cut the upgraded connection.
	resp, err := (&http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second}}).Do(req)
	if err != nil {
		t.Fatalf("WebSocket handshake with %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("WebSocket handshake with %s: %s: %s", url, resp.Status, body)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("Sec-WebSocket-Accept %q; want %q", got, want)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Errorf("Upgrade header %q", resp.Header.Get("Upgrade"))
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("the upgraded connection is not writable (%T)", resp.Body)
	}
	c := &wsConn{rw: rw, frames: make(chan wsFrame, 64)}
	t.Cleanup(func() { rw.Close() })
	go c.readLoop()
	return c
}

func (c *wsConn) readLoop() {
	defer close(c.frames)
	r := bufio.NewReader(c.rw)
	for {
		var head [2]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n := uint64(head[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if head[1]&0x80 != 0 || head[0]&0x80 == 0 || n > 1<<20 {
			// A server never masks; the game server never fragments.
			c.frames <- wsFrame{op: 0xff, payload: head[:]}
			return
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		c.frames <- wsFrame{op: head[0] & 0x0f, payload: payload}
	}
}

// send writes one final, masked frame.
func (c *wsConn) send(t testing.TB, op byte, payload []byte) {
	t.Helper()
	frame := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n < 1<<16:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	default:
		frame = binary.BigEndian.AppendUint64(append(frame, 0x80|127), uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	frame = append(frame, mask[:]...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	if _, err := c.rw.Write(frame); err != nil {
		t.Fatalf("WebSocket write: %v", err)
	}
}

func (c *wsConn) sendJSON(t testing.TB, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	c.send(t, 0x1, data)
}

// expect waits for a frame that match accepts, skipping others.
func (c *wsConn) expect(t testing.TB, what string, match func(wsFrame) bool) wsFrame {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatalf("%s: connection closed", what)
			}
			if f.op == 0xff {
				t.Fatalf("%s: bad frame header %x (masked or fragmented)", what, f.payload)
			}
			if match(f) {
				return f
			}
		case <-timeout:
			t.Fatalf("%s: nothing within 10s", what)
		}
	}
}

// expectJSON waits for a text message that match accepts.
func (c *wsConn) expectJSON(t testing.TB, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var msg map[string]any
	c.expect(t, what, func(f wsFrame) bool {
		if f.op != 0x1 {
			return false
		}
		msg = nil
		if err := json.Unmarshal(f.payload, &msg); err != nil {
			t.Fatalf("%s: not JSON: %q", what, f.payload)
		}
		return match(msg)
	})
	return msg
}
