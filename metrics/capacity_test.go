package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/glusterdocker/gluster/glustercli"
)

// withCapacity is twoServers whose volume "data" is Docker volume "data"
// with a 20 MiB limit and the subdirectory volumes "web" (5 MiB limit,
// 6 MiB written: quota lets writes in flight pass a little) and "db" (no
// limit), on bricks of 100 and 80 GB with 60 and 50 GB free.
func withCapacity() *fakeGluster {
	f := twoServers()
	f.volumes[0].Options = map[string]string{
		"user.docker-volume":         "data",
		"user.docker-subvolume.web":  "apps/web",
		"user.docker-subvolume.db":   "apps/db",
		"user.docker-subvolume.gone": "/",
	}
	f.spaces = []glustercli.BrickSpace{
		{Volume: "data", Host: "10.0.0.1", Path: "/bricks/v", Size: 100e9, Free: 60e9},
		{Volume: "data", Host: "10.0.0.2", Path: "/bricks/v", Size: 80e9, Free: 50e9},
	}
	f.local = map[string]bool{"data": true}
	f.limits = map[string]glustercli.QuotaLimit{
		"data:/":         {Size: 20 << 20, Used: 3 << 20},
		"data:/apps/web": {Size: 5 << 20, Used: 6 << 20},
	}
	return f
}

func TestCapacityMetrics(t *testing.T) {
	bricks := map[string]float64{
		`gluster_brick_size_bytes{brick="10.0.0.1:/bricks/v",volume="data"}`: 100e9,
		`gluster_brick_free_bytes{brick="10.0.0.1:/bricks/v",volume="data"}`: 60e9,
		`gluster_brick_size_bytes{brick="10.0.0.2:/bricks/v",volume="data"}`: 80e9,
		`gluster_brick_free_bytes{brick="10.0.0.2:/bricks/v",volume="data"}`: 50e9,
	}
	volumes := map[string]float64{
		`gluster_volume_size_bytes{docker_volume="data",path="/",volume="data"}`:        20 << 20,
		`gluster_volume_used_bytes{docker_volume="data",path="/",volume="data"}`:        3 << 20,
		`gluster_volume_free_bytes{docker_volume="data",path="/",volume="data"}`:        17 << 20,
		`gluster_volume_size_bytes{docker_volume="web",path="/apps/web",volume="data"}`: 5 << 20,
		`gluster_volume_used_bytes{docker_volume="web",path="/apps/web",volume="data"}`: 5 << 20,
		`gluster_volume_free_bytes{docker_volume="web",path="/apps/web",volume="data"}`: 0,
		`gluster_volume_size_bytes{docker_volume="db",path="/apps/db",volume="data"}`:   80e9,
		`gluster_volume_used_bytes{docker_volume="db",path="/apps/db",volume="data"}`:   30e9,
		`gluster_volume_free_bytes{docker_volume="db",path="/apps/db",volume="data"}`:   50e9,
	}
	merge := func(ms ...map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name   string
		change func(*fakeGluster)
		want   map[string]float64
	}{
		{"[Success] limits from this server's brick, the fullest brick without one", func(*fakeGluster) {}, merge(bricks, volumes)},
		{"[Success] no data brick here: only the bricks' space", func(f *fakeGluster) { f.local = nil }, bricks},
		{"[Error] volume status detail fails", func(f *fakeGluster) { f.errs["spaces"] = errGlusterd }, nil},
	}
	names := []string{"gluster_brick_size_bytes", "gluster_brick_free_bytes", "gluster_volume_size_bytes", "gluster_volume_used_bytes", "gluster_volume_free_bytes"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := withCapacity()
			tc.change(f)
			c := NewHealthCollector(f, f, time.Second, discard)
			if err := testutil.CollectAndCompare(c, strings.NewReader(healthExposition(tc.want)), names...); err != nil {
				t.Error(err)
			}
		})
	}
}
