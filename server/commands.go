package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glusterdocker/gluster/control"
)

// commandTimeout bounds an operator's command: the control API gives a
// change 3 minutes and writes its answer within 3 min 45 s.
const commandTimeout = 4 * time.Minute

// usage lists the commands an operator runs in the server's container.
const usage = `usage: gluster-server                 run the server (the container's entrypoint)
       gluster-server retained        list the volumes docker volume rm retained
       gluster-server purge NAME...   delete retained volumes for good, with their bricks`

// errUsage is a command line that names no command of the server's.
var errUsage = errors.New(usage)

// volumeAPI is what the commands ask of the control API.
type volumeAPI interface {
	Volumes(ctx context.Context) ([]control.Volume, error)
	Purge(ctx context.Context, name string) error
}

var _ volumeAPI = (*control.Client)(nil)

// runCommand runs an operator's command against api and writes its answer
// to out. Operators run them in the server's container (`docker exec
// gluster-server gluster-server purge NAME`): they ask this server's control
// API with its own settings, so nobody types the token.
func runCommand(ctx context.Context, api volumeAPI, args []string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	switch {
	case len(args) == 1 && args[0] == "retained":
		return listRetained(ctx, api, out)
	case len(args) > 1 && args[0] == "purge":
		return purge(ctx, api, args[1:], out)
	}
	return errUsage
}

func listRetained(ctx context.Context, api volumeAPI, out io.Writer) error {
	vols, err := api.Volumes(ctx)
	if err != nil {
		return fmt.Errorf("listing volumes: %w", err)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VOLUME\tDOCKER VOLUME\tRETAINED")
	for _, v := range vols {
		if control.Retained(v.Options) {
			fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, v.Options[control.DockerVolumeOption], v.Options[control.RetainedOption])
		}
	}
	return w.Flush()
}

// purge purges every volume named, going on after a failure, and reports
// each.
func purge(ctx context.Context, api volumeAPI, names []string, out io.Writer) error {
	var failed []string
	for _, name := range slices.Compact(slices.Sorted(slices.Values(names))) {
		if err := api.Purge(ctx, name); err != nil {
			fmt.Fprintf(out, "%s: not purged: %v\n", name, err)
			failed = append(failed, name)
			continue
		}
		fmt.Fprintf(out, "%s: purged\n", name)
	}
	if len(failed) > 0 {
		return fmt.Errorf("not purged: %s", strings.Join(failed, ", "))
	}
	return nil
}

// localAPI is this server's control API, as its settings describe it.
func localAPI(cfg config) *control.Client {
	return control.NewClient(cfg.Address, cfg.ControlPort, cfg.Token, &http.Client{Timeout: commandTimeout})
}
