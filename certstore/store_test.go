package certstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/pki/pkitest"
)

// newIdentity is a client identity issued by ca, with ca's revocation list.
func newIdentity(t *testing.T, ca *pki.Authority) Identity {
	t.Helper()
	key, cert := pkitest.Issue(t, ca, pki.RoleClient, nil, time.Now(), time.Hour)
	crl, err := ca.RevocationList(nil, 1, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return Identity{KeyPEM: key, CertPEM: cert, CAPEM: ca.CertPEM(), CRLPEM: crl}
}

func TestSaveLoad(t *testing.T) {
	ca := pkitest.Authority(t)
	caKey, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	withCAKey := newIdentity(t, ca)
	withCAKey.CAKeyPEM = caKey
	withoutCRL := newIdentity(t, ca)
	withoutCRL.CRLPEM = nil
	tests := []struct {
		name string
		id   Identity
	}{
		{"[Success] a client's identity", newIdentity(t, ca)},
		{"[Success] a server's identity with the CA's key", withCAKey},
		{"[Success] no revocation list", withoutCRL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{Dir: filepath.Join(t.TempDir(), "tls")}
			if err := s.Save(tc.id); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name      string
				got, want []byte
			}{
				{KeyFile, got.KeyPEM, tc.id.KeyPEM}, {CertFile, got.CertPEM, tc.id.CertPEM}, {CAFile, got.CAPEM, tc.id.CAPEM},
				{CAKeyFile, got.CAKeyPEM, tc.id.CAKeyPEM}, {CRLFile, got.CRLPEM, tc.id.CRLPEM},
			} {
				if !bytes.Equal(f.got, f.want) {
					t.Errorf("%s: loaded %q, saved %q", f.name, f.got, f.want)
				}
			}
			if got.Cert == nil || got.CA == nil || !got.CA.Equal(ca.Certificate()) {
				t.Errorf("loaded Cert %v, CA %v; want both parsed, the CA the issuer", got.Cert, got.CA)
			}
			modes := map[string]os.FileMode{KeyFile: 0o600, CertFile: 0o644, CAFile: 0o644, CAKeyFile: 0o600, CRLFile: 0o644}
			for name, want := range modes {
				info, err := os.Stat(filepath.Join(s.Dir, name))
				if errors.Is(err, os.ErrNotExist) && (name == CAKeyFile && tc.id.CAKeyPEM == nil || name == CRLFile && tc.id.CRLPEM == nil) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", name, info.Mode().Perm(), want)
				}
			}
			crl, err := os.ReadFile(filepath.Join(s.Dir, CRLDir, pki.CRLFileName(ca.Certificate())))
			if tc.id.CRLPEM == nil {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a revocation list in %s without one saved: %v", CRLDir, err)
				}
				return
			}
			if err != nil || !bytes.Equal(crl, tc.id.CRLPEM) {
				t.Errorf("the revocation list under OpenSSL's name: %q, %v; want the saved one", crl, err)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	ca, other := pkitest.Authority(t), pkitest.Authority(t)
	good := newIdentity(t, ca)
	fromOther := newIdentity(t, other)
	tests := []struct {
		name  string
		files map[string][]byte
	}{
		{"[Error] an empty store", nil},
		{"[Error] no key", map[string][]byte{CertFile: good.CertPEM, CAFile: good.CAPEM}},
		{"[Error] no certificate", map[string][]byte{KeyFile: good.KeyPEM, CAFile: good.CAPEM}},
		{"[Error] no CA", map[string][]byte{KeyFile: good.KeyPEM, CertFile: good.CertPEM}},
		{"[Error] the certificate is not the key's", map[string][]byte{KeyFile: fromOther.KeyPEM, CertFile: good.CertPEM, CAFile: good.CAPEM}},
		{"[Error] the certificate is not the CA's", map[string][]byte{KeyFile: fromOther.KeyPEM, CertFile: fromOther.CertPEM, CAFile: good.CAPEM}},
		{"[Error] an unreadable certificate", map[string][]byte{KeyFile: good.KeyPEM, CertFile: []byte("junk"), CAFile: good.CAPEM}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{Dir: t.TempDir()}
			for name, data := range tc.files {
				if err := os.WriteFile(filepath.Join(s.Dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Load(); !errors.Is(err, ErrNone) {
				t.Errorf("Load: err = %v, want ErrNone", err)
			}
		})
	}
}

func TestSaveRefuses(t *testing.T) {
	ca, other := pkitest.Authority(t), pkitest.Authority(t)
	good := newIdentity(t, ca)
	fromOther := newIdentity(t, other)
	tests := []struct {
		name string
		id   Identity
	}{
		{"[Error] the certificate is not the key's", Identity{KeyPEM: fromOther.KeyPEM, CertPEM: good.CertPEM, CAPEM: good.CAPEM}},
		{"[Error] the certificate is not the CA's", Identity{KeyPEM: fromOther.KeyPEM, CertPEM: fromOther.CertPEM, CAPEM: good.CAPEM}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			if err := (Store{Dir: dir}).Save(tc.id); err == nil {
				t.Fatal("Save accepted an identity that does not belong together")
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused save left %s: %v", dir, err)
			}
		})
	}
}

func TestSaveReplacesTheRevocationList(t *testing.T) {
	ca := pkitest.Authority(t)
	s := Store{Dir: t.TempDir()}
	id := newIdentity(t, ca)
	if err := s.Save(id); err != nil {
		t.Fatal(err)
	}
	newer, err := ca.RevocationList(nil, 2, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id.CRLPEM = newer
	if err := s.Save(id); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir, CRLDir, pki.CRLFileName(ca.Certificate())))
	if err != nil || !bytes.Equal(got, newer) {
		t.Errorf("revocation list after a second save: %q, %v; want the newer one", got, err)
	}
}

func TestLinkForGluster(t *testing.T) {
	tests := []struct {
		name     string
		existing map[string]string // file name in the SSL directory -> what it is beforehand ("link:" + target, or content)
	}{
		{"[Success] an empty directory", nil},
		{"[Success] links of another store are replaced", map[string]string{"glusterfs.pem": "link:/elsewhere/cert.pem", "glusterfs.key": "link:/elsewhere/key.pem"}},
		{"[Success] files are replaced", map[string]string{"glusterfs.ca": "an old CA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{Dir: t.TempDir()}
			sslDir := t.TempDir()
			for name, what := range tc.existing {
				var err error
				if target, ok := strings.CutPrefix(what, "link:"); ok {
					err = os.Symlink(target, filepath.Join(sslDir, name))
				} else {
					err = os.WriteFile(filepath.Join(sslDir, name), []byte(what), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			second := t.TempDir() // GlusterFS 10 and 11 look in different ones
			if err := s.linkForGluster([]string{sslDir, second}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"glusterfs.pem": CertFile, "glusterfs.key": KeyFile, "glusterfs.ca": CAFile}
			for _, dir := range []string{sslDir, second} {
				for name, file := range want {
					got, err := os.Readlink(filepath.Join(dir, name))
					if err != nil || got != filepath.Join(s.Dir, file) {
						t.Errorf("%s -> %q, %v; want a link to %s", filepath.Join(dir, name), got, err, filepath.Join(s.Dir, file))
					}
				}
			}
		})
	}
}
