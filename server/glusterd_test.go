package main

import (
	"slices"
	"testing"
)

func TestGlusterdEnv(t *testing.T) {
	tests := []struct {
		name      string
		environ   []string
		multiplex string
		want      []string
	}{
		{"[Success] multiplexed bricks cap malloc arenas", []string{"PATH=/bin"}, "on", []string{"PATH=/bin", "MALLOC_ARENA_MAX=2"}},
		{"[Success] one process per brick keeps glibc's default", []string{"PATH=/bin"}, "off", []string{"PATH=/bin"}},
		{"[Success] the operator's cap wins", []string{"MALLOC_ARENA_MAX=4", "PATH=/bin"}, "on", []string{"MALLOC_ARENA_MAX=4", "PATH=/bin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			environ := slices.Clone(tc.environ)
			got := glusterdEnv(environ, tc.multiplex)
			if !slices.Equal(got, tc.want) {
				t.Errorf("glusterdEnv = %q, want %q", got, tc.want)
			}
			if !slices.Equal(environ, tc.environ) {
				t.Errorf("glusterdEnv changed its input to %q", environ)
			}
		})
	}
}
