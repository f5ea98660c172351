package glustercli

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
)

func TestAddReplicaSets(t *testing.T) {
	b := func(host string) Brick { return Brick{Host: host, Path: "/bricks/gv0"} }
	tests := []struct {
		name    string
		fixture string
		err     error
	}{
		{"[Success] added", "add-brick-distribute.xml", nil},
		{"[Error] refused while a rebalance runs", "add-brick-rebalancing.xml", ErrRebalancing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := "volume add-brick gv0 10.0.0.3:/bricks/gv0 10.0.0.4:/bricks/gv0 force"
			cli, s := newScripted(t, map[string][]string{args: {tc.fixture}})
			err := cli.AddReplicaSets(context.Background(), "gv0", []Brick{b("10.0.0.3"), b("10.0.0.4")})
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if !slices.Equal(s.calls, []string{args}) {
				t.Errorf("calls = %q, want %q", s.calls, args)
			}
		})
	}
}

func TestRebalanceStart(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
	}{
		{"[Success] started", "rebalance-start.xml"},
		{"[Success] one runs already", "rebalance-start-running.xml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, _ := newScripted(t, map[string][]string{"volume rebalance gv0 start": {tc.fixture}})
			if err := cli.RebalanceStart(context.Background(), "gv0"); err != nil {
				t.Errorf("err = %v, want none", err)
			}
		})
	}
}

func TestRebalanceStatus(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    Rebalance
		err     error
	}{
		{"[Success] in progress", "rebalance-status-running.xml", Rebalance{
			TaskID: "4ae50007-4429-4a9e-889a-3eac0f178df2",
			Nodes:  []RebalanceNode{{Node: "localhost", Status: "in progress", Files: 10, Bytes: 37, Scanned: 200}},
			Total:  RebalanceNode{Status: "in progress", Files: 10, Bytes: 37, Scanned: 200},
		}, nil},
		{"[Success] completed", "rebalance-status-done.xml", Rebalance{
			TaskID: "4ae50007-4429-4a9e-889a-3eac0f178df2",
			Nodes:  []RebalanceNode{{Node: "localhost", Status: "completed", Files: 74, Bytes: 253, Scanned: 200, Seconds: 2}},
			Total:  RebalanceNode{Status: "completed", Files: 74, Bytes: 253, Scanned: 200, Seconds: 2},
		}, nil},
		{"[Error] none ran", "rebalance-status-none.xml", Rebalance{}, ErrNoRebalance},
		{"[Error] no such volume", "rebalance-status-missing.xml", Rebalance{}, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, _ := newScripted(t, map[string][]string{"volume rebalance gv0 status": {tc.fixture}})
			got, err := cli.RebalanceStatus(context.Background(), "gv0")
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RebalanceStatus() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
