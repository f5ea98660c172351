package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/glusterdocker/gluster/control"
)

// retained lists the volumes `docker volume rm` retained.
func (a *admin) retained(ctx context.Context) error {
	vols, err := a.api.Volumes(ctx)
	if err != nil {
		return fmt.Errorf("listing volumes: %w", err)
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VOLUME\tDOCKER VOLUME\tRETAINED")
	for _, v := range vols {
		if control.Retained(v.Options) {
			fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, v.Options[control.DockerVolumeOption], v.Options[control.RetainedOption])
		}
	}
	return w.Flush()
}

// purge deletes every retained volume named for good, going on after a
// failure, and reports each.
func (a *admin) purge(ctx context.Context, names []string) error {
	var failed []string
	for _, name := range slices.Compact(slices.Sorted(slices.Values(names))) {
		if err := a.api.Purge(ctx, name); err != nil {
			fmt.Fprintf(a.out, "%s: not purged: %v\n", name, err)
			failed = append(failed, name)
			continue
		}
		fmt.Fprintf(a.out, "%s: purged\n", name)
	}
	if len(failed) > 0 {
		return fmt.Errorf("not purged: %s", strings.Join(failed, ", "))
	}
	return nil
}
