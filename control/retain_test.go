package control

import (
	"context"
	"errors"
	"testing"
)

func TestRetainAdoptPurge(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	req := CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}, OnRemove: OnRemoveRetain}
	if _, err := ts.client.Create(ctx, req); err != nil {
		t.Fatal(err)
	}
	if got := ts.gluster.vols["v"].Options[OnRemoveOption]; got != OnRemoveRetain {
		t.Errorf("recorded policy %q, want retain", got)
	}
	if err := ts.client.Purge(ctx, "v"); !errors.Is(err, ErrConflict) {
		t.Errorf("purge of a volume not retained: %v, want %v", err, ErrConflict)
	}
	if err := ts.client.Retain(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	if !Retained(ts.gluster.vols["v"].Options) || ts.gluster.vols["v"].Status != "Started" {
		t.Errorf("after retain: %+v; want retained and still started", ts.gluster.vols["v"])
	}
	vol, err := ts.client.Create(ctx, req)
	if err != nil || Retained(vol.Options) || Retained(ts.gluster.vols["v"].Options) {
		t.Errorf("create of the same name: %+v, %v; want the volume adopted, no longer retained", vol, err)
	}
	if err := ts.client.Retain(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	ts.gluster.clients["v"] = []string{"10.0.0.9:49000"}
	if err := ts.client.Purge(ctx, "v"); !errors.Is(err, ErrInUse) {
		t.Errorf("purge while a client is connected: %v, want %v", err, ErrInUse)
	}
	delete(ts.gluster.clients, "v")
	if err := ts.client.Purge(ctx, "v"); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if _, ok := ts.gluster.vols["v"]; ok {
		t.Error("purged volume still exists")
	}
	assertNoBrick(t, ts.bricks, "v")
}

func TestRetainRefused(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "bad", OnRemove: "archive"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown policy: %v, want %v", err, ErrInvalid)
	}
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "forged", Options: map[string]string{RetainedOption: "2020-01-01T00:00:00Z"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("forged retained label: %v, want %v", err, ErrInvalid)
	}
	if err := ts.client.Retain(ctx, "-v"); !errors.Is(err, ErrInvalid) {
		t.Errorf("name starting with '-': %v, want %v", err, ErrInvalid)
	}
	if err := ts.client.Retain(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing volume: %v, want %v", err, ErrNotFound)
	}
	if len(ts.gluster.vols) != 0 {
		t.Errorf("volumes %v, want none made", ts.gluster.vols)
	}
}
