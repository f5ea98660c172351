//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/glusterdocker/gluster/tests/testbed"
)

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

// stackFile is what the tests read of `docker stack config` output.
type stackFile struct {
	Services map[string]stackService `yaml:"services"`
	Volumes  map[string]stackVolume  `yaml:"volumes"`
	Configs  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"configs"`
}

// stackService is a service of a stack.
type stackService struct {
	Image       string            `yaml:"image"`
	CapAdd      []string          `yaml:"cap_add"`
	Environment map[string]string `yaml:"environment"`
	Ports       []struct {
		Mode      string `yaml:"mode"`
		Published int    `yaml:"published"`
	} `yaml:"ports"`
}

// stackVolume is a top-level volume of a stack.
type stackVolume struct {
	Driver string            `yaml:"driver"`
	Opts   map[string]string `yaml:"driver_opts"`
}

// parseStack reads `docker stack config` output.
func parseStack(t testing.TB, config string) stackFile {
	t.Helper()
	var stack stackFile
	if err := yaml.Unmarshal([]byte(config), &stack); err != nil {
		t.Fatalf("docker stack config printed what is not YAML: %v\n%s", err, config)
	}
	return stack
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
	for _, file := range stacks {
		example := filepath.Base(filepath.Dir(file))
		t.Run(example, func(t *testing.T) {
			want, ok := wantVolumes[example]
			if !ok {
				t.Fatalf("no expectations for example %s: add them here", example)
			}
			config := stackConfig(t, example)
			stack := parseStack(t, config)
			for name, opts := range want {
				v, ok := stack.Volumes[name]
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
			gluster := 0
			for _, v := range stack.Volumes {
				if v.Driver == "gluster" {
					gluster++
				}
			}
			if gluster != len(want) {
				t.Errorf("%d volumes with driver: gluster, want %d:\n%s", gluster, len(want), config)
			}
			for name, svc := range stack.Services {
				// Ports: host mode only (no routing mesh).
				for _, port := range svc.Ports {
					if port.Mode != "host" {
						t.Errorf("service %s publishes port %d in mode %q, want host", name, port.Published, port.Mode)
					}
				}
			}
			// Config files that are not there fail only at deploy time.
			for name, c := range stack.Configs {
				if _, err := os.Stat(c.File); err != nil {
					t.Errorf("config %s: %v", name, err)
				}
			}
			if example == "servers" {
				for _, s := range []string{"name: host", "- SYS_ADMIN", "type: tmpfs\n", "target: /run\n",
					"TOKEN_FILE: /run/secrets/gluster_token", `TLS: "on"`, "node.hostname == ", "target: /bricks", "target: /var/lib/glusterd"} {
					if strings.Count(config, s) < 1 {
						t.Errorf("servers stack lacks %q:\n%s", s, config)
					}
				}
				// Every server has cap_add SYS_ADMIN, and every environment
				// variable is a setting the server reads.
				known := serverSettings(t)
				for name, svc := range stack.Services {
					if svc.Image != "gluster-server:latest" {
						continue
					}
					if !slices.Contains(svc.CapAdd, "SYS_ADMIN") {
						t.Errorf("server %s has no cap_add SYS_ADMIN: %v", name, svc.CapAdd)
					}
					if len(svc.Environment) == 0 {
						t.Errorf("server %s has no environment", name)
					}
					for env := range svc.Environment {
						if !known[env] {
							t.Errorf("server %s sets %s, which the server does not read", name, env)
						}
					}
				}
			}
		})
	}
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
