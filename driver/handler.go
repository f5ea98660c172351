package driver

import (
	"context"
	"net/http"

	"github.com/docker/go-plugins-helpers/sdk"
	"github.com/docker/go-plugins-helpers/volume"
)

// ContextDriver is a volume.Driver whose Mount follows the context of
// Docker's request.
type ContextDriver interface {
	volume.Driver
	MountContext(ctx context.Context, req *volume.MountRequest) (*volume.MountResponse, error)
}

var _ ContextDriver = (*Driver)(nil)

// NewHandler serves Docker's volume plugin API for d. Mount gets the
// request's context: Docker closes the connection when it stops waiting
// for a call (after 30 s in Docker 20.10), and never unmounts a mount it
// gave up on.
func NewHandler(d ContextDriver) *volume.Handler {
	h := volume.NewHandler(d)
	// More specific than the helper's own pattern for the path, which
	// matches any method, so this one answers Docker's POSTs.
	h.HandleFunc("POST /VolumeDriver.Mount", func(w http.ResponseWriter, r *http.Request) {
		req := &volume.MountRequest{}
		if err := sdk.DecodeRequest(w, r, req); err != nil {
			return
		}
		resp, err := d.MountContext(r.Context(), req)
		if err != nil {
			sdk.EncodeResponse(w, volume.NewErrorResponse(err.Error()), true)
			return
		}
		sdk.EncodeResponse(w, resp, false)
	})
	return h
}
