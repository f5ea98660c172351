package pki

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// KeyPair builds the certificate a TLS server presents: its own certificate
// followed by the CA's, so that a client knowing only the CA's fingerprint
// (PinnedTLS) can check the chain.
func KeyPair(certPEM, keyPEM, caPEM []byte) (*tls.Certificate, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: loading the certificate and key: %w", err)
	}
	ca, err := ParseCertificate(caPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: loading the CA certificate: %w", err)
	}
	if err := pair.Leaf.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("pki: certificate %q was not issued by CA %q: enroll again with this cluster: %w",
			pair.Leaf.Subject.CommonName, ca.Subject.CommonName, err)
	}
	pair.Certificate = [][]byte{pair.Certificate[0], ca.Raw}
	return &pair, nil
}

// ServerTLS serves the certificate getCert returns at each handshake, so a
// renewed certificate is served without a restart.
func ServerTLS(getCert func() (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return getCert()
		},
	}
}

// ClientTLS trusts only the cluster CA. Go checks the server name against the
// certificate's IP addresses, since clients dial servers by IP.
func ClientTLS(ca *x509.Certificate) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots}
}

// PinnedTLS is for clients that know the CA only by its fingerprint: the
// server must present a chain ending in the CA with that fingerprint, and
// its certificate must verify against that CA. The server name is not
// checked: the pin, not the address, says whom to trust.
func PinnedTLS(pin []byte) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by verifyPinned, which checks the chain against the pin
		VerifyConnection: func(state tls.ConnectionState) error {
			return verifyPinned(pin, state.PeerCertificates)
		},
	}
}

func verifyPinned(pin []byte, chain []*x509.Certificate) error {
	if len(chain) < 2 {
		return errors.New("pki: the server sent no CA certificate with its own: it cannot be checked against the CA fingerprint")
	}
	leaf, ca := chain[0], chain[len(chain)-1]
	sum := sha256.Sum256(ca.Raw)
	if subtle.ConstantTimeCompare(sum[:], pin) != 1 {
		return fmt.Errorf("pki: the server's CA has fingerprint %s, not the one given: check the fingerprint and the address", Fingerprint(ca))
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("pki: the server's certificate does not verify against the pinned CA: %w", err)
	}
	return nil
}
