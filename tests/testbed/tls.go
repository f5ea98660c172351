package testbed

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/pki"
)

// caTimeout bounds the wait for the first server to make the cluster's CA,
// which it does before starting glusterd.
const caTimeout = time.Minute

// UseTLS has the servers, once started, run with TLS=on: the first makes
// the cluster's CA, the others enroll with it.
func (c *Cluster) UseTLS() {
	c.tls = true
	for _, s := range c.Servers {
		s.Env = append(s.Env, "TLS=on")
	}
}

// TLSDir is the host directory where the server keeps its certificate and
// the cluster CA's.
func (s *Server) TLSDir() string {
	return filepath.Join(s.Dir, "glusterd", "cluster-tls")
}

// TLSIdentity reads the server's certificate, and the CA's, as it keeps
// them.
func (s *Server) TLSIdentity(t testing.TB) certstore.Identity {
	t.Helper()
	id, err := certstore.Store{Dir: s.TLSDir()}.Load()
	if err != nil {
		t.Fatalf("%s's certificate: %v", s.Name, err)
	}
	return id
}

// CAFingerprint waits for the cluster's CA and returns its fingerprint,
// the plugins' CA_FINGERPRINT.
func (c *Cluster) CAFingerprint(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(caTimeout)
	for {
		if ca := c.ca(); ca != nil {
			return pki.Fingerprint(ca)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cluster CA in %s after %s", c.Servers[0].TLSDir(), caTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ca is the cluster CA's certificate as a server keeps it, nil before
// any has one.
func (c *Cluster) ca() *x509.Certificate {
	for _, s := range c.Servers {
		data, err := os.ReadFile(filepath.Join(s.TLSDir(), certstore.CAFile))
		if err != nil {
			continue
		}
		if ca, err := pki.ParseCertificate(data); err == nil {
			return ca
		}
	}
	return nil
}
