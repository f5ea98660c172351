//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

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
	v, ok := parseStack(t, stackConfig(t, stack)).Volumes[volume]
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
