package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/logging"
	"github.com/glusterdocker/gluster/witness"
)

// witnessRole is the argument that runs the image as a witness instead of
// a server: `docker run ... gluster-server:latest witness`.
const witnessRole = "witness"

// runWitness runs the thin arbiter with its state in control.WitnessDir,
// a host directory; LOG_LEVEL and LOG_FORMAT apply as on a server.
func runWitness() int {
	logger, err := logging.New(os.Stdout, envOr("LOG_LEVEL", "info"), envOr("LOG_FORMAT", "text"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gluster-server witness:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg := witness.Config{Dir: control.WitnessDir, RunDir: "/run/gluster-witness", LogFile: "-", Packaged: witness.PackagedVolfile}
	if err := witness.Run(ctx, cfg, logger); err != nil {
		logger.Error("witness stopped", "error", err)
		return 1
	}
	return 0
}

func envOr(key, fallback string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return fallback
}
