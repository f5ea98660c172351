package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCRLFileNameVectors checks names hashed by `openssl x509 -noout
// -issuer_hash` (OpenSSL 3.0) when the vectors were made.
func TestCRLFileNameVectors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string
	}{
		// O = gluster, CN = gluster cluster CA 11283f37 as PrintableStrings.
		{"[Success] NewAuthority's name", "ca-newauthority.pem", "54104fd2.r0"},
		// CN with inner and outer spaces and a tab, then a two-valued RDN of
		// UTF8Strings with upper-case non-ASCII letters (which OpenSSL keeps).
		{"[Success] OpenSSL-made name with whitespace, case and a multi-valued RDN", "ca-openssl-multivalue.pem", "4c2fa967.r0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pemBytes, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := CRLFileName(mustParse(t, pemBytes)); got != tc.want {
				t.Errorf("CRLFileName = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestCRLFileNameOpenSSL compares with the installed openssl over names that
// exercise every string type crypto/x509 parses and every canonicalization
// rule.
func TestCRLFileNameOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed; TestCRLFileNameVectors covers fixed names")
	}
	fresh := newTestCA(t, time.Now()).Certificate()
	tests := []struct {
		name    string
		subject pkix.Name
	}{
		{"[Success] upper case and spaces in a PrintableString", pkix.Name{CommonName: "  Gluster   CLUSTER ca  ", Organization: []string{"Gluster"}}},
		{"[Success] UTF8String with non-ASCII letters", pkix.Name{CommonName: "Grüße ÄÖÜ Ab"}},
		{"[Success] BMP, T61 and IA5 strings", pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: tagBMPString, Bytes: []byte{0, 'A', 0, ' ', 0, ' ', 0x00, 0xc4, 0, 'B'}}},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: asn1.RawValue{Tag: tagT61String, Bytes: []byte("T61 \xc4X")}},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: asn1.RawValue{Tag: tagIA5String, Bytes: []byte("\tIA5\r\nX ")}},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkAgainstOpenSSL(t, openssl, selfSigned(t, tc.subject))
		})
	}
	t.Run("[Success] a fresh NewAuthority", func(t *testing.T) {
		checkAgainstOpenSSL(t, openssl, fresh)
	})
}

func checkAgainstOpenSSL(t *testing.T, openssl string, cert *x509.Certificate) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, encodePEM(pemCertificate, cert.Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "x509", "-noout", "-issuer_hash", "-in", file).Output()
	if err != nil {
		t.Fatalf("openssl x509 -issuer_hash: %v", err)
	}
	want := strings.TrimSpace(string(out)) + ".r0"
	if got := CRLFileName(cert); got != want {
		t.Errorf("CRLFileName = %s, openssl says %s", got, want)
	}
}

func selfSigned(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
