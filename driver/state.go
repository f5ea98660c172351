package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"github.com/moby/sys/atomicwriter"
)

// volumeState is what the plugin remembers of one Docker volume on this host.
type volumeState struct {
	Name      string            `json:"name"`    // Docker volume name
	Gluster   string            `json:"gluster"` // gluster volume behind it
	Options   map[string]string `json:"options,omitempty"`
	CreatedAt string            `json:"created_at"`
	// Mounts counts references per Docker mount ID: Docker may mount the
	// same ID more than once and unmounts each time.
	Mounts map[string]int `json:"mounts,omitempty"`
	// Prepared records that the subdirectory, owner and mode were applied.
	Prepared bool `json:"prepared,omitempty"`
}

// clone is a copy that shares no map with v.
func (v *volumeState) clone() volumeState {
	c := *v
	c.Options = maps.Clone(v.Options)
	c.Mounts = maps.Clone(v.Mounts)
	return c
}

func (v *volumeState) references() int {
	n := 0
	for _, c := range v.Mounts {
		n += c
	}
	return n
}

// stateFile is the plugin's state on the host, versioned for upgrades.
type stateFile struct {
	Version int                     `json:"version"`
	Volumes map[string]*volumeState `json:"volumes"`
}

const stateVersion = 1

// loadState reads the state file; a missing file is an empty state.
func loadState(path string) (map[string]*volumeState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*volumeState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("state file %s is damaged: %w (move it away to start afresh; volumes stay in gluster)", path, err)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("state file %s has version %d, this plugin reads version %d", path, f.Version, stateVersion)
	}
	if f.Volumes == nil {
		f.Volumes = map[string]*volumeState{}
	}
	return f.Volumes, nil
}

// saveState writes the state atomically: a crash leaves the old file or the
// new one, never half of either.
func saveState(path string, volumes map[string]*volumeState) error {
	data, err := json.MarshalIndent(stateFile{Version: stateVersion, Volumes: volumes}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicwriter.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// state returns a copy of what this host knows of a volume.
func (d *Driver) state(name string) (volumeState, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volumes[name]
	if !ok {
		return volumeState{}, false
	}
	return v.clone(), true
}

// states returns copies of every volume this host knows.
func (d *Driver) states() []volumeState {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]volumeState, 0, len(d.volumes))
	for _, v := range d.volumes {
		out = append(out, v.clone())
	}
	return out
}

// update changes the state under the lock and saves it; a change that
// cannot be saved is undone, so memory and disk agree.
func (d *Driver) update(change func()) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	before := cloneVolumes(d.volumes)
	change()
	if err := saveState(filepath.Join(d.cfg.StateDir, "state.json"), d.volumes); err != nil {
		d.volumes = before
		return err
	}
	return nil
}

func cloneVolumes(in map[string]*volumeState) map[string]*volumeState {
	out := make(map[string]*volumeState, len(in))
	for k, v := range in {
		c := v.clone()
		out[k] = &c
	}
	return out
}
