package control

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDeleteLeavesLeftoversForLater: a delete whose brick directory on a
// peer cannot be removed, because the peer does not answer, succeeds and
// records it; later tries remove it once the peer answers, keep it while
// the peer is silent or still has it as a brick, and forget it, leaving
// the directory, once it is no longer the deleted volume's.
func TestDeleteLeavesLeftoversForLater(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name string
		// then is what the peer answers to the later tries, in turn.
		then    []error
		removed bool // the peer's directory is removed in the end
		kept    bool // the leftover is still recorded after the last try
	}{
		{"[Success] removed once the peer answers", []error{down, nil}, true, false},
		{"[Success] still a brick there, removed later", []error{ErrInUse, nil}, true, false},
		{"[Success] silent for good: kept for later", []error{down, down}, false, true},
		{"[Error] no longer the deleted volume's: forgotten, the directory stays", []error{ErrConflict}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
			if _, err := ts.client.Create(ctx, CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}}); err != nil {
				t.Fatal(err)
			}
			ts.peers.silent = map[string]error{"10.0.0.2": down}
			if err := ts.client.Delete(ctx, "v"); err != nil {
				t.Fatalf("Delete with a peer down after gluster deleted the volume: %v, want success", err)
			}
			assertNoBrick(t, ts.bricks, "v")
			for _, answer := range tc.then {
				ts.peers.silent["10.0.0.2"] = answer
				if errors.Is(answer, ErrConflict) {
					// A later create's directory: the owner differs.
					ts.peers.owners["10.0.0.2/v"] = "fedcba9876543210fedcba9876543210"
					ts.peers.silent["10.0.0.2"] = nil
				}
				ts.svc.removeLeftovers(ctx)
			}
			if got := slices.Contains(ts.peers.removed, "10.0.0.2/v"); got != tc.removed {
				t.Errorf("peer's directory removed: %t, want %t (removed %v)", got, tc.removed, ts.peers.removed)
			}
			list, err := ts.svc.leftovers()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(list) == 1; got != tc.kept {
				t.Errorf("leftovers recorded: %v, want one: %t", list, tc.kept)
			}
		})
	}
}

// TestLeftoversIgnoresForeignFiles: only what recordLeftovers writes is a
// leftover; other files there are neither used nor removed.
func TestLeftoversIgnoresForeignFiles(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
	dir := filepath.Join(ts.bricks, leftoverBricks)
	foreign := map[string]string{
		"no-server":      "0123456789abcdef0123456789abcdef",
		"..@10.0.0.2":    "0123456789abcdef0123456789abcdef",
		"v@10.0.0.2":     "../../etc",
		"v@":             "0123456789abcdef0123456789abcdef",
		"w@10.0.0.2.tmp": "not an owner",
	}
	for name, content := range foreign {
		writeFile(t, filepath.Join(dir, name), content)
	}
	list, err := ts.svc.leftovers()
	if err != nil || len(list) != 0 {
		t.Fatalf("leftovers() = %v, %v; want none", list, err)
	}
	ts.svc.removeLeftovers(context.Background())
	for name := range foreign {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v, want it left alone", name, err)
		}
	}
}

// TestRecordLeftoversRefusesPaths: a server name that is a path is
// refused, and nothing is written outside the leftovers' directory.
func TestRecordLeftoversRefusesPaths(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1")
	for _, server := range []string{"../../../escape", "a/b"} {
		if err := ts.svc.recordLeftovers("v", "0123456789abcdef0123456789abcdef", []string{server}); err == nil {
			t.Errorf("recorded a leftover on server %q", server)
		}
	}
	entries, err := os.ReadDir(ts.bricks)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != leftoverBricks {
			t.Errorf("%s written in the brick root", e.Name())
		}
	}
	if list, err := ts.svc.leftovers(); err != nil || len(list) != 0 {
		t.Errorf("leftovers() = %v, %v; want none", list, err)
	}
}
