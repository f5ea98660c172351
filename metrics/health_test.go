package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/glusterdocker/gluster/glustercli"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

var errGlusterd = errors.New("connection failed: is glusterd running?")

// fakeGluster answers from its fields; an error for a question (keyed
// "peers", "volumes", "status" or "heal VOL") fails it, and hang makes
// every question wait for its deadline.
type fakeGluster struct {
	peers    []glustercli.Peer
	volumes  []glustercli.Volume
	statuses []glustercli.Status
	heal     map[string][]glustercli.BrickHeal
	spaces   []glustercli.BrickSpace
	limits   map[string]glustercli.QuotaLimit // by "volume:dir", on this server's bricks
	local    map[string]bool                  // volumes with a data brick on this server
	errs     map[string]error
	hang     bool
	healTime time.Duration // how long each heal query takes

	mu                 sync.Mutex
	healing, mostHeals int // heal queries running now, and at most
	rounds             int // Peers questions: one per round
}

func (f *fakeGluster) answer(ctx context.Context, question string) error {
	if f.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.errs[question]
}

func (f *fakeGluster) Peers(ctx context.Context) ([]glustercli.Peer, error) {
	f.mu.Lock()
	f.rounds++
	f.mu.Unlock()
	return f.peers, f.answer(ctx, "peers")
}

func (f *fakeGluster) Volumes(ctx context.Context) ([]glustercli.Volume, error) {
	if err := f.answer(ctx, "volumes"); err != nil {
		return nil, err
	}
	return f.volumes, nil
}

func (f *fakeGluster) StatusAll(ctx context.Context) ([]glustercli.Status, error) {
	return f.statuses, f.answer(ctx, "status")
}

func (f *fakeGluster) BrickSpaces(ctx context.Context, _ string) ([]glustercli.BrickSpace, error) {
	return f.spaces, f.answer(ctx, "spaces")
}

func (f *fakeGluster) QuotaLimit(v glustercli.Volume, dir string) (glustercli.QuotaLimit, error) {
	if !f.local[v.Name] {
		return glustercli.QuotaLimit{}, glustercli.ErrNoLocalBrick
	}
	if l, ok := f.limits[v.Name+":"+dir]; ok {
		return l, nil
	}
	return glustercli.QuotaLimit{}, glustercli.ErrNoLimit
}

func (f *fakeGluster) HealSummary(ctx context.Context, name string) ([]glustercli.BrickHeal, error) {
	f.mu.Lock()
	f.healing++
	f.mostHeals = max(f.mostHeals, f.healing)
	f.mu.Unlock()
	time.Sleep(f.healTime)
	defer func() {
		f.mu.Lock()
		f.healing--
		f.mu.Unlock()
	}()
	return f.heal[name], f.answer(ctx, "heal "+name)
}

// twoServers is a healthy pool of two with a started replica 2 volume
// "data" and a stopped one, "old".
func twoServers() *fakeGluster {
	bricks := []glustercli.Brick{{Host: "10.0.0.1", Path: "/bricks/v"}, {Host: "10.0.0.2", Path: "/bricks/v"}}
	return &fakeGluster{
		peers: []glustercli.Peer{{Hostname: "10.0.0.2", Connected: true}, {Hostname: "localhost", Connected: true}},
		volumes: []glustercli.Volume{
			{Name: "data", Status: "Started", Bricks: bricks},
			{Name: "old", Status: "Stopped", Bricks: bricks},
		},
		statuses: []glustercli.Status{{Volume: "data", Bricks: []glustercli.BrickStatus{
			{Host: "10.0.0.1", Online: true}, {Host: "10.0.0.2", Online: true},
		}}},
		heal: map[string][]glustercli.BrickHeal{"data": {
			{Brick: "10.0.0.1:/bricks/data", Connected: true}, {Brick: "10.0.0.2:/bricks/data", Connected: true},
		}},
		errs: map[string]error{},
	}
}

func TestHealthCollector(t *testing.T) {
	healthy := map[string]float64{
		"gluster_up":                                         1,
		"gluster_pool_peers":                                 2,
		"gluster_pool_peers_connected":                       2,
		`gluster_volume_bricks{volume="data"}`:               2,
		`gluster_volume_bricks_online{volume="data"}`:        2,
		`gluster_volume_heal_pending_entries{volume="data"}`: 0,
		`gluster_volume_split_brain_entries{volume="data"}`:  0,
		`gluster_volume_bricks{volume="old"}`:                2,
		`gluster_volume_bricks_online{volume="old"}`:         0,
	}
	with := func(changes map[string]float64, drop ...string) map[string]float64 {
		out := maps.Clone(healthy)
		maps.Copy(out, changes)
		for _, k := range drop {
			delete(out, k)
		}
		return out
	}
	tests := []struct {
		name   string
		change func(*fakeGluster)
		want   map[string]float64
	}{
		{"[Success] healthy", func(*fakeGluster) {}, healthy},
		{"[Success] second server down, writes waiting for it", func(f *fakeGluster) {
			f.peers[0].Connected = false
			f.statuses[0].Bricks[1].Online = false
			f.heal["data"] = []glustercli.BrickHeal{{Brick: "10.0.0.1:/bricks/data", Connected: true, Pending: 5, SplitBrain: 1}, {Brick: "10.0.0.2:/bricks/data"}}
		}, with(map[string]float64{
			"gluster_pool_peers_connected":                       1,
			`gluster_volume_bricks_online{volume="data"}`:        1,
			`gluster_volume_heal_pending_entries{volume="data"}`: 5,
			`gluster_volume_split_brain_entries{volume="data"}`:  1,
		})},
		{"[Success] no brick answered heal info", func(f *fakeGluster) {
			f.heal["data"] = []glustercli.BrickHeal{{Brick: "10.0.0.1:/bricks/data"}, {Brick: "10.0.0.2:/bricks/data"}}
		}, with(nil, `gluster_volume_heal_pending_entries{volume="data"}`, `gluster_volume_split_brain_entries{volume="data"}`)},
		{"[Error] volume status fails", func(f *fakeGluster) {
			f.errs["status"] = errGlusterd
		}, with(map[string]float64{"gluster_up": 0}, `gluster_volume_bricks_online{volume="data"}`)},
		{"[Error] heal info fails", func(f *fakeGluster) {
			f.errs["heal data"] = errGlusterd
		}, with(map[string]float64{"gluster_up": 0}, `gluster_volume_heal_pending_entries{volume="data"}`, `gluster_volume_split_brain_entries{volume="data"}`)},
		{"[Error] pool list fails", func(f *fakeGluster) {
			f.errs["peers"] = errGlusterd
		}, with(map[string]float64{"gluster_up": 0}, "gluster_pool_peers", "gluster_pool_peers_connected")},
		{"[Error] glusterd down", func(f *fakeGluster) {
			f.errs["peers"], f.errs["volumes"] = errGlusterd, errGlusterd
		}, map[string]float64{"gluster_up": 0}},
		{"[Error] glusterd hangs", func(f *fakeGluster) {
			f.hang = true
		}, map[string]float64{"gluster_up": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := twoServers()
			tc.change(f)
			start := time.Now()
			if err := testutil.CollectAndCompare(NewHealthCollector(f, f, 50*time.Millisecond, discard), strings.NewReader(healthExposition(tc.want))); err != nil {
				t.Error(err)
			}
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("scrape took %s, want it bounded by the timeout", elapsed)
			}
		})
	}
}

func TestHealthCollectorBoundsParallelHeals(t *testing.T) {
	f := &fakeGluster{heal: map[string][]glustercli.BrickHeal{}, healTime: 20 * time.Millisecond}
	for i := range 3 * parallelHeals {
		name := fmt.Sprintf("v%d", i)
		f.volumes = append(f.volumes, glustercli.Volume{Name: name, Status: "Started"})
		f.heal[name] = []glustercli.BrickHeal{{Connected: true, Pending: i}}
	}
	pending := map[string]float64{}
	for i := range 3 * parallelHeals {
		pending[fmt.Sprintf(`gluster_volume_heal_pending_entries{volume="v%d"}`, i)] = float64(i)
	}
	if err := testutil.CollectAndCompare(NewHealthCollector(f, f, time.Second, discard), strings.NewReader(healthExposition(pending)),
		"gluster_volume_heal_pending_entries"); err != nil {
		t.Error(err)
	}
	if f.mostHeals != parallelHeals {
		t.Errorf("at most %d heal queries ran at once, want %d", f.mostHeals, parallelHeals)
	}
}

// healthHelp is the help text of each metric of the health collector.
var healthHelp = map[string]string{
	"gluster_up":                          "Whether glusterd answered every question of this scrape (1) or not (0).",
	"gluster_pool_peers":                  "Servers in the storage pool, this one included.",
	"gluster_pool_peers_connected":        "Servers of the storage pool connected to this one, this one included.",
	"gluster_volume_bricks":               "Bricks of a volume.",
	"gluster_volume_bricks_online":        "Bricks of a volume whose brick process runs; none for a stopped volume.",
	"gluster_volume_heal_pending_entries": "Entries of a started volume that self-heal has yet to copy to other bricks, summed over the bricks that answered.",
	"gluster_volume_split_brain_entries":  "Entries of a started volume in split-brain, which self-heal cannot repair alone, summed over the bricks that answered.",
	"gluster_brick_size_bytes":            "Size of the file system under a brick of a started volume.",
	"gluster_brick_free_bytes":            "Free bytes of the file system under a brick of a started volume.",
	"gluster_volume_size_bytes": "Size of a Docker volume as df in its containers shows it: its size limit (path is the limited directory), " +
		"or else its fullest data brick's file system. Reported by the servers that hold a data brick of it.",
	"gluster_volume_used_bytes": "Bytes used of gluster_volume_size_bytes.",
	"gluster_volume_free_bytes": "Bytes free of gluster_volume_size_bytes.",
}

// healthExposition writes series, `name{labels}` to value, as the health
// collector's gauges in the text exposition format.
func healthExposition(series map[string]float64) string {
	families := map[string]family{}
	for key, v := range series {
		name, labels, _ := strings.Cut(key, "{")
		f, ok := families[name]
		if !ok {
			f = family{name: name, kind: "gauge", help: healthHelp[name], series: map[string]float64{}}
			families[name] = f
		}
		f.series[strings.TrimSuffix(labels, "}")] = v
	}
	var b strings.Builder
	for _, f := range families {
		b.WriteString(f.String())
	}
	return b.String()
}

func TestHealthCollectorSharesRounds(t *testing.T) {
	f := twoServers()
	f.healTime = 50 * time.Millisecond // scrapes overlap the round
	c := NewHealthCollector(f, f, time.Second, discard).(*healthCollector)
	now := time.Now()
	c.now = func() time.Time { return now }

	const scrapes = 20
	results := make([]string, scrapes)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = exposition(t, c) })
	}
	wg.Wait()
	if f.rounds != 1 {
		t.Errorf("%d concurrent scrapes ran %d rounds of gluster questions, want 1", scrapes, f.rounds)
	}
	for i, r := range results {
		if r != results[0] {
			t.Errorf("scrape %d saw\n%s\nscrape 0\n%s", i, r, results[0])
		}
	}

	now = now.Add(healthCacheFor - time.Millisecond)
	exposition(t, c)
	if f.rounds != 1 {
		t.Errorf("a scrape within %s of the last round ran a new one (%d rounds)", healthCacheFor, f.rounds)
	}
	now = now.Add(time.Millisecond)
	exposition(t, c)
	if f.rounds != 2 {
		t.Errorf("a scrape %s after the last round ran %d rounds in all, want 2", healthCacheFor, f.rounds)
	}
}

// exposition collects c once and returns what it exposed, in the text format.
func exposition(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	out, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain)
	if err != nil {
		t.Error(err)
	}
	return string(out)
}
