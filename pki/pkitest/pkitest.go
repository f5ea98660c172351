// Package pkitest makes a test CA's keys and certificates, for the tests of
// the packages that use pki.
package pkitest

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/pki"
)

// Authority is a new CA, valid for a day.
func Authority(t testing.TB) *pki.Authority {
	t.Helper()
	ca, err := pki.NewAuthority(time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// Issue makes a key and a certificate of ca for role, naming hosts, issued
// at issued for lifetime.
func Issue(t testing.TB, ca *pki.Authority, role pki.Role, hosts []string, issued time.Time, lifetime time.Duration) (keyPEM, certPEM []byte) {
	t.Helper()
	keyPEM, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewRequest(keyPEM, "pkitest-"+string(role))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err = ca.Issue(csr, role, hosts, issued, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	return keyPEM, certPEM
}

// KeyPair is a certificate of ca for role, naming hosts, valid for an hour,
// as Go's TLS presents it.
func KeyPair(t testing.TB, ca *pki.Authority, role pki.Role, hosts []string) tls.Certificate {
	t.Helper()
	key, cert := Issue(t, ca, role, hosts, time.Now(), time.Hour)
	pair, err := pki.KeyPair(cert, key, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	return *pair
}
