package metrics

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/glusterdocker/gluster/mounter"
)

func TestMountObserver(t *testing.T) {
	tests := []struct {
		name        string
		attempts    int
		err         error
		wantRetries float64
		wantOutcome string
		wantReason  string // "" for no failure
	}{
		{"[Success] first attempt", 1, nil, 0, "success", ""},
		{"[Success] after retries", 3, nil, 2, "success", ""},
		{"[Error] missing volume", 1, fmt.Errorf("mount gluster volume \"v\": %w", mounter.ErrVolumeNotFound), 0, "error", "volume_not_found"},
		{"[Error] no server until the deadline", 6, fmt.Errorf("gave up after 25s: %w", mounter.ErrNoServer), 5, "error", "no_server"},
		{"[Error] caller gave up while no server answered", 4, fmt.Errorf("%w; last attempt: %w", context.DeadlineExceeded, mounter.ErrNoServer), 3, "error", "no_server"},
		{"[Error] caller gave up", 2, fmt.Errorf("%w; last attempt: %w", context.DeadlineExceeded, errors.New("mount: exit status 1")), 1, "error", "deadline"},
		{"[Error] bricks offline", 4, errors.New("mount reported success but nothing is mounted"), 3, "error", "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			o := NewMountObserver(reg)
			o.MountFinished(tc.attempts, 1500*time.Millisecond, tc.err)

			if got := testutil.ToFloat64(o.attempts); got != float64(tc.attempts) {
				t.Errorf("mount_attempts_total = %v, want %d", got, tc.attempts)
			}
			if got := testutil.ToFloat64(o.retries); got != tc.wantRetries {
				t.Errorf("mount_retries_total = %v, want %v", got, tc.wantRetries)
			}
			if got := observations(t, reg, "gluster_plugin_mount_duration_seconds", map[string]string{"outcome": tc.wantOutcome}); got != 1 {
				t.Errorf("mount_duration_seconds{outcome=%s} has %v observations, want 1", tc.wantOutcome, got)
			}
			for _, reason := range append(allReasons(), otherFailure) {
				want := 0.0
				if reason == tc.wantReason {
					want = 1
				}
				if got := testutil.ToFloat64(o.failures.WithLabelValues(reason)); got != want {
					t.Errorf("mount_failures_total{reason=%s} = %v, want %v", reason, got, want)
				}
			}
		})
	}
}

func allReasons() []string {
	var out []string
	for _, r := range failureReasons {
		out = append(out, r.reason)
	}
	return out
}

func TestMountObserverServerUp(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := NewMountObserver(reg)
	probes := []struct {
		server string
		live   bool
	}{{"10.0.0.1", true}, {"10.0.0.2", true}, {"10.0.0.2", false}, {"10.0.0.3", false}, {"10.0.0.3", true}}
	for _, p := range probes {
		o.ServerProbed(p.server, p.live)
	}
	for server, want := range map[string]float64{"10.0.0.1": 1, "10.0.0.2": 0, "10.0.0.3": 1} {
		if got := testutil.ToFloat64(o.serverUp.WithLabelValues(server)); got != want {
			t.Errorf("server_up{server=%s} = %v, want the last probe's %v", server, got, want)
		}
	}
}
