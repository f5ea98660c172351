package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glusterdocker/gluster/mounter"
)

// failureReasons names why a mount failed, as label values, in the order
// they are checked: a mount the caller gave up on may also carry the cause
// of its last attempt, which says more.
var failureReasons = []struct {
	err    error
	reason string
}{
	{mounter.ErrVolumeNotFound, "volume_not_found"},
	{mounter.ErrSubdirNotFound, "subdir_not_found"},
	{mounter.ErrAccessDenied, "access_denied"},
	{mounter.ErrMountNotPermitted, "not_permitted"},
	{mounter.ErrNoServer, "no_server"},
	{context.DeadlineExceeded, "deadline"},
	{context.Canceled, "canceled"},
}

// otherFailure is the reason of a failure none of failureReasons matches:
// bricks that stayed offline, a server that hung, a mount that vanished.
const otherFailure = "other"

func failureReason(err error) string {
	for _, r := range failureReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return otherFailure
}

// MountObserver turns what a mounter.Mounter reports into metrics.
type MountObserver struct {
	attempts  prometheus.Counter
	retries   prometheus.Counter
	failures  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	serverUp  *prometheus.GaugeVec
}

var _ mounter.Observer = (*MountObserver)(nil)

// NewMountObserver returns an observer whose metrics are registered with reg.
func NewMountObserver(reg prometheus.Registerer) *MountObserver {
	o := &MountObserver{
		attempts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "mount_attempts_total",
			Help: "Attempts to mount a gluster volume: runs of mount, and rounds in which no server answered.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "mount_retries_total",
			Help: "Mount attempts that followed a failed one of the same mount.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "mount_failures_total",
			Help: "Mounts of gluster volumes that failed for good, by reason.",
		}, []string{"reason"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "mount_duration_seconds",
			Help:    "Time from the first probe of a mount to its outcome (success or error), retries included.",
			Buckets: durationBuckets,
		}, []string{"outcome"}),
		serverUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "plugin", Name: "server_up",
			Help: "Whether a server's glusterd answered the plugin's last probe of it (1) or not (0).",
		}, []string{"server"}),
	}
	for _, r := range failureReasons {
		o.failures.WithLabelValues(r.reason)
	}
	o.failures.WithLabelValues(otherFailure)
	o.durations.WithLabelValues(outcomeSuccess)
	o.durations.WithLabelValues(outcomeError)
	reg.MustRegister(o.attempts, o.retries, o.failures, o.durations, o.serverUp)
	return o
}

// ServerProbed implements mounter.Observer.
func (o *MountObserver) ServerProbed(server string, live bool) {
	up := 0.0
	if live {
		up = 1
	}
	o.serverUp.WithLabelValues(server).Set(up)
}

// MountFinished implements mounter.Observer.
func (o *MountObserver) MountFinished(attempts int, elapsed time.Duration, err error) {
	o.attempts.Add(float64(attempts))
	o.retries.Add(float64(attempts - 1))
	o.durations.WithLabelValues(outcome(err)).Observe(elapsed.Seconds())
	if err != nil {
		o.failures.WithLabelValues(failureReason(err)).Inc()
	}
}
