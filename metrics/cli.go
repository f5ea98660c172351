package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glusterdocker/gluster/glustercli"
)

// InstrumentExec returns next counting and timing the gluster commands it
// runs by sub-command, in metrics registered with reg. A command fails here
// when it could not run or answered nothing (killed at its deadline, say);
// gluster's own refusals are answers.
func InstrumentExec(next glustercli.ExecFunc, reg prometheus.Registerer) glustercli.ExecFunc {
	commands := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "server", Name: "cli_commands_total",
		Help: "gluster commands run, by sub-command and outcome (error: it did not run or answered nothing).",
	}, []string{"command", "outcome"})
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "server", Name: "cli_command_duration_seconds",
		Help:    "Time gluster commands took, by sub-command.",
		Buckets: durationBuckets,
	}, []string{"command"})
	reg.MustRegister(commands, durations)
	return func(ctx context.Context, name string, args ...string) ([]byte, error) {
		start := time.Now()
		out, err := next(ctx, name, args...)
		command := subCommand(args)
		durations.WithLabelValues(command).Observe(time.Since(start).Seconds())
		commands.WithLabelValues(command, outcome(err)).Inc()
		return out, err
	}
}

// subCommand returns the first two arguments that are not flags ("volume
// info", "pool list"): what a gluster command does, without the names of
// volumes and hosts it does it to.
func subCommand(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if words = append(words, a); len(words) == 2 {
			break
		}
	}
	return strings.Join(words, " ")
}
