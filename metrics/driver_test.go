package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/volume"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var errRefused = errors.New("refused")

// fakeDriver answers every call with err.
type fakeDriver struct {
	err   error
	calls int
}

func (f *fakeDriver) Create(*volume.CreateRequest) error { f.calls++; return f.err }
func (f *fakeDriver) List() (*volume.ListResponse, error) {
	f.calls++
	return &volume.ListResponse{}, f.err
}
func (f *fakeDriver) Get(*volume.GetRequest) (*volume.GetResponse, error) {
	f.calls++
	return &volume.GetResponse{}, f.err
}
func (f *fakeDriver) Remove(*volume.RemoveRequest) error { f.calls++; return f.err }
func (f *fakeDriver) Path(*volume.PathRequest) (*volume.PathResponse, error) {
	f.calls++
	return &volume.PathResponse{}, f.err
}
func (f *fakeDriver) Mount(req *volume.MountRequest) (*volume.MountResponse, error) {
	return f.MountContext(context.Background(), req)
}
func (f *fakeDriver) MountContext(context.Context, *volume.MountRequest) (*volume.MountResponse, error) {
	f.calls++
	return &volume.MountResponse{Mountpoint: "/mnt/v"}, f.err
}
func (f *fakeDriver) Unmount(*volume.UnmountRequest) error { f.calls++; return f.err }
func (f *fakeDriver) Capabilities() *volume.CapabilitiesResponse {
	f.calls++
	return &volume.CapabilitiesResponse{Capabilities: volume.Capability{Scope: "global"}}
}

func TestInstrumentDriver(t *testing.T) {
	calls := map[string]func(volume.Driver) error{
		"create":  func(d volume.Driver) error { return d.Create(&volume.CreateRequest{Name: "v"}) },
		"list":    func(d volume.Driver) error { _, err := d.List(); return err },
		"get":     func(d volume.Driver) error { _, err := d.Get(&volume.GetRequest{Name: "v"}); return err },
		"remove":  func(d volume.Driver) error { return d.Remove(&volume.RemoveRequest{Name: "v"}) },
		"path":    func(d volume.Driver) error { _, err := d.Path(&volume.PathRequest{Name: "v"}); return err },
		"mount":   func(d volume.Driver) error { _, err := d.Mount(&volume.MountRequest{Name: "v", ID: "c1"}); return err },
		"unmount": func(d volume.Driver) error { return d.Unmount(&volume.UnmountRequest{Name: "v", ID: "c1"}) },
	}
	tests := []struct {
		name    string
		method  string
		err     error
		outcome string
	}{
		{"[Success] create", "create", nil, "success"},
		{"[Success] list", "list", nil, "success"},
		{"[Success] get", "get", nil, "success"},
		{"[Success] remove", "remove", nil, "success"},
		{"[Success] path", "path", nil, "success"},
		{"[Success] mount", "mount", nil, "success"},
		{"[Success] unmount", "unmount", nil, "success"},
		{"[Error] create", "create", errRefused, "error"},
		{"[Error] get", "get", errRefused, "error"},
		{"[Error] mount", "mount", errRefused, "error"},
		{"[Error] unmount", "unmount", errRefused, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			next := &fakeDriver{err: tc.err}
			d := InstrumentDriver(next, reg)
			if err := calls[tc.method](d); err != tc.err {
				t.Fatalf("%s returned %v, want the driver's %v", tc.method, err, tc.err)
			}
			if next.calls != 1 {
				t.Errorf("driver called %d times, want once", next.calls)
			}
			requests := map[string]float64{}
			for _, m := range driverMethods {
				for _, o := range []string{"success", "error"} {
					requests[fmt.Sprintf("method=%q,outcome=%q", m, o)] = 0
				}
			}
			requests[fmt.Sprintf("method=%q,outcome=%q", tc.method, tc.outcome)] = 1
			assertFamilies(t, reg, family{
				name: "gluster_plugin_requests_total", kind: "counter",
				help:   "Calls of Docker's volume plugin API, by method and outcome (success or error).",
				series: requests,
			})
			if got := observations(t, reg, "gluster_plugin_request_duration_seconds", map[string]string{"method": tc.method}); got != 1 {
				t.Errorf("request_duration_seconds{method=%s} has %v observations, want 1", tc.method, got)
			}
		})
	}
}

func TestInstrumentDriverPassesAnswersOn(t *testing.T) {
	d := InstrumentDriver(&fakeDriver{}, prometheus.NewRegistry())
	if resp, _ := d.Mount(&volume.MountRequest{Name: "v"}); resp.Mountpoint != "/mnt/v" {
		t.Errorf("Mount() = %+v, want the driver's answer", resp)
	}
	if caps := d.Capabilities(); caps.Capabilities.Scope != "global" {
		t.Errorf("Capabilities() = %+v, want the driver's answer", caps)
	}
}

func TestUsageCollector(t *testing.T) {
	tests := []struct {
		name               string
		mounts, references int
	}{
		{"[Success] idle", 0, 0},
		{"[Success] shared mounts", 2, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			usage := NewUsageCollector(func() (int, int) { return tc.mounts, tc.references })
			want := family{
				name: "gluster_plugin_fuse_mounts", kind: "gauge",
				help:   "FUSE mounts of gluster volumes the plugin holds on this host.",
				series: map[string]float64{"": float64(tc.mounts)},
			}.String() + family{
				name: "gluster_plugin_references", kind: "gauge",
				help:   "Docker mount references (running containers, mostly) on the plugin's volumes on this host.",
				series: map[string]float64{"": float64(tc.references)},
			}.String()
			if err := testutil.CollectAndCompare(usage, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}
