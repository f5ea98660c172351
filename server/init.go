package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// workerEnv marks the child that does the real work when the server runs as
// a container's PID 1.
const workerEnv = "GLUSTER_SERVER_WORKER"

// runAsInit makes PID 1 a minimal init: glusterd daemonizes its brick and
// self-heal processes, which then become children of PID 1, and only PID 1
// can reap them. The real work runs in a child process; signals are passed on
// to it, and when it exits every remaining process is asked to stop.
func runAsInit() int {
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
		os.Stderr.WriteString("gluster-server: starting worker: " + err.Error() + "\n")
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
