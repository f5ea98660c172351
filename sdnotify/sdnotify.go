// Package sdnotify tells systemd, when it supervises the program, that the
// program is ready, alive or stopping. Outside systemd every call does
// nothing.
package sdnotify

import (
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends the program's state to systemd.
type Notifier struct {
	logger *slog.Logger
	stop   chan struct{}
}

// New returns a notifier that logs what systemd could not be told.
func New(logger *slog.Logger) *Notifier {
	return &Notifier{logger: logger, stop: make(chan struct{})}
}

// Ready reports that the program serves, and keeps the watchdog fed at half
// its interval when the unit configures one.
func (n *Notifier) Ready() {
	n.send(daemon.SdNotifyReady)
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return
	}
	go func() {
		tick := time.NewTicker(interval / 2)
		defer tick.Stop()
		for {
			select {
			case <-n.stop:
				return
			case <-tick.C:
				n.send(daemon.SdNotifyWatchdog)
			}
		}
	}()
}

// Stopping reports that the program is shutting down and stops the watchdog.
func (n *Notifier) Stopping() {
	close(n.stop)
	n.send(daemon.SdNotifyStopping)
}

func (n *Notifier) send(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.logger.Warn("notifying systemd", "state", state, "error", err)
	}
}
