// Command gluster-server runs a host-bound GlusterFS server: glusterd in the
// foreground, the pool formed with its configured peers, and the control API
// through which plugins create and delete volumes. Run as gluster-admin (a
// link to it in the server image), it is the admin command that grows and
// repairs the pool through the control API (admin.go).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/initproc"
	"github.com/glusterdocker/gluster/logging"
	"github.com/glusterdocker/gluster/metrics"
	"github.com/glusterdocker/gluster/sdnotify"
	"github.com/glusterdocker/gluster/selfheal"
	"github.com/glusterdocker/gluster/settings"
)

// healthTimeout bounds the gluster commands of one scrape, below the 10 s
// Prometheus waits by default.
const healthTimeout = 8 * time.Second

func main() {
	if filepath.Base(os.Args[0]) == adminName {
		os.Exit(runAdmin(os.Args[1:], os.Stdout, os.Stderr))
	}
	if len(os.Args) == 2 && os.Args[1] == healthArg {
		os.Exit(runHealth())
	}
	if code, ran := initproc.RunAsInit(); ran {
		os.Exit(code)
	}
	if len(os.Args) == 2 && os.Args[1] == witnessRole {
		os.Exit(runWitness())
	}
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gluster-server:", err)
		os.Exit(2)
	}
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "gluster-server takes no arguments but %q (the witness role) or %q (the health check); the operator's commands are %s's (docker exec SERVER %s)\n", witnessRole, healthArg, adminName, adminName)
		os.Exit(2)
	}
	logger, err := logging.New(os.Stdout, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gluster-server:", err)
		os.Exit(2)
	}
	if err := settings.ExposedToken(cfg.TokenFile); err != nil {
		logger.Warn("the control API token may be read by others", "error", err)
	}
	if err := run(cfg, logger); err != nil {
		logger.Error("gluster-server stopped", "error", err)
		os.Exit(1)
	}
}

func run(cfg config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if err := os.MkdirAll(cfg.BrickRoot, 0o755); err != nil {
		return fmt.Errorf("brick root: %w", err)
	}
	var ident *identity
	if cfg.TLS == "on" {
		var err error
		if ident, err = prepareTLS(ctx, cfg, logger); err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		go ident.renewLoop(ctx)
	} else if err := os.Remove(secureAccessFile); err == nil {
		logger.Warn("TLS turned off: glusterd's management connections are in clear again, and volumes created with TLS cannot be mounted")
	}
	if err := seedGroups(imageGroupsDir, groupsDir); err != nil {
		return err
	}
	glusterd, err := startGlusterd(logger, cfg.LogLevel, glusterdEnv(os.Environ(), cfg.BrickMultiplex))
	if err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		err := glusterd.Wait()
		logger.Info("glusterd exited", "error", err)
		close(exited)
	}()
	defer stopGlusterd(glusterd, exited, logger)

	reg := metrics.NewRegistry()
	cli := glustercli.New(cfg.GlusterdSocket, metrics.InstrumentExec(glustercli.Exec, reg), 30*time.Second, logger).WithStore(glustercli.DefaultStore)
	reg.MustRegister(metrics.NewHealthCollector(cli, glustercli.LocalBricks{}, healthTimeout, logger))
	if err := waitGlusterd(ctx, cli, exited); err != nil {
		return err
	}
	openFiles, err := openFileLimit()
	if err != nil {
		return fmt.Errorf("reading the open-file limit: %w", err)
	}
	go formPool(ctx, cli, cfg.Peers, poolOptions(cfg.BrickMultiplex, openFiles), 30*time.Second, logger)
	healers, err := selfheal.NewRepairer(cli, cfg.Address, logger)
	if err != nil {
		return err
	}
	go healers.Run(ctx)

	peerHTTP := &http.Client{Timeout: 30 * time.Second}
	serviceOptions := []control.ServiceOption{control.WithOptionPolicy(cfg.volumeOptions)}
	if cfg.Witness != "" {
		serviceOptions = append(serviceOptions, control.WithWitness(cfg.Witness))
	}
	var handlerOptions []control.HandlerOption
	if ident != nil {
		peerHTTP.Transport = &http.Transport{TLSClientConfig: ident.clientTLS()}
		serviceOptions = append(serviceOptions, control.WithVolumeTLS(filepath.Join(tlsDir, certstore.CRLDir)))
	}
	peers := control.RemoteBricks{Port: cfg.ControlPort, Token: cfg.Token, HTTP: peerHTTP}
	svc := control.NewService(cfg.Address, cfg.BrickRoot, cli, peers, logger, serviceOptions...)
	go svc.RemoveLeftovers(ctx)
	if ident != nil {
		revocations := &revoker{
			ident: ident, gluster: cli, peers: svc.Peers, logger: logger,
			// Bounded by crlPushTimeout instead: a server answers once
			// its bricks restarted.
			client: func(peer string) *control.Client {
				return control.NewClient(peer, cfg.ControlPort, cfg.Token, &http.Client{Transport: peerHTTP.Transport})
			},
			bricks: newBrickRestarter(cli, cfg.Address, logger),
		}
		handlerOptions = append(handlerOptions, control.WithEnroller(authority{ident, revocations}))
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.ControlPort))
	listener, err := control.Listen(addr)
	if err != nil {
		return fmt.Errorf("control API: %w (is ADDRESS an address of this host?)", err)
	}
	if ident != nil {
		listener = tls.NewListener(listener, ident.serverTLS())
	}
	handler := metrics.InstrumentHandler(control.NewHandler(svc, cfg.Token, logger, handlerOptions...), reg)
	srv := control.NewServer(handler)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	logger.Info("control API listening", "address", addr, "tls", cfg.TLS)
	if err := metrics.Serve(ctx, cfg.MetricsAddress, reg, logger); err != nil {
		return err
	}
	notifier := sdnotify.New(logger)
	notifier.Ready()

	select {
	case <-ctx.Done():
		notifier.Stopping()
		logger.Info("stopping")
	case <-exited:
		return errors.New("glusterd exited")
	case err := <-served:
		return fmt.Errorf("control API: %w", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
