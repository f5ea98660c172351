package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type example struct {
	Address string        `toml:"address" env:"ADDRESS"`
	Peers   []string      `toml:"peers" env:"PEERS"`
	Port    int           `toml:"port" env:"PORT"`
	Timeout time.Duration `toml:"timeout" env:"TIMEOUT"`
	Debug   bool          `toml:"debug" env:"DEBUG"`
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(file, []byte("address = \"10.0.0.1\"\npeers = [\"a\", \"b\"]\nport = 1\ntimeout = \"5s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "none.toml")
	tests := []struct {
		name        string
		defaultFile string
		env         map[string]string
		want        example
		err         string
	}{
		{"[Success] defaults only", "", nil, example{Port: 99}, ""},
		{"[Success] default file", file, nil, example{Address: "10.0.0.1", Peers: []string{"a", "b"}, Port: 1, Timeout: 5 * time.Second}, ""},
		{"[Success] file named by CONFIG", missing, map[string]string{"CONFIG": file}, example{Address: "10.0.0.1", Peers: []string{"a", "b"}, Port: 1, Timeout: 5 * time.Second}, ""},
		{"[Success] env wins", file, map[string]string{"PEERS": "x, y,,z", "PORT": "7", "DEBUG": "true", "TIMEOUT": "1m"},
			example{Address: "10.0.0.1", Peers: []string{"x", "y", "z"}, Port: 7, Timeout: time.Minute, Debug: true}, ""},
		{"[Success] missing default file", missing, nil, example{Port: 99}, ""},
		{"[Error] missing file named by CONFIG", "", map[string]string{"CONFIG": missing}, example{}, "none.toml"},
		{"[Error] bad number", "", map[string]string{"PORT": "x"}, example{}, "PORT"},
		{"[Error] bad duration", "", map[string]string{"TIMEOUT": "5"}, example{}, "TIMEOUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := example{Port: 99}
			err := Load(&got, tc.defaultFile, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Load() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLoadRefusesUnknownKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.toml")
	os.WriteFile(file, []byte("adress = \"x\"\n"), 0o600)
	var got example
	if err := Load(&got, file, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("err = %v, want one naming the unknown key", err)
	}
}
