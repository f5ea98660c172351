package metrics

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestInstrumentExec(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		err     error
		command string
		outcome string
	}{
		{"[Success] volume name left out", []string{"--glusterd-sock=/run/glusterd.socket", "--mode=script", "--xml", "volume", "info", "gv0"}, nil, "volume info", "success"},
		{"[Success] two words", []string{"--mode=script", "pool", "list"}, nil, "pool list", "success"},
		{"[Success] heal", []string{"--xml", "volume", "heal", "gv0", "info", "summary"}, nil, "volume heal", "success"},
		{"[Error] killed", []string{"--xml", "volume", "status", "gv0", "clients"}, context.DeadlineExceeded, "volume status", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var ran []string
			next := func(_ context.Context, name string, args ...string) ([]byte, error) {
				ran = append([]string{name}, args...)
				return []byte("<cliOutput/>"), tc.err
			}
			out, err := InstrumentExec(next, reg)(context.Background(), "gluster", tc.args...)
			if string(out) != "<cliOutput/>" || !errors.Is(err, tc.err) || len(ran) != len(tc.args)+1 {
				t.Fatalf("exec = %q, %v after running %q; want the command's own answer", out, err, ran)
			}
			assertFamilies(t, reg, family{
				name: "gluster_server_cli_commands_total", kind: "counter",
				help:   "gluster commands run, by sub-command and outcome (error: it did not run or answered nothing).",
				series: map[string]float64{fmt.Sprintf("command=%q,outcome=%q", tc.command, tc.outcome): 1},
			})
			if got := observations(t, reg, "gluster_server_cli_command_duration_seconds", map[string]string{"command": tc.command}); got != 1 {
				t.Errorf("cli_command_duration_seconds{command=%q} has %v observations, want 1", tc.command, got)
			}
		})
	}
}
