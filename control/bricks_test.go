package control

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
)

func assertNoBrick(t *testing.T, brickRoot, volume string) {
	t.Helper()
	for _, p := range []string{filepath.Join(brickRoot, volume), filepath.Join(brickRoot, brickMarkers, volume)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}

func writeFile(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertContent(t *testing.T, file, want string) {
	t.Helper()
	if data, err := os.ReadFile(file); err != nil || string(data) != want {
		t.Errorf("%s = %q, %v; want %q", file, data, err, want)
	}
}

func TestCreateRefusesExistingBrickDirectories(t *testing.T) {
	tests := []struct {
		name   string
		local  bool  // someone's directory where the local brick goes
		remote error // what the other server answers
	}{
		{"[Error] local directory exists", true, nil},
		{"[Error] remote directory exists", false, errors.New("control API 10.0.0.2: 409: /bricks/v already exists")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
			data := filepath.Join(ts.bricks, "v", "data.txt")
			if tc.local {
				writeFile(t, data, "precious")
			}
			if tc.remote != nil {
				ts.peers.refuse["10.0.0.2"] = &APIError{Code: 409, Message: tc.remote.Error()}
			}
			_, err := ts.client.Create(context.Background(), CreateRequest{Name: "v"})
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
			if tc.local && (!strings.Contains(err.Error(), "10.0.0.1") || !strings.Contains(err.Error(), filepath.Join(ts.bricks, "v"))) {
				t.Errorf("err = %v, want the server and the path named", err)
			}
			if tc.local {
				assertContent(t, data, "precious")
				if _, err := os.Stat(filepath.Join(ts.bricks, brickMarkers, "v")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("marker left for a directory the API did not make: %v", err)
				}
			} else {
				assertNoBrick(t, ts.bricks, "v")
			}
			if len(ts.gluster.vols) != 0 || slices.Contains(ts.gluster.calls, "create v") {
				t.Errorf("gluster ran %v, volumes %v", ts.gluster.calls, ts.gluster.vols)
			}
			if !slices.Equal(ts.peers.made, ts.peers.removed) {
				t.Errorf("remote bricks made %v, removed %v", ts.peers.made, ts.peers.removed)
			}
		})
	}
}

func TestCreateRemovesTheBricksItMadeWhenGlusterFails(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
	ts.gluster.failCreate = &glustercli.Error{Message: "Host 10.0.0.2 is not in 'Peer in Cluster' state"}
	if _, err := ts.client.Create(context.Background(), CreateRequest{Name: "v"}); err == nil {
		t.Fatal("create succeeded, want gluster's failure")
	}
	assertNoBrick(t, ts.bricks, "v")
	if !slices.Equal(ts.peers.made, []string{"10.0.0.2/v"}) || !slices.Equal(ts.peers.removed, []string{"10.0.0.2/v"}) {
		t.Errorf("remote bricks made %v, removed %v", ts.peers.made, ts.peers.removed)
	}
}

func TestCreateRefusesNestedBricks(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
	ts.gluster.vols["whole"] = glustercli.Volume{Name: "whole", Status: "Started", Options: map[string]string{},
		Bricks: []glustercli.Brick{{Host: "localhost", Path: ts.bricks}}}
	_, err := ts.client.Create(context.Background(), CreateRequest{Name: "v", Replica: 2})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "whole") {
		t.Fatalf("err = %v, want ErrConflict naming the volume whose brick holds it", err)
	}
	assertNoBrick(t, ts.bricks, "v")
	if len(ts.peers.made) != 0 {
		t.Errorf("remote bricks made: %v", ts.peers.made)
	}
}

func TestCreateWaitsForTheSameCreateThroughAnotherServer(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
	// Another server's create of v holds the brick directories; gluster
	// has its volume first without options, then started with them.
	ts.peers.refuse["10.0.0.2"] = &APIError{Code: 423, Message: "brick directory belongs to another create"}
	steps := []glustercli.Volume{
		{Name: "v", ID: "id-other", Status: "Created", Options: map[string]string{}},
		{Name: "v", ID: "id-other", Status: "Started", Options: map[string]string{DockerVolumeOption: "v"}},
	}
	go func() {
		for _, v := range steps {
			time.Sleep(300 * time.Millisecond)
			v.Bricks = []glustercli.Brick{{Host: "10.0.0.1", Path: "/b/v"}, {Host: "10.0.0.2", Path: "/b/v"}}
			ts.gluster.mu.Lock()
			ts.gluster.vols["v"] = v
			ts.gluster.mu.Unlock()
		}
	}()
	vol, err := ts.client.Create(context.Background(), CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}})
	if err != nil || vol.ID != "id-other" {
		t.Fatalf("create = %+v, %v; want the other create's volume", vol, err)
	}
	assertNoBrick(t, ts.bricks, "v")
	if slices.Contains(ts.gluster.calls, "create v") || slices.Contains(ts.gluster.calls, "Started v") {
		t.Errorf("the waiting create ran gluster: %v", ts.gluster.calls)
	}
}

func TestRemoveLocalBrick(t *testing.T) {
	const owner, other = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	tests := []struct {
		name    string
		marker  string // owner recorded for the directory; none if empty
		ask     string // owner the removal names
		brickOn string // the server of the volume's brick at this path, if gluster has the volume
		err     error
		removed bool
	}{
		{"[Success] made by this create", owner, owner, "", nil, true},
		{"[Success] volume with no brick here (adding it failed)", owner, owner, "10.0.0.2", nil, true},
		{"[Error] not made by this API", "", owner, "", ErrConflict, false},
		{"[Error] made by another create", other, owner, "", ErrConflict, false},
		{"[Error] no owner", owner, "", "", ErrInvalid, false},
		{"[Error] owner with a path", owner, "../../etc/passwd", "", ErrInvalid, false},
		{"[Error] a brick of the volume here", owner, owner, "10.0.0.1", ErrInUse, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, "10.0.0.1")
			data := filepath.Join(ts.bricks, "v", "data.txt")
			writeFile(t, data, "content")
			if tc.marker != "" {
				writeFile(t, filepath.Join(ts.bricks, brickMarkers, "v"), tc.marker)
			}
			if tc.brickOn != "" {
				ts.gluster.vols["v"] = glustercli.Volume{Name: "v", Options: map[string]string{},
					Bricks: []glustercli.Brick{{Host: tc.brickOn, Path: filepath.Join(ts.bricks, "v")}}}
			}
			err := ts.client.RemoveBrick(context.Background(), "v", tc.ask)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("RemoveBrick: %v, want %v", err, tc.err)
			}
			if tc.removed {
				assertNoBrick(t, ts.bricks, "v")
			} else {
				assertContent(t, data, "content")
			}
		})
	}
}

func TestMakeLocalBrick(t *testing.T) {
	const owner = "0123456789abcdef0123456789abcdef"
	ts := newTestServer(t, "10.0.0.1")
	if err := ts.client.MakeBrick(context.Background(), "v", owner); err != nil {
		t.Fatal(err)
	}
	assertContent(t, filepath.Join(ts.bricks, brickMarkers, "v"), owner)
	if err := ts.client.MakeBrick(context.Background(), "v", owner); !errors.Is(err, ErrInUse) {
		t.Errorf("making it again: %v, want ErrInUse", err)
	}
	if err := ts.client.MakeBrick(context.Background(), "..", owner); err == nil {
		t.Error("made a brick directory named ..")
	}
	if err := ts.client.RemoveBrick(context.Background(), "v", owner); err != nil {
		t.Fatal(err)
	}
	assertNoBrick(t, ts.bricks, "v")
}

func TestDeleteKeepsBricksOfVolumesWithoutOwner(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
	ts.gluster.vols["old"] = glustercli.Volume{Name: "old", Status: "Started", Options: map[string]string{DockerVolumeOption: "old"},
		Bricks: []glustercli.Brick{{Host: "10.0.0.1", Path: filepath.Join(ts.bricks, "old")}, {Host: "10.0.0.2", Path: filepath.Join(ts.bricks, "old")}}}
	writeFile(t, filepath.Join(ts.bricks, "old", "f"), "x")
	err := ts.client.Delete(context.Background(), "old")
	if err == nil || !strings.Contains(err.Error(), "left on 10.0.0.1, 10.0.0.2") {
		t.Errorf("err = %v, want the bricks left named", err)
	}
	assertContent(t, filepath.Join(ts.bricks, "old", "f"), "x")
	if len(ts.peers.removed) != 0 {
		t.Errorf("remote removals: %v", ts.peers.removed)
	}
}
