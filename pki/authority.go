package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"time"
)

// caSuffixBytes random bytes distinguish the CA names of two clusters, so an
// operator can tell which cluster a certificate belongs to.
const caSuffixBytes = 4

// serialBits is the size of random serial numbers: enough that two serials
// never collide, within the 20 octets RFC 5280 allows.
const serialBits = 128

// minRSABits is the smallest RSA key the CA signs (NIST SP 800-131A).
const minRSABits = 2048

// Authority is the cluster CA: its certificate and the key that signs.
type Authority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// NewAuthority makes a self-signed CA valid from now (less clockSkew) for validity.
func NewAuthority(now time.Time, validity time.Duration) (*Authority, error) {
	if validity <= 0 {
		return nil, fmt.Errorf("pki: CA validity %v must be positive", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: making the CA key: %w", err)
	}
	suffix := make([]byte, caSuffixBytes)
	if _, err := rand.Read(suffix); err != nil {
		return nil, fmt.Errorf("pki: making the CA name: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   "gluster cluster CA " + hex.EncodeToString(suffix),
			Organization: []string{organization},
		},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		MaxPathLenZero:        true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: reading back the CA certificate: %w", err)
	}
	return &Authority{cert: cert, key: key, certPEM: encodePEM(pemCertificate, der)}, nil
}

// LoadAuthority reads a CA written by CertPEM and KeyPEM. It refuses a key
// that does not belong to the certificate and a certificate that is not a CA.
func LoadAuthority(certPEM, keyPEM []byte) (*Authority, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: loading the CA: %w", err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: certificate %q is not a CA: give the cluster CA certificate", cert.Subject.CommonName)
	}
	signer, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: loading the CA: %w", err)
	}
	key, ok := signer.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("pki: the CA key does not match CA certificate %q: give the key written with it", cert.Subject.CommonName)
	}
	return &Authority{cert: cert, key: key, certPEM: encodePEM(pemCertificate, cert.Raw)}, nil
}

// CertPEM returns the CA certificate, for glusterfs.ca and for clients' trust.
func (a *Authority) CertPEM() []byte { return append([]byte(nil), a.certPEM...) }

// KeyPEM returns the CA's private key as PKCS#8 PEM.
func (a *Authority) KeyPEM() ([]byte, error) { return keyPEM(a.key) }

// Certificate returns the parsed CA certificate.
func (a *Authority) Certificate() *x509.Certificate { return a.cert }

// Issue signs a certificate request for role, naming hosts (IP addresses or
// DNS names) as subject alternative names. The certificate lasts lifetime but
// never beyond the CA.
func (a *Authority) Issue(csrPEM []byte, role Role, hosts []string, now time.Time, lifetime time.Duration) ([]byte, error) {
	if err := role.valid(); err != nil {
		return nil, err
	}
	if lifetime <= 0 {
		return nil, fmt.Errorf("pki: certificate lifetime %v must be positive", lifetime)
	}
	csr, err := parseRequest(csrPEM)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		Subject: pkix.Name{
			CommonName:         csr.Subject.CommonName,
			Organization:       []string{organization},
			OrganizationalUnit: []string{string(role)},
		},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(lifetime),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if template.NotAfter.After(a.cert.NotAfter) {
		template.NotAfter = a.cert.NotAfter
	}
	if !template.NotAfter.After(now) {
		return nil, fmt.Errorf("pki: the CA expired at %v: make a new cluster CA", a.cert.NotAfter)
	}
	if err := addHosts(template, hosts); err != nil {
		return nil, err
	}
	if template.SerialNumber, err = randomSerial(); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, template, a.cert, csr.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the certificate for %q: %w", csr.Subject.CommonName, err)
	}
	return encodePEM(pemCertificate, der), nil
}

// RevocationList returns a CRL listing serials. number must grow with every
// list, so that a peer can tell the newer of two.
func (a *Authority) RevocationList(serials []*big.Int, number int64, now time.Time, validity time.Duration) ([]byte, error) {
	if validity <= 0 {
		return nil, fmt.Errorf("pki: revocation list validity %v must be positive", validity)
	}
	entries := make([]x509.RevocationListEntry, len(serials))
	for i, serial := range serials {
		entries[i] = x509.RevocationListEntry{SerialNumber: serial, RevocationTime: now}
	}
	template := &x509.RevocationList{
		RevokedCertificateEntries: entries,
		Number:                    big.NewInt(number),
		ThisUpdate:                now,
		NextUpdate:                now.Add(validity),
	}
	der, err := x509.CreateRevocationList(rand.Reader, template, a.cert, a.key)
	if err != nil {
		return nil, fmt.Errorf("pki: signing revocation list %d: %w", number, err)
	}
	return encodePEM(pemCRL, der), nil
}

// parseRequest reads a CSR and checks that it may be signed: its own
// signature, a strong enough key and a valid common name.
func parseRequest(csrPEM []byte) (*x509.CertificateRequest, error) {
	der, err := decodePEM(csrPEM, pemRequest)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the certificate request: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pki: the certificate request's signature does not verify: %w", err)
	}
	if err := strongKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if err := ValidName(csr.Subject.CommonName); err != nil {
		return nil, fmt.Errorf("pki: the certificate request's common name: %w", err)
	}
	return csr, nil
}

func strongKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return nil
		}
		return fmt.Errorf("pki: the certificate request's ECDSA key is on curve %s: use P-256", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k.N.BitLen() >= minRSABits {
			return nil
		}
		return fmt.Errorf("pki: the certificate request's RSA key has %d bits: use at least %d", k.N.BitLen(), minRSABits)
	}
	return fmt.Errorf("pki: the certificate request's key is a %T: use ECDSA P-256 or RSA", pub)
}

func addHosts(template *x509.Certificate, hosts []string) error {
	for _, host := range hosts {
		if ip := net.ParseIP(host); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
			continue
		}
		if err := ValidName(host); err != nil {
			return fmt.Errorf("pki: host %q is neither an IP address nor a DNS name: %w", host, err)
		}
		template.DNSNames = append(template.DNSNames, host)
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	// [1, 2^serialBits): RFC 5280 wants serials positive.
	limit := new(big.Int).Lsh(big.NewInt(1), serialBits)
	limit.Sub(limit, big.NewInt(1))
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("pki: making a serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
