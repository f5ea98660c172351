package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

const (
	testCAValidity = 10 * 24 * time.Hour
	testLifetime   = 24 * time.Hour
)

func newTestCA(t *testing.T, now time.Time) *Authority {
	t.Helper()
	ca, err := NewAuthority(now, testCAValidity)
	if err != nil {
		t.Fatalf("NewAuthority: %v", err)
	}
	return ca
}

// issueTestCert returns a certificate for commonName and its key, as PEM.
func issueTestCert(t *testing.T, ca *Authority, role Role, commonName string, hosts []string, now time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	keyPEM, err := NewKey()
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	csr, err := NewRequest(keyPEM, commonName)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	certPEM, err = ca.Issue(csr, role, hosts, now, testLifetime)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return certPEM, keyPEM
}

func mustParse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	return cert
}

// rawRequest makes a CSR with any key and name, bypassing NewRequest's checks.
func rawRequest(t *testing.T, key any, commonName string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}, key)
	if err != nil {
		t.Fatalf("CreateCertificateRequest: %v", err)
	}
	return encodePEM(pemRequest, der)
}

func TestIssue(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	tests := []struct {
		name  string
		role  Role
		hosts []string
	}{
		{"[Success] server with IP and DNS names", RoleServer, []string{"192.0.2.7", "2001:db8::7", "node-1.example"}},
		{"[Success] client without hosts", RoleClient, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certPEM, _ := issueTestCert(t, ca, tc.role, "member-1", tc.hosts, now)
			cert := mustParse(t, certPEM)
			if cert.Subject.CommonName != "member-1" || cert.Subject.OrganizationalUnit[0] != string(tc.role) || cert.Subject.Organization[0] != "gluster" {
				t.Errorf("subject = %v, want CN member-1, OU %s, O gluster", cert.Subject, tc.role)
			}
			for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
					t.Errorf("Verify for usage %v: %v", usage, err)
				}
			}
			if got := len(cert.IPAddresses) + len(cert.DNSNames); got != len(tc.hosts) {
				t.Errorf("%d SANs (%v %v), want %d", got, cert.IPAddresses, cert.DNSNames, len(tc.hosts))
			}
			if cert.IsCA || cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > serialBits {
				t.Errorf("IsCA %v, serial %v: want a leaf with a positive %d-bit serial", cert.IsCA, cert.SerialNumber, serialBits)
			}
			if !cert.NotBefore.Equal(now.Add(-clockSkew).Truncate(time.Second)) || !cert.NotAfter.Equal(now.Add(testLifetime).Truncate(time.Second)) {
				t.Errorf("validity %v..%v, want %v..%v", cert.NotBefore, cert.NotAfter, now.Add(-clockSkew), now.Add(testLifetime))
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	goodKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224Key, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good := rawRequest(t, goodKey, "member-1")
	tests := []struct {
		name  string
		csr   []byte
		role  Role
		hosts []string
		want  string
	}{
		{"[Error] bad signature", badSignature(t, good), RoleServer, nil, "signature"},
		{"[Error] P-224 key", rawRequest(t, p224Key, "member-1"), RoleServer, nil, "P-224"},
		{"[Error] 1024-bit RSA key", rawRequest(t, rsaKey, "member-1"), RoleServer, nil, "1024 bits"},
		{"[Error] CN with a space", rawRequest(t, goodKey, "member 1"), RoleServer, nil, "common name"},
		{"[Error] CN starting with a dash", rawRequest(t, goodKey, "-member"), RoleServer, nil, "common name"},
		{"[Error] host with an underscore", good, RoleServer, []string{"node_1"}, "node_1"},
		{"[Error] empty host", good, RoleServer, []string{""}, "host"},
		{"[Error] unknown role", good, Role("admin"), nil, "role"},
		{"[Error] not PEM", []byte("member-1"), RoleServer, nil, "CERTIFICATE REQUEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := ca.Issue(tc.csr, tc.role, tc.hosts, now, testLifetime)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Issue = %d bytes, %v; want an error mentioning %q", len(cert), err, tc.want)
			}
		})
	}
}

// badSignature flips a bit in the last byte of the CSR, inside its signature.
func badSignature(t *testing.T, csrPEM []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(csrPEM)
	der := bytes.Clone(block.Bytes)
	der[len(der)-1] ^= 1
	return encodePEM(pemRequest, der)
}

func TestIssueValidity(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	tests := []struct {
		name     string
		lifetime time.Duration
		at       time.Time
		want     time.Time
		wantErr  bool
	}{
		{"[Success] lifetime within the CA", testLifetime, now, now.Add(testLifetime), false},
		{"[Success] lifetime past the CA is clamped", 2 * testCAValidity, now, ca.Certificate().NotAfter, false},
		{"[Error] no lifetime", 0, now, time.Time{}, true},
		{"[Error] CA expired", testLifetime, now.Add(2 * testCAValidity), time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := NewKey()
			if err != nil {
				t.Fatal(err)
			}
			csr, err := NewRequest(key, "member-1")
			if err != nil {
				t.Fatal(err)
			}
			certPEM, err := ca.Issue(csr, RoleClient, nil, tc.at, tc.lifetime)
			if tc.wantErr {
				if err == nil {
					t.Fatal("Issue succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if got := mustParse(t, certPEM).NotAfter; !got.Equal(tc.want.Truncate(time.Second)) {
				t.Errorf("NotAfter = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRevocationList(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	revoked := mustParse(t, first(issueTestCert(t, ca, RoleClient, "gone", nil, now)))
	kept := mustParse(t, first(issueTestCert(t, ca, RoleClient, "kept", nil, now)))
	crlPEM, err := ca.RevocationList([]*big.Int{revoked.SerialNumber}, 7, now, time.Hour)
	if err != nil {
		t.Fatalf("RevocationList: %v", err)
	}
	list, err := ParseRevocationList(crlPEM, ca.Certificate())
	if err != nil {
		t.Fatalf("ParseRevocationList: %v", err)
	}
	if list.Number.Int64() != 7 || len(list.RevokedCertificateEntries) != 1 || !list.NextUpdate.Equal(now.Add(time.Hour).Truncate(time.Second)) {
		t.Errorf("list number %v, %d entries, next update %v; want 7, 1, %v", list.Number, len(list.RevokedCertificateEntries), list.NextUpdate, now.Add(time.Hour))
	}
	if got := list.RevokedCertificateEntries[0].SerialNumber; got.Cmp(revoked.SerialNumber) != 0 || got.Cmp(kept.SerialNumber) == 0 {
		t.Errorf("the list revokes serial %x, want %x only", got, revoked.SerialNumber)
	}
	t.Run("[Error] signed by another CA", func(t *testing.T) {
		if _, err := ParseRevocationList(crlPEM, newTestCA(t, now).Certificate()); err == nil {
			t.Error("ParseRevocationList accepted a list signed by another CA")
		}
	})
}

func first(a, _ []byte) []byte { return a }

func TestFingerprint(t *testing.T) {
	cert := newTestCA(t, time.Now()).Certificate()
	fp := Fingerprint(cert)
	want, err := ParseFingerprint(fp)
	if err != nil {
		t.Fatalf("ParseFingerprint(Fingerprint) = %v", err)
	}
	hexDigits := strings.TrimPrefix(fp, "sha256:")
	var pairs []string
	for i := 0; i < len(hexDigits); i += 2 {
		pairs = append(pairs, strings.ToUpper(hexDigits[i:i+2]))
	}
	colons := strings.Join(pairs, ":")
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"[Success] own form", fp, true},
		{"[Success] upper case", strings.ToUpper(fp), true},
		{"[Success] bare hex", hexDigits, true},
		{"[Success] colon-separated", colons, true},
		{"[Success] OpenSSL 3 output", "sha256 Fingerprint=" + colons + "\n", true},
		{"[Success] OpenSSL 1.1 output", "SHA256 Fingerprint=" + colons, true},
		{"[Error] too short", fp[:len(fp)-2], false},
		{"[Error] not hex", "sha256:" + strings.Repeat("zz", 32), false},
		{"[Error] colons in the wrong places", strings.Replace(colons, ":", "", 1) + ":", false},
		{"[Error] SHA-1 length", "sha256:" + strings.Repeat("ab", 20), false},
		{"[Error] empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFingerprint(tc.input)
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "sha256:") {
					t.Fatalf("ParseFingerprint(%q) = %x, %v; want an error naming the expected form", tc.input, got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ParseFingerprint(%q) = %x, %v; want %x", tc.input, got, err, want)
			}
		})
	}
}

func TestRenewalDue(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const lifetime = 90 * 24 * time.Hour
	cert := &x509.Certificate{NotBefore: start, NotAfter: start.Add(lifetime)}
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"[Success] fresh", start, false},
		{"[Success] half used", start.Add(lifetime / 2), false},
		{"[Success] two thirds used", start.Add(lifetime * 2 / 3), true},
		{"[Success] three quarters used", start.Add(lifetime * 3 / 4), true},
		{"[Success] expired", start.Add(2 * lifetime), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RenewalDue(cert, tc.at); got != tc.want {
				t.Errorf("RenewalDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProof(t *testing.T) {
	now := time.Now()
	caDER := newTestCA(t, now).Certificate().Raw
	otherDER := newTestCA(t, now).Certificate().Raw
	nonce, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	otherNonce, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	proof := Proof("s3cret", nonce, caDER)
	tests := []struct {
		name  string
		token string
		nonce []byte
		caDER []byte
		proof []byte
		want  bool
	}{
		{"[Success] same token, nonce and CA", "s3cret", nonce, caDER, proof, true},
		{"[Error] wrong token", "guess", nonce, caDER, proof, false},
		{"[Error] wrong nonce", "s3cret", otherNonce, caDER, proof, false},
		{"[Error] wrong CA", "s3cret", nonce, otherDER, proof, false},
		{"[Error] truncated proof", "s3cret", nonce, caDER, proof[:16], false},
		{"[Error] short nonce", "s3cret", nonce[:16], caDER, Proof("s3cret", nonce[:16], caDER), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckProof(tc.token, tc.nonce, tc.caDER, tc.proof); got != tc.want {
				t.Errorf("CheckProof = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoadAuthority(t *testing.T) {
	now := time.Now()
	ca := newTestCA(t, now)
	caKey, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := newTestCA(t, now).KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	leafPEM, leafKey := issueTestCert(t, ca, RoleServer, "member-1", nil, now)
	tests := []struct {
		name    string
		cert    []byte
		key     []byte
		wantErr string
	}{
		{"[Success] own certificate and key", ca.CertPEM(), caKey, ""},
		{"[Error] another CA's key", ca.CertPEM(), otherKey, "does not match"},
		{"[Error] a leaf certificate", leafPEM, leafKey, "not a CA"},
		{"[Error] no key", ca.CertPEM(), nil, "PRIVATE KEY"},
		{"[Error] no certificate", caKey, caKey, "CERTIFICATE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loaded, err := LoadAuthority(tc.cert, tc.key)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadAuthority = %v, want an error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadAuthority: %v", err)
			}
			certPEM, _ := issueTestCert(t, loaded, RoleClient, "member-2", nil, now)
			if err := mustParse(t, certPEM).CheckSignatureFrom(ca.Certificate()); err != nil {
				t.Errorf("loaded CA signs differently: %v", err)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"[Success] host name", "node-1.example", true},
		{"[Success] 64 characters", strings.Repeat("a", 64), true},
		{"[Error] empty", "", false},
		{"[Error] 65 characters", strings.Repeat("a", 65), false},
		{"[Error] leading dash", "-node", false},
		{"[Error] leading dot", ".node", false},
		{"[Error] underscore", "node_1", false},
		{"[Error] slash", "../etc", false},
		{"[Error] non-ASCII", "nöde", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidName(tc.input)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidName(%q) = %v, want ok=%v", tc.input, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidName) {
				t.Errorf("error %v is not ErrInvalidName", err)
			}
		})
	}
	t.Run("[Error] NewRequest refuses an invalid name", func(t *testing.T) {
		key, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewRequest(key, "bad name"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NewRequest = %v, want ErrInvalidName", err)
		}
	})
}
