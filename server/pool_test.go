package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// flakyPool answers probes of a peer only after it failed a number of times.
type flakyPool struct {
	failures map[string]int
	probes   []string
}

func (f *flakyPool) Probe(_ context.Context, host string) error {
	f.probes = append(f.probes, host)
	if f.failures[host] > 0 {
		f.failures[host]--
		return errors.New("Probe returned with Transport endpoint is not connected")
	}
	return nil
}

func TestFormPool(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name     string
		failures map[string]int
		want     []string
	}{
		{"[Success] all up", nil, []string{"b", "c"}},
		{"[Success] late peer retried alone", map[string]int{"c": 2}, []string{"b", "c", "c", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := &flakyPool{failures: tc.failures}
			formPool(context.Background(), pool, []string{"b", "c"}, 32*time.Millisecond, logger)
			if !slices.Equal(pool.probes, tc.want) {
				t.Errorf("probes = %v, want %v", pool.probes, tc.want)
			}
		})
	}
}

func TestFormPoolStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pool := &flakyPool{failures: map[string]int{"b": 1000}}
	formPool(ctx, pool, []string{"b"}, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(pool.probes) != 1 {
		t.Errorf("probes = %v, want one before giving up", pool.probes)
	}
}
