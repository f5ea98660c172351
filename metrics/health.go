package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/glusterdocker/gluster/glustercli"
)

// Gluster is what the health collector asks the local glusterd.
type Gluster interface {
	Peers(ctx context.Context) ([]glustercli.Peer, error)
	Volumes(ctx context.Context) ([]glustercli.Volume, error)
	StatusAll(ctx context.Context) ([]glustercli.Status, error)
	HealSummary(ctx context.Context, name string) ([]glustercli.BrickHeal, error)
	BrickSpaces(ctx context.Context, name string) ([]glustercli.BrickSpace, error)
}

var _ Gluster = (*glustercli.CLI)(nil)

// healthCacheFor is how long one round of gluster questions answers
// scrapes. A round costs glusterd a transaction per question and a heal
// client per started volume: several Prometheus servers or dashboards
// scraping within a few seconds share one, while Prometheus's default 15 s
// interval still gets a fresh round every scrape.
const healthCacheFor = 5 * time.Second

// parallelHeals bounds the heal queries of one scrape that run at once.
// Each starts a gluster client that connects to every brick of its volume
// (about 0.2 s): one after the other, a few dozen volumes would not fit in
// a scrape.
const parallelHeals = 4

// NewHealthCollector returns a collector that asks gluster, within timeout,
// for the state of the pool and of every volume, and quota for the
// capacity of the Docker volumes on this server's bricks. Concurrent scrapes, and
// scrapes within healthCacheFor of the last round, share one round of
// questions. A question that fails leaves its metrics out and gluster_up
// at 0.
func NewHealthCollector(gluster Gluster, quota QuotaReader, timeout time.Duration, logger *slog.Logger) prometheus.Collector {
	volume := []string{"volume"}
	return &healthCollector{
		gluster:  gluster,
		quota:    quota,
		capacity: newCapacityDescs(),
		timeout:  timeout,
		logger:   logger,
		now:      time.Now,
		up: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "up"),
			"Whether glusterd answered every question of this scrape (1) or not (0).", nil, nil),
		peers: prometheus.NewDesc(prometheus.BuildFQName(namespace, "pool", "peers"),
			"Servers in the storage pool, this one included.", nil, nil),
		peersConnected: prometheus.NewDesc(prometheus.BuildFQName(namespace, "pool", "peers_connected"),
			"Servers of the storage pool connected to this one, this one included.", nil, nil),
		bricks: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "bricks"),
			"Bricks of a volume.", volume, nil),
		bricksOnline: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "bricks_online"),
			"Bricks of a volume whose brick process runs; none for a stopped volume.", volume, nil),
		healPending: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "heal_pending_entries"),
			"Entries of a started volume that self-heal has yet to copy to other bricks, summed over the bricks that answered.", volume, nil),
		splitBrain: prometheus.NewDesc(prometheus.BuildFQName(namespace, "volume", "split_brain_entries"),
			"Entries of a started volume in split-brain, which self-heal cannot repair alone, summed over the bricks that answered.", volume, nil),
	}
}

type healthCollector struct {
	gluster Gluster
	quota   QuotaReader
	timeout time.Duration
	logger  *slog.Logger
	now     func() time.Time

	rounds   singleflight.Group
	mu       sync.Mutex
	last     []prometheus.Metric // answers of the last round
	lastTime time.Time

	up, peers, peersConnected                     *prometheus.Desc
	bricks, bricksOnline, healPending, splitBrain *prometheus.Desc
	capacity                                      capacityDescs
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range append([]*prometheus.Desc{c.up, c.peers, c.peersConnected, c.bricks, c.bricksOnline, c.healPending, c.splitBrain}, c.capacity.all()...) {
		ch <- d
	}
}

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics() {
		ch <- m
	}
}

// metrics returns the answers of the last round if it is recent, or else
// of a new round, shared with every scrape that asks meanwhile.
func (c *healthCollector) metrics() []prometheus.Metric {
	c.mu.Lock()
	last, fresh := c.last, c.now().Sub(c.lastTime) < healthCacheFor
	c.mu.Unlock()
	if last != nil && fresh {
		return last
	}
	answers, _, _ := c.rounds.Do("health", func() (any, error) {
		ms := c.round()
		c.mu.Lock()
		c.last, c.lastTime = ms, c.now()
		c.mu.Unlock()
		return ms, nil
	})
	return answers.([]prometheus.Metric)
}

// round asks gluster every question once.
func (c *healthCollector) round() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s := &scrape{logger: c.logger, up: true}
	c.collectPool(ctx, s)
	c.collectVolumes(ctx, s)
	up := 0
	if s.up {
		up = 1
	}
	s.gauge(c.up, up)
	return s.metrics
}

// scrape is one round of questions.
type scrape struct {
	metrics []prometheus.Metric
	logger  *slog.Logger
	up      bool // every question answered
}

func (s *scrape) gauge(d *prometheus.Desc, v int, labels ...string) {
	s.metrics = append(s.metrics, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...))
}

func (s *scrape) bytes(d *prometheus.Desc, v uint64, labels ...string) {
	s.metrics = append(s.metrics, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...))
}

func (s *scrape) failed(question string, err error, args ...any) {
	s.up = false
	s.logger.Warn("health metrics: "+question, append(args, "error", err)...)
}

func (c *healthCollector) collectPool(ctx context.Context, s *scrape) {
	peers, err := c.gluster.Peers(ctx)
	if err != nil {
		s.failed("listing the pool", err)
		return
	}
	connected := 0
	for _, p := range peers {
		if p.Connected {
			connected++
		}
	}
	s.gauge(c.peers, len(peers))
	s.gauge(c.peersConnected, connected)
}

func (c *healthCollector) collectVolumes(ctx context.Context, s *scrape) {
	volumes, err := c.gluster.Volumes(ctx)
	if err != nil {
		s.failed("listing volumes", err)
		return
	}
	var started []string
	var startedVolumes []glustercli.Volume
	for _, v := range volumes {
		s.gauge(c.bricks, len(v.Bricks), v.Name)
		if v.Started() {
			started = append(started, v.Name)
			startedVolumes = append(startedVolumes, v)
		} else {
			s.gauge(c.bricksOnline, 0, v.Name)
		}
	}
	if len(started) == 0 {
		return
	}

	if statuses, err := c.gluster.StatusAll(ctx); err != nil {
		s.failed("volume status", err)
	} else {
		online := map[string]int{}
		for _, st := range statuses {
			for _, b := range st.Bricks {
				if b.Online {
					online[st.Volume]++
				}
			}
		}
		for _, name := range started {
			s.gauge(c.bricksOnline, online[name], name)
		}
	}

	c.collectCapacity(ctx, s, startedVolumes)

	heals := c.healSummaries(ctx, started)
	for i, name := range started {
		if heals[i].err != nil {
			s.failed("volume heal info", heals[i].err, "volume", name)
		} else if pending, splitBrain, answered := sumHeal(heals[i].bricks); answered {
			s.gauge(c.healPending, pending, name)
			s.gauge(c.splitBrain, splitBrain, name)
		}
	}
}

type healAnswer struct {
	bricks []glustercli.BrickHeal
	err    error
}

// healSummaries asks for the heal summary of every volume, parallelHeals at
// a time, and returns the answers in the order of volumes.
func (c *healthCollector) healSummaries(ctx context.Context, volumes []string) []healAnswer {
	answers := make([]healAnswer, len(volumes))
	slots := make(chan struct{}, parallelHeals)
	var wg sync.WaitGroup
	for i, name := range volumes {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			answers[i].bricks, answers[i].err = c.gluster.HealSummary(ctx, name)
		})
	}
	wg.Wait()
	return answers
}

// sumHeal adds up the counts of the bricks that answered; answered is false
// when none did.
func sumHeal(bricks []glustercli.BrickHeal) (pending, splitBrain int, answered bool) {
	for _, b := range bricks {
		if b.Connected {
			pending += b.Pending
			splitBrain += b.SplitBrain
			answered = true
		}
	}
	return pending, splitBrain, answered
}
