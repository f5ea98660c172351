package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/pki"
)

// Revocation: the cluster's list of revoked certificates, which every
// server keeps and its bricks check. OpenSSL reads that list once, when a
// brick process starts (GlusterFS 10.3: a newer list, even under a higher
// file suffix, is not seen by a running brick), so a server that takes a
// new list restarts its bricks of the volumes that serve TLS. The server
// that revokes hands the list to one server at a time, each answering once
// its bricks are back, so that clients of replicated volumes always have a
// brick to turn to.

const (
	// brickStopWait bounds how long a brick process gets to exit after
	// SIGTERM; bricks exit within a second or two.
	brickStopWait = 15 * time.Second
	// brickStartWait bounds how long restarted bricks get to come online.
	brickStartWait = time.Minute
	// brickPoll is how often a stopping brick is looked for.
	brickPoll = 200 * time.Millisecond
	// brickRestartPoll is how often restarted bricks are looked at, and
	// started again while glusterd has not seen them stop.
	brickRestartPoll = time.Second
	// crlPushTimeout bounds handing the list to one server: its bricks
	// stop and start again within it.
	crlPushTimeout = brickStopWait + brickStartWait + 30*time.Second
)

// revoker revokes certificates and spreads the revocation list.
type revoker struct {
	ident   *identity
	gluster revokeGluster
	peers   func(ctx context.Context) ([]control.Peer, error)
	client  func(peer string) *control.Client
	bricks  *brickRestarter
	logger  *slog.Logger
}

// revokeGluster is what a revocation needs of the gluster CLI.
type revokeGluster interface {
	Volumes(ctx context.Context) ([]glustercli.Volume, error)
	StatusAll(ctx context.Context) ([]glustercli.Status, error)
	StartForce(ctx context.Context, name string) error
}

var _ revokeGluster = (*glustercli.CLI)(nil)

// Revoke implements control.Enroller: it adds the certificate to the list
// and hands the list to every server, this one first.
func (r *revoker) Revoke(ctx context.Context, serial string) (control.Revocation, error) {
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok || n.Sign() <= 0 {
		return control.Revocation{}, fmt.Errorf("%w: serial %q: want the certificate's serial number in hex (openssl x509 -noout -serial)", control.ErrInvalid, serial)
	}
	crl, err := r.ident.revoke(n)
	if err != nil {
		return control.Revocation{}, err
	}
	// This server keeps the list already: its bricks read it now.
	if err := r.bricks.restart(ctx); err != nil {
		return control.Revocation{}, err
	}
	peers, err := r.peers(ctx)
	if err != nil {
		return control.Revocation{}, err
	}
	result := control.Revocation{Serial: serial, Servers: []string{r.ident.address}}
	for _, p := range peers {
		if p.Address == r.ident.address {
			continue
		}
		pushCtx, cancel := context.WithTimeout(ctx, crlPushTimeout)
		err := r.client(p.Address).AdoptCRL(pushCtx, string(crl))
		cancel()
		if err != nil {
			// It takes the list from a peer when it starts again.
			r.logger.Warn("a server did not take the revocation list", "server", p.Address, "error", err)
			result.Missed = append(result.Missed, p.Address)
			continue
		}
		result.Servers = append(result.Servers, p.Address)
	}
	return result, nil
}

// AdoptCRL implements control.Enroller: a list newer than this server's
// is kept, and this server's TLS bricks restarted to read it.
func (r *revoker) AdoptCRL(ctx context.Context, crl []byte) error {
	newer, err := r.ident.adoptCRL(crl)
	if err != nil || !newer {
		return err
	}
	return r.bricks.restart(ctx)
}

// revoke adds serial to the cluster's revocation list and keeps the new
// list, which it returns.
func (s *identity) revoke(serial *big.Int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := pki.ParseRevocationList(s.id.CRLPEM, s.id.CA)
	if err != nil {
		return nil, fmt.Errorf("this server's revocation list: %w", err)
	}
	serials := []*big.Int{serial}
	for _, e := range list.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return s.id.CRLPEM, nil
		}
		serials = append(serials, e.SerialNumber)
	}
	crl, err := s.ca.RevocationList(serials, list.Number.Int64()+1, time.Now(), crlLifetime)
	if err != nil {
		return nil, err
	}
	id := s.id
	id.CRLPEM = crl
	if err := s.store.Save(id); err != nil {
		return nil, err
	}
	s.id = id
	s.logger.Info("certificate revoked", "serial", serial.Text(16), "crl_number", list.Number.Int64()+1)
	return crl, nil
}

// adoptCRL keeps crl if the cluster's CA signed it and it is newer than
// this server's list, and reports whether it was.
func (s *identity) adoptCRL(crl []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	theirs, err := pki.ParseRevocationList(crl, s.id.CA)
	if err != nil {
		return false, fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	ours, err := pki.ParseRevocationList(s.id.CRLPEM, s.id.CA)
	if err == nil && theirs.Number.Cmp(ours.Number) <= 0 {
		return false, nil
	}
	id := s.id
	id.CRLPEM = crl
	if err := s.store.Save(id); err != nil {
		return false, err
	}
	s.id = id
	s.logger.Info("revocation list taken", "crl_number", theirs.Number, "revoked", len(theirs.RevokedCertificateEntries))
	return true, nil
}

// brickRestarter restarts this server's brick processes of the volumes
// that serve TLS.
type brickRestarter struct {
	gluster revokeGluster
	address string
	kill    func(pid int) error
	running func(pid int) bool
	logger  *slog.Logger
}

func newBrickRestarter(gluster revokeGluster, address string, logger *slog.Logger) *brickRestarter {
	return &brickRestarter{
		gluster: gluster, address: address, logger: logger,
		kill:    func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) },
		running: func(pid int) bool { return syscall.Kill(pid, 0) == nil },
	}
}

// restart stops this server's brick processes of the started volumes that
// serve TLS and has glusterd start them again (`volume start force`).
func (b *brickRestarter) restart(ctx context.Context) error {
	vols, err := b.gluster.Volumes(ctx)
	if err != nil {
		return err
	}
	var tlsVolumes []string
	for _, v := range vols {
		if v.Started() && v.Options["server.ssl"] == "on" {
			tlsVolumes = append(tlsVolumes, v.Name)
		}
	}
	if len(tlsVolumes) == 0 {
		return nil
	}
	pids, err := b.localBricks(ctx, tlsVolumes)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := b.kill(pid); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stopping brick process %d: %w", pid, err)
		}
	}
	deadline := time.Now().Add(brickStopWait)
	for slices.ContainsFunc(pids, b.running) {
		if time.Now().After(deadline) {
			return fmt.Errorf("brick processes %v still run %s after SIGTERM", pids, brickStopWait)
		}
		time.Sleep(brickPoll)
	}
	if err := b.startAgain(ctx, tlsVolumes, pids); err != nil {
		return err
	}
	b.logger.Info("bricks restarted to read the revocation list", "volumes", len(tlsVolumes), "processes", len(pids))
	return nil
}

// localBricks lists the processes of this server's bricks of volumes.
func (b *brickRestarter) localBricks(ctx context.Context, volumes []string) ([]int, error) {
	statuses, err := b.gluster.StatusAll(ctx)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, st := range statuses {
		if !slices.Contains(volumes, st.Volume) {
			continue
		}
		for _, br := range st.Bricks {
			if br.Host == b.address && br.Online && br.PID > 0 && !slices.Contains(pids, br.PID) {
				pids = append(pids, br.PID)
			}
		}
	}
	return pids, nil
}

// startAgain has glusterd start this server's bricks of volumes until
// each is online in a process other than the stopped ones. glusterd learns
// of a stopped brick from its closed connection: until then `volume start
// force` finds the brick running and leaves it, so it is asked again.
func (b *brickRestarter) startAgain(ctx context.Context, volumes []string, stopped []int) error {
	deadline := time.Now().Add(brickStartWait)
	for {
		pending := volumes
		statuses, err := b.gluster.StatusAll(ctx)
		if err == nil {
			pending = notRestarted(statuses, volumes, b.address, stopped)
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("this server's bricks of %v not online %s after their restart (last error: %v): see gluster volume status", pending, brickStartWait, err)
		}
		for _, v := range pending {
			if err := b.gluster.StartForce(ctx, v); err != nil {
				b.logger.Debug("starting bricks again", "volume", v, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(brickRestartPoll):
		}
	}
}

// notRestarted lists the volumes among volumes whose brick on address is
// not online in a process other than the stopped ones.
func notRestarted(statuses []glustercli.Status, volumes []string, address string, stopped []int) []string {
	var pending []string
	for _, v := range volumes {
		i := slices.IndexFunc(statuses, func(st glustercli.Status) bool { return st.Volume == v })
		if i < 0 || slices.ContainsFunc(statuses[i].Bricks, func(br glustercli.BrickStatus) bool {
			return br.Host == address && (!br.Online || br.PID <= 0 || slices.Contains(stopped, br.PID))
		}) {
			pending = append(pending, v)
		}
	}
	return pending
}
