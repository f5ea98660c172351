package testbed

import (
	"context"
	"strconv"
	"testing"
)

// Partition drops every packet to and from the server, as a pulled cable
// would: its connections stay open and nothing answers. It lasts until the
// returned function is called or the test ends.
func (s *Server) Partition(t testing.TB) (heal func()) {
	t.Helper()
	return s.iptables(t, "cutting off", []string{"INPUT", "-j", "DROP"}, []string{"OUTPUT", "-j", "DROP"})
}

// RefuseTCP makes the server refuse new TCP connections to port, with a
// reset, as a server whose program on that port is not running would; the
// server's other ports go on answering. It lasts until the returned
// function is called or the test ends.
func (s *Server) RefuseTCP(t testing.TB, port int) (restore func()) {
	t.Helper()
	return s.iptables(t, "refusing port "+strconv.Itoa(port)+" on",
		[]string{"INPUT", "-p", "tcp", "--dport", strconv.Itoa(port), "-j", "REJECT", "--reject-with", "tcp-reset"})
}

// iptables inserts rules in the container's network namespace (Debian's
// iptables, entered through its pid) until the returned function is
// called or the test ends; what names the change in errors.
func (s *Server) iptables(t testing.TB, what string, rules ...[]string) (remove func()) {
	t.Helper()
	pid := s.must(t, "inspect", "-f", "{{.State.Pid}}", s.Name)
	apply := func(op string, rule []string) error {
		_, err := Run(context.Background(), "nsenter", append([]string{"-t", pid, "-n", "iptables", op}, rule...)...)
		return err
	}
	for _, rule := range rules {
		if err := apply("-I", rule); err != nil {
			t.Fatalf("%s %s: %v", what, s.Name, err)
		}
	}
	removed := false
	remove = func() {
		if removed {
			return
		}
		removed = true
		for _, rule := range rules {
			if err := apply("-D", rule); err != nil {
				t.Errorf("undoing %s %s: %v", what, s.Name, err)
			}
		}
	}
	t.Cleanup(remove)
	return remove
}
