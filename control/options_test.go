package control

import (
	"strings"
	"testing"
)

func TestOptionPolicyCheck(t *testing.T) {
	extra, err := NewOptionPolicy([]string{"features.bitrot", "user.app-*"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		policy     OptionPolicy
		key, value string
		want       string // part of the error; empty for accepted
	}{
		{"[Success] performance option", OptionPolicy{}, "performance.cache-size", "64MB", ""},
		{"[Success] ping timeout", OptionPolicy{}, "network.ping-timeout", "10", ""},
		{"[Success] quorum of this volume", OptionPolicy{}, "cluster.quorum-type", "auto", ""},
		{"[Success] shard", OptionPolicy{}, "features.shard-block-size", "64MB", ""},
		{"[Success] cache invalidation prefix", OptionPolicy{}, "features.cache-invalidation-timeout", "600", ""},
		{"[Success] auth.allow list", OptionPolicy{}, "auth.allow", "10.0.0.1,192.168.*,10.1.0.0/16,client.example,*", ""},
		{"[Success] quiet log level", OptionPolicy{}, "diagnostics.brick-log-level", "error", ""},
		{"[Success] extra name", extra, "features.bitrot", "on", ""},
		{"[Success] extra prefix", extra, "user.app-owner", "team", ""},
		{"[Error] value starting with --", OptionPolicy{}, "performance.cache-size", "--log-file=/var/lib/glusterd/x", "must not start with '-'"},
		{"[Error] value starting with -", OptionPolicy{}, "network.ping-timeout", "-1", "must not start with '-'"},
		{"[Error] key starting with --", OptionPolicy{}, "--log-file=/x", "1", "option names look like"},
		{"[Error] storage path", OptionPolicy{}, "storage.owner-uid", "0", "allowed: performance.*"},
		{"[Error] statedump path", OptionPolicy{}, "server.statedump-path", "/etc", "may not be set"},
		{"[Error] changelog dir", OptionPolicy{}, "changelog.changelog-dir", "/etc", "may not be set"},
		{"[Error] ssl", OptionPolicy{}, "client.ssl", "on", "may not be set"},
		{"[Error] ssl-allow", OptionPolicy{}, "auth.ssl-allow", "*", "may not be set"},
		{"[Error] nfs", OptionPolicy{}, "nfs.disable", "off", "may not be set"},
		{"[Error] geo-replication", OptionPolicy{}, "geo-replication.indexing", "on", "may not be set"},
		{"[Error] pool-wide quorum", OptionPolicy{}, "cluster.server-quorum-ratio", "10", "may not be set"},
		{"[Error] op-version", OptionPolicy{}, "cluster.op-version", "1", "may not be set"},
		{"[Error] brick multiplex", OptionPolicy{}, "cluster.brick-multiplex", "on", "may not be set"},
		{"[Error] shared storage", OptionPolicy{}, "cluster.enable-shared-storage", "enable", "may not be set"},
		{"[Error] verbose log level", OptionPolicy{}, "diagnostics.client-log-level", "TRACE", "WARNING"},
		{"[Error] debug log level", OptionPolicy{}, "diagnostics.brick-log-level", "DEBUG", "WARNING"},
		{"[Error] other diagnostics", OptionPolicy{}, "diagnostics.latency-measurement", "on", "may not be set"},
		{"[Error] auth.allow element", OptionPolicy{}, "auth.allow", "10.0.0.1,/etc/passwd", "/etc/passwd"},
		{"[Error] auth.allow empty element", OptionPolicy{}, "auth.reject", "10.0.0.1,", "neither"},
		{"[Error] docker label", OptionPolicy{}, DockerVolumeOption, "v", "set by the server itself"},
		{"[Error] created-at label", extra, CreatedAtOption, "2020-01-01T00:00:00Z", "set by the server itself"},
		{"[Error] brick owner label", OptionPolicy{}, BrickOwnerOption, "0123456789abcdef0123456789abcdef", "set by the server itself"},
		{"[Error] subvolume label", OptionPolicy{}, "user.docker-subvolume.a", "x", "set by the server itself"},
		{"[Error] not extended", OptionPolicy{}, "features.bitrot", "on", "EXTRA_VOLUME_OPTIONS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.key, tc.value)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Check(%s=%s) = %v, want accepted", tc.key, tc.value, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check(%s=%s) = %v, want an error mentioning %q", tc.key, tc.value, err, tc.want)
			}
		})
	}
}

func TestNewOptionPolicy(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		ok    bool
	}{
		{"[Success] names and prefixes", []string{"features.foo", "performance.bar", "features.*", "features.bar*", "storage.*"}, true},
		{"[Success] none", nil, true},
		{"[Error] everything", []string{"*"}, false},
		{"[Error] no dot", []string{"features*"}, false},
		{"[Error] dash", []string{"--log-file"}, false},
		{"[Error] inner star", []string{"features.*.x"}, false},
		{"[Error] service label", []string{"user.docker-volume"}, false},
		{"[Error] prefix covering labels", []string{"user.*"}, false},
		{"[Error] subvolume labels", []string{"user.docker-subvolume.x"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewOptionPolicy(tc.extra)
			if (err == nil) != tc.ok {
				t.Errorf("NewOptionPolicy(%q) = %v, want ok %t", tc.extra, err, tc.ok)
			}
		})
	}
}

func TestDockerLabelMustNameTheVolume(t *testing.T) {
	tests := []struct {
		name, volume, label string
		ok                  bool
	}{
		{"[Success] plain", "data", "data", true},
		{"[Success] dotted", "web__data", "web.data", true},
		{"[Error] another volume", "data", "other", false},
		{"[Error] not a Docker name", "data", "-data", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateCreate(CreateRequest{Name: tc.volume, Options: map[string]string{DockerVolumeOption: tc.label}}, OptionPolicy{})
			if (err == nil) != tc.ok {
				t.Errorf("label %q on %s: %v, want ok %t", tc.label, tc.volume, err, tc.ok)
			}
		})
	}
}
