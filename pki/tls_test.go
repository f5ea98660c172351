package pki

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// handshakeTimeout bounds one loopback handshake, far above its milliseconds,
// so that a hung handshake fails the test instead of stalling it.
const handshakeTimeout = 10 * time.Second

// serveTLS accepts loopback connections with ServerTLS, serving whatever
// certificate current holds, and completes their handshakes.
func serveTLS(t *testing.T, current *atomic.Pointer[tls.Certificate]) string {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tls.NewListener(inner, ServerTLS(func() (*tls.Certificate, error) { return current.Load(), nil }))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
			_ = conn.(*tls.Conn).Handshake() // the client reports the outcome
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// dial handshakes with addr and returns the certificate chain the server sent.
func dial(addr string, config *tls.Config) ([]*x509.Certificate, error) {
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: handshakeTimeout}, Config: config}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates, nil
}

func serverKeyPair(t *testing.T, ca *Authority, commonName string) *tls.Certificate {
	t.Helper()
	certPEM, keyPEM := issueTestCert(t, ca, RoleServer, commonName, []string{"127.0.0.1"}, time.Now())
	pair, err := KeyPair(certPEM, keyPEM, ca.CertPEM())
	if err != nil {
		t.Fatalf("KeyPair: %v", err)
	}
	return pair
}

func TestTLS(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	other := newTestCA(t, now)
	pin := sha256.Sum256(ca.Certificate().Raw)
	good := serverKeyPair(t, ca, "server-1")
	renewed := serverKeyPair(t, ca, "server-1-renewed")
	foreignLeaf := serverKeyPair(t, other, "intruder")
	// A server of another cluster presenting our CA after its own certificate.
	borrowedCA := &tls.Certificate{
		Certificate: [][]byte{foreignLeaf.Certificate[0], ca.Certificate().Raw},
		PrivateKey:  foreignLeaf.PrivateKey,
	}
	var current atomic.Pointer[tls.Certificate]
	addr := serveTLS(t, &current)

	tls12 := ClientTLS(ca.Certificate())
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	tests := []struct {
		name     string
		serve    *tls.Certificate
		client   *tls.Config
		wantLeaf string
		wantErr  string
	}{
		{"[Success] client trusting the CA", good, ClientTLS(ca.Certificate()), "server-1", ""},
		{"[Success] renewed certificate served without restart", renewed, ClientTLS(ca.Certificate()), "server-1-renewed", ""},
		{"[Success] the pinned CA", good, PinnedTLS(pin[:]), "server-1", ""},
		{"[Error] client trusting another CA", good, ClientTLS(other.Certificate()), "", "unknown authority"},
		{"[Error] wrong pin", good, PinnedTLS(make([]byte, sha256.Size)), "", "fingerprint"},
		{"[Error] pinned CA after a leaf of another CA", borrowedCA, PinnedTLS(pin[:]), "", "does not verify"},
		{"[Error] server without its CA in the chain", &tls.Certificate{Certificate: good.Certificate[:1], PrivateKey: good.PrivateKey}, PinnedTLS(pin[:]), "", "no CA certificate"},
		{"[Error] TLS 1.2 client", good, tls12, "", "protocol version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			current.Store(tc.serve)
			chain, err := dial(addr, tc.client)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("handshake = %v, want an error mentioning %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("handshake: %v", err)
			} else if got := chain[0].Subject.CommonName; got != tc.wantLeaf {
				t.Errorf("server presented %q, want %q", got, tc.wantLeaf)
			}
		})
	}
}

func TestKeyPair(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	certPEM, keyPEM := issueTestCert(t, ca, RoleServer, "server-1", nil, now)
	otherKey, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     []byte
		caPEM   []byte
		wantErr bool
	}{
		{"[Success] leaf then CA", keyPEM, ca.CertPEM(), false},
		{"[Error] key of another certificate", otherKey, ca.CertPEM(), true},
		{"[Error] another cluster's CA", keyPEM, newTestCA(t, now).CertPEM(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pair, err := KeyPair(certPEM, tc.key, tc.caPEM)
			if tc.wantErr {
				if err == nil {
					t.Fatal("KeyPair succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("KeyPair: %v", err)
			}
			if len(pair.Certificate) != 2 || !bytes.Equal(pair.Certificate[1], ca.Certificate().Raw) {
				t.Errorf("chain has %d certificates, want the leaf then the CA", len(pair.Certificate))
			}
		})
	}
}
