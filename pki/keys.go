package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
)

// PEM block types this package reads and writes.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
	pemRequest     = "CERTIFICATE REQUEST"
	pemCRL         = "X509 CRL"
)

// NewKey makes an ECDSA P-256 key as PKCS#8 PEM.
func NewKey() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: making a key: %w", err)
	}
	return keyPEM(key)
}

// NewRequest makes a certificate request for commonName, signed by the key.
func NewRequest(keyPEM []byte, commonName string) ([]byte, error) {
	if err := ValidName(commonName); err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: making a certificate request: %w", err)
	}
	template := &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}
	der, err := x509.CreateCertificateRequest(rand.Reader, template, key)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the certificate request for %q: %w", commonName, err)
	}
	return encodePEM(pemRequest, der), nil
}

func keyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding the private key: %w", err)
	}
	return encodePEM(pemPrivateKey, der), nil
}

func parsePrivateKey(keyPEM []byte) (crypto.Signer, error) {
	der, err := decodePEM(keyPEM, pemPrivateKey)
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("reading the private key: a %T cannot sign", key)
	}
	return signer, nil
}

func encodePEM(blockType string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
}

// decodePEM returns the first block of blockType, skipping others (a PEM file
// may hold a key and certificates together).
func decodePEM(data []byte, blockType string) ([]byte, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("no PEM block %q found: give PEM text beginning with -----BEGIN %s-----", blockType, blockType)
		}
		if block.Type == blockType {
			return block.Bytes, nil
		}
	}
}
