package driver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	empty, err := loadState(path)
	if err != nil || len(empty) != 0 {
		t.Fatalf("missing file: %v, %v; want empty state", empty, err)
	}
	want := map[string]*volumeState{
		"web.data": {Name: "web.data", Gluster: "web__data", Options: map[string]string{"replica": "2"}, CreatedAt: "2026-01-02T03:04:05Z", Mounts: map[string]int{"abc": 2}},
	}
	if err := saveState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("loadState() = %+v, %v; want %+v", got, err, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestStateDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	for _, content := range []string{"{not json", `{"version": 99, "volumes": {}}`} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadState(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("content %q: err = %v, want one naming the file", content, err)
		}
	}
}
