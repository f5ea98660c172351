package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tok is a control API token long enough to be accepted.
const tok = "0123456789abcdef0123"

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile, shortFile, emptyFile := filepath.Join(dir, "token"), filepath.Join(dir, "short"), filepath.Join(dir, "empty")
	for file, content := range map[string]string{tokenFile: "from-file-0123456789\n", shortFile: "short\n", emptyFile: ""} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		env     map[string]string
		peers   []string
		token   string
		metrics string
		err     string
	}{
		{"[Success] own address dropped from peers", map[string]string{"ADDRESS": "10.0.0.1", "PEERS": "10.0.0.1,10.0.0.2", "TOKEN": tok}, []string{"10.0.0.2"}, tok, "", ""},
		{"[Success] token file", map[string]string{"ADDRESS": "h1", "TOKEN_FILE": tokenFile}, nil, "from-file-0123456789", "", ""},
		{"[Success] TOKEN wins over TOKEN_FILE", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "TOKEN_FILE": shortFile}, nil, tok, "", ""},
		{"[Error] short token", map[string]string{"ADDRESS": "h1", "TOKEN": "demo-token"}, nil, "", "", "openssl rand -hex 32"},
		{"[Error] short token in the file", map[string]string{"ADDRESS": "h1", "TOKEN_FILE": shortFile}, nil, "", "", "fewer than 16"},
		{"[Error] empty token file", map[string]string{"ADDRESS": "h1", "TOKEN_FILE": emptyFile}, nil, "", "", "is empty"},
		{"[Error] missing token file", map[string]string{"ADDRESS": "h1", "TOKEN_FILE": filepath.Join(dir, "none")}, nil, "", "", "TOKEN_FILE"},
		{"[Success] metrics", map[string]string{"ADDRESS": "10.0.0.1", "TOKEN": tok, "METRICS_ADDRESS": "10.0.0.1:9475"}, nil, tok, "10.0.0.1:9475", ""},
		{"[Error] no address", map[string]string{"TOKEN": tok}, nil, "", "", "ADDRESS"},
		{"[Error] no token", map[string]string{"ADDRESS": "h1"}, nil, "", "", "TOKEN"},
		{"[Error] bad peer", map[string]string{"ADDRESS": "h1", "PEERS": "h2;rm", "TOKEN": tok}, nil, "", "", "PEERS"},
		{"[Error] missing config file", map[string]string{"CONFIG": "/nonexistent.toml"}, nil, "", "", "nonexistent"},
		{"[Error] extra volume option covering the plugin's labels", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "EXTRA_VOLUME_OPTIONS": "features.foo,user.*"}, nil, "", "", "EXTRA_VOLUME_OPTIONS"},
		{"[Error] extra volume option starting with a dash", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "EXTRA_VOLUME_OPTIONS": "--log-file"}, nil, "", "", "EXTRA_VOLUME_OPTIONS"},
		{"[Success] TLS on", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "TLS": "on"}, nil, tok, "", ""},
		{"[Success] TLS off", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "TLS": "off"}, nil, tok, "", ""},
		{"[Error] TLS neither on nor off", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "TLS": "true"}, nil, "", "", "TLS \"true\""},
		{"[Error] TLS empty", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "TLS": ""}, nil, "", "", "TLS"},
		{"[Error] brick multiplexing neither on nor off", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "BRICK_MULTIPLEX": "yes"}, nil, "", "", "BRICK_MULTIPLEX"},
		{"[Error] brick root /", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "BRICK_ROOT": "/"}, nil, "", "", "BRICK_ROOT"},
		{"[Error] relative brick root", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "BRICK_ROOT": "bricks"}, nil, "", "", "BRICK_ROOT"},
		{"[Error] unclean brick root", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "BRICK_ROOT": "/srv/../bricks/"}, nil, "", "", "BRICK_ROOT"},
		{"[Success] a witness", map[string]string{"ADDRESS": "10.0.0.1", "PEERS": "10.0.0.2", "TOKEN": tok, "TLS": "off", "WITNESS": "10.0.0.9"}, []string{"10.0.0.2"}, tok, "", ""},
		{"[Error] a witness with TLS", map[string]string{"ADDRESS": "10.0.0.1", "TOKEN": tok, "WITNESS": "10.0.0.9"}, nil, "", "", "WITNESS with TLS=on"},
		{"[Error] a witness that is a server", map[string]string{"ADDRESS": "10.0.0.1", "PEERS": "10.0.0.2", "TOKEN": tok, "TLS": "off", "WITNESS": "10.0.0.2"}, nil, "", "", "a server of the pool"},
		{"[Error] a witness that is this server", map[string]string{"ADDRESS": "10.0.0.1", "TOKEN": tok, "TLS": "off", "WITNESS": "10.0.0.1"}, nil, "", "", "a server of the pool"},
		{"[Error] a witness address read as an option", map[string]string{"ADDRESS": "10.0.0.1", "TOKEN": tok, "TLS": "off", "WITNESS": "--log-file=/x"}, nil, "", "", "WITNESS"},
		{"[Error] metrics address without port", map[string]string{"ADDRESS": "h1", "TOKEN": tok, "METRICS_ADDRESS": "h1"}, nil, "", "", "METRICS_ADDRESS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Peers, tc.peers) || cfg.Token != tc.token || cfg.BrickRoot != "/bricks" || cfg.MetricsAddress != tc.metrics {
				t.Errorf("config = %+v", cfg)
			}
		})
	}
}

func TestExtraVolumeOptions(t *testing.T) {
	env := map[string]string{"ADDRESS": "h1", "TOKEN": tok, "EXTRA_VOLUME_OPTIONS": "features.bitrot, user.app-*"}
	cfg, err := loadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.volumeOptions.Check("features.bitrot", "on"); err != nil {
		t.Errorf("extra option refused: %v", err)
	}
	if err := cfg.volumeOptions.Check("user.app-team", "x"); err != nil {
		t.Errorf("extra prefix refused: %v", err)
	}
	if err := cfg.volumeOptions.Check("storage.owner-uid", "0"); err == nil {
		t.Error("an option outside the list and the extras was accepted")
	}
}
