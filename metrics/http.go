package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unrouted is the operation of a request that reached no route: refused
// before routing (a wrong token) or matching no pattern.
const unrouted = "unrouted"

// InstrumentHandler returns next counting requests by operation and status
// code, and timing them by operation, in metrics registered with reg; it
// counts the requests refused for a missing or wrong token (the control
// API's only 401) on their own, for alerts on someone guessing. The
// operation is the pattern of the http.ServeMux route that served the
// request ("GET /v1/volumes/{name}"), so that volume names do not become
// label values.
func InstrumentHandler(next http.Handler, reg prometheus.Registerer) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "server", Name: "requests_total",
		Help: "Requests to the control API, by operation (route pattern) and HTTP status code.",
	}, []string{"operation", "code"})
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "server", Name: "request_duration_seconds",
		Help:    "Time the control API took to answer, by operation (route pattern).",
		Buckets: durationBuckets,
	}, []string{"operation"})
	authFailures := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "server", Name: "auth_failures_total",
		Help: "Control API requests refused for a missing or wrong token.",
	})
	reg.MustRegister(requests, durations, authFailures)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		// ServeMux sets the pattern on the request it was given, so it
		// is known once the request was served.
		operation := r.Pattern
		if operation == "" {
			operation = unrouted
		}
		durations.WithLabelValues(operation).Observe(time.Since(start).Seconds())
		requests.WithLabelValues(operation, strconv.Itoa(rec.code)).Inc()
		if rec.code == http.StatusUnauthorized {
			authFailures.Inc()
		}
	})
}

// statusRecorder remembers the status code a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code    int
	written bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.written {
		s.code, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter {
	return s.ResponseWriter
}
