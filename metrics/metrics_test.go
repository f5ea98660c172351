package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		name    string
		address string
		ok      bool
	}{
		{"[Success] off", "", true},
		{"[Success] loopback", "127.0.0.1:9474", true},
		{"[Success] every interface", ":9475", true},
		{"[Success] IPv6", "[::1]:9474", true},
		{"[Error] no port", "10.0.0.1", false},
		{"[Error] empty port", "10.0.0.1:", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateAddress(tc.address); (err == nil) != tc.ok {
				t.Errorf("ValidateAddress(%q) = %v, want ok %v", tc.address, err, tc.ok)
			}
		})
	}
}

// freeAddress returns a loopback address nothing listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestServe(t *testing.T) {
	reg := NewRegistry()
	served := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "test_events_total", Help: "Events."})
	reg.MustRegister(served)
	served.Add(3)
	address := freeAddress(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := Serve(ctx, address, reg, discard); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get("http://" + address + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"gluster_test_events_total 3", "go_goroutines ", "process_cpu_seconds_total ", "promhttp_metric_handler_requests_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	if err := Serve(ctx, address, NewRegistry(), discard); err == nil {
		t.Error("Serve on an address in use succeeded")
	}

	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", address)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("still serving after the context was done")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeOff(t *testing.T) {
	if err := Serve(context.Background(), "", NewRegistry(), discard); err != nil {
		t.Errorf("Serve with no address = %v, want nil", err)
	}
}
