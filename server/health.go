package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/glusterdocker/gluster/witness"
)

// healthArg runs the image's HEALTHCHECK (build/server-image.sh):
// `gluster-server health`, in a server's or a witness's container.
const healthArg = "health"

// runHealth answers the health check of whichever role the container runs:
// a witness is healthy while its thin arbiter listens, a server while its
// volumes have every brick online and nothing to heal (gluster-admin
// health).
func runHealth() int {
	if !runsWitness() {
		return runAdmin([]string{healthArg}, os.Stdout, os.Stderr)
	}
	if err := witness.Healthy(); err != nil {
		fmt.Fprintln(os.Stderr, "witness:", err)
		return 1
	}
	fmt.Println("witness: the thin arbiter answers")
	return 0
}

// runsWitness reports whether the container's PID 1 runs the witness role.
func runsWitness() bool {
	cmdline, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		return false
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	return len(args) == 2 && string(args[1]) == witnessRole
}
