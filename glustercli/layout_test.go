package glustercli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLayoutChanges(t *testing.T) {
	b := func(host string) Brick { return Brick{Host: host, Path: "/bricks/gv0"} }
	tests := []struct {
		name    string
		fixture string
		run     func(*CLI) error
		args    string
		wantErr bool
	}{
		{"[Success] add-brick raising the replica count", "add-brick.xml",
			func(c *CLI) error { return c.AddBricks(context.Background(), "gv0", 3, []Brick{b("10.0.0.3")}) },
			"volume add-brick gv0 replica 3 10.0.0.3:/bricks/gv0 force", false},
		{"[Error] add-brick on a server without /dev/fuse", "add-brick-no-fuse.xml",
			func(c *CLI) error { return c.AddBricks(context.Background(), "gv0", 3, []Brick{b("10.0.0.3")}) },
			"volume add-brick gv0 replica 3 10.0.0.3:/bricks/gv0 force", true},
		{"[Success] replace-brick", "replace-brick.xml",
			func(c *CLI) error { return c.ReplaceBrick(context.Background(), "gv0", b("10.0.0.1"), b("10.0.0.4")) },
			"volume replace-brick gv0 10.0.0.1:/bricks/gv0 10.0.0.4:/bricks/gv0 commit force", false},
		{"[Success] detach", "detach.xml",
			func(c *CLI) error { return c.Detach(context.Background(), "10.0.0.1") },
			"peer detach 10.0.0.1", false},
		{"[Error] detach of a server holding bricks", "detach-holds-bricks.xml",
			func(c *CLI) error { return c.Detach(context.Background(), "10.0.0.1") },
			"peer detach 10.0.0.1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, s := newScripted(t, map[string][]string{tc.args: {tc.fixture}})
			err := tc.run(cli)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error: %t", err, tc.wantErr)
			}
			if !slices.Equal(s.calls, []string{tc.args}) {
				t.Errorf("calls = %q, want %q", s.calls, tc.args)
			}
		})
	}
}

func TestHealFull(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		wantErr bool
	}{
		{"[Success] launched", "Launching heal operation to perform full self heal on volume gv0 has been successful \nUse heal info commands to check status.\n", false},
		{"[Error] a peer failed", "Launching heal operation to perform full self heal on volume gv0 has been unsuccessful:\nCommit failed on 10.0.0.3. Please check log file for details.\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			exec := func(_ context.Context, name string, args ...string) ([]byte, error) {
				got = append([]string{name}, args...)
				return []byte(tc.answer), nil
			}
			err := New(DefaultSocket, exec, time.Second, discard).HealFull(context.Background(), "gv0")
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error: %t", err, tc.wantErr)
			}
			if want := "gluster --glusterd-sock=/run/glusterd.socket --mode=script volume heal gv0 full"; strings.Join(got, " ") != want {
				t.Errorf("ran %q, want %q", got, want)
			}
		})
	}
	t.Run("[Error] a name gluster would read as an option", func(t *testing.T) {
		exec := func(context.Context, string, ...string) ([]byte, error) { t.Fatal("gluster ran"); return nil, nil }
		err := New(DefaultSocket, exec, time.Second, discard).HealFull(context.Background(), "--log-file=/x")
		if !errors.Is(err, ErrUnsafeArgument) {
			t.Errorf("err = %v, want ErrUnsafeArgument", err)
		}
	})
}
