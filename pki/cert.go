package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// fingerprintPrefix marks the hash in Fingerprint's form.
const fingerprintPrefix = "sha256:"

// opensslFingerprintPrefix is what `openssl x509 -fingerprint -sha256`
// prints before the hash (OpenSSL 1.1 in upper case, 3.x in lower).
const opensslFingerprintPrefix = "sha256 fingerprint="

// ParseCertificate reads the first CERTIFICATE block.
func ParseCertificate(pemBytes []byte) (*x509.Certificate, error) {
	der, err := decodePEM(pemBytes, pemCertificate)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the certificate: %w", err)
	}
	return cert, nil
}

// Fingerprint is "sha256:" and the lowercase hex SHA-256 of the certificate.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return fingerprintPrefix + hex.EncodeToString(sum[:])
}

// ParseFingerprint reads a SHA-256 fingerprint as Fingerprint writes it, or as
// OpenSSL prints it (colon-separated hex bytes), with or without either prefix
// and in either case, and returns its 32 bytes.
func ParseFingerprint(s string) ([]byte, error) {
	hexDigits := strings.ToLower(strings.TrimSpace(s))
	hexDigits = strings.TrimPrefix(hexDigits, opensslFingerprintPrefix)
	hexDigits = strings.TrimPrefix(hexDigits, fingerprintPrefix)
	if strings.Contains(hexDigits, ":") {
		hexDigits = colonless(hexDigits)
	}
	sum, err := hex.DecodeString(hexDigits)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("pki: %q is not a SHA-256 fingerprint: give %s and %d hex digits, or the colon-separated form `openssl x509 -fingerprint -sha256` prints",
			s, fingerprintPrefix, 2*sha256.Size)
	}
	return sum, nil
}

// colonless joins colon-separated hex bytes, or returns "" (which fails to be
// a fingerprint) if any part is not exactly two digits.
func colonless(s string) string {
	parts := strings.Split(s, ":")
	for _, p := range parts {
		if len(p) != 2 {
			return ""
		}
	}
	return strings.Join(parts, "")
}

// RenewalDue reports whether cert has used two thirds of its lifetime: a
// certificate renewed then still has a third left if renewal keeps failing.
func RenewalDue(cert *x509.Certificate, now time.Time) bool {
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	return !now.Before(cert.NotBefore.Add(lifetime * 2 / 3))
}
