// Package initproc lets the server serve as its container's PID 1: glusterd's
// daemons (brick processes, self-heal daemon) detach from the process that
// started them, so only PID 1 can reap them when they exit. The plugin runs
// in the host's process namespace, where it is never PID 1.
package initproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// workerEnv marks the child that does the real work under PID 1.
const workerEnv = "GLUSTER_INIT_WORKER"

// RunAsInit makes a program that finds itself PID 1 a minimal init: it runs
// the same program again as a child, passes signals on to it, reaps every
// process that exits, and when the child exits asks every remaining process
// to stop. It returns false at once when the program is not PID 1 or is the
// child; otherwise it returns true with the child's exit code.
func RunAsInit() (code int, ran bool) {
	if os.Getpid() != 1 || os.Getenv(workerEnv) != "" {
		return 0, false
	}
	return supervise(), true
}

func supervise() int {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "init: starting worker:", err)
		return 1
	}
	worker := cmd.Process.Pid
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			_ = cmd.Process.Signal(sig)
			continue
		}
		if code, exited := reap(worker); exited {
			stopEverything()
			return code
		}
	}
	return 1
}

// reap collects every exited child and reports whether the worker was one
// of them, with its exit code.
func reap(worker int) (code int, exited bool) {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || errors.Is(err, syscall.ECHILD) {
			return code, exited
		}
		if pid == worker {
			exited = true
			code = status.ExitStatus()
			if status.Signaled() {
				code = 128 + int(status.Signal())
			}
		}
	}
}

// stopEverything asks the processes left (bricks, self-heal daemon) to stop,
// so that clients see a clean disconnect, and kills what is left after a
// grace period.
func stopEverything() {
	_ = syscall.Kill(-1, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.ECHILD) {
			return
		}
		if pid <= 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	_ = syscall.Kill(-1, syscall.SIGKILL)
}
