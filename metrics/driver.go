package metrics

import (
	"context"
	"time"

	"github.com/docker/go-plugins-helpers/volume"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/glusterdocker/gluster/driver"
)

// driverMethods are the calls of Docker's volume plugin API, as label
// values. Capabilities is left out: Docker asks it once, when the plugin
// starts, and the answer is a constant.
var driverMethods = []string{"create", "list", "get", "remove", "path", "mount", "unmount"}

// InstrumentDriver returns next counting and timing every call Docker makes,
// by method and outcome, in metrics registered with reg.
func InstrumentDriver(next driver.ContextDriver, reg prometheus.Registerer) driver.ContextDriver {
	d := &instrumentedDriver{
		next: next,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "requests_total",
			Help: "Calls of Docker's volume plugin API, by method and outcome (success or error).",
		}, []string{"method", "outcome"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "request_duration_seconds",
			Help:    "Time the plugin took to answer calls of Docker's volume plugin API, by method.",
			Buckets: durationBuckets,
		}, []string{"method"}),
	}
	// Every series exists from the start, so that rates and absence are
	// told apart.
	for _, m := range driverMethods {
		d.requests.WithLabelValues(m, outcomeSuccess)
		d.requests.WithLabelValues(m, outcomeError)
		d.durations.WithLabelValues(m)
	}
	reg.MustRegister(d.requests, d.durations)
	return d
}

type instrumentedDriver struct {
	next      driver.ContextDriver
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
}

var _ driver.ContextDriver = (*instrumentedDriver)(nil)

// observe records a call that started at start; err points at its result.
func (d *instrumentedDriver) observe(method string, start time.Time, err *error) {
	d.durations.WithLabelValues(method).Observe(time.Since(start).Seconds())
	d.requests.WithLabelValues(method, outcome(*err)).Inc()
}

func (d *instrumentedDriver) Create(req *volume.CreateRequest) (err error) {
	defer d.observe("create", time.Now(), &err)
	return d.next.Create(req)
}

func (d *instrumentedDriver) List() (_ *volume.ListResponse, err error) {
	defer d.observe("list", time.Now(), &err)
	return d.next.List()
}

func (d *instrumentedDriver) Get(req *volume.GetRequest) (_ *volume.GetResponse, err error) {
	defer d.observe("get", time.Now(), &err)
	return d.next.Get(req)
}

func (d *instrumentedDriver) Remove(req *volume.RemoveRequest) (err error) {
	defer d.observe("remove", time.Now(), &err)
	return d.next.Remove(req)
}

func (d *instrumentedDriver) Path(req *volume.PathRequest) (_ *volume.PathResponse, err error) {
	defer d.observe("path", time.Now(), &err)
	return d.next.Path(req)
}

func (d *instrumentedDriver) Mount(req *volume.MountRequest) (_ *volume.MountResponse, err error) {
	return d.MountContext(context.Background(), req)
}

func (d *instrumentedDriver) MountContext(ctx context.Context, req *volume.MountRequest) (_ *volume.MountResponse, err error) {
	defer d.observe("mount", time.Now(), &err)
	return d.next.MountContext(ctx, req)
}

func (d *instrumentedDriver) Unmount(req *volume.UnmountRequest) (err error) {
	defer d.observe("unmount", time.Now(), &err)
	return d.next.Unmount(req)
}

func (d *instrumentedDriver) Capabilities() *volume.CapabilitiesResponse {
	return d.next.Capabilities()
}

// UsageFunc reports the FUSE mounts a plugin holds and the Docker mount
// references on them.
type UsageFunc func() (mounts, references int)

// NewUsageCollector returns a collector that asks usage on every scrape.
func NewUsageCollector(usage UsageFunc) prometheus.Collector {
	return &usageCollector{
		usage: usage,
		mounts: prometheus.NewDesc(prometheus.BuildFQName(namespace, "plugin", "fuse_mounts"),
			"FUSE mounts of gluster volumes the plugin holds on this host.", nil, nil),
		references: prometheus.NewDesc(prometheus.BuildFQName(namespace, "plugin", "references"),
			"Docker mount references (running containers, mostly) on the plugin's volumes on this host.", nil, nil),
	}
}

type usageCollector struct {
	usage              UsageFunc
	mounts, references *prometheus.Desc
}

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.mounts
	ch <- c.references
}

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	mounts, references := c.usage()
	ch <- prometheus.MustNewConstMetric(c.mounts, prometheus.GaugeValue, float64(mounts))
	ch <- prometheus.MustNewConstMetric(c.references, prometheus.GaugeValue, float64(references))
}
