package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/driver"
	"github.com/glusterdocker/gluster/mounter"
	"github.com/glusterdocker/gluster/periodic"
	"github.com/glusterdocker/gluster/pki"
)

// secureAccessFile, in the certificate's directory, is where the rootfs's
// /var/lib/glusterd/secure-access leads (build/plugin-rootfs.sh): while it
// exists, gluster's management connections use TLS.
const secureAccessFile = "secure-access"

// certificateCheck is how often the plugin looks whether its certificate is
// due for renewal, besides before each mount.
const certificateCheck = time.Hour

// enrollTimeout bounds an enrollment: a mount, which Docker waits for,
// waits for it, and so does every mount while it holds the certificate.
const enrollTimeout = 10 * time.Second

// hostCertificate is this host's certificate of the cluster's CA, which
// its gluster clients present: enrolled on first need, renewed when due.
// Every mount and every probe of a server asks for it, so it is read from
// the store once and kept in memory, with the TLS configuration made of it.
type hostCertificate struct {
	store   certstore.Store
	cluster *control.Cluster
	pin     []byte // the CA's SHA-256 fingerprint
	name    string // the certificate's common name
	logger  *slog.Logger

	mu      sync.Mutex
	current *certstore.Identity // in use; nil before one is read or obtained
	gluster *tls.Config         // glusterd's TLS with current
	tlsOn   bool                // this process wrote secureAccessFile
}

// newHostCertificate returns the host certificate kept in dir for a
// cluster whose CA has the fingerprint pin.
func newHostCertificate(dir string, cluster *control.Cluster, pin []byte, logger *slog.Logger) *hostCertificate {
	return &hostCertificate{store: certstore.Store{Dir: dir}, cluster: cluster, pin: pin, name: clientName(os.Hostname), logger: logger}
}

// clientName names this host in its certificate: its host name, so that
// the servers' logs say which host connected. hostname is os.Hostname
// but in tests.
func clientName(hostname func() (string, error)) string {
	host, err := hostname()
	name := "client-" + strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, host)
	if err != nil || pki.ValidName(name) != nil {
		return "client"
	}
	return name
}

// ensure makes sure the host holds a certificate of the pinned CA that is
// not due for renewal, enrolling with any live server if not. A current
// certificate stays in use while no server answers.
func (h *hostCertificate) ensure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, enrollTimeout)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.current == nil {
		if id, err := h.store.Load(); err == nil {
			if err := h.use(id); err != nil {
				return err
			}
		}
	}
	id := h.current
	usable := id != nil && h.pinned(*id) && time.Now().Before(id.Cert.NotAfter)
	if usable && !pki.RenewalDue(id.Cert, time.Now()) {
		return h.turnOnTLS()
	}
	if err := h.enroll(ctx); err != nil {
		if !usable {
			return fmt.Errorf("this host has no certificate of the cluster, which gluster's servers require, and could not get one: %w", err)
		}
		h.logger.Warn("certificate renewal failed; the current one stays in use", "expires", id.Cert.NotAfter, "error", err)
	}
	return h.turnOnTLS()
}

// use makes id the certificate in use.
func (h *hostCertificate) use(id certstore.Identity) error {
	pair, err := id.KeyPair()
	if err != nil {
		return err
	}
	conf := pki.ClientTLS(id.CA)
	conf.Certificates = []tls.Certificate{*pair}
	h.current, h.gluster = &id, conf
	return nil
}

// turnOnTLS has gluster's clients use TLS for their management
// connections too; a plugin once run without CA_FINGERPRINT removed it.
func (h *hostCertificate) turnOnTLS() error {
	if h.tlsOn {
		return nil
	}
	if err := os.WriteFile(filepath.Join(h.store.Dir, secureAccessFile), nil, 0o644); err != nil {
		return fmt.Errorf("turning on TLS for gluster's management connections: %w", err)
	}
	h.tlsOn = true
	return nil
}

// pinned reports whether id was issued by the pinned CA.
func (h *hostCertificate) pinned(id certstore.Identity) bool {
	sum := sha256.Sum256(id.CA.Raw)
	return bytes.Equal(sum[:], h.pin)
}

// enroll gets a certificate for a new key and keeps it.
func (h *hostCertificate) enroll(ctx context.Context) error {
	key, err := pki.NewKey()
	if err != nil {
		return err
	}
	csr, err := pki.NewRequest(key, h.name)
	if err != nil {
		return err
	}
	e, err := h.cluster.Enroll(ctx, control.EnrollRequest{CSR: string(csr), Role: control.RoleClient})
	if err != nil {
		return err
	}
	ca, err := pki.ParseCertificate([]byte(e.CA))
	if err != nil {
		return err
	}
	if !h.pinned(certstore.Identity{CA: ca}) {
		return fmt.Errorf("the servers' CA %s is not the one CA_FINGERPRINT names", pki.Fingerprint(ca))
	}
	if err := h.store.Save(certstore.Identity{KeyPEM: key, CertPEM: []byte(e.Certificate), CAPEM: []byte(e.CA), CRLPEM: []byte(e.CRL)}); err != nil {
		return err
	}
	id, err := h.store.Load()
	if err != nil {
		return err
	}
	if err := h.use(id); err != nil {
		return err
	}
	h.logger.Info("certificate of the cluster obtained", "subject", id.Cert.Subject.CommonName, "serial", id.Cert.SerialNumber.Text(16),
		"expires", id.Cert.NotAfter, "ca", pki.Fingerprint(id.CA))
	return nil
}

// glusterTLS is how this host speaks TLS to glusterd: with its current
// certificate, trusting the cluster's CA.
func (h *hostCertificate) glusterTLS() (*tls.Config, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gluster == nil {
		return nil, errors.New("this host has no certificate of the cluster yet")
	}
	return h.gluster, nil
}

// renewLoop gets the host a certificate at once, and a new one whenever
// due, until ctx ends.
func (h *hostCertificate) renewLoop(ctx context.Context) {
	ensure := func(ctx context.Context) {
		if err := h.ensure(ctx); err != nil {
			h.logger.Warn("no certificate yet; the next mount tries again", "error", err)
		}
	}
	ensure(ctx)
	periodic.Every(ctx, certificateCheck, ensure)
}

// turnOffTLS removes what makes gluster's clients use TLS, for a plugin
// whose settings no longer ask for it.
func turnOffTLS(dir string) error {
	err := os.Remove(filepath.Join(dir, secureAccessFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// certifiedMounter mounts only once the host holds a certificate.
type certifiedMounter struct {
	*mounter.Mounter
	certificate *hostCertificate
}

var _ driver.Mounter = certifiedMounter{}

// Mount implements driver.Mounter. A failed mount names the certificate
// the host presented: bricks refuse a revoked one without saying why.
func (m certifiedMounter) Mount(ctx context.Context, req mounter.Request) (int, error) {
	if err := m.certificate.ensure(ctx); err != nil {
		return 0, err
	}
	pid, err := m.Mounter.Mount(ctx, req)
	if err != nil {
		return pid, fmt.Errorf("%w\n%s", err, m.certificate.describe())
	}
	return pid, nil
}

// describe names the host's certificate for an error message.
func (h *hostCertificate) describe() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.current
	if id == nil {
		return "this host has no certificate of the cluster"
	}
	return fmt.Sprintf("this host presented certificate %s (serial %s, valid until %s): if it was revoked (gluster-admin revoke) or expired, the bricks refuse it",
		id.Cert.Subject.CommonName, id.Cert.SerialNumber.Text(16), id.Cert.NotAfter.UTC().Format(time.RFC3339))
}
