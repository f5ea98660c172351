package witness

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// packaged stands for GlusterFS's thin-arbiter.vol: its directory appears
// as the storage's directory, a translator's name and the server's
// authentication keys.
const packaged = `volume ta-posix
    type storage/posix
    option directory /mnt/thin-arbiter
end-volume
volume /mnt/thin-arbiter
    type debug/io-stats
    subvolumes ta-posix
end-volume
volume ta-server
    type protocol/server
    option auth.addr./mnt/thin-arbiter.allow *
    option auth-path /mnt/thin-arbiter
    subvolumes /mnt/thin-arbiter
end-volume
`

func testConfig(t *testing.T, volfile string) Config {
	t.Helper()
	root := t.TempDir()
	cfg := Config{Dir: filepath.Join(root, "witness"), RunDir: filepath.Join(root, "run"), LogFile: "-", Packaged: filepath.Join(root, "thin-arbiter.vol")}
	if err := os.WriteFile(cfg.Packaged, []byte(volfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPrepare(t *testing.T) {
	cfg := testConfig(t, packaged)
	path, err := Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	volfile, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(packaged, "/mnt/thin-arbiter", cfg.Dir)
	if string(volfile) != want {
		t.Errorf("volfile:\n%s\nwant:\n%s", volfile, want)
	}
	if info, err := os.Stat(filepath.Join(cfg.Dir, ".glusterfs", "indices")); err != nil || !info.IsDir() {
		t.Errorf("index directory: %v", err)
	}
	if _, err := Prepare(cfg); err != nil {
		t.Errorf("a second start: %v", err)
	}
}

func TestPrepareRefuses(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		volfile string
	}{
		{"[Error] a relative directory", "witness", packaged},
		{"[Error] an unclean directory", "/witness/../etc", packaged},
		{"[Error] a directory with a space", "/wit ness", packaged},
		{"[Error] a trailing slash", "/witness/", packaged},
		{"[Error] a volfile of another directory", "", strings.ReplaceAll(packaged, "/mnt/thin-arbiter", "/srv/ta")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, tc.volfile)
			if tc.dir != "" {
				cfg.Dir = tc.dir
			}
			if _, err := Prepare(cfg); err == nil {
				t.Errorf("Prepare(%+v) succeeded", cfg)
			}
		})
	}
}

func TestCommandRunsInTheForeground(t *testing.T) {
	args := command("/run/w/thin-arbiter.vol", "-")
	for _, want := range []string{"-N", "/run/w/thin-arbiter.vol", "--log-file=-"} {
		if !slices.Contains(args, want) {
			t.Errorf("command %q lacks %q", args, want)
		}
	}
}
