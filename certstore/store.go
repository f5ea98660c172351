// Package certstore keeps a host's certificate of the cluster's CA in a
// directory, written so that a crash never leaves half a file, and shows
// it to GlusterFS where its OpenSSL looks for it. Servers and plugins both
// keep theirs this way.
package certstore

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/sys/atomicwriter"

	"github.com/glusterdocker/gluster/pki"
)

// The files of a store.
const (
	KeyFile   = "key.pem"
	CertFile  = "cert.pem"
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem" // servers only
	CRLFile   = "crl.pem"
	// CRLDir holds the revocation list again under the name OpenSSL's
	// directory lookup wants (pki.CRLFileName): the bricks' ssl.crl-path.
	CRLDir = "crl"
)

// Identity is a host's key and certificate, the CA that issued it, and
// the cluster's revocation list.
type Identity struct {
	KeyPEM, CertPEM, CAPEM, CRLPEM []byte
	CAKeyPEM                       []byte // servers only
	Cert, CA                       *x509.Certificate
}

// Store is the directory holding an Identity.
type Store struct{ Dir string }

// ErrNone means the store holds no complete identity.
var ErrNone = errors.New("no certificate of the cluster yet")

// Load reads the identity. It returns ErrNone when the key, the
// certificate or the CA is missing, or when they do not belong together
// (a save cut short).
func (s Store) Load() (Identity, error) {
	var id Identity
	for _, f := range []struct {
		name     string
		dst      *[]byte
		optional bool
	}{
		{KeyFile, &id.KeyPEM, false}, {CertFile, &id.CertPEM, false}, {CAFile, &id.CAPEM, false},
		{CAKeyFile, &id.CAKeyPEM, true}, {CRLFile, &id.CRLPEM, true},
	} {
		data, err := os.ReadFile(filepath.Join(s.Dir, f.name))
		switch {
		case errors.Is(err, fs.ErrNotExist) && f.optional:
		case errors.Is(err, fs.ErrNotExist):
			return Identity{}, ErrNone
		case err != nil:
			return Identity{}, fmt.Errorf("certstore: %w", err)
		}
		*f.dst = data
	}
	if err := id.parse(); err != nil {
		return Identity{}, fmt.Errorf("%w: %s: %w", ErrNone, s.Dir, err)
	}
	return id, nil
}

// parse fills Cert and CA and checks that the key, the certificate and
// the CA belong together.
func (id *Identity) parse() error {
	var err error
	if id.Cert, err = pki.ParseCertificate(id.CertPEM); err != nil {
		return err
	}
	if id.CA, err = pki.ParseCertificate(id.CAPEM); err != nil {
		return err
	}
	if _, err := tls.X509KeyPair(id.CertPEM, id.KeyPEM); err != nil {
		return fmt.Errorf("the key is not the certificate's: %w", err)
	}
	if err := id.Cert.CheckSignatureFrom(id.CA); err != nil {
		return fmt.Errorf("the certificate is not the CA's: %w", err)
	}
	return nil
}

// Save writes the identity, each file atomically, the keys readable by
// root only. The certificate is written last, so that a save cut short
// leaves a certificate that does not match the key, which Load refuses.
func (s Store) Save(id Identity) error {
	if err := id.parse(); err != nil {
		return fmt.Errorf("certstore: refusing to save: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, CRLDir), 0o700); err != nil {
		return fmt.Errorf("certstore: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, id.CAPEM, 0o644}, {CAKeyFile, id.CAKeyPEM, 0o600}, {CRLFile, id.CRLPEM, 0o644},
		{KeyFile, id.KeyPEM, 0o600}, {CertFile, id.CertPEM, 0o644},
	}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := atomicwriter.WriteFile(filepath.Join(s.Dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("certstore: writing %s: %w", f.name, err)
		}
	}
	if id.CRLPEM != nil {
		return s.saveCRL(id)
	}
	return nil
}

// saveCRL writes the revocation list where OpenSSL's directory lookup
// finds it.
func (s Store) saveCRL(id Identity) error {
	name := filepath.Join(s.Dir, CRLDir, pki.CRLFileName(id.CA))
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, id.CRLPEM) {
		return nil
	}
	if err := atomicwriter.WriteFile(name, id.CRLPEM, 0o644); err != nil {
		return fmt.Errorf("certstore: writing the revocation list: %w", err)
	}
	return nil
}

// KeyPair is the identity as Go's TLS presents it: the certificate and
// the CA's, so that a client that pins the CA finds it in the chain.
func (id Identity) KeyPair() (*tls.Certificate, error) {
	return pki.KeyPair(id.CertPEM, id.KeyPEM, id.CAPEM)
}

// gluster's file names in an OpenSSL directory, and the store's file each
// stands for.
var glusterFiles = map[string]string{
	"glusterfs.pem": CertFile,
	"glusterfs.key": KeyFile,
	"glusterfs.ca":  CAFile,
}

// GlusterSSLDirs are where GlusterFS looks for glusterfs.pem, .key and .ca,
// a directory compiled in, not /etc/ssl as its documentation says: Debian
// 12's GlusterFS 10.3 looks in OpenSSL's directory, /usr/lib/ssl ("could
// not load our cert at /usr/lib/ssl/glusterfs.pem" in its logs), Debian
// 13's GlusterFS 11.1 in /etc/ssl (both read off their socket transport).
var GlusterSSLDirs = []string{"/usr/lib/ssl", "/etc/ssl"}

// LinkForGluster makes GlusterFS's files in each of GlusterSSLDirs links
// to the store's.
func (s Store) LinkForGluster() error {
	return s.linkForGluster(GlusterSSLDirs)
}

func (s Store) linkForGluster(sslDirs []string) error {
	for _, dir := range sslDirs {
		for name, file := range glusterFiles {
			link := filepath.Join(dir, name)
			if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("certstore: %w", err)
			}
			if err := os.Symlink(filepath.Join(s.Dir, file), link); err != nil {
				return fmt.Errorf("certstore: %w", err)
			}
		}
	}
	return nil
}
