// Package pki is the cluster's certificate authority: the first gluster server
// makes a CA, every server issues certificates from certificate requests, and
// the Docker plugin makes its own key and request to enroll. The same PEM files
// serve GlusterFS's OpenSSL (/etc/ssl/glusterfs.pem, .key, .ca and a CRL
// directory) and Go's TLS 1.3 control API.
package pki

import (
	"errors"
	"fmt"
	"time"
)

// Role says what a certificate is for. It is recorded as the subject's
// OrganizationalUnit; both roles may act as TLS client and server, because
// every gluster process is both at once.
type Role string

const (
	RoleServer Role = "server"
	RoleClient Role = "client"
)

// organization is the subject Organization of every certificate the CA issues.
const organization = "gluster"

// clockSkew backdates every NotBefore so that a peer whose clock runs up to an
// hour behind ours still accepts a certificate we just made.
const clockSkew = time.Hour

// maxNameLength is X.509's upper bound for a CommonName (ub-common-name).
const maxNameLength = 64

// ErrInvalidName marks a common name or host name that ValidName refuses.
var ErrInvalidName = errors.New("invalid name")

// ValidName checks a common name or DNS host name for a certificate. The
// character set is narrow on purpose: names end up in file names, log lines
// and OpenSSL's subject matching, where anything else invites surprises.
func ValidName(name string) error {
	if len(name) == 0 || len(name) > maxNameLength || name[0] == '-' || name[0] == '.' || !nameChars(name) {
		return fmt.Errorf("pki: %w %q: use 1 to %d letters, digits, '.' or '-', not starting with '.' or '-'",
			ErrInvalidName, name, maxNameLength)
	}
	return nil
}

func nameChars(name string) bool {
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

func (r Role) valid() error {
	if r != RoleServer && r != RoleClient {
		return fmt.Errorf("pki: unknown role %q: use %q or %q", r, RoleServer, RoleClient)
	}
	return nil
}
