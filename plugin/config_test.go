package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		metrics string
		err     string
	}{
		{"[Success] minimal", map[string]string{"SERVERS": "10.0.0.1,10.0.0.2", "TOKEN": "t"}, "127.0.0.1:9474", ""},
		{"[Success] metrics on the host's address", map[string]string{"SERVERS": "a,b", "TOKEN": "t", "METRICS_ADDRESS": "10.0.0.21:9474"}, "10.0.0.21:9474", ""},
		{"[Success] metrics off", map[string]string{"SERVERS": "a,b", "TOKEN": "t", "METRICS_ADDRESS": ""}, "", ""},
		{"[Error] no servers", map[string]string{"TOKEN": "t"}, "", "SERVERS is empty"},
		{"[Error] no token", map[string]string{"SERVERS": "a"}, "", "TOKEN is empty"},
		{"[Error] bad server", map[string]string{"SERVERS": "a;b", "TOKEN": "t"}, "", "SERVERS"},
		{"[Error] mount timeout beyond Docker's", map[string]string{"SERVERS": "a", "TOKEN": "t", "MOUNT_TIMEOUT": "5m"}, "", "MOUNT_TIMEOUT"},
		{"[Error] metrics address without port", map[string]string{"SERVERS": "a", "TOKEN": "t", "METRICS_ADDRESS": "127.0.0.1"}, "", "METRICS_ADDRESS"},
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
			if cfg.MountTimeout != 25*time.Second || cfg.Socket != "gluster" || len(cfg.Servers) != 2 || cfg.MetricsAddress != tc.metrics {
				t.Errorf("config = %+v", cfg)
			}
		})
	}
}
