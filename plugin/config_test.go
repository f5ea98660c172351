package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tok is a control API token long enough to be accepted.
const tok = "0123456789abcdef0123"

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile, emptyFile := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	for file, content := range map[string]string{tokenFile: tok + "\n", emptyFile: ""} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		env     map[string]string
		metrics string
		err     string
	}{
		{"[Success] minimal", map[string]string{"SERVERS": "10.0.0.1,10.0.0.2", "TOKEN": tok}, "127.0.0.1:9474", ""},
		{"[Success] metrics on the host's address", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "METRICS_ADDRESS": "10.0.0.21:9474"}, "10.0.0.21:9474", ""},
		{"[Success] metrics off", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "METRICS_ADDRESS": ""}, "", ""},
		{"[Success] token file, TOKEN empty as Docker sets it", map[string]string{"SERVERS": "a,b", "TOKEN": "", "TOKEN_FILE": tokenFile}, "127.0.0.1:9474", ""},
		{"[Error] short token", map[string]string{"SERVERS": "a", "TOKEN": "demo-token"}, "", "openssl rand -hex 32"},
		{"[Error] empty token file", map[string]string{"SERVERS": "a", "TOKEN": "", "TOKEN_FILE": emptyFile}, "", "is empty"},
		{"[Error] missing token file", map[string]string{"SERVERS": "a", "TOKEN": "", "TOKEN_FILE": filepath.Join(dir, "none")}, "", "/etc/docker-gluster/token"},
		{"[Success] default size", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "DEFAULT_SIZE": "10GiB"}, "127.0.0.1:9474", ""},
		{"[Error] default size without a unit we know", map[string]string{"SERVERS": "a", "TOKEN": tok, "DEFAULT_SIZE": "10 gallons"}, "", "DEFAULT_SIZE"},
		{"[Success] default pool", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "DEFAULT_POOL": "small"}, "127.0.0.1:9474", ""},
		{"[Error] default pool that is no Docker name", map[string]string{"SERVERS": "a", "TOKEN": tok, "DEFAULT_POOL": "-x"}, "", "DEFAULT_POOL"},
		{"[Success] delete on remove", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "ON_REMOVE": "delete"}, "127.0.0.1:9474", ""},
		{"[Error] unknown removal policy", map[string]string{"SERVERS": "a", "TOKEN": tok, "ON_REMOVE": "archive"}, "", "ON_REMOVE"},
		{"[Success] no CA fingerprint: servers without TLS", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "CA_FINGERPRINT": ""}, "127.0.0.1:9474", ""},
		{"[Success] CA fingerprint", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "CA_FINGERPRINT": "sha256:abababababababababababababababababababababababababababababababab"}, "127.0.0.1:9474", ""},
		{"[Success] CA fingerprint as OpenSSL prints it", map[string]string{"SERVERS": "a,b", "TOKEN": tok, "CA_FINGERPRINT": "sha256 Fingerprint=AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB"}, "127.0.0.1:9474", ""},
		{"[Error] CA fingerprint too short", map[string]string{"SERVERS": "a", "TOKEN": tok, "CA_FINGERPRINT": "sha256:abcd"}, "", "CA_FINGERPRINT"},
		{"[Error] CA fingerprint not hex", map[string]string{"SERVERS": "a", "TOKEN": tok, "CA_FINGERPRINT": "sha256:zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}, "", "CA_FINGERPRINT"},
		{"[Error] no servers", map[string]string{"TOKEN": tok}, "", "SERVERS is empty"},
		{"[Error] no token", map[string]string{"SERVERS": "a"}, "", "TOKEN is empty"},
		{"[Error] bad server", map[string]string{"SERVERS": "a;b", "TOKEN": tok}, "", "SERVERS"},
		{"[Error] mount timeout beyond Docker's", map[string]string{"SERVERS": "a", "TOKEN": tok, "MOUNT_TIMEOUT": "5m"}, "", "MOUNT_TIMEOUT"},
		{"[Error] mount timeout not a duration", map[string]string{"SERVERS": "a", "TOKEN": tok, "MOUNT_TIMEOUT": "90"}, "", "auto"},
		{"[Error] mount timeout empty", map[string]string{"SERVERS": "a", "TOKEN": tok, "MOUNT_TIMEOUT": ""}, "", "MOUNT_TIMEOUT"},
		{"[Error] metrics address without port", map[string]string{"SERVERS": "a", "TOKEN": tok, "METRICS_ADDRESS": "127.0.0.1"}, "", "METRICS_ADDRESS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MountTimeout != autoMountTimeout || cfg.Socket != "gluster" || len(cfg.Servers) != 2 || cfg.MetricsAddress != tc.metrics {
				t.Errorf("config = %+v", cfg)
			}
		})
	}
}

func TestMountTimeout(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"[Success] auto: the driver learns Docker's wait", "auto", 0},
		{"[Success] set by the user", "50s", 50 * time.Second},
		{"[Success] just below Docker's limit", "119s", 119 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config{MountTimeout: tc.value}.mountTimeout()
			if err != nil || got != tc.want {
				t.Errorf("mountTimeout(%q) = %s, %v; want %s", tc.value, got, err, tc.want)
			}
		})
	}
}
