package driver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
)

// stalledCluster lists volumes only once released, as a cluster whose
// first server just stopped answers late.
type stalledCluster struct {
	Cluster
	release chan struct{}
	listed  chan struct{} // one value per Volumes call
}

func (s *stalledCluster) Volumes(ctx context.Context) ([]control.Volume, error) {
	s.listed <- struct{}{}
	select {
	case <-s.release:
		return []control.Volume{{Name: "gv"}, {Name: "new"}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestLastListed(t *testing.T) {
	cluster := &stalledCluster{release: make(chan struct{}), listed: make(chan struct{}, 4)}
	c := &volumeCache{cluster: cluster, ttl: time.Second}
	c.volumes = map[string]control.Volume{"gv": {Name: "gv", Bricks: []control.Brick{{Server: "10.0.0.1"}}}}
	c.fetched = time.Now().Add(-time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	vol, err := c.lastListed(ctx, "gv")
	if err != nil || len(vol.Bricks) != 1 {
		t.Fatalf("lastListed(gv) = %+v, %v; want the stale entry at once", vol, err)
	}
	select {
	case <-cluster.listed:
	case <-time.After(time.Second):
		t.Fatal("a stale list was not refreshed")
	}

	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.lastListed(short, "new"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lastListed(never listed) = %v, want it to wait for the list", err)
	}
	close(cluster.release)
	if vol, err := c.lastListed(ctx, "new"); err != nil || vol.Name != "new" {
		t.Errorf("lastListed(new) after the list = %+v, %v", vol, err)
	}
}
