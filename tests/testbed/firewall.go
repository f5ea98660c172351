package testbed

import (
	"context"
	"strconv"
	"testing"
)

// RefuseTCP makes the server refuse new TCP connections to port, with a
// reset, as a server whose program on that port is not running would; the
// server's other ports go on answering. It lasts until the returned
// function is called or the test ends. The rule lives in the container's
// network namespace (Debian's iptables, entered through its pid).
func (s *Server) RefuseTCP(t testing.TB, port int) (restore func()) {
	t.Helper()
	pid := s.must(t, "inspect", "-f", "{{.State.Pid}}", s.Name)
	rule := []string{"INPUT", "-p", "tcp", "--dport", strconv.Itoa(port), "-j", "REJECT", "--reject-with", "tcp-reset"}
	iptables := func(op string) error {
		_, err := Run(context.Background(), "nsenter", append([]string{"-t", pid, "-n", "iptables", op}, rule...)...)
		return err
	}
	if err := iptables("-I"); err != nil {
		t.Fatalf("refusing port %d on %s: %v", port, s.Name, err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		if err := iptables("-D"); err != nil {
			t.Errorf("answering on port %d on %s again: %v", port, s.Name, err)
		}
	}
	t.Cleanup(restore)
	return restore
}
