// Command gluster-plugin is the Docker volume plugin: it answers Docker's
// volume API on a unix socket and mounts GlusterFS volumes for containers.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/glusterdocker/gluster/clients"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/driver"
	"github.com/glusterdocker/gluster/logging"
	"github.com/glusterdocker/gluster/metrics"
	"github.com/glusterdocker/gluster/mounter"
	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/sdnotify"
	"github.com/glusterdocker/gluster/settings"
)

// restoreLimit bounds how long the plugin repairs mounts before it answers
// Docker, which waits for a starting plugin only so long.
const restoreLimit = 25 * time.Second

// volumeListAge is the age of the plugin's snapshot of the cluster's volume
// list after which the next call refreshes it in the background: volumes
// created or removed on other hosts show within seconds, while a list of
// hundreds of volumes, about a second of glusterd's time, is asked for at
// most this often, and only while Docker calls.
const volumeListAge = 2 * time.Second

func main() {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gluster-plugin:", err)
		os.Exit(2)
	}
	logger, err := logging.New(os.Stdout, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gluster-plugin:", err)
		os.Exit(2)
	}
	if err := settings.ExposedToken(cfg.TokenFile); err != nil {
		logger.Warn("the control API token may be read by others", "error", err)
	}
	if err := run(cfg, logger); err != nil {
		logger.Error("gluster-plugin stopped", "error", err)
		os.Exit(1)
	}
}

func run(cfg config, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := metrics.NewRegistry()
	defaultSize, err := cfg.defaultSize() // validated by loadConfig
	if err != nil {
		return err
	}
	pin, _ := cfg.caPin() // checked by loadConfig
	var serversTLS *tls.Config
	if pin != nil {
		serversTLS = pki.PinnedTLS(pin)
	}
	cluster := control.NewCluster(cfg.Servers, cfg.ControlPort, cfg.Token, serversTLS)
	mountTimeout, _ := cfg.mountTimeout() // checked by loadConfig
	mnt := &mounter.Mounter{Deadline: mountTimeout, Logger: logger, Observer: metrics.NewMountObserver(reg)}
	var m driver.Mounter = mnt
	certificateDir := filepath.Join(cfg.StateDir, "tls")
	if pin != nil {
		certificate := newHostCertificate(certificateDir, cluster, pin, logger)
		go certificate.renewLoop(ctx)
		mnt.TLS = certificate.glusterTLS
		m = certifiedMounter{Mounter: mnt, certificate: certificate}
	} else if err := turnOffTLS(certificateDir); err != nil {
		return fmt.Errorf("turning TLS off: %w", err)
	}
	// Read whatever DETACH_CLIENTS says now: clients detached before are
	// adopted and stopped when their volume is no longer used.
	detached, err := clients.Open(filepath.Join(cfg.StateDir, "clients.json"), logger)
	if err != nil {
		return err
	}
	d, err := driver.New(driver.Config{
		MountRoot:      cfg.MountRoot,
		StateDir:       cfg.StateDir,
		MountTimeout:   mountTimeout,
		DefaultReplica: cfg.DefaultReplica,
		DefaultSize:    defaultSize,
		DefaultPool:    cfg.DefaultPool,
		OnRemove:       cfg.OnRemove,
		CacheTTL:       volumeListAge,
		DetachClients:  cfg.DetachClients,
	}, cluster, m, detached, logger)
	if err != nil {
		return err
	}
	reg.MustRegister(metrics.NewUsageCollector(d.Usage))
	if err := metrics.Serve(ctx, cfg.MetricsAddress, reg, logger); err != nil {
		// Containers need their volumes more than anyone needs metrics,
		// and the address may be taken by another plugin on this host.
		logger.Error("serving no metrics", "error", err)
	}
	restoreCtx, cancelRestore := context.WithTimeout(ctx, restoreLimit)
	d.Restore(restoreCtx)
	cancelRestore()

	listener, cleanup, err := listen(cfg.Socket)
	if err != nil {
		return fmt.Errorf("volume API socket: %w", err)
	}
	defer cleanup()
	served := make(chan error, 1)
	go func() { served <- driver.NewHandler(metrics.InstrumentDriver(d, reg)).Serve(listener) }()
	notifier := sdnotify.New(logger)
	notifier.Ready()
	logger.Info("plugin ready", "socket", listener.Addr().String(), "servers", cfg.Servers)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-stop:
		// Mounts stay: containers keep using them, and the next plugin
		// instance takes them over from the state file.
		notifier.Stopping()
		logger.Info("stopping", "signal", sig.String())
		listener.Close()
		d.Stop()
		return nil
	case err := <-served:
		return fmt.Errorf("serving the volume API: %w", err)
	}
}
