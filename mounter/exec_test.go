package mounter

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunCommand(t *testing.T) {
	testCases := []struct {
		name     string
		script   string
		timeout  time.Duration
		wantOut  string
		wantErr  string
		maxDelay time.Duration
	}{
		{name: "[Success] output", script: "echo hello; echo world >&2", timeout: 5 * time.Second, wantOut: "hello\nworld\n"},
		{name: "[Error] exit status with output", script: "echo failed; exit 3", timeout: 5 * time.Second, wantOut: "failed\n", wantErr: "sh: exit status 3"},
		// A child left running in the background, as glusterfs is by
		// mount.glusterfs, dies with the command instead of holding it.
		{name: "[Error] cancelled with its children", script: "sleep 30 & wait", timeout: 50 * time.Millisecond, wantErr: "signal: killed", maxDelay: 500 * time.Millisecond},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			out, err := runCommand(ctx, "sh", "-c", tc.script)
			if string(out) != tc.wantOut {
				t.Errorf("output %q, want %q", out, tc.wantOut)
			}
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			if tc.maxDelay != 0 && time.Since(start) > tc.timeout+tc.maxDelay {
				t.Errorf("returned after %s", time.Since(start))
			}
		})
	}
}
