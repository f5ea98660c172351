package mounter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/pki/pkitest"
)

// TestProbeTLS probes a glusterd that speaks TLS only and answers clients
// with a certificate of its CA, as one with secure-access does.
func TestProbeTLS(t *testing.T) {
	ca, other := pkitest.Authority(t), pkitest.Authority(t)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	server := &tls.Config{Certificates: []tls.Certificate{pkitest.KeyPair(t, ca, pki.RoleServer, []string{"127.0.0.1"})},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	l, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answerPings(c)
		}
	}()
	withCert := func(ca *pki.Authority) func() (*tls.Config, error) {
		return func() (*tls.Config, error) {
			conf := pki.ClientTLS(ca.Certificate())
			conf.Certificates = []tls.Certificate{pkitest.KeyPair(t, ca, pki.RoleClient, nil)}
			return conf, nil
		}
	}
	tests := []struct {
		name string
		tls  func() (*tls.Config, error)
		live bool
	}{
		{"[Success] with a certificate of the cluster", withCert(ca), true},
		{"[Error] in clear", nil, false},
		{"[Error] without a client certificate", func() (*tls.Config, error) { return pki.ClientTLS(ca.Certificate()), nil }, false},
		{"[Error] with another CA's certificate", withCert(other), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Mounter{TLS: tc.tls, ProbePort: l.Addr().(*net.TCPAddr).Port, ProbeTimeout: 2 * time.Second, Logger: testLogger(t)}
			live, _ := m.Probe(context.Background(), []string{"127.0.0.1"})
			if (len(live) == 1) != tc.live {
				t.Errorf("live = %v, want live %t", live, tc.live)
			}
		})
	}
}
