package mounter

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"
)

// ONC RPC (RFC 5531) and the GlusterFS DUMP program
// (rpc/rpc-lib/src/protocol-common.h), whose PING procedure gluster's own
// clients use to tell a live server from a hung one.
const (
	rpcVersion   = 2
	msgCall      = 0
	msgReply     = 1
	lastFragment = 1 << 31
	maxReplySize = 64 << 10
	dumpProgram  = 123451501
	dumpVersion  = 1
	dumpPing     = 2
)

// Probe asks every server in parallel whether its glusterd answers, each
// within ProbeTimeout, and splits them into live and dead in their given
// order. It does not wait for the slowest: once one server answered, the
// others have ProbeGrace to answer too, and a server whose last probe
// failed within deadMemory is not waited for at all. The probes it stops
// waiting for go on in the background, and their outcome is remembered for
// the next mount: a server that came back is used again.
func (m *Mounter) Probe(ctx context.Context, servers []string) (live, dead []string) {
	type answer struct {
		i   int
		err error
	}
	answers := make(chan answer, len(servers))
	known := m.health.recentlyDead(servers)
	for i, s := range servers {
		go func() {
			// Not ctx: a probe the caller stopped waiting for still
			// tells the next mount, within ProbeTimeout.
			err := m.probe(context.WithoutCancel(ctx), s)
			m.health.record(s, err == nil)
			if m.Observer != nil {
				m.Observer.ServerProbed(s, err == nil)
			}
			answers <- answer{i, err}
		}()
	}
	alive := make([]bool, len(servers))
	pending := make(map[int]bool, len(servers))
	for i := range servers {
		pending[i] = true
	}
	var grace <-chan time.Time
	anyLive := false
	for len(pending) > 0 && !(anyLive && onlyKnownDead(pending, servers, known)) {
		select {
		case a := <-answers:
			delete(pending, a.i)
			alive[a.i] = a.err == nil
			if a.err == nil && !anyLive {
				anyLive = true
				grace = time.After(cmp.Or(m.ProbeGrace, DefaultProbeGrace))
			}
		case <-grace:
			pending = nil
		case <-ctx.Done():
			pending = nil
		}
	}
	for i, s := range servers {
		if alive[i] {
			live = append(live, s)
		} else {
			dead = append(dead, s)
		}
	}
	return live, dead
}

// onlyKnownDead reports whether every server still probed failed its
// last probe a moment ago.
func onlyKnownDead(pending map[int]bool, servers []string, known map[string]bool) bool {
	for i := range pending {
		if !known[servers[i]] {
			return false
		}
	}
	return true
}

// deadMemory is how long a failed probe marks a server as not worth
// waiting for. Every mount probes it again all the same, so this only
// bounds how long a server that stays silent is remembered: minutes are
// more than a burst of container starts needs.
const deadMemory = 5 * time.Minute

// serverHealth remembers the outcome of each server's last probe.
type serverHealth struct {
	mu   sync.Mutex
	last map[string]probeOutcome
}

type probeOutcome struct {
	live bool
	at   time.Time
}

func (h *serverHealth) record(server string, live bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]probeOutcome{}
	}
	h.last[server] = probeOutcome{live: live, at: time.Now()}
}

// recentlyDead returns the servers whose last probe failed within
// deadMemory.
func (h *serverHealth) recentlyDead(servers []string) map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	dead := map[string]bool{}
	for _, s := range servers {
		if o, ok := h.last[s]; ok && !o.live && time.Since(o.at) < deadMemory {
			dead[s] = true
		}
	}
	return dead
}

// probe sends server's glusterd an RPC ping rather than only connecting: the
// kernel of a frozen server (a paused container, a stopped process) still
// accepts connections, and mount would then wait forever for its volume file.
func (m *Mounter) probe(ctx context.Context, server string) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(m.ProbeTimeout, DefaultProbeTimeout))
	defer cancel()
	err := m.ping(ctx, server)
	m.logger().Debug("probed server", "server", server, "live", err == nil,
		"elapsed", time.Since(start).Round(time.Microsecond), "err", err)
	return err
}

func (m *Mounter) ping(ctx context.Context, server string) error {
	addr := net.JoinHostPort(server, strconv.Itoa(cmp.Or(m.ProbePort, DefaultProbePort)))
	dial := m.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if m.TLS != nil {
		if conn, err = m.startTLS(ctx, conn, server); err != nil {
			return fmt.Errorf("TLS with %s: %w", addr, err)
		}
	}

	xid := rand.Uint32()
	if _, err := conn.Write(pingCall(xid)); err != nil {
		return fmt.Errorf("send ping to %s: %w", addr, err)
	}
	if err := readPingReply(conn, xid); err != nil {
		return fmt.Errorf("ping %s: %w", addr, err)
	}
	return nil
}

// startTLS speaks TLS on conn, as glusterd does with secure-access, with
// this host's certificate: glusterd answers only clients that present one
// of the cluster's.
func (m *Mounter) startTLS(ctx context.Context, conn net.Conn, server string) (net.Conn, error) {
	conf, err := m.TLS()
	if err != nil {
		return nil, err
	}
	conf = conf.Clone()
	conf.ServerName = server
	tlsConn := tls.Client(conn, conf)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tlsConn, nil
}

// pingCall encodes an RPC call of DUMP's PING with empty AUTH_NULL credentials
// in one record.
func pingCall(xid uint32) []byte {
	fields := []uint32{xid, msgCall, rpcVersion, dumpProgram, dumpVersion, dumpPing, 0, 0, 0, 0}
	b := binary.BigEndian.AppendUint32(nil, lastFragment|uint32(4*len(fields)))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, f)
	}
	return b
}

// readPingReply accepts any RPC reply to xid: even a refusal shows that the
// server's RPC layer is running.
func readPingReply(r io.Reader, xid uint32) error {
	var mark [4]byte
	if _, err := io.ReadFull(r, mark[:]); err != nil {
		return fmt.Errorf("no answer: %w", err)
	}
	size := binary.BigEndian.Uint32(mark[:]) &^ lastFragment
	if size < 8 || size > maxReplySize {
		return fmt.Errorf("malformed answer of %d bytes", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return fmt.Errorf("truncated answer: %w", err)
	}
	if binary.BigEndian.Uint32(body) != xid || binary.BigEndian.Uint32(body[4:]) != msgReply {
		return errors.New("answer is not a reply to the ping")
	}
	return nil
}
