package control

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/glusterdocker/gluster/glustercli"
)

// fakeBrickFree is the free space of every fake brick.
const fakeBrickFree = 100 << 30

// QuotaEnable turns quota on as glusterd does: the option shows in the
// volume's options.
func (f *fakeGluster) QuotaEnable(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("quota enable %s", name)
	v, ok := f.vols[name]
	if !ok || !v.Started() {
		return &glustercli.Error{Message: "Volume is stopped, start volume before executing quota command."}
	}
	v.Options[quotaOption] = "on"
	return nil
}

// QuotaLimitUsage refuses a path the fake volume has no directory for:
// dirs lists those, "volume:/path".
func (f *fakeGluster) QuotaLimitUsage(_ context.Context, name, path string, size uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("quota limit %s %s %d", name, path, size)
	if f.vols[name].Options[quotaOption] != "on" {
		return &glustercli.Error{Message: "Quota is disabled, please enable quota"}
	}
	if path != "/" && !slices.Contains(f.dirs, name+":"+path) {
		return fmt.Errorf("%w: %s", glustercli.ErrNoSuchPath, path)
	}
	if f.limits == nil {
		f.limits = map[string]uint64{}
	}
	f.limits[name+":"+path] = size
	return nil
}

func (f *fakeGluster) QuotaList(_ context.Context, name string) ([]glustercli.QuotaLimit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("quota list %s", name)
	var out []glustercli.QuotaLimit
	for key, size := range f.limits {
		if path, ok := strings.CutPrefix(key, name+":"); ok {
			out = append(out, glustercli.QuotaLimit{Path: path, Size: size})
		}
	}
	return out, nil
}

func (f *fakeGluster) BrickSpaces(_ context.Context, name string) ([]glustercli.BrickSpace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []glustercli.BrickSpace
	for _, b := range f.vols[name].Bricks {
		out = append(out, glustercli.BrickSpace{Volume: name, Host: b.Host, Path: b.Path, Size: 2 * fakeBrickFree, Free: fakeBrickFree})
	}
	return out, nil
}
