package pki

import (
	"crypto/x509"
	"fmt"
)

// ParseRevocationList reads a CRL and checks that ca signed it.
func ParseRevocationList(crlPEM []byte, ca *x509.Certificate) (*x509.RevocationList, error) {
	der, err := decodePEM(crlPEM, pemCRL)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the revocation list: %w", err)
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the revocation list: %w", err)
	}
	if err := list.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("pki: the revocation list is not signed by CA %q: fetch it from this cluster: %w", ca.Subject.CommonName, err)
	}
	return list, nil
}

// CRLFileName is the name under which OpenSSL's hashed directory lookup
// (X509_LOOKUP_hash_dir, the CRL directory GlusterFS reads) finds the first
// CRL issued by ca.
func CRLFileName(ca *x509.Certificate) string {
	return fmt.Sprintf("%08x.r0", opensslNameHash(ca.RawSubject))
}
