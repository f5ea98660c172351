// Package testbed brings up real gluster server containers for end-to-end
// tests: each "host" is a container on a dedicated bridge network with a
// static address and its own host directories. Everything it creates is
// named after the cluster, and only that is removed again.
package testbed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/backoff"
)

// Docker runs the docker CLI and returns its trimmed standard output.
func Docker(ctx context.Context, args ...string) (string, error) {
	return DockerInput(ctx, nil, args...)
}

// DockerInput runs the docker CLI with input as its standard input.
func DockerInput(ctx context.Context, input io.Reader, args ...string) (string, error) {
	return RunInput(ctx, input, "docker", args...)
}

// Run runs a command with its arguments as a list and returns its trimmed
// standard output; the error carries standard error.
func Run(ctx context.Context, name string, args ...string) (string, error) {
	return RunInput(ctx, nil, name, args...)
}

// RunInput is Run with input as the command's standard input.
func RunInput(ctx context.Context, input io.Reader, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = input
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(stdout.String()), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// MustDocker runs docker and fails the test on error.
func MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := Docker(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// MustRun runs a command and fails the test on error.
func MustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := Run(context.Background(), name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Eventually polls check until it succeeds or timeout passes, and fails the
// test with the last error.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	if err := Poll(timeout, check); err != nil {
		t.Fatalf("%s: not within %s: %v", what, timeout, err)
	}
}

// pollRetry spaces out the checks of Poll: quick at first, for what is
// nearly ready, and at most a second apart, so that a condition met is seen
// soon after.
var pollRetry = backoff.Policy{First: 100 * time.Millisecond, Max: time.Second}

// Poll calls check until it succeeds or timeout passes; it returns the last
// error.
func Poll(timeout time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	for range pollRetry.Attempts(ctx) {
		if err = check(); err == nil {
			return nil
		}
	}
	return err
}
