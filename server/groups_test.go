package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSeedGroups(t *testing.T) {
	image, state := t.TempDir(), filepath.Join(t.TempDir(), "groups")
	write(t, filepath.Join(image, "db-workload"), "performance.open-behind=on\n")
	write(t, filepath.Join(image, "virt"), "new\n")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(state, "virt"), "old\n")
	write(t, filepath.Join(state, "mine"), "operator's\n")

	if err := seedGroups(image, state); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"db-workload": "performance.open-behind=on\n", // missing: copied
		"virt":        "new\n",                        // the image's newer profile
		"mine":        "operator's\n",                 // not the image's: kept
	} {
		if got, err := os.ReadFile(filepath.Join(state, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestSeedGroupsWithoutImageCopy(t *testing.T) {
	state := filepath.Join(t.TempDir(), "groups")
	if err := seedGroups(filepath.Join(t.TempDir(), "absent"), state); err != nil {
		t.Fatalf("an image without profiles: %v", err)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
