package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/pki"
)

var discardLogs = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMakesCA(t *testing.T) {
	tests := []struct {
		name    string
		address string
		peers   []string
		want    bool
	}{
		{"[Success] a server alone makes the CA", "10.0.0.2", nil, true},
		{"[Success] the first address in order makes it", "10.0.0.1", []string{"10.0.0.2", "10.0.0.3"}, true},
		{"[Success] the first address whatever the order of the peers", "10.0.0.1", []string{"10.0.0.3", "10.0.0.2"}, true},
		{"[Error] a later address does not", "10.0.0.2", []string{"10.0.0.1", "10.0.0.3"}, false},
		{"[Error] the last address does not", "10.0.0.3", []string{"10.0.0.2", "10.0.0.1"}, false},
		{"[Success] names compare as strings", "a1", []string{"b1"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := makesCA(config{Address: tc.address, Peers: tc.peers}); got != tc.want {
				t.Errorf("makesCA = %t, want %t", got, tc.want)
			}
		})
	}
}

// newServerIdentity is the identity of the server at address, in a store
// of its own, with a certificate issued at issued by a CA made then.
func newServerIdentity(t *testing.T, address string, issued time.Time) *identity {
	t.Helper()
	ca, err := pki.NewAuthority(issued, caLifetime)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	crl, err := ca.RevocationList(nil, 1, issued, crlLifetime)
	if err != nil {
		t.Fatal(err)
	}
	key, csr, err := newRequest("server-" + address)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(csr, pki.RoleServer, []string{address}, issued, serverLifetime)
	if err != nil {
		t.Fatal(err)
	}
	s := &identity{store: certstore.Store{Dir: t.TempDir()}, address: address, logger: discardLogs}
	id := certstore.Identity{KeyPEM: key, CertPEM: cert, CAPEM: ca.CertPEM(), CAKeyPEM: caKey, CRLPEM: crl}
	if err := s.store.Save(id); err != nil {
		t.Fatal(err)
	}
	if id, err = s.store.Load(); err != nil {
		t.Fatal(err)
	}
	if err := s.use(id); err != nil {
		t.Fatal(err)
	}
	return s
}

func newCSR(t *testing.T, commonName string) string {
	t.Helper()
	_, csr, err := newRequest(commonName)
	if err != nil {
		t.Fatal(err)
	}
	return string(csr)
}

func TestIdentityEnroll(t *testing.T) {
	s := newServerIdentity(t, "10.0.0.1", time.Now())
	csr := newCSR(t, "host-1")
	tests := []struct {
		name     string
		req      control.EnrollRequest
		err      error
		lifetime time.Duration
	}{
		{"[Success] a client", control.EnrollRequest{CSR: csr, Role: control.RoleClient}, nil, clientLifetime},
		{"[Success] a server by IP address", control.EnrollRequest{CSR: csr, Role: control.RoleServer, Address: "10.0.0.2"}, nil, serverLifetime},
		{"[Success] a server by host name", control.EnrollRequest{CSR: csr, Role: control.RoleServer, Address: "gluster-2.example"}, nil, serverLifetime},
		{"[Error] a client with an address", control.EnrollRequest{CSR: csr, Role: control.RoleClient, Address: "10.0.0.9"}, control.ErrInvalid, 0},
		{"[Error] a server without an address", control.EnrollRequest{CSR: csr, Role: control.RoleServer}, control.ErrInvalid, 0},
		{"[Error] a server with an invalid address", control.EnrollRequest{CSR: csr, Role: control.RoleServer, Address: "10.0.0.2;rm"}, control.ErrInvalid, 0},
		{"[Error] an unknown role", control.EnrollRequest{CSR: csr, Role: "admin"}, control.ErrInvalid, 0},
		{"[Error] no role", control.EnrollRequest{CSR: csr}, control.ErrInvalid, 0},
		{"[Error] a request that is no CSR", control.EnrollRequest{CSR: "junk", Role: control.RoleClient}, control.ErrInvalid, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := s.Enroll(tc.req)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Enroll: err = %v, want %v", err, tc.err)
			}
			if err != nil {
				if e != (control.Enrollment{}) {
					t.Errorf("a refused enrollment answered %+v", e)
				}
				return
			}
			cert, err := pki.ParseCertificate([]byte(e.Certificate))
			if err != nil {
				t.Fatal(err)
			}
			if err := cert.CheckSignatureFrom(s.id.CA); err != nil {
				t.Errorf("the certificate is not the CA's: %v", err)
			}
			if e.CA != string(s.id.CAPEM) || e.CRL != string(s.id.CRLPEM) {
				t.Errorf("the answer's CA or revocation list is not the server's")
			}
			if got := cert.NotAfter.Sub(time.Now()); got > tc.lifetime || got < tc.lifetime-time.Minute {
				t.Errorf("certificate lasts %v, want %v", got, tc.lifetime)
			}
			if cert.Subject.CommonName != "host-1" {
				t.Errorf("common name %q, want the request's", cert.Subject.CommonName)
			}
			switch tc.req.Role {
			case control.RoleServer:
				if e.CAKey != string(s.id.CAKeyPEM) {
					t.Errorf("a server's answer lacks the CA's key")
				}
				ip := net.ParseIP(tc.req.Address)
				named := len(cert.IPAddresses) == 1 && cert.IPAddresses[0].Equal(ip) ||
					ip == nil && len(cert.DNSNames) == 1 && cert.DNSNames[0] == tc.req.Address
				if !named {
					t.Errorf("certificate names %v %v, want %s", cert.IPAddresses, cert.DNSNames, tc.req.Address)
				}
			case control.RoleClient:
				if e.CAKey != "" {
					t.Errorf("a client's answer carries the CA's key")
				}
				if len(cert.IPAddresses) != 0 || len(cert.DNSNames) != 0 {
					t.Errorf("a client's certificate names %v %v", cert.IPAddresses, cert.DNSNames)
				}
			}
		})
	}
}

func TestRenewIfDue(t *testing.T) {
	tests := []struct {
		name    string
		issued  time.Time
		renewed bool
	}{
		{"[Success] a new certificate is kept", time.Now(), false},
		{"[Success] a certificate short of two thirds of its life is kept", time.Now().Add(-serverLifetime / 2), false},
		{"[Success] a certificate past two thirds of its life is renewed", time.Now().Add(-serverLifetime * 3 / 4), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServerIdentity(t, "10.0.0.1", tc.issued)
			before := s.id
			if err := s.renewIfDue(); err != nil {
				t.Fatal(err)
			}
			stored, err := s.store.Load()
			if err != nil {
				t.Fatal(err)
			}
			if s.id.Cert.SerialNumber.Cmp(stored.Cert.SerialNumber) != 0 {
				t.Errorf("the certificate in use is not the stored one")
			}
			if leaf := s.keyPair.Leaf; leaf == nil || !leaf.Equal(s.id.Cert) {
				t.Errorf("the control API does not present the certificate in use")
			}
			changed := before.Cert.SerialNumber.Cmp(s.id.Cert.SerialNumber) != 0
			if changed != tc.renewed {
				t.Fatalf("renewed %t, want %t", changed, tc.renewed)
			}
			if !tc.renewed {
				return
			}
			if pki.RenewalDue(s.id.Cert, time.Now()) {
				t.Errorf("the renewed certificate is due for renewal")
			}
			if string(s.id.KeyPEM) == string(before.KeyPEM) {
				t.Errorf("the renewed certificate keeps the old key")
			}
			if string(stored.CAKeyPEM) != string(before.CAKeyPEM) || string(stored.CRLPEM) != string(before.CRLPEM) {
				t.Errorf("renewal lost the CA's key or the revocation list")
			}
			if ip := net.ParseIP("10.0.0.1"); len(s.id.Cert.IPAddresses) != 1 || !s.id.Cert.IPAddresses[0].Equal(ip) {
				t.Errorf("the renewed certificate names %v, want the server's address", s.id.Cert.IPAddresses)
			}
		})
	}
}

func TestUseRefusesAnIdentityWithoutTheCAKey(t *testing.T) {
	s := newServerIdentity(t, "10.0.0.1", time.Now())
	id := s.id
	id.CAKeyPEM = nil
	tests := []struct {
		name string
		id   certstore.Identity
	}{
		{"[Error] no key of the CA", id},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := (&identity{}).use(tc.id); err == nil {
				t.Error("use accepted an identity that cannot enroll hosts")
			}
		})
	}
}

// serveEnrollment serves s's enrollment API over TLS on 127.0.0.1, as
// the server does, and returns the port.
func serveEnrollment(t *testing.T, s *identity) int {
	t.Helper()
	svc := control.NewService(s.address, t.TempDir(), nil, nil, discardLogs)
	srv := httptest.NewUnstartedServer(control.NewHandler(svc, tok, discardLogs, control.WithEnroller(authority{identity: s})))
	srv.Listener = tls.NewListener(srv.Listener, s.serverTLS())
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func TestNewClusterAndJoin(t *testing.T) {
	ctx := context.Background()
	first := &identity{store: certstore.Store{Dir: t.TempDir()}, address: "127.0.0.1", logger: discardLogs}
	id, err := first.newCluster(ctx, config{Address: first.address, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.use(id); err != nil {
		t.Fatal(err)
	}
	if err := first.renewIfDue(); err != nil {
		t.Fatal(err)
	}
	port := serveEnrollment(t, first)
	tests := []struct {
		name    string
		join    func(s *identity, ctx context.Context, cfg config) (certstore.Identity, error)
		token   string
		timeout time.Duration
		ok      bool
	}{
		{"[Success] a server joins through a peer with the CA", (*identity).join, tok, 10 * time.Second, true},
		{"[Success] a server that would make the CA joins a peer that has one", (*identity).newCluster, tok, 10 * time.Second, true},
		{"[Error] a server with another token gets no certificate", (*identity).join, tok + "x", 1500 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &identity{store: certstore.Store{Dir: t.TempDir()}, address: "10.0.0.2", logger: discardLogs}
			ctx, cancel := context.WithTimeout(ctx, tc.timeout)
			defer cancel()
			id, err := tc.join(s, ctx, config{Address: s.address, Peers: []string{first.address}, ControlPort: port, Token: tc.token})
			if !tc.ok {
				if err == nil {
					t.Fatal("joined without the cluster's token")
				}
				if _, err := s.store.Load(); !errors.Is(err, certstore.ErrNone) {
					t.Errorf("a failed join left a certificate: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.CA == nil || !id.CA.Equal(first.id.CA) || string(id.CAKeyPEM) != string(first.id.CAKeyPEM) {
				t.Errorf("joined with CA %v, want the first server's and its key", id.CA)
			}
			if err := s.use(id); err != nil {
				t.Fatal(err)
			}
			if err := s.renewIfDue(); err != nil {
				t.Fatal(err)
			}
			if ip := net.ParseIP(s.address); len(s.id.Cert.IPAddresses) != 1 || !s.id.Cert.IPAddresses[0].Equal(ip) {
				t.Errorf("the certificate names %v, want %s", s.id.Cert.IPAddresses, s.address)
			}
		})
	}
}
