// Package metrics defines the Prometheus metrics of the plugin and the
// server and serves them over HTTP. Every metric of ours is named gluster_*;
// the instrumented packages know nothing of Prometheus: they are wrapped here
// (the volume driver, the control API's handler, the gluster CLI) or report
// to a small hook (the mounter's Observer).
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace is the prefix of every metric this package defines.
const namespace = "gluster"

// durationBuckets (seconds) span a listing answered from memory (a few
// milliseconds) to a mount that retried for as long as Docker waits (two
// minutes).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// Outcomes of calls, as label values.
const (
	outcomeSuccess = "success"
	outcomeError   = "error"
)

func outcome(err error) string {
	if err != nil {
		return outcomeError
	}
	return outcomeSuccess
}

// NewRegistry returns a registry for one program with the Go runtime's and
// the process's standard metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// ValidateAddress checks a metrics address setting: HOST:PORT, or empty for
// no metrics.
func ValidateAddress(address string) error {
	if address == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(address); err != nil || port == "" {
		return fmt.Errorf("%q is not HOST:PORT", address)
	}
	return nil
}

// Serve serves reg at http://address/metrics until ctx is done. It returns
// once it listens, with an error if it cannot; an empty address serves
// nothing.
func Serve(ctx context.Context, address string, reg *prometheus.Registry, logger *slog.Logger) error {
	if address == "" {
		logger.Info("metrics off")
		return nil
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
		// A collector that failed should not hide what the others gathered.
		ErrorHandling: promhttp.ContinueOnError,
	})))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serving metrics", "address", address, "error", err)
		}
	}()
	context.AfterFunc(ctx, func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	})
	logger.Info("metrics listening", "address", listener.Addr().String())
	return nil
}
