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
	if err := os.WriteFile(file, []byte("adress = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got example
	if err := Load(&got, file, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("err = %v, want one naming the unknown key", err)
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good", "0123456789abcdef\n", 0o600)
	empty := write("empty", " \n", 0o600)
	tests := []struct {
		name  string
		value string
		file  string
		want  string
		err   string
	}{
		{"[Success] value", "v", good, "v", ""},
		{"[Success] file, trimmed", "", good, "0123456789abcdef", ""},
		{"[Success] neither", "", "", "", ""},
		{"[Error] missing file", "", filepath.Join(dir, "none"), "", "no such file"},
		{"[Error] empty file", "", empty, "", "is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Secret(tc.value, tc.file)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Secret() = %q, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Secret() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestExposedToken(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		mode    os.FileMode // 0: the token is in TOKEN, no file
		exposed bool
	}{
		{"[Success] owner only", 0o600, false},
		{"[Success] owner read only", 0o400, false},
		{"[Error] group readable", 0o640, true},
		{"[Error] world readable", 0o644, true},
		{"[Error] in the settings", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.mode != 0 {
				path = filepath.Join(dir, tc.name)
				if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			if err := ExposedToken(path); (err != nil) != tc.exposed {
				t.Errorf("ExposedToken(%04o) = %v", tc.mode, err)
			}
		})
	}
}

func TestToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, file   string
		wantToken, wantFile string
		wantErr             bool
	}{
		{name: "[Success] TOKEN wins over TOKEN_FILE", token: "given", file: file, wantToken: "given"},
		{name: "[Success] from TOKEN_FILE", file: file, wantToken: "from-file", wantFile: file},
		{name: "[Success] neither", wantToken: ""},
		{name: "[Error] TOKEN_FILE missing", file: file + ".missing", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token, f := tc.token, tc.file
			err := Token(&token, &f)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "TOKEN_FILE") {
					t.Errorf("err = %v, want one naming TOKEN_FILE", err)
				}
				return
			}
			if err != nil || token != tc.wantToken || f != tc.wantFile {
				t.Errorf("Token = %q, file %q, %v; want %q, file %q", token, f, err, tc.wantToken, tc.wantFile)
			}
		})
	}
}
