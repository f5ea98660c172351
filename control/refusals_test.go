package control

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRefusalLog(t *testing.T) {
	type refusal struct {
		after  time.Duration // since the previous refusal
		source string
	}
	tests := []struct {
		name     string
		refusals []refusal
		want     []string // logged lines, as "source suppressed"
	}{
		{"[Success] one line per source and interval", []refusal{
			{0, "10.0.0.9"}, {time.Second, "10.0.0.9"}, {time.Second, "10.0.0.9"},
		}, []string{"10.0.0.9 0"}},
		{"[Success] the next interval says how many went unlogged", []refusal{
			{0, "10.0.0.9"}, {time.Second, "10.0.0.9"}, {time.Second, "10.0.0.9"}, {refusalLogInterval, "10.0.0.9"},
		}, []string{"10.0.0.9 0", "10.0.0.9 2"}},
		{"[Success] sources are counted apart", []refusal{
			{0, "10.0.0.9"}, {time.Second, "10.0.0.8"}, {time.Second, "10.0.0.9"}, {time.Second, "10.0.0.8"},
		}, []string{"10.0.0.9 0", "10.0.0.8 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			l := newRefusalLog(slog.New(slog.NewTextHandler(&out, nil)), clock.now)
			for _, r := range tc.refusals {
				clock.t = clock.t.Add(r.after)
				req := httptest.NewRequest(http.MethodPost, "/v1/volumes", nil)
				req.RemoteAddr = r.source + ":40000"
				l.refused(req)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(tc.want), out.String())
			}
			for i, want := range tc.want {
				source, suppressed, _ := strings.Cut(want, " ")
				if !strings.Contains(lines[i], "source="+source) || !strings.Contains(lines[i], "suppressed="+suppressed) || !strings.Contains(lines[i], "path=/v1/volumes") {
					t.Errorf("line %d: %s; want source=%s suppressed=%s", i, lines[i], source, suppressed)
				}
			}
		})
	}
}

func TestRefusalLogBoundsItsSources(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	l := newRefusalLog(slog.New(slog.NewTextHandler(&out, nil)), clock.now)
	for i := range 3 * maxRefusalSources {
		req := httptest.NewRequest(http.MethodGet, "/v1/peers", nil)
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.1:40000", i/256, i%256)
		l.refused(req)
	}
	if n := len(l.sources); n > maxRefusalSources+1 {
		t.Errorf("%d sources tracked, want at most %d", n, maxRefusalSources+1)
	}
	if lines := strings.Count(out.String(), "\n"); lines != maxRefusalSources+1 {
		t.Errorf("%d lines logged, want %d: one per tracked source and one for the others", lines, maxRefusalSources+1)
	}
	// Once their interval passed, quiet sources make room again.
	clock.t = clock.t.Add(refusalLogInterval)
	req := httptest.NewRequest(http.MethodGet, "/v1/peers", nil)
	req.RemoteAddr = "192.0.2.1:40000"
	l.refused(req)
	if !strings.Contains(out.String(), "source=192.0.2.1") {
		t.Error("a new source after the interval was not logged under its own address")
	}
}
